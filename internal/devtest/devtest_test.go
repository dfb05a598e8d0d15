package devtest

import (
	"fmt"
	"math"
	"testing"
)

// recorder is a testing.TB that records Errorf and Fatalf instead of
// failing, so that the checks' own verdicts can be tested.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

func TestCompareF32(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tests := []struct {
		name       string
		got, want  []float32
		tol, floor float64
		fail       bool
	}{
		{"equal", []float32{1, 2, 3}, []float32{1, 2, 3}, 0, 1, false},
		{"within tol x largest", []float32{10, 2.009}, []float32{10, 2}, 1e-3, 1, false},
		{"beyond tol x largest", []float32{10, 2.011}, []float32{10, 2}, 1e-3, 1, true},
		{"floor sets the scale of small values", []float32{0.0105}, []float32{0.01}, 1e-3, 1, false},
		{"small floor keeps small values strict", []float32{0.0105}, []float32{0.01}, 1e-3, 1e-6, true},
		{"NaN matches NaN", []float32{nan}, []float32{nan}, 1e-3, 1, false},
		{"NaN expected", []float32{0}, []float32{nan}, 1e-3, 1, true},
		{"NaN unexpected", []float32{nan}, []float32{0}, 1e-3, 1, true},
		{"infinity matches", []float32{inf}, []float32{inf}, 1e-3, 1, false},
		{"infinity of the other sign", []float32{-inf}, []float32{inf}, 1e-3, 1, true},
		{"length", []float32{1}, []float32{1, 2}, 1, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			CompareF32(r, "x", tt.got, tt.want, tt.tol, tt.floor)
			if fail := len(r.errs) > 0; fail != tt.fail {
				t.Errorf("failed = %v (%q), want %v", fail, r.errs, tt.fail)
			}
		})
	}
}

func TestLoss(t *testing.T) {
	tests := []struct {
		got, want, rel float64
		fail           bool
	}{
		{1.00001, 1, 1e-5, false},
		{1.00003, 1, 1e-5, true},
		{math.NaN(), 1, 1e-5, true},
		{100.0005, 100, 1e-5, false},
	}
	for _, tt := range tests {
		r := &recorder{TB: t}
		Loss(r, "loss", tt.got, tt.want, tt.rel)
		if fail := len(r.errs) > 0; fail != tt.fail {
			t.Errorf("Loss(%v, %v, %v): failed = %v, want %v", tt.got, tt.want, tt.rel, fail, tt.fail)
		}
	}
}

func TestEmulated(t *testing.T) {
	dev, k := Emulated(t)
	if dev == nil || k == nil {
		t.Fatal("nil device or kernels")
	}
}
