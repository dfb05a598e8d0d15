package stats

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{1, 2, 3, 4, math.NaN()})
	if s.N != 4 || s.Mean != 2.5 || math.Abs(s.SD-math.Sqrt(5.0/3)) > 1e-15 {
		t.Errorf("Summarize = %+v", s)
	}
	if s := Summarize([]float64{7}); s.Mean != 7 || !math.IsNaN(s.SD) {
		t.Errorf("one value: %+v", s)
	}
}

func TestBootstrapKnownAnswers(t *testing.T) {
	base := []float64{0.80, 0.85, 0.78, 0.90, 0.83}
	identical, _ := FoldDifferences(base, base)
	p, err := BootstrapTest(identical, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p != 1 {
		t.Errorf("identical folds: p = %v, want 1", p)
	}
	better := []float64{0.95, 0.99, 0.93, 1.06, 0.97}
	d, _ := FoldDifferences(better, base)
	p, err = BootstrapTest(d, &BootstrapOptions{Resamples: 5000, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	if p > 0.001 {
		t.Errorf("large consistent difference: p = %v, want near 0", p)
	}
	// A noisy difference centred on zero is not significant.
	noisy := []float64{0.05, -0.04, 0.03, -0.05, 0.01}
	p, _ = BootstrapTest(noisy, &BootstrapOptions{Seed: 2})
	if p < 0.3 {
		t.Errorf("zero-mean noise: p = %v, want large", p)
	}
	// Same seed, same answer; the value is pinned so that a change of
	// generator or procedure shows up.
	p1, _ := BootstrapTest(noisy, &BootstrapOptions{Seed: 2})
	if p1 != p {
		t.Errorf("same seed gave %v then %v", p, p1)
	}
	if _, err := BootstrapTest([]float64{1}, nil); err == nil {
		t.Error("one difference: no error")
	}
	if _, err := FoldDifferences([]float64{1}, []float64{1, 2}); !errors.Is(err, ErrShape) {
		t.Errorf("fold count mismatch: %v", err)
	}
}

// TestBootstrapFewPairs checks the floor of the p-value below
// MinBootstrapPairs differences: 2 to 4 folds of one sign gave p near
// 1/(B+1) whatever the size of the difference.
func TestBootstrapFewPairs(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		name     string
		d        []float64
		n        int
		minP     float64
		floored  bool    // P raised to MinP, Warning set
		pAtLeast float64 // P >= this
		pBelow   float64 // P < this (0: no bound)
	}{
		{"two of one sign", []float64{0.01, 0.02}, 2, 0.5, true, 0.5, 0},
		{"three tiny of one sign", []float64{1e-4, 2e-4, 1.5e-4}, 3, 0.25, true, 0.25, 0},
		{"three large of one sign", []float64{0.2, 0.3, 0.25}, 3, 0.25, true, 0.25, 0},
		{"three identical", []float64{0.05, 0.05, 0.05}, 3, 0.25, true, 0.25, 0},
		{"four of one sign", []float64{0.1, 0.12, 0.09, 0.11}, 4, 0.125, true, 0.125, 0},
		{"four, two NaN", []float64{0.1, nan, 0.12, 0.09, nan, 0.11}, 4, 0.125, true, 0.125, 0},
		{"three mixed signs", []float64{0.05, -0.04, 0.01}, 3, 0.25, true, 0.25, 0},
		{"five of one sign", []float64{0.1, 0.12, 0.09, 0.11, 0.1}, 5, 1.0 / 16, false, 0, 0.001},
		{"five zero", []float64{0, 0, 0, 0, 0}, 5, 1.0 / 16, false, 1, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Bootstrap(c.d, &BootstrapOptions{Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			if r.N != c.n || r.MinP != c.minP {
				t.Errorf("N = %d, MinP = %v; want %d, %v", r.N, r.MinP, c.n, c.minP)
			}
			if r.P < c.pAtLeast || c.pBelow > 0 && r.P >= c.pBelow || r.P > 1 {
				t.Errorf("P = %v, want in [%v, %v)", r.P, c.pAtLeast, c.pBelow)
			}
			want := r.BootstrapP
			if c.floored {
				want = math.Max(want, r.MinP)
			}
			if r.P != want {
				t.Errorf("P = %v, BootstrapP = %v, MinP = %v, floored %v", r.P, r.BootstrapP, r.MinP, c.floored)
			}
			if (r.Warning != "") != c.floored {
				t.Errorf("Warning %q, want one: %v", r.Warning, c.floored)
			}
			if c.floored && !strings.Contains(r.Warning, fmt.Sprintf("only %d paired differences", c.n)) {
				t.Errorf("Warning %q does not give the count", r.Warning)
			}
			p, err := BootstrapTest(c.d, &BootstrapOptions{Seed: 3})
			if err != nil || p != r.P {
				t.Errorf("BootstrapTest = %v, %v; want Bootstrap's P %v", p, err, r.P)
			}
		})
	}
	// The case the floor is for: the bootstrap alone finds a tiny
	// one-signed difference over 3 folds "significant".
	r, _ := Bootstrap([]float64{1e-4, 2e-4, 1.5e-4}, nil)
	if r.BootstrapP > 0.001 {
		t.Errorf("3 one-signed folds: BootstrapP = %v, expected the degenerate 1/(B+1)", r.BootstrapP)
	}
	for _, d := range [][]float64{nil, {0.1}, {nan, 0.2, nan}} {
		if _, err := Bootstrap(d, nil); !errors.Is(err, ErrInput) {
			t.Errorf("Bootstrap(%v): error %v, want ErrInput", d, err)
		}
	}
}

func TestRanks(t *testing.T) {
	scores := [][]float64{
		{0.9, 0.8, 0.7},
		{0.5, 0.5, 0.6},
		{math.NaN(), 0.1, 0.2},
	}
	ranks, err := Ranks(scores)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{1, 2, 3}, {2.5, 2.5, 1}, {3, 2, 1}}
	for r := range want {
		for m := range want[r] {
			if ranks[r][m] != want[r][m] {
				t.Errorf("row %d: ranks %v, want %v", r, ranks[r], want[r])
				break
			}
		}
	}
	avg, _ := AverageRanks(scores)
	wantAvg := []float64{6.5 / 3, 6.5 / 3, 5.0 / 3}
	for m := range avg {
		if math.Abs(avg[m]-wantAvg[m]) > 1e-12 {
			t.Errorf("AverageRanks = %v, want %v", avg, wantAvg)
		}
	}
	if _, err := Ranks([][]float64{{1, 2}, {1}}); !errors.Is(err, ErrShape) {
		t.Errorf("ragged rows: %v", err)
	}
}

func same(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return a == b || math.Abs(a-b) < 1e-12
}

// TestRanksNaNAfterInf: NaN ranks after every number, -Inf included, and
// NaNs tie among themselves.
func TestRanksNaNAfterInf(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	ranks, err := Ranks([][]float64{{-inf, nan, 1, nan}})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{2, 3.5, 1, 3.5}
	for m := range want {
		if ranks[0][m] != want[m] {
			t.Fatalf("ranks %v, want %v", ranks[0], want)
		}
	}
}
