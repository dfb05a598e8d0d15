package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/internal/devtest"
	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/models/nn"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestDeviceTrainingStepNetworks runs one forward and backward pass of each
// network of the paper, at a tiny size, with the TapeMachine and with the
// nn.Executor on the emulated device, and compares the loss and every
// parameter's gradient. No op may fall back to the CPU, and nothing is
// copied to the host inside the step: BatchNorm's running statistics are
// updated on the device, and after SyncResident they are the CPU engine's.
// SwinUNETR runs at its least size
// (32x32x64, feature size 12; about two minutes on the emulator) with
// window 4, so that its first stages shift and mask their windows.
func TestDeviceTrainingStepNetworks(t *testing.T) {
	dev, err := nn.SetDevice(testDevice())
	if err != nil {
		t.Skipf("skipped: %v", err)
	}
	defer nn.SetDevice("cpu")
	for _, arch := range models.Archs {
		t.Run(string(arch), func(t *testing.T) {
			cfg := models.Small(arch)
			if arch != models.SwinUNETR {
				cfg.Channels = []int{4, 8}
				cfg.InputSize = [3]int{8, 8, 8}
				cfg.TransUNet.TokensPerSide = 0
			} else {
				cfg.InputSize = [3]int{32, 32, 64}
				cfg.Swin.Window = 4
			}
			m, err := models.NewWithOptions(cfg, &models.Options{Seed: 1})
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
			loss, err := Loss(logits, y, &LossOptions{})
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
			before, err := m.StateFile() // the running statistics before the CPU's step
			if err != nil {
				t.Fatal(err)
			}
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
			cpuState, err := m.StateFile()
			if err != nil {
				t.Fatal(err)
			}
			if err := m.LoadStateFile(before); err != nil { // the device steps from the same statistics
				t.Fatal(err)
			}

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
			devtest.Loss(t, string(arch), float64(lv.Data().([]float32)[0]), wantLoss, 1e-5)
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
				devtest.CompareF32(t, "gradient of "+m.Learnables()[i].Name(), gv.Data().([]float32), want[i].Data().([]float32), 1e-3, 1e-2*global)
			}
			t.Logf("%s: %v", arch, st)
			if st.FallbackOps != 0 {
				t.Errorf("%s: %d ops fell back to the CPU: %v", arch, st.FallbackOps, st.Fallbacks)
			}
			// Nothing comes down inside the step: BatchNorm's running
			// statistics are updated on the device.
			if st.DeviceToHost != 0 {
				t.Errorf("%s: %d device->host copies inside the step, want none", arch, st.DeviceToHost)
			}
			if err := e.SyncResident(); err != nil {
				t.Fatal(err)
			}
			devState, err := m.StateFile()
			if err != nil {
				t.Fatal(err)
			}
			bn := 0
			for _, w := range cpuState.Tensors {
				if !strings.Contains(w.Name, ".running_") && !strings.HasSuffix(w.Name, ".num_batches_tracked") {
					continue
				}
				bn++
				g, ok := devState.Get(w.Name)
				switch {
				case !ok:
					t.Errorf("%s: %s missing from the device's state", arch, w.Name)
				case w.I64 != nil:
					if g.I64[0] != w.I64[0] || w.I64[0] != 1 {
						t.Errorf("%s: %s %d, CPU %d (one step)", arch, w.Name, g.I64[0], w.I64[0])
					}
				default:
					devtest.CompareF32(t, string(arch)+" "+w.Name, g.F32, w.F32, 1e-5, 1e-6)
				}
			}
			nbn := 0
			for _, l := range m.Summary().Layers {
				if l.Type == "BatchNorm3d" {
					nbn++
				}
			}
			if bn != 3*nbn {
				t.Errorf("%s: %d BatchNorm buffers in the state, want %d (3 per BatchNorm)", arch, bn, 3*nbn)
			}
		})
	}
}

// stepSide is one engine's copy of tinyStep's training step.
type stepSide struct {
	m     *models.Model
	x, y  *gorgonia.Node
	loss  *gorgonia.Node
	grads gorgonia.Nodes
	adam  *Adam
}

// tinyStep builds a tiny U-net's training step (seed 3, channels 4 and 8,
// a batch of two 8^3 volumes, DiceCE loss, its gradients, Adam at 1e-2);
// two calls give two identical, independent graphs.
func tinyStep(t *testing.T) *stepSide {
	t.Helper()
	cfg := models.Small(models.UNet)
	cfg.Channels = []int{4, 8}
	cfg.InputSize = [3]int{8, 8, 8}
	m, err := models.NewWithOptions(cfg, &models.Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	s := &stepSide{m: m, x: m.Input("x", 2)}
	s.y = gorgonia.NewTensor(m.Graph(), tensor.Float32, 5, gorgonia.WithShape(2, 1, 8, 8, 8), gorgonia.WithName("target"))
	logits, err := m.Forward(s.x)
	if err != nil {
		t.Fatal(err)
	}
	if s.loss, err = Loss(logits, s.y, &LossOptions{}); err != nil {
		t.Fatal(err)
	}
	if s.grads, err = gorgonia.Grad(s.loss, m.Learnables()...); err != nil {
		t.Fatal(err)
	}
	if s.adam, err = NewAdam(m.Parameters(), 1e-2, &AdamOptions{}); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDeviceTrainingSteps trains a tiny U-net for three steps on the
// emulated device (executor plus device Adam: parameters and moments stay
// on the device) and on the CPU (TapeMachine plus Adam), from the same
// initial parameters and batches, and compares every step's loss and the
// final parameters and moments; after the first step a step copies only
// the batch in and the loss out.
func TestDeviceTrainingSteps(t *testing.T) {
	dev, err := nn.SetDevice(testDevice())
	if err != nil {
		t.Skipf("skipped: %v", err)
	}
	defer nn.SetDevice("cpu")
	cpu, gpu := tinyStep(t), tinyStep(t)
	vm := gorgonia.NewTapeMachine(cpu.m.Graph().SubgraphRoots(append(gorgonia.Nodes{cpu.loss}, cpu.grads...)...),
		gorgonia.BindDualValues(cpu.m.Learnables()...))
	defer vm.Close()
	e, err := nn.NewExecutor(dev, gpu.m.Learnables(), append(gorgonia.Nodes{gpu.loss}, gpu.grads...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	da, err := newDeviceAdam(gpu.adam, e, gpu.grads)
	if err != nil {
		t.Fatal(err)
	}
	defer da.close()
	r := rand.New(rand.NewPCG(5, 6))
	var noise map[int]bool
	for step := 0; step < 3; step++ {
		xv := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(2, 1, 8, 8, 8))
		yv := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(2, 1, 8, 8, 8))
		for i := range xv.Data().([]float32) {
			xv.Data().([]float32)[i] = float32(r.NormFloat64())
			yv.Data().([]float32)[i] = float32(r.IntN(2))
		}
		for _, s := range []*stepSide{cpu, gpu} {
			gorgonia.Let(s.x, xv)
			gorgonia.Let(s.y, yv)
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		want := float64(cpu.loss.Value().Data().(float32))
		if step == 0 {
			noise = noiseParams(t, cpu.m.Learnables())
			if 2*len(noise) > len(cpu.adam.params) {
				t.Fatalf("%d of %d parameters have noise gradients", len(noise), len(cpu.adam.params))
			}
		}
		vm.Reset()
		if err := cpu.adam.Step(); err != nil {
			t.Fatal(err)
		}
		e.ResetStats()
		if err := e.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := da.step(); err != nil {
			t.Fatal(err)
		}
		lv, err := e.Value(gpu.loss)
		if err != nil {
			t.Fatal(err)
		}
		st := e.Stats()
		devtest.Loss(t, fmt.Sprintf("step %d", step), float64(lv.Data().([]float32)[0]), want, 1e-4)
		if step > 0 && (st.HostToDevice != 2 || st.DeviceToHost != 1 || st.FallbackOps != 0) {
			t.Errorf("step %d: %v; want 2 uploads (the batch), 1 download (the loss), no fallbacks", step, st)
		}
		t.Logf("step %d: loss %.6f (CPU %.6f): %v", step, lv.Data().([]float32)[0], want, st)
	}
	if err := e.SyncResident(); err != nil {
		t.Fatal(err)
	}
	if err := da.syncToHost(); err != nil {
		t.Fatal(err)
	}
	for i, p := range cpu.adam.params {
		if noise[i] {
			continue
		}
		q := gpu.adam.params[i]
		for _, c := range []struct {
			what     string
			cpu, gpu []float32
		}{
			{p.Name, p.Node.Value().Data().([]float32), q.Node.Value().Data().([]float32)},
			{p.Name + " (Adam m)", cpu.adam.m[i].Data().([]float32), gpu.adam.m[i].Data().([]float32)},
			{p.Name + " (Adam v)", cpu.adam.v[i].Data().([]float32), gpu.adam.v[i].Data().([]float32)},
		} {
			devtest.CompareF32(t, c.what, c.gpu, c.cpu, 2e-3, 1e-6)
		}
	}
	if gpu.adam.Steps() != 3 {
		t.Errorf("device Adam made %d steps, want 3", gpu.adam.Steps())
	}
}

// noiseParams returns the indices of the parameters whose gradient is
// rounding noise (below 1e-5 of the largest): a convolution's bias before
// an InstanceNorm does not change the loss, and Adam turns its noise into
// full-size steps that differ between any two engines.
func noiseParams(t *testing.T, params gorgonia.Nodes) map[int]bool {
	t.Helper()
	peak := make([]float64, len(params))
	global := 0.0
	for i, p := range params {
		g, err := p.Grad()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range g.Data().([]float32) {
			peak[i] = math.Max(peak[i], math.Abs(float64(v)))
		}
		global = math.Max(global, peak[i])
	}
	noise := map[int]bool{}
	for i := range params {
		if peak[i] < 1e-5*global {
			noise[i] = true
		}
	}
	return noise
}

// TestDeviceAdamBeforeRun: a device Adam step before the executor has
// computed the gradients fails with ErrShape and changes nothing, not even
// the step count.
func TestDeviceAdamBeforeRun(t *testing.T) {
	dev, err := nn.SetDevice(testDevice())
	if err != nil {
		t.Skipf("skipped: %v", err)
	}
	defer nn.SetDevice("cpu")
	st := tinyStep(t)
	e, err := nn.NewExecutor(dev, st.m.Learnables(), append(gorgonia.Nodes{st.loss}, st.grads...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	da, err := newDeviceAdam(st.adam, e, st.grads)
	if err != nil {
		t.Fatal(err)
	}
	defer da.close()
	if err := da.step(); !errors.Is(err, ErrShape) {
		t.Fatalf("step before the executor ran: %v, want ErrShape", err)
	}
	if st.adam.Steps() != 0 {
		t.Errorf("a failed step counted: Steps() = %d, want 0", st.adam.Steps())
	}
}
