// Package devtest is the test support shared by the device tests of
// models/nn and train: the emulated CUDA device with its kernels, and the
// comparison of a device result with the CPU engine's. It is imported by
// _test.go files only.
package devtest

import (
	"math"
	"testing"

	"github.com/unetlab/unetlab/internal/cuda"
)

// Emulated opens the emulated device (cuda.OpenEmulated) and its kernels
// (cuda.NewKernels) for t; both are closed when t ends. It skips t when the
// build has no emulated device (no cgo) and fails t when the kernels do not
// load.
func Emulated(t testing.TB) (cuda.Device, *cuda.Kernels) {
	t.Helper()
	dev, err := cuda.OpenEmulated()
	if err != nil {
		t.Skipf("skipped: no emulated device: %v", err)
	}
	t.Cleanup(func() { dev.Close() })
	k, err := cuda.NewKernels(dev)
	if err != nil {
		t.Fatalf("kernels on the emulated device: %v", err)
	}
	t.Cleanup(func() { k.Close() })
	return dev, k
}

// CompareF32 reports on t (Errorf, once) the values of got that differ from
// want, the CPU engine's, by more than tol × scale, where scale is the
// largest finite |want[i]| but at least floor. A NaN in want must be NaN in
// got, an infinity the same infinity. what names the values in the message.
// A length mismatch is fatal.
func CompareF32(t testing.TB, what string, got, want []float32, tol, floor float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	scale := floor
	for _, v := range want {
		if !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
	}
	bad, first := 0, -1
	for i := range got {
		a, b := float64(got[i]), float64(want[i])
		var ok bool
		switch {
		case math.IsNaN(b):
			ok = math.IsNaN(a)
		case math.IsInf(b, 0):
			ok = a == b
		default:
			ok = math.Abs(a-b) <= tol*scale
		}
		if !ok {
			bad++
			if first < 0 {
				first = i
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values differ from the CPU engine's; first [%d] = %v, CPU %v (tolerance %g x %g)",
			what, bad, len(got), first, got[first], want[first], tol, scale)
	}
}

// Loss reports on t a loss (or any scalar) got that differs from the CPU
// engine's want by more than rel × (1 + |want|).
func Loss(t testing.TB, what string, got, want, rel float64) {
	t.Helper()
	if d := math.Abs(got - want); !(d <= rel*(1+math.Abs(want))) {
		t.Errorf("%s: loss %v, CPU %v (tolerance %g x (1 + |CPU|))", what, got, want, rel)
	}
}
