package nn

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestLispMachineDoDiff checks the automatic-differentiation path (DoDiff)
// against the symbolic one (SymDiff + TapeMachine) on a small chain.
func TestLispMachineDoDiff(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	xv, wv, bv := randTensor(rng, 1, 2, 4, 5, 4), randTensor(rng, 3, 2, 3, 3, 3), randTensor(rng, 3)
	build := func(g *gorgonia.ExprGraph) (loss *gorgonia.Node, params []*gorgonia.Node) {
		x := gorgonia.NewTensor(g, tensor.Float64, 5, gorgonia.WithShape(1, 2, 4, 5, 4), gorgonia.WithValue(xv.Clone()), gorgonia.WithName("x"))
		w := gorgonia.NewTensor(g, tensor.Float64, 5, gorgonia.WithShape(3, 2, 3, 3, 3), gorgonia.WithValue(wv.Clone()), gorgonia.WithName("w"))
		b := gorgonia.NewTensor(g, tensor.Float64, 1, gorgonia.WithShape(3), gorgonia.WithValue(bv.Clone()), gorgonia.WithName("b"))
		y := gorgonia.Must(Conv3d(x, w, b, &ConvOptions{Padding: [3]int{1, 1, 1}}))
		y = gorgonia.Must(InstanceNorm3d(y, nil, nil, 0))
		y = gorgonia.Must(GELU(y))
		y = gorgonia.Must(MaxPool3d(y, &PoolOptions{Kernel: [3]int{2, 2, 2}}))
		y = gorgonia.Must(gorgonia.Square(y))
		return gorgonia.Must(gorgonia.Sum(y)), []*gorgonia.Node{x, w, b}
	}
	g1 := gorgonia.NewGraph()
	loss1, p1 := build(g1)
	grads, err := gorgonia.Grad(loss1, p1...)
	if err != nil {
		t.Fatal(err)
	}
	tm := gorgonia.NewTapeMachine(g1)
	defer tm.Close()
	if err := tm.RunAll(); err != nil {
		t.Fatal(err)
	}
	g2 := gorgonia.NewGraph()
	loss2, p2 := build(g2)
	lm := gorgonia.NewLispMachine(g2)
	defer lm.Close()
	if err := lm.RunAll(); err != nil {
		t.Fatal(err)
	}
	for i := range p2 {
		want := grads[i].Value().Data().([]float64)
		gv, err := p2[i].Grad()
		if err != nil {
			t.Fatal(err)
		}
		got := gv.Data().([]float64)
		nonzero := false
		for _, v := range want {
			nonzero = nonzero || v != 0
		}
		if !nonzero {
			t.Fatalf("param %d: gradient is all zero", i)
		}
		for j := range want {
			if math.Abs(got[j]-want[j]) > 1e-9*(1+math.Abs(want[j])) {
				t.Fatalf("param %d element %d: DoDiff %v, SymDiff %v", i, j, got[j], want[j])
			}
		}
	}
	if loss1.Value().Data().(float64) != loss2.Value().Data().(float64) {
		t.Fatalf("losses differ: %v vs %v", loss1.Value(), loss2.Value())
	}
}
