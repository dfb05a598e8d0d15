package train

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/unetlab/unetlab/models/nn"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

type torchOptim struct {
	Adam []struct {
		Name        string      `json:"name"`
		Decoupled   bool        `json:"decoupled"`
		WeightDecay float64     `json:"weight_decay"`
		LR          float64     `json:"lr"`
		W0          []float64   `json:"w0"`
		Grads       [][]float64 `json:"grads"`
		Traj        [][]float64 `json:"traj"`
	} `json:"adam"`
	Plateau struct {
		Factor   float64   `json:"factor"`
		Patience int       `json:"patience"`
		LR       float64   `json:"lr"`
		Values   []float64 `json:"values"`
		LRs      []float64 `json:"lrs"`
	} `json:"plateau"`
}

func loadTorchOptim(t *testing.T) torchOptim {
	b, err := os.ReadFile("testdata/torch_optim.json")
	if err != nil {
		t.Fatal(err)
	}
	var f torchOptim
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestAdamTorch replays fixed gradients through Adam and AdamW and compares
// the weights after each step with torch.optim (float64 and float32).
func TestAdamTorch(t *testing.T) {
	for _, r := range loadTorchOptim(t).Adam {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			t.Run(r.Name+"/"+dt.String(), func(t *testing.T) {
				g := gorgonia.NewGraph()
				var w *gorgonia.Node
				if dt == tensor.Float64 {
					w = gorgonia.NewVector(g, dt, gorgonia.WithShape(len(r.W0)), gorgonia.WithValue(tensor.New(tensor.WithBacking(append([]float64(nil), r.W0...)))), gorgonia.WithName("w"))
				} else {
					w = gorgonia.NewVector(g, dt, gorgonia.WithShape(len(r.W0)), gorgonia.WithValue(tensor.New(tensor.WithBacking(f32(r.W0)))), gorgonia.WithName("w"))
				}
				a, err := NewAdam([]nn.Param{{Name: "w", Node: w}}, r.LR, &AdamOptions{WeightDecay: r.WeightDecay, Decoupled: r.Decoupled})
				if err != nil {
					t.Fatal(err)
				}
				tol := 1e-12
				if dt == tensor.Float32 {
					tol = 1e-5
				}
				for s, gr := range r.Grads {
					var gv gorgonia.Value
					if dt == tensor.Float64 {
						gv = tensor.New(tensor.WithBacking(append([]float64(nil), gr...)))
					} else {
						gv = tensor.New(tensor.WithBacking(f32(gr)))
					}
					a.grad = func(int) (gorgonia.Value, error) { return gv, nil }

					if err := a.Step(); err != nil {
						t.Fatal(err)
					}
					if s := tensor.New(tensor.WithShape(gv.Shape()...), tensor.Of(gv.Dtype())); !gv.(*tensor.Dense).Eq(s) {
						t.Fatal("the gradient was not zeroed after the step (gorgonia accumulates into it)")
					}
					for j, want := range r.Traj[s] {
						var got float64
						switch d := w.Value().Data().(type) {
						case []float32:
							got = float64(d[j])
						case []float64:
							got = d[j]
						}
						if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
							t.Fatalf("step %d w[%d] = %.12g, torch %.12g", s+1, j, got, want)
						}
					}
				}
				// The state round-trips through a file.
				path := t.TempDir() + "/adam.state"
				if err := a.SaveState(path); err != nil {
					t.Fatal(err)
				}
				b, _ := NewAdam([]nn.Param{{Name: "w", Node: w}}, 1, &AdamOptions{})
				if err := b.LoadState(path); err != nil {
					t.Fatal(err)
				}
				if b.Steps() != a.Steps() || b.LR != a.LR || !b.m[0].Eq(a.m[0]) || !b.v[0].Eq(a.v[0]) {
					t.Fatalf("state did not round-trip: step %d lr %g", b.Steps(), b.LR)
				}
			})
		}
	}
}

func TestPlateauTorch(t *testing.T) {
	f := loadTorchOptim(t).Plateau
	p := NewPlateau(f.Factor, f.Patience)
	lr := f.LR
	for i, v := range f.Values {
		lr = p.Step(v, lr)
		if math.Abs(lr-f.LRs[i]) > 1e-15 {
			t.Fatalf("epoch %d: lr %g, torch %g", i, lr, f.LRs[i])
		}
	}
}
