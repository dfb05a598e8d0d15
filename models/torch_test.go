package models

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/internal/reftest"
	"github.com/unetlab/unetlab/models/safetensors"
	"gorgonia.org/tensor"
)

// python is the interpreter of the PyTorch cross-checks.
const python = reftest.Python

func needTorch(t *testing.T) {
	t.Helper()
	reftest.Require(t, "torch", "numpy")
}

func denseOf(t *testing.T, f *safetensors.File, name string) *tensor.Dense {
	t.Helper()
	x, ok := f.Get(name)
	if !ok || x.Dtype != safetensors.F32 {
		t.Fatalf("no F32 tensor %q", name)
	}
	return tensor.New(tensor.WithShape(x.Shape...), tensor.WithBacking(slices.Clone(x.F32)))
}

// compareOutputs fails unless got and want agree to 1e-4 of want's largest
// magnitude (float32 sums in a different order over a whole network).
func compareOutputs(t *testing.T, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d outputs, want %d", len(got), len(want))
	}
	scale, diff := 0.0, 0.0
	for i := range want {
		scale = math.Max(scale, math.Abs(float64(want[i])))
		diff = math.Max(diff, math.Abs(float64(got[i]-want[i])))
	}
	if diff > 1e-4*math.Max(scale, 1) || math.IsNaN(diff) {
		t.Errorf("max |go - torch| = %g, output scale %g", diff, scale)
	} else {
		t.Logf("max |go - torch| = %.3g (output scale %.3g)", diff, scale)
	}
}

// TestTorchForward loads weights written by PyTorch (testdata/gen_torch.py,
// every architecture at its small size, parameters perturbed, BatchNorm in
// eval mode with random statistics) and checks that the Go network gives
// PyTorch's output on the same input.
func TestTorchForward(t *testing.T) {
	needTorch(t)
	cfgs := fixtureConfigs()
	var keys []string
	for k := range cfgs {
		if strings.HasSuffix(k, "/small") {
			if strings.HasPrefix(k, "SwinUNETR") && os.Getenv("UNETLAB_SCALE") == "smoke" && k != "SwinUNETR/small" {
				continue
			}
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	dir := t.TempDir()
	cmd := exec.Command(python, append([]string{"testdata/gen_torch.py", "--write-safetensors", dir}, keys...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			base := filepath.Join(dir, strings.ReplaceAll(key, "/", "_"))
			cfg := cfgs[key]
			cfg.Batch = 1
			m, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Load(base + ".safetensors"); err != nil {
				t.Fatal(err)
			}
			m.SetTraining(false)
			io, err := safetensors.ReadFile(base + "_io.safetensors")
			if err != nil {
				t.Fatal(err)
			}
			out, vm := run(t, m, denseOf(t, io, "input"), false)
			defer vm.Close()
			compareOutputs(t, out.Value().Data().([]float32), denseOf(t, io, "output").Data().([]float32))
		})
	}
}

// TestTorchLoadsGoWeights saves Go weights and has PyTorch load them
// (load_state_dict, strict) and run the same input.
func TestTorchLoadsGoWeights(t *testing.T) {
	needTorch(t)
	for _, key := range []string{"UNet/batchnorm-affine-trilinear/small", "TransUNet/small"} {
		t.Run(key, func(t *testing.T) {
			cfg := fixtureConfigs()[key]
			cfg.Batch = 1
			m, err := NewWithOptions(cfg, &Options{Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			m.SetTraining(false)
			dir := t.TempDir()
			w := filepath.Join(dir, "go.safetensors")
			if err := m.Save(w); err != nil {
				t.Fatal(err)
			}
			x := randomInput(m, 1, 9)
			in := &safetensors.File{Tensors: []safetensors.Tensor{{Name: "input", Dtype: safetensors.F32, Shape: []int(x.Shape()), F32: x.Data().([]float32)}}}
			if err := safetensors.WriteFile(filepath.Join(dir, "io.safetensors"), in); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(python, "testdata/gen_torch.py", "--check-safetensors", w, filepath.Join(dir, "io.safetensors"), filepath.Join(dir, "out.safetensors"), key)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			res, err := safetensors.ReadFile(filepath.Join(dir, "out.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			out, vm := run(t, m, x, false)
			defer vm.Close()
			compareOutputs(t, out.Value().Data().([]float32), denseOf(t, res, "output").Data().([]float32))
		})
	}
}
