package samplestat

import (
	"math"
	"testing"
)

func TestQuantile(t *testing.T) {
	x := []float64{1, 2, 4, 8}
	for _, c := range []struct {
		p, want float64
	}{
		{0, 1}, {1, 8}, {0.5, 3}, {1.0 / 3, 2}, {0.25, 1.75}, {0.95, 7.4}, {2, 8}, {-1, 1},
	} {
		if got := Quantile(x, c.p); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Quantile(%v, %v) = %v, want %v (numpy.percentile)", x, c.p, got, c.want)
		}
	}
	if got := Quantile(nil, 0.5); !math.IsNaN(got) {
		t.Errorf("Quantile(nil) = %v, want NaN", got)
	}
	if got := Quantile([]float64{3}, 0.7); got != 3 {
		t.Errorf("Quantile([3]) = %v, want 3", got)
	}
}

func TestBootstrapMeans(t *testing.T) {
	x := []float64{1, 2, 3}
	// A draw that cycles 0, 1, 2, 0, ... makes every resample x itself.
	k := 0
	cycle := func(n int) int { k++; return (k - 1) % n }
	for _, m := range BootstrapMeans(x, 4, cycle) {
		if m != 2 {
			t.Fatalf("mean %v, want 2", m)
		}
	}
	// Always the last element.
	last := BootstrapMeans(x, 2, func(n int) int { return n - 1 })
	if len(last) != 2 || last[0] != 3 || last[1] != 3 {
		t.Fatalf("means %v, want [3 3]", last)
	}
}

func TestEachBootstrapMeanMatchesSlice(t *testing.T) {
	x := []float64{0.1, -0.3, 0.25, 0.7}
	lcg := func() func(int) int {
		s := uint64(12345)
		return func(n int) int { s = s*6364136223846793005 + 1442695040888963407; return int(s>>33) % n }
	}
	want := BootstrapMeans(x, 50, lcg())
	var got []float64
	EachBootstrapMean(x, 50, lcg(), func(m float64) { got = append(got, m) })
	if len(got) != len(want) {
		t.Fatalf("%d means, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("mean %d: %v, want %v", i, got[i], want[i])
		}
	}
}
