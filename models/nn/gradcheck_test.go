package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// randTensor returns a float64 tensor of the given shape with values drawn
// uniformly from [-1, 1) by rng.
func randTensor(rng *rand.Rand, shape ...int) *tensor.Dense {
	n := tensor.Shape(shape).TotalSize()
	v := make([]float64, n)
	for i := range v {
		v[i] = 2*rng.Float64() - 1
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
}

// gradBuild builds the expression under test from its input nodes.
type gradBuild func(xs []*gorgonia.Node) (*gorgonia.Node, error)

// checkGrad compares the gradients that gorgonia's symbolic differentiation
// (through the ops' SymDiff) computes for loss = sum(build(inputs) * R), R a
// fixed random tensor, against central finite differences, input by input.
// Inputs must be float64. At most 150 elements per input are checked
// (chosen at random when there are more). Inputs listed in skip are not
// differentiated (for example integer-like running statistics).
func checkGrad(t *testing.T, build gradBuild, inputs []*tensor.Dense, skip ...int) {
	t.Helper()
	if err := gradCheck(build, inputs, skip...); err != nil {
		t.Fatal(err)
	}
}

func gradCheck(build gradBuild, inputs []*tensor.Dense, skip ...int) error {
	rng := rand.New(rand.NewSource(7))
	g := gorgonia.NewGraph()
	nodes := make([]*gorgonia.Node, len(inputs))
	for i, in := range inputs {
		nodes[i] = gorgonia.NewTensor(g, tensor.Float64, in.Dims(), gorgonia.WithShape(in.Shape().Clone()...),
			gorgonia.WithValue(in), gorgonia.WithName(fmt.Sprintf("x%d", i)))
	}
	y, err := build(nodes)
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	r := randTensor(rng, y.Shape()...)
	rn := gorgonia.NewTensor(g, tensor.Float64, y.Dims(), gorgonia.WithShape(y.Shape().Clone()...), gorgonia.WithValue(r), gorgonia.WithName("R"))
	prod, err := gorgonia.HadamardProd(y, rn)
	if err != nil {
		return err
	}
	loss, err := gorgonia.Sum(prod)
	if err != nil {
		return err
	}
	var wrt []*gorgonia.Node
	var wrtIdx []int
	for i, n := range nodes {
		skipped := false
		for _, s := range skip {
			skipped = skipped || s == i
		}
		if !skipped {
			wrt = append(wrt, n)
			wrtIdx = append(wrtIdx, i)
		}
	}
	grads, err := gorgonia.Grad(loss, wrt...)
	if err != nil {
		return fmt.Errorf("grad: %w", err)
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	run := func() (float64, error) {
		m.Reset()
		if err := m.RunAll(); err != nil {
			return 0, err
		}
		return lossValue(loss)
	}
	if _, err := run(); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	analytic := make([][]float64, len(grads))
	for i, gn := range grads {
		v, ok := gn.Value().(*tensor.Dense)
		if !ok {
			return fmt.Errorf("gradient of input %d is %T", wrtIdx[i], gn.Value())
		}
		analytic[i] = append([]float64(nil), v.Data().([]float64)...)
	}
	const eps = 1e-6
	for gi, i := range wrtIdx {
		x := inputs[i].Data().([]float64)
		idx := rng.Perm(len(x))
		if len(idx) > 150 {
			idx = idx[:150]
		}
		for _, j := range idx {
			orig := x[j]
			x[j] = orig + eps
			lp, err := run()
			if err != nil {
				return err
			}
			x[j] = orig - eps
			lm, err := run()
			if err != nil {
				return err
			}
			x[j] = orig
			num := (lp - lm) / (2 * eps)
			got := analytic[gi][j]
			if math.Abs(num-got) > 1e-6*(1+math.Abs(num)) || math.IsNaN(got) {
				return fmt.Errorf("input %d (shape %v) element %d: analytic gradient %.9g, finite difference %.9g",
					i, inputs[i].Shape(), j, got, num)
			}
		}
	}
	return nil
}

func lossValue(n *gorgonia.Node) (float64, error) {
	switch v := n.Value().(type) {
	case *gorgonia.F64:
		return float64(*v), nil
	case *tensor.Dense:
		return v.Data().([]float64)[0], nil
	}
	return 0, fmt.Errorf("loss value of type %T", n.Value())
}

// TestGradCheckCatchesWrongGradient makes sure the checker fails on a kernel
// whose gradient is deliberately wrong.
func TestGradCheckCatchesWrongGradient(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	x := randTensor(rng, 2, 3, 4)
	err := gradCheck(func(xs []*gorgonia.Node) (*gorgonia.Node, error) {
		return apply(wrongGrad{}, xs[0])
	}, []*tensor.Dense{x})
	if err == nil {
		t.Fatal("gradient check passed a wrong gradient")
	}
}

// wrongGrad computes y = 2x but claims dy/dx = 3.
type wrongGrad struct{}

func (wrongGrad) String() string { return "wrongGrad" }
func (wrongGrad) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	return in[0].Clone(), nil
}
func (wrongGrad) forward(out *tensor.Dense, in []*tensor.Dense) error {
	o, x := out.Data().([]float64), in[0].Data().([]float64)
	for i := range o {
		o[i] = 2 * x[i]
	}
	return nil
}
func (wrongGrad) grad(i int) kernel { return wrongGradBack{} }

type wrongGradBack struct{}

func (wrongGradBack) String() string { return "wrongGradBack" }
func (wrongGradBack) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	return in[0].Clone(), nil
}
func (wrongGradBack) forward(out *tensor.Dense, in []*tensor.Dense) error {
	o, dy := out.Data().([]float64), in[2].Data().([]float64)
	for i := range o {
		o[i] = 3 * dy[i]
	}
	return nil
}
func (wrongGradBack) grad(int) kernel { return nil }

func errorsIs(err, target error) bool { return errors.Is(err, target) }
