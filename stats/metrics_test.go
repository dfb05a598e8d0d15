package stats

import (
	"errors"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/volume"
)

// labelVol returns a one-channel label volume of the given shape (X, Y, Z)
// and spacing in mm holding vals in storage order (X fastest).
func labelVol(shape [3]int, spacing [3]float64, vals ...float32) *volume.Volume {
	v := volume.New(shape, 1)
	v.Spacing = spacing
	copy(v.Data, vals)
	return v
}

// row is a 1-D label map along X with 1 mm voxels.
func row(vals ...float32) *volume.Volume {
	return labelVol([3]int{len(vals), 1, 1}, [3]float64{1, 1, 1}, vals...)
}

func TestDice(t *testing.T) {
	cases := []struct {
		name        string
		pred, truth *volume.Volume
		label       int
		want        float64
	}{
		{"identical", row(0, 1, 1, 0), row(0, 1, 1, 0), 1, 1},
		{"disjoint", row(1, 0, 0, 0), row(0, 1, 0, 0), 1, 0},
		{"half", row(1, 1, 0, 0), row(1, 0, 0, 0), 1, 2.0 / 3},
		{"other label ignored", row(2, 1, 2, 0), row(2, 1, 1, 0), 2, 2.0 / 3},
		{"both empty", row(0, 0), row(0, 0), 1, math.NaN()},
		{"pred empty", row(0, 0), row(1, 0), 1, 0},
		{"rounded class values", row(0.9999, 1.0001, 0), row(1, 1, 0), 1, 1},
		// By hand: label 1 is (x, y, z) = (0,0,0), (1,0,1) in pred and
		// (0,0,0), (0,1,1), (1,1,1) in truth: 2·1 / (2+3).
		{"3-D by hand", labelVol([3]int{2, 2, 2}, [3]float64{1, 1, 1}, 1, 0, 0, 0, 0, 1, 0, 0),
			labelVol([3]int{2, 2, 2}, [3]float64{1, 1, 1}, 1, 0, 0, 0, 0, 0, 1, 1), 1, 0.4},
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
}

func TestDicePerLabelMatchesDice(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	pred, truth := volume.New([3]int{5, 10, 10}, 1), volume.New([3]int{5, 10, 10}, 1)
	for i := range pred.Data {
		pred.Data[i] = float32(r.Intn(3))
		truth.Data[i] = float32(r.Intn(3))
	}
	got, err := DicePerLabel(pred, truth, 4)
	if err != nil {
		t.Fatal(err)
	}
	for l := 1; l < 4; l++ {
		want, _ := Dice(pred, truth, l)
		if !same(got[l-1], want) {
			t.Errorf("label %d: %v, want %v", l, got[l-1], want)
		}
	}
	if !math.IsNaN(got[2]) {
		t.Errorf("absent label 3: %v, want NaN", got[2])
	}
	p, _ := labelMap("", "", pred, 4)
	tr, _ := labelMap("", "", truth, 4)
	flat, err := DicePerLabelFlat(p, tr, 4)
	if err != nil {
		t.Fatal(err)
	}
	for k := range flat {
		if !same(flat[k], got[k]) {
			t.Errorf("DicePerLabelFlat label %d: %v, DicePerLabel %v", k+1, flat[k], got[k])
		}
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

func TestSliceDice(t *testing.T) {
	// Shape (X, Y, Z) = (2, 1, 3). Slice z = 1 holds pred (1, 2), truth
	// (1, 1); slice z = 2 is background; slice x = 0 holds z = 0..2.
	pred := labelVol([3]int{2, 1, 3}, [3]float64{1, 1, 1}, 0, 0, 1, 2, 0, 0)
	truth := labelVol([3]int{2, 1, 3}, [3]float64{1, 1, 1}, 1, 0, 1, 1, 0, 0)
	cases := []struct {
		axis, index int
		labels      []int
		dice        []float64
	}{
		{2, 1, []int{1, 2}, []float64{2.0 / 3, 0}},
		{2, 2, nil, nil},
		{2, 0, []int{1}, []float64{0}},
		{0, 0, []int{1}, []float64{2.0 / 3}},
		{0, 1, []int{1, 2}, []float64{0, 0}},
	}
	for _, c := range cases {
		labels, dice, err := SliceDice(pred, truth, c.axis, c.index)
		if err != nil {
			t.Fatal(err)
		}
		if len(labels) != len(c.labels) || len(dice) != len(c.dice) {
			t.Fatalf("axis %d slice %d: labels %v dice %v, want %v %v", c.axis, c.index, labels, dice, c.labels, c.dice)
		}
		for i := range labels {
			if labels[i] != c.labels[i] || !same(dice[i], c.dice[i]) {
				t.Errorf("axis %d slice %d: labels %v dice %v, want %v %v", c.axis, c.index, labels, dice, c.labels, c.dice)
			}
		}
	}
	for _, c := range []struct{ axis, index int }{{3, 0}, {-1, 0}, {2, 3}, {0, -1}} {
		if _, _, err := SliceDice(pred, truth, c.axis, c.index); !errors.Is(err, ErrInput) {
			t.Errorf("axis %d slice %d: err = %v, want ErrInput", c.axis, c.index, err)
		}
	}
}

// bruteSurfaceDistances computes directed surface distances in mm by
// exhaustive search over voxel coordinates (x, y, z) scaled by the volume's
// spacing: the definition, with no (D, H, W) grid in between.
func bruteSurfaceDistances(from, to []bool, v *volume.Volume) []float64 {
	nx, ny := v.Shape[0], v.Shape[1]
	xyz := func(i int) [3]float64 {
		return [3]float64{float64(i%nx) * v.Spacing[0], float64(i/nx%ny) * v.Spacing[1], float64(i/(nx*ny)) * v.Spacing[2]}
	}
	var out []float64
	for i, f := range from {
		if !f {
			continue
		}
		a := xyz(i)
		best := math.Inf(1)
		for j, tt := range to {
			if tt {
				b := xyz(j)
				best = math.Min(best, math.Hypot(math.Hypot(a[0]-b[0], a[1]-b[1]), a[2]-b[2]))
			}
		}
		out = append(out, best)
	}
	return out
}

func randomBlob(r *rand.Rand, shape [3]int, spacing [3]float64) *volume.Volume {
	v := volume.New(shape, 1)
	v.Spacing = spacing
	c := [3]float64{r.Float64() * float64(shape[0]), r.Float64() * float64(shape[1]), r.Float64() * float64(shape[2])}
	rad := 1.5 + r.Float64()*3
	for z := range shape[2] {
		for y := range shape[1] {
			for x := range shape[0] {
				d := [3]float64{float64(x) - c[0], float64(y) - c[1], float64(z) - c[2]}
				if d[0]*d[0]+d[1]*d[1]+d[2]*d[2] <= rad*rad || r.Float64() < 0.02 {
					v.Set(0, x, y, z, 1)
				}
			}
		}
	}
	return v
}

// TestSurfaceMetricsAgainstBruteForce compares HD95 and SurfaceDice with
// an exhaustive search in volume coordinates on anisotropic, non-cubic
// grids: a (D, H, W) grid built from (X, Y, Z) without reversing the shape
// and spacing, the mistake the old slice API allowed, fails it.
func TestSurfaceMetricsAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	grids := []struct {
		shape   [3]int
		spacing [3]float64
	}{
		{[3]int{8, 7, 6}, [3]float64{1, 1, 1}},
		{[3]int{4, 9, 5}, [3]float64{1.3, 0.7, 2.5}},
		{[3]int{10, 10, 1}, [3]float64{1, 1, 3}},
		{[3]int{3, 6, 12}, [3]float64{0.5, 1, 4}},
	}
	for gi, g := range grids {
		for trial := range 5 {
			pred, truth := randomBlob(r, g.shape, g.spacing), randomBlob(r, g.shape, g.spacing)
			p, _ := labelMap("", "", pred, 2)
			tr, _ := labelMap("", "", truth, 2)
			sp, st := surface(p, 1, gridOf(pred).shape), surface(tr, 1, gridOf(truth).shape)
			if count(sp) == 0 || count(st) == 0 {
				continue
			}
			dp := bruteSurfaceDistances(sp, st, pred)
			dt := bruteSurfaceDistances(st, sp, pred)
			want := math.Max(percentile(dp, 95), percentile(dt, 95))
			got, err := HD95(pred, truth, 1)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-want) > 1e-9 {
				t.Errorf("grid %d trial %d: HD95 = %v, brute force %v", gi, trial, got, want)
			}
			tol := 1.5
			within := 0
			for _, v := range append(dp, dt...) {
				if v <= tol {
					within++
				}
			}
			wantSD := float64(within) / float64(len(dp)+len(dt))
			gotSD, err := SurfaceDice(pred, truth, 1, tol)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(gotSD-wantSD) > 1e-12 {
				t.Errorf("grid %d trial %d: SurfaceDice = %v, brute force %v", gi, trial, gotSD, wantSD)
			}
		}
	}
}

// TestHD95ByHand: single voxels whose distance is worked out on paper, on
// a grid whose axes differ in length and spacing. Passing the volume's
// (X, Y, Z) shape and spacing where the old API wanted (D, H, W) gave
// another number for each.
func TestHD95ByHand(t *testing.T) {
	shape, spacing := [3]int{2, 3, 4}, [3]float64{0.5, 1, 3}
	at := func(x, y, z int) *volume.Volume {
		v := labelVol(shape, spacing)
		v.Set(0, x, y, z, 1)
		return v
	}
	cases := []struct {
		name        string
		pred, truth *volume.Volume
		want        float64 // mm
	}{
		{"along X", at(0, 0, 0), at(1, 0, 0), 0.5},
		{"along Y", at(0, 0, 0), at(0, 2, 0), 2},
		{"along Z", at(0, 0, 0), at(0, 0, 3), 9},
		{"diagonal", at(1, 0, 0), at(0, 2, 3), math.Sqrt(0.25 + 4 + 81)},
		{"same voxel", at(1, 2, 3), at(1, 2, 3), 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := HD95(c.pred, c.truth, 1)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-c.want) > 1e-12 {
				t.Errorf("HD95 = %v mm, want %v", got, c.want)
			}
			// The forgotten reversal: the volume's bytes read as a
			// (D, H, W) = (2, 3, 4) grid with spacing (0.5, 1, 3).
			p, _ := labelMap("", "", c.pred, 2)
			tr, _ := labelMap("", "", c.truth, 2)
			wrong := hd95(p, tr, 1, grid{shape: shape, spacing: spacing})
			if c.want != 0 && math.Abs(wrong-c.want) < 1e-9 {
				t.Errorf("the unreversed grid gives %v too: the case does not tell the orders apart", wrong)
			}
		})
	}
}

func TestSurfaceMetricsEdgeCases(t *testing.T) {
	empty, one, shifted := row(0, 0, 0, 0), row(1, 0, 0, 0), row(0, 0, 0, 1)
	tests := []struct {
		name        string
		pred, truth *volume.Volume
		hd, sd      float64
	}{
		{"both empty", empty, empty, math.NaN(), math.NaN()},
		{"pred empty", empty, one, math.Inf(1), 0},
		{"identical", one, one, 0, 1},
		{"three voxels apart", one, shifted, 3, 0},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			hd, err := HD95(c.pred, c.truth, 1)
			if err != nil {
				t.Fatal(err)
			}
			sd, err := SurfaceDice(c.pred, c.truth, 1, 1)
			if err != nil {
				t.Fatal(err)
			}
			if !same(hd, c.hd) || !same(sd, c.sd) {
				t.Errorf("HD95, SurfaceDice = %v, %v; want %v, %v", hd, sd, c.hd, c.sd)
			}
		})
	}
}

// TestMetricIllCases: every metric refuses label maps on different grids
// with an error naming both shapes or spacings, and arguments outside
// their domain.
func TestMetricIllCases(t *testing.T) {
	one := func() *volume.Volume { return row(1, 0, 0, 0) }
	twoCh := volume.New([3]int{4, 1, 1}, 2)
	transposed := labelVol([3]int{1, 4, 1}, [3]float64{1, 1, 1}, 1)
	coarse := one()
	coarse.Spacing = [3]float64{2, 1, 1}
	zeroSp := one()
	zeroSp.Spacing = [3]float64{1, 0, 1}
	short := one()
	short.Data = short.Data[:3]
	intensity := row(0.37, 0, 0, 0)
	cases := []struct {
		name        string
		pred, truth *volume.Volume
		label       int
		want        error
		says        []string // substrings of the message
	}{
		{"shapes differ", one(), transposed, 1, ErrShape, []string{"4x1x1", "1x4x1"}},
		{"spacings differ", one(), coarse, 1, ErrShape, []string{"1x1x1 mm", "2x1x1 mm"}},
		{"channels", one(), twoCh, 1, ErrShape, []string{"2 channels"}},
		{"data length", short, one(), 1, ErrShape, []string{"prediction"}},
		{"nil truth", one(), nil, 1, ErrInput, []string{"truth is nil"}},
		{"not a class number", intensity, one(), 1, ErrInput, []string{"(0, 0, 0)", "0.37"}},
		{"background label", one(), one(), 0, ErrInput, []string{"label 0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for fn, call := range map[string]func() error{
				"Dice":        func() error { _, err := Dice(c.pred, c.truth, c.label); return err },
				"HD95":        func() error { _, err := HD95(c.pred, c.truth, c.label); return err },
				"SurfaceDice": func() error { _, err := SurfaceDice(c.pred, c.truth, c.label, 1); return err },
			} {
				err := call()
				if !errors.Is(err, c.want) {
					t.Fatalf("%s: err = %v, want %v", fn, err, c.want)
				}
				for _, s := range append(c.says, fn+":") {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("%s: %q does not say %q", fn, err, s)
					}
				}
			}
		})
	}
	errs := map[string]error{}
	_, errs["classes"] = DicePerLabel(one(), one(), 1)
	_, errs["label beyond classes"] = DicePerLabel(row(5), row(0), 3)
	_, errs["flat label beyond classes"] = DicePerLabelFlat([]uint8{5}, []uint8{0}, 3)
	_, errs["tolerance"] = SurfaceDice(one(), one(), 1, -1)
	_, errs["zero spacing"] = HD95(zeroSp, zeroSp, 1)
	for name, err := range errs {
		if !errors.Is(err, ErrInput) {
			t.Errorf("%s: err = %v, want ErrInput", name, err)
		}
	}
	if _, err := DicePerLabelFlat([]uint8{0}, []uint8{0, 1}, 2); !errors.Is(err, ErrShape) {
		t.Errorf("DicePerLabelFlat lengths 1, 2: err = %v, want ErrShape", err)
	}
	// Spacings that differ in float32 rounding only are one grid.
	near := one()
	near.Spacing = [3]float64{float64(float32(1.1)), 1, 1}
	far := one()
	far.Spacing = [3]float64{1.1, 1, 1}
	if _, err := HD95(near, far, 1); err != nil {
		t.Errorf("spacing 1.1 as float32 and float64: %v", err)
	}
}

// TestGridOverflow: a volume whose voxel count overflows int is a shape
// error, not a walk over 2^64 voxels.
func TestGridOverflow(t *testing.T) {
	v := &volume.Volume{Shape: [3]int{1 << 32, 1 << 32, 1}, Channels: 1, Spacing: [3]float64{1, 1, 1}}
	if _, err := HD95(v, v, 1); !errors.Is(err, ErrShape) {
		t.Errorf("HD95 on shape %v: err = %v, want ErrShape", v.Shape, err)
	}
	if _, err := SurfaceDice(v, v, 1, 1); !errors.Is(err, ErrShape) {
		t.Errorf("SurfaceDice on shape %v: err = %v, want ErrShape", v.Shape, err)
	}
}
