package train

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/rng"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestPredictBatch checks the raw-batch forward against a batch of two
// run through a graph built for it, and its ill cases.
func TestPredictBatch(t *testing.T) {
	cfg := tinyModel(16)
	m, err := models.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	shape := [5]int{2, 1, 16, 16, 16}
	x := make([]float32, 2*16*16*16)
	r := rng.New(5)
	for i := range x {
		x[i] = float32(r.Norm())
	}
	got, gotShape, err := PredictBatch(context.Background(), m, x, shape)
	if err != nil {
		t.Fatal(err)
	}
	if want := [5]int{2, cfg.Classes, 16, 16, 16}; gotShape != want || len(got) != 2*cfg.Classes*16*16*16 {
		t.Fatalf("logits shape %v (%d values), want %v", gotShape, len(got), want)
	}
	// The reference: one forward pass over the batch of two.
	xn := m.Input("batch2", 2)
	lg, err := m.Forward(xn)
	if err != nil {
		t.Fatal(err)
	}
	vm := gorgonia.NewTapeMachine(m.Graph().SubgraphRoots(lg))
	defer vm.Close()
	buf := tensor.New(tensor.Of(m.Dtype()), tensor.WithShape(xn.Shape().Clone()...))
	fill(buf, x)
	if err := gorgonia.Let(xn, buf); err != nil {
		t.Fatal(err)
	}
	m.SetTraining(false)
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	m.SetTraining(true)
	want := logitsF32(lg, nil)
	worst := 0.0
	for i := range want {
		worst = math.Max(worst, math.Abs(float64(got[i]-want[i])))
	}
	if worst > 1e-4 {
		t.Errorf("PredictBatch differs from a batch forward by %g", worst)
	}

	p, err := NewPredictor(m)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name  string
		ctx   context.Context
		x     []float32
		shape [5]int
		want  error
	}{
		{"channels", context.Background(), x, [5]int{1, 2, 16, 16, 16}, ErrShape},
		{"spatial size", context.Background(), x, [5]int{2, 1, 16, 16, 8}, ErrShape},
		{"empty batch", context.Background(), nil, [5]int{0, 1, 16, 16, 16}, ErrShape},
		{"data length", context.Background(), x[:100], shape, ErrShape},
		{"N against data", context.Background(), x, [5]int{3, 1, 16, 16, 16}, ErrShape},
		{"cancelled", cancelled, x, shape, context.Canceled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := p.Logits(c.ctx, c.x, c.shape); !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
}
