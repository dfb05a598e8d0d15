package stats

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"
)

func TestDice(t *testing.T) {
	cases := []struct {
		name        string
		pred, truth []uint8
		label       uint8
		want        float64
	}{
		{"identical", []uint8{0, 1, 1, 0}, []uint8{0, 1, 1, 0}, 1, 1},
		{"disjoint", []uint8{1, 0, 0, 0}, []uint8{0, 1, 0, 0}, 1, 0},
		{"half", []uint8{1, 1, 0, 0}, []uint8{1, 0, 0, 0}, 1, 2.0 / 3},
		{"other label ignored", []uint8{2, 1, 2, 0}, []uint8{2, 1, 1, 0}, 2, 2.0 / 3},
		{"both empty", []uint8{0, 0}, []uint8{0, 0}, 1, math.NaN()},
		{"pred empty", []uint8{0, 0}, []uint8{1, 0}, 1, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Dice(c.pred, c.truth, c.label)
			if err != nil {
				t.Fatal(err)
			}
			if !same(got, c.want) {
				t.Errorf("Dice = %v, want %v", got, c.want)
			}
		})
	}
	if _, err := Dice([]uint8{0}, []uint8{0, 1}, 1); !errors.Is(err, ErrShape) {
		t.Errorf("length mismatch: err = %v, want ErrShape", err)
	}
}

func TestDicePerLabelMatchesDice(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	pred := make([]uint8, 500)
	truth := make([]uint8, 500)
	for i := range pred {
		pred[i] = uint8(r.Intn(3))
		truth[i] = uint8(r.Intn(3))
	}
	got, err := DicePerLabel(pred, truth, 4)
	if err != nil {
		t.Fatal(err)
	}
	for l := 1; l < 4; l++ {
		want, _ := Dice(pred, truth, uint8(l))
		if !same(got[l-1], want) {
			t.Errorf("label %d: %v, want %v", l, got[l-1], want)
		}
	}
	if !math.IsNaN(got[2]) {
		t.Errorf("absent label 3: %v, want NaN", got[2])
	}
	if _, err := DicePerLabel([]uint8{5}, []uint8{0}, 3); err == nil {
		t.Error("label beyond classes: no error")
	}
}

func TestNanMean(t *testing.T) {
	if got := NanMean([]float64{1, math.NaN(), 3}); got != 2 {
		t.Errorf("NanMean = %v, want 2", got)
	}
	if got := NanMean([]float64{math.NaN()}); !math.IsNaN(got) {
		t.Errorf("NanMean(all NaN) = %v, want NaN", got)
	}
}

// bruteSurfaceDistances computes directed surface distances by exhaustive
// search, the definition the distance transform must reproduce.
func bruteSurfaceDistances(from, to []bool, g Grid) []float64 {
	d, h, w := g.Shape[0], g.Shape[1], g.Shape[2]
	var out []float64
	for i, f := range from {
		if !f {
			continue
		}
		zi, yi, xi := i/(h*w), (i/w)%h, i%w
		best := math.Inf(1)
		for j, tt := range to {
			if !tt {
				continue
			}
			zj, yj, xj := j/(h*w), (j/w)%h, j%w
			dz := float64(zi-zj) * g.Spacing[0]
			dy := float64(yi-yj) * g.Spacing[1]
			dx := float64(xi-xj) * g.Spacing[2]
			best = math.Min(best, math.Sqrt(dz*dz+dy*dy+dx*dx))
		}
		out = append(out, best)
	}
	_ = d
	return out
}

func randomBlob(r *rand.Rand, shape [3]int) []uint8 {
	m := make([]uint8, shape[0]*shape[1]*shape[2])
	cz, cy, cx := r.Float64()*float64(shape[0]), r.Float64()*float64(shape[1]), r.Float64()*float64(shape[2])
	rad := 1.5 + r.Float64()*3
	for z := 0; z < shape[0]; z++ {
		for y := 0; y < shape[1]; y++ {
			for x := 0; x < shape[2]; x++ {
				dz, dy, dx := float64(z)-cz, float64(y)-cy, float64(x)-cx
				if dz*dz+dy*dy+dx*dx <= rad*rad || r.Float64() < 0.02 {
					m[(z*shape[1]+y)*shape[2]+x] = 1
				}
			}
		}
	}
	return m
}

func TestSurfaceMetricsAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	grids := []Grid{
		{Shape: [3]int{6, 7, 8}},
		{Shape: [3]int{5, 9, 4}, Spacing: [3]float64{2.5, 0.7, 1.3}},
		{Shape: [3]int{1, 10, 10}, Spacing: [3]float64{3, 1, 1}},
	}
	for gi, g := range grids {
		for trial := 0; trial < 5; trial++ {
			pred := randomBlob(r, g.Shape)
			truth := randomBlob(r, g.Shape)
			gg, _ := g.check("test", pred, truth)
			sp, st := surface(pred, 1, g.Shape), surface(truth, 1, g.Shape)
			if count(sp) == 0 || count(st) == 0 {
				continue
			}
			dp := bruteSurfaceDistances(sp, st, gg)
			dt := bruteSurfaceDistances(st, sp, gg)
			want := math.Max(percentile(dp, 95), percentile(dt, 95))
			got, err := Hausdorff95(pred, truth, 1, g)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-want) > 1e-9 {
				t.Errorf("grid %d trial %d: Hausdorff95 = %v, brute force %v", gi, trial, got, want)
			}
			tol := 1.5
			within := 0
			for _, v := range append(dp, dt...) {
				if v <= tol {
					within++
				}
			}
			wantSD := float64(within) / float64(len(dp)+len(dt))
			gotSD, err := SurfaceDice(pred, truth, 1, g, tol)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(gotSD-wantSD) > 1e-12 {
				t.Errorf("grid %d trial %d: SurfaceDice = %v, brute force %v", gi, trial, gotSD, wantSD)
			}
		}
	}
}

func TestSurfaceMetricsEdgeCases(t *testing.T) {
	g := Grid{Shape: [3]int{1, 1, 4}}
	empty := []uint8{0, 0, 0, 0}
	one := []uint8{1, 0, 0, 0}
	shifted := []uint8{0, 0, 0, 1}
	tests := []struct {
		name        string
		pred, truth []uint8
		hd, sd      float64
	}{
		{"both empty", empty, empty, math.NaN(), math.NaN()},
		{"pred empty", empty, one, math.Inf(1), 0},
		{"identical", one, one, 0, 1},
		{"three voxels apart", one, shifted, 3, 0},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			hd, err := Hausdorff95(c.pred, c.truth, 1, g)
			if err != nil {
				t.Fatal(err)
			}
			sd, err := SurfaceDice(c.pred, c.truth, 1, g, 1)
			if err != nil {
				t.Fatal(err)
			}
			if !same(hd, c.hd) || !same(sd, c.sd) {
				t.Errorf("Hausdorff95, SurfaceDice = %v, %v; want %v, %v", hd, sd, c.hd, c.sd)
			}
		})
	}
	bad := []struct {
		name string
		g    Grid
	}{
		{"wrong size", Grid{Shape: [3]int{2, 2, 2}}},
		{"zero shape", Grid{Shape: [3]int{0, 1, 4}}},
		{"negative spacing", Grid{Shape: [3]int{1, 1, 4}, Spacing: [3]float64{1, -1, 1}}},
	}
	for _, c := range bad {
		if _, err := Hausdorff95(one, one, 1, c.g); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

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
	p, err := BootstrapTest(identical, BootstrapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p != 1 {
		t.Errorf("identical folds: p = %v, want 1", p)
	}
	better := []float64{0.95, 0.99, 0.93, 1.06, 0.97}
	d, _ := FoldDifferences(better, base)
	p, err = BootstrapTest(d, BootstrapOptions{Resamples: 5000, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	if p > 0.001 {
		t.Errorf("large consistent difference: p = %v, want near 0", p)
	}
	// A noisy difference centred on zero is not significant.
	noisy := []float64{0.05, -0.04, 0.03, -0.05, 0.01}
	p, _ = BootstrapTest(noisy, BootstrapOptions{Seed: 2})
	if p < 0.3 {
		t.Errorf("zero-mean noise: p = %v, want large", p)
	}
	// Same seed, same answer; the value is pinned so that a change of
	// generator or procedure shows up.
	p1, _ := BootstrapTest(noisy, BootstrapOptions{Seed: 2})
	if p1 != p {
		t.Errorf("same seed gave %v then %v", p, p1)
	}
	if _, err := BootstrapTest([]float64{1}, BootstrapOptions{}); err == nil {
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
			r, err := Bootstrap(c.d, BootstrapOptions{Seed: 3})
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
			p, err := BootstrapTest(c.d, BootstrapOptions{Seed: 3})
			if err != nil || p != r.P {
				t.Errorf("BootstrapTest = %v, %v; want Bootstrap's P %v", p, err, r.P)
			}
		})
	}
	// The case the floor is for: the bootstrap alone finds a tiny
	// one-signed difference over 3 folds "significant".
	r, _ := Bootstrap([]float64{1e-4, 2e-4, 1.5e-4}, BootstrapOptions{})
	if r.BootstrapP > 0.001 {
		t.Errorf("3 one-signed folds: BootstrapP = %v, expected the degenerate 1/(B+1)", r.BootstrapP)
	}
	for _, d := range [][]float64{nil, {0.1}, {nan, 0.2, nan}} {
		if _, err := Bootstrap(d, BootstrapOptions{}); !errors.Is(err, ErrInput) {
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

// TestInputErrors: arguments outside their domain wrap ErrInput.
func TestInputErrors(t *testing.T) {
	g := Grid{Shape: [3]int{1, 1, 2}}
	m := []uint8{0, 1}
	errs := map[string]error{}
	_, errs["classes"] = DicePerLabel(m, m, 1)
	_, errs["label"] = DicePerLabel([]uint8{5}, []uint8{0}, 3)
	_, errs["bootstrap"] = BootstrapTest([]float64{1}, BootstrapOptions{})
	_, errs["tolerance"] = SurfaceDice(m, m, 1, g, -1)
	_, errs["spacing"] = Hausdorff95(m, m, 1, Grid{Shape: g.Shape, Spacing: [3]float64{1, -1, 1}})
	for name, err := range errs {
		if !errors.Is(err, ErrInput) {
			t.Errorf("%s: err = %v, want ErrInput", name, err)
		}
	}
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

// TestGridOverflow: a grid whose voxel count wraps to the (empty) maps'
// length is a shape error, not a walk over 2^64 voxels.
func TestGridOverflow(t *testing.T) {
	g := Grid{Shape: [3]int{1 << 32, 1 << 32, 1}}
	if _, err := Hausdorff95(nil, nil, 1, g); !errors.Is(err, ErrShape) {
		t.Errorf("Hausdorff95 on grid %v: err = %v, want ErrShape", g.Shape, err)
	}
	if _, err := SurfaceDice(nil, nil, 1, g, 1); !errors.Is(err, ErrShape) {
		t.Errorf("SurfaceDice on grid %v: err = %v, want ErrShape", g.Shape, err)
	}
}
