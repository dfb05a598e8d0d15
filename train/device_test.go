package train

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/models/nn"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestDeviceTrainingStepNetworks runs one forward and backward pass of each
// network of the paper, at a tiny size, with the TapeMachine and with the
// nn.Executor on the emulated device, and compares the loss and every
// parameter's gradient. No op may fall back to the CPU except TransUNet's
// attention ops (no device kernels yet; the test logs them), and nothing is
// copied to the host inside the step.
func TestDeviceTrainingStepNetworks(t *testing.T) {
	dev, err := nn.SetDevice("emulated")
	if err != nil {
		t.Skipf("skipped: %v", err)
	}
	defer nn.SetDevice("cpu")
	for _, arch := range models.Archs {
		if arch == models.SwinUNETR {
			// Its least configuration (64^3, feature size 12) takes minutes
			// on the emulator; its attention ops have no device kernels yet.
			t.Logf("%s: skipped: no tiny configuration for the emulator yet", arch)
			continue
		}
		t.Run(string(arch), func(t *testing.T) {
			cfg := models.Small(arch)
			if arch != models.SwinUNETR {
				cfg.Channels = []int{4, 8}
				cfg.InputSize = [3]int{8, 8, 8}
				cfg.TransUNet.TokensPerSide = 0
			}
			m, err := models.NewWithOptions(cfg, models.Options{Seed: 1})
			if err != nil {
				t.Skipf("skipped: %s has no tiny configuration: %v", arch, err)
			}
			cfg = m.Config()
			x := m.Input("x", 1)
			d, h, w := cfg.InputSize[0], cfg.InputSize[1], cfg.InputSize[2]
			y := gorgonia.NewTensor(m.Graph(), tensor.Float32, 5, gorgonia.WithShape(1, 1, d, h, w), gorgonia.WithName("target"))
			logits, err := m.Forward(x)
			if err != nil {
				t.Fatal(err)
			}
			loss, err := Loss(logits, y, LossOptions{})
			if err != nil {
				t.Fatal(err)
			}
			grads, err := gorgonia.Grad(loss, m.Learnables()...)
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(1, 2))
			xv := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(x.Shape()...))
			for i := range xv.Data().([]float32) {
				xv.Data().([]float32)[i] = float32(r.NormFloat64())
			}
			yv := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(1, 1, d, h, w))
			for i := range yv.Data().([]float32) {
				yv.Data().([]float32)[i] = float32(r.IntN(cfg.Classes))
			}
			gorgonia.Let(x, xv)
			gorgonia.Let(y, yv)
			vm := gorgonia.NewTapeMachine(m.Graph().SubgraphRoots(append(gorgonia.Nodes{loss}, grads...)...),
				gorgonia.BindDualValues(m.Learnables()...))
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			wantLoss := float64(loss.Value().Data().(float32))
			var want []*tensor.Dense
			for _, p := range m.Learnables() {
				g, err := p.Grad()
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, g.(*tensor.Dense).Clone().(*tensor.Dense))
			}
			vm.Close()

			e, err := nn.NewExecutor(dev, m.Learnables(), append(gorgonia.Nodes{loss}, grads...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if err := e.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			st := e.Stats()
			lv, err := e.Value(loss)
			if err != nil {
				t.Fatal(err)
			}
			if got := float64(lv.Data().([]float32)[0]); math.Abs(got-wantLoss) > 1e-5*(1+math.Abs(wantLoss)) {
				t.Errorf("loss %v, CPU %v", got, wantLoss)
			}
			// Tolerance: relative to each parameter's largest gradient, with a
			// floor at 1e-5 of the network's largest (a conv bias before a
			// norm has a gradient of 0 plus rounding noise on both engines).
			global := 0.0
			for _, w := range want {
				for _, v := range w.Data().([]float32) {
					global = math.Max(global, math.Abs(float64(v)))
				}
			}
			for i, gn := range grads {
				gv, err := e.Value(gn)
				if err != nil {
					t.Fatal(err)
				}
				g, w := gv.Data().([]float32), want[i].Data().([]float32)
				scale := 1e-2 * global
				for _, v := range w {
					scale = math.Max(scale, math.Abs(float64(v)))
				}
				for j := range g {
					if math.Abs(float64(g[j]-w[j])) > 1e-3*scale {
						t.Errorf("gradient of %s [%d] = %v, CPU %v (largest %g)", m.Learnables()[i].Name(), j, g[j], w[j], scale)
						break
					}
				}
			}
			t.Logf("%s: %v", arch, st)
			if arch != models.TransUNet && st.FallbackOps != 0 {
				// TransUNet's attention has no device kernels yet.
				t.Errorf("%s: %d ops fell back to the CPU: %v", arch, st.FallbackOps, st.Fallbacks)
			}
			if st.DeviceToHost != 0 {
				t.Errorf("%s: %d device->host copies inside the step", arch, st.DeviceToHost)
			}
		})
	}
}
