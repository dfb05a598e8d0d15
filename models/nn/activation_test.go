package nn

import (
	"math"
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

// TestReLUSpecialValues pins the masked ReLU on the values where a
// multiply would differ: -0, infinities and NaN.
func TestReLUSpecialValues(t *testing.T) {
	inf := math.Inf(1)
	x := []float64{-inf, -1, math.Copysign(0, -1), 0, 1e-300, 2, inf, math.NaN()}
	dy := []float64{inf, inf, 1, 1, 3, 4, 5, 6}
	for _, alpha := range []float64{0, 0.01} {
		y := make([]float64, len(x))
		dx := make([]float64, len(x))
		reluScale(y, x, x, alpha)
		reluScale(dx, x, dy, alpha)
		y32 := make([]float32, len(x))
		x32 := make([]float32, len(x))
		for i, v := range x {
			x32[i] = float32(v)
		}
		reluScale(y32, x32, x32, float32(alpha))
		for i, v := range x {
			wantY, wantDx := v, dy[i]
			if !(v > 0) && !math.IsNaN(v) {
				wantY, wantDx = alpha*v, alpha*dy[i]
				if alpha == 0 {
					wantY, wantDx = 0, 0
				}
			}
			same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
			if !same(y[i], wantY) || !same(dx[i], wantDx) {
				t.Errorf("alpha %g, x %g: y %g dx %g, want %g %g", alpha, v, y[i], dx[i], wantY, wantDx)
			}
			if w32 := float32(wantY); !same(float64(y32[i]), float64(w32)) && !(v == 1e-300) {
				t.Errorf("float32 alpha %g, x %g: y %g, want %g", alpha, v, y32[i], w32)
			}
		}
	}
}
