package models

import (
	"os"
	"testing"

	"github.com/unetlab/unetlab/models/nn"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestOverfit trains every architecture (tiny size) on one synthetic volume,
// a bright sphere to segment, with Adam on the cross-entropy of the logits,
// and checks that the loss falls below half its first value.
func TestOverfit(t *testing.T) {
	for name, cfg := range variants() {
		t.Run(name, func(t *testing.T) {
			steps := 60
			if cfg.Arch == SwinUNETR {
				if testing.Short() || os.Getenv("UNETLAB_SCALE") == "smoke" || name != "SwinUNETR" {
					t.Skip("SwinUNETR training steps at 64^3 take about 25 s each")
				}
				steps = 4
			}
			m, err := NewWithOptions(cfg, &Options{Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			c := m.Config()
			d, h, w := c.InputSize[0], c.InputSize[1], c.InputSize[2]
			img := make([]float32, d*h*w)
			lab := make([]float32, 2*d*h*w)
			for z := range d {
				for y := range h {
					for x := range w {
						i := (z*h+y)*w + x
						dz, dy, dx := float64(z)-float64(d)/2, float64(y)-float64(h)/2, float64(x)-float64(w)/2
						in := dz*dz+dy*dy+dx*dx < float64(d*d)/9
						if in {
							img[i] = 1
							lab[d*h*w+i] = 1
						} else {
							lab[i] = 1
						}
					}
				}
			}
			// A bright sphere with low-frequency noise is easy to learn; the
			// test is that every network learns.
			in := m.Input("x", 1)
			gorgonia.Let(in, tensor.New(tensor.WithShape(1, 1, d, h, w), tensor.WithBacking(img)))
			target := gorgonia.NewConstant(tensor.New(tensor.WithShape(1, 2, d, h, w), tensor.WithBacking(lab)))
			out, err := m.Forward(in)
			if err != nil {
				t.Fatal(err)
			}
			logp, err := nn.LogSoftmax(out)
			if err != nil {
				t.Fatal(err)
			}
			prod := gorgonia.Must(gorgonia.HadamardProd(logp, target))
			loss := gorgonia.Must(gorgonia.Neg(gorgonia.Must(gorgonia.Mean(prod))))
			if _, err := gorgonia.Grad(loss, m.Learnables()...); err != nil {
				t.Fatal(err)
			}
			vm := gorgonia.NewTapeMachine(m.Graph(), gorgonia.BindDualValues(m.Learnables()...))
			defer vm.Close()
			solver := gorgonia.NewAdamSolver(gorgonia.WithLearnRate(1e-2))
			var first, last float64
			for s := range steps {
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				last = lossValue(loss)
				if s == 0 {
					first = last
				}
				if err := solver.Step(gorgonia.NodesToValueGrads(m.Learnables())); err != nil {
					t.Fatal(err)
				}
				vm.Reset()
			}
			t.Logf("loss %.4f -> %.4f in %d steps", first, last, steps)
			if !(last < first/2) {
				t.Errorf("loss %.4f -> %.4f: did not halve in %d steps", first, last, steps)
			}
		})
	}
}

func lossValue(n *gorgonia.Node) float64 {
	switch v := n.Value().Data().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	return 0
}
