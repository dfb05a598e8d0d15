package nn

import (
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestActivationGradients(t *testing.T) {
	cases := []struct {
		name string
		f    func(*gorgonia.Node) (*gorgonia.Node, error)
	}{
		{"ReLU", ReLU},
		{"LeakyReLU", func(x *gorgonia.Node) (*gorgonia.Node, error) { return LeakyReLU(x, 0.01) }},
		{"LeakyReLU0.3", func(x *gorgonia.Node) (*gorgonia.Node, error) { return LeakyReLU(x, 0.3) }},
		{"GELU", GELU},
		{"Sigmoid", Sigmoid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := randTensor(rand.New(rand.NewSource(3)), 2, 3, 3, 4, 5)
			checkGrad(t, func(xs []*gorgonia.Node) (*gorgonia.Node, error) { return c.f(xs[0]) }, []*tensor.Dense{x})
		})
	}
}
