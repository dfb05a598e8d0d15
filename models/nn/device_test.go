package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/internal/cuda"
	"github.com/unetlab/unetlab/internal/devtest"
	"gorgonia.org/tensor"
)

// testDevices returns the emulated device and, where one answers, the GPU;
// the GPU's absence is logged, never a failure. UNETLAB_TEST_DEVICES (a
// comma-separated list, e.g. "cuda" in bench/gpu/check.sh) picks others.
func testDevices(t *testing.T) []*Device {
	t.Helper()
	var ds []*Device
	names := []string{"emulated", "cuda"}
	if env := os.Getenv("UNETLAB_TEST_DEVICES"); env != "" {
		names = strings.Split(env, ",")
	}
	for _, name := range names {
		d, err := openDevice(name)
		if err != nil {
			t.Logf("skipped on %s: %v", name, err)
			continue
		}
		t.Cleanup(d.close)
		ds = append(ds, d)
	}
	if len(ds) == 0 {
		t.Skip("no device (the emulated one needs cgo)")
	}
	return ds
}

// f32Tensor is a float32 tensor of uniform values in [-1, 1).
func f32Tensor(r *rand.Rand, shape ...int) *tensor.Dense {
	return convertDense(randTensor(r, shape...), tensor.Float32)
}

// runOnDevice runs kernel k's forward pass on d with the given float32 host
// inputs and returns the output, shaped as the CPU kernel's.
func runOnDevice(t *testing.T, d *Device, k kernel, in []*tensor.Dense) *tensor.Dense {
	t.Helper()
	shapes := make([]tensor.Shape, len(in))
	dev := make([]devTensor, len(in))
	for i, h := range in {
		shapes[i] = h.Shape()
		var err error
		if dev[i], err = d.upload(h); err != nil {
			t.Fatal(err)
		}
		defer d.free(dev[i])
	}
	os, err := k.inferShape(shapes)
	if err != nil {
		t.Fatal(err)
	}
	out, err := d.alloc(os)
	if err != nil {
		t.Fatal(err)
	}
	defer d.free(out)
	if err := d.deviceForward(k, out, dev); err != nil {
		t.Fatalf("%s on %s: %v", k, d.Name(), err)
	}
	h := tensor.New(tensor.WithShape(os...), tensor.Of(tensor.Float32))
	if err := d.download(h, out); err != nil {
		t.Fatal(err)
	}
	return h
}

// runOnCPU runs kernel k's forward pass with the CPU engine.
func runOnCPU(t *testing.T, k kernel, in []*tensor.Dense) *tensor.Dense {
	t.Helper()
	shapes := make([]tensor.Shape, len(in))
	for i, h := range in {
		shapes[i] = h.Shape()
	}
	os, err := k.inferShape(shapes)
	if err != nil {
		t.Fatal(err)
	}
	out := tensor.New(tensor.WithShape(os...), tensor.Of(tensor.Float32))
	if err := k.forward(out, in); err != nil {
		t.Fatal(err)
	}
	return out
}

// compareF32 fails where got and want differ by more than tol relative to
// the larger of 1 and want's largest magnitude; NaN must match NaN
// (devtest.CompareF32 with a floor of 1).
func compareF32(t *testing.T, what string, got, want *tensor.Dense, tol float64) {
	t.Helper()
	devtest.CompareF32(t, what, got.Data().([]float32), want.Data().([]float32), tol, 1)
}

func TestDeviceActivations(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), 1e-30, -1e-30, 6, -6}
	for _, d := range testDevices(t) {
		for _, n := range []int{1, 257, 1000} {
			for _, a := range []activation{{kind: actReLU}, {kind: actLeakyReLU, alpha: 0.01}, {kind: actGELU}, {kind: actSigmoid}} {
				t.Run(fmt.Sprintf("%s/%s/n=%d", d.Kind(), a, n), func(t *testing.T) {
					x := f32Tensor(r, n)
					xs := x.Data().([]float32)
					if n > len(special) && (a.kind == actReLU || a.kind == actLeakyReLU) {
						copy(xs, special)
					}
					dy := f32Tensor(r, n)
					tol := 0.0
					if a.kind == actGELU || a.kind == actSigmoid {
						tol = 1e-6
					}
					y := runOnCPU(t, a, []*tensor.Dense{x})
					compareF32(t, "forward", runOnDevice(t, d, a, []*tensor.Dense{x}), y, tol)
					in := []*tensor.Dense{x, y, dy}
					compareF32(t, "backward", runOnDevice(t, d, activationGrad(a), in), runOnCPU(t, activationGrad(a), in), tol)
				})
			}
		}
	}
}

func TestDeviceSumMean(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	for _, d := range testDevices(t) {
		for _, n := range []int{1, 255, 4099} {
			for _, mean := range []bool{false, true} {
				x := f32Tensor(r, n)
				op := &reduceOp{mean: mean}
				want, err := op.Do(x)
				if err != nil {
					t.Fatal(err)
				}
				dx, err := d.upload(x)
				if err != nil {
					t.Fatal(err)
				}
				out, err := d.alloc(tensor.Shape{1})
				if err != nil {
					t.Fatal(err)
				}
				scale := 1.0
				if mean {
					scale = 1 / float64(n)
				}
				if err := d.kern.Sum(n, dx.p, scale, out.p); err != nil {
					t.Fatal(err)
				}
				h := tensor.New(tensor.WithShape(1), tensor.Of(tensor.Float32))
				if err := d.download(h, out); err != nil {
					t.Fatal(err)
				}
				d.free(dx)
				d.free(out)
				w := want.Data().(float32)
				if g := h.Data().([]float32)[0]; math.Abs(float64(g-w)) > 1e-6*math.Max(1, math.Abs(float64(w))) {
					t.Errorf("%s: %s of %d: %v, CPU %v", d.Kind(), op, n, g, w)
				}
			}
		}
	}
}

// deviceConvCases are convolutions with every option the CPU engine has,
// at odd sizes.
var deviceConvCases = []struct {
	name          string
	n, cin, cout  int
	in            [3]int
	k             [3]int
	opt           ConvOptions
	bias, transpo bool
}{
	{"3x3x3 pad 1", 2, 3, 4, [3]int{5, 6, 7}, [3]int{3, 3, 3}, ConvOptions{Padding: [3]int{1, 1, 1}}, true, false},
	{"stride 2", 1, 2, 3, [3]int{7, 5, 6}, [3]int{3, 3, 3}, ConvOptions{Stride: [3]int{2, 2, 2}, Padding: [3]int{1, 1, 1}}, false, false},
	{"anisotropic", 1, 3, 2, [3]int{4, 7, 9}, [3]int{1, 3, 2}, ConvOptions{Stride: [3]int{1, 2, 3}, Padding: [3]int{0, 1, 1}}, true, false},
	{"dilation 2", 1, 2, 2, [3]int{7, 7, 7}, [3]int{3, 3, 3}, ConvOptions{Dilation: [3]int{2, 2, 1}, Padding: [3]int{2, 1, 0}}, false, false},
	{"groups 2", 2, 4, 6, [3]int{5, 4, 3}, [3]int{3, 3, 3}, ConvOptions{Padding: [3]int{1, 1, 1}, Groups: 2}, true, false},
	{"depthwise", 1, 3, 3, [3]int{5, 5, 5}, [3]int{3, 3, 3}, ConvOptions{Padding: [3]int{1, 1, 1}, Groups: 3}, false, false},
	{"pointwise", 2, 5, 3, [3]int{3, 4, 5}, [3]int{1, 1, 1}, ConvOptions{}, true, false},
	// Over 4096 output positions (batch times side): the weight gradient
	// takes a block per weight element; the cases above a thread each.
	{"weight gradient by blocks", 2, 2, 3, [3]int{9, 16, 16}, [3]int{3, 3, 3}, ConvOptions{Padding: [3]int{1, 1, 1}}, false, false},
	{"transposed, weight gradient by blocks", 1, 2, 1, [3]int{17, 16, 16}, [3]int{2, 2, 2}, ConvOptions{Stride: [3]int{2, 2, 2}}, false, true},
	{"transposed stride 2", 2, 4, 3, [3]int{3, 4, 5}, [3]int{2, 2, 2}, ConvOptions{Stride: [3]int{2, 2, 2}}, true, true},
	{"transposed 3x3x3 output padding", 1, 3, 2, [3]int{3, 3, 4}, [3]int{3, 3, 3}, ConvOptions{Stride: [3]int{2, 2, 2}, Padding: [3]int{1, 1, 1}, OutputPadding: [3]int{1, 0, 1}}, false, true},
	{"transposed groups 3", 1, 6, 3, [3]int{4, 3, 3}, [3]int{3, 1, 3}, ConvOptions{Stride: [3]int{1, 2, 2}, Padding: [3]int{1, 0, 1}, Groups: 3}, true, true},
}

func TestDeviceConv3d(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	for _, d := range testDevices(t) {
		for _, c := range deviceConvCases {
			t.Run(fmt.Sprintf("%s/%s", d.Kind(), c.name), func(t *testing.T) {
				p, err := c.opt.params(c.k)
				if err != nil {
					t.Fatal(err)
				}
				k := &convKernel{p: p, transposed: c.transpo, bias: c.bias}
				x := f32Tensor(r, c.n, c.cin, c.in[0], c.in[1], c.in[2])
				ws := tensor.Shape{c.cout, c.cin / p.groups, c.k[0], c.k[1], c.k[2]}
				if c.transpo {
					ws = tensor.Shape{c.cin, c.cout / p.groups, c.k[0], c.k[1], c.k[2]}
				}
				w := f32Tensor(r, ws...)
				in := []*tensor.Dense{x, w}
				if c.bias {
					in = append(in, f32Tensor(r, c.cout))
				}
				y := runOnCPU(t, k, in)
				compareF32(t, "forward", runOnDevice(t, d, k, in), y, 1e-5)
				gin := append(append([]*tensor.Dense(nil), in...), y, f32Tensor(r, y.Shape()...))
				for wrt := range in {
					gk := k.grad(wrt)
					compareF32(t, fmt.Sprintf("gradient %d", wrt), runOnDevice(t, d, gk, gin), runOnCPU(t, gk, gin), 1e-5)
				}
			})
		}
	}
}

func TestDeviceSelection(t *testing.T) {
	for _, name := range []string{"cpu", "emulated", "auto"} {
		d, err := openDevice(name)
		if err != nil {
			if name == "emulated" && errors.Is(err, ErrDevice) {
				t.Logf("emulated: %v", err)
				continue
			}
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: %s", name, d)
		switch name {
		case "cpu":
			if d.Kind() != DeviceCPU || d.String() != "device: cpu" {
				t.Errorf("cpu: %v", d)
			}
		case "emulated":
			if d.Kind() != DeviceEmulated {
				t.Errorf("emulated: %v", d)
			}
		case "auto":
			if _, gpuErr := cuda.OpenDriver(); gpuErr != nil && (d.Kind() != DeviceCPU || d.reason == "") {
				t.Errorf("auto without a GPU (%v): %v, want the CPU with the reason", gpuErr, d)
			}
		}
		d.close()
	}
	if _, err := openDevice("tpu"); !errors.Is(err, ErrDevice) {
		t.Errorf("tpu: %v, want ErrDevice", err)
	}
	if _, err := cuda.OpenDriver(); err != nil {
		if _, err := openDevice("cuda"); !errors.Is(err, ErrDevice) {
			t.Errorf("cuda without a GPU: %v, want ErrDevice", err)
		}
	}
}
