package stats

import (
	"fmt"
	"math"
	"sort"

	"github.com/unetlab/unetlab/internal/samplestat"
	"github.com/unetlab/unetlab/volume"
)

// grid describes the voxel grid of a flat label map: shape is (D, H, W)
// with W fastest in memory, spacing the voxel size in millimetres along the
// same axes. A volume.Volume's (X, Y, Z) is (W, H, D): see gridOf.
type grid struct {
	shape   [3]int
	spacing [3]float64
}

// gridOf returns the (D, H, W) grid of v's voxels: (Z, Y, X) with the
// spacing reversed to match, so that a label map's bytes in v's order (X
// fastest) index it as (z*H + y)*W + x.
func gridOf(v *volume.Volume) grid {
	return grid{shape: [3]int{v.Shape[2], v.Shape[1], v.Shape[0]},
		spacing: [3]float64{v.Spacing[2], v.Spacing[1], v.Spacing[0]}}
}

// surfacePair checks pred and truth for a surface metric fn and returns
// their class numbers and grid.
func surfacePair(fn string, pred, truth *volume.Volume, label int) (p, t []uint8, g grid, err error) {
	if err := checkLabel(fn, label); err != nil {
		return nil, nil, g, err
	}
	if p, t, err = labelPair(fn, pred, truth, 256); err != nil {
		return nil, nil, g, err
	}
	for i, s := range pred.Spacing {
		if !(s > 0) || math.IsInf(s, 0) {
			return nil, nil, g, fmt.Errorf("%w: %s: spacing %s mm: axis %c is %v, want a positive finite size",
				ErrInput, fn, spacingText(pred.Spacing), "XYZ"[i], s)
		}
	}
	return p, t, gridOf(pred), nil
}

// HD95 returns the 95th-percentile Hausdorff distance in millimetres
// between the surfaces of the voxels labelled label in the label maps pred
// and truth (one channel each, same shape and spacing), as MONAI's
// compute_hausdorff_distance(percentile=95) defines it: the larger of the
// two directed distances' 95th percentiles, where a surface voxel is a
// voxel of the mask with a face neighbour outside it (or on the grid's
// edge) and distances are Euclidean between voxel centres, scaled by the
// volumes' Spacing along X, Y and Z. It is NaN when the label is absent
// from both maps and +Inf when it is absent from just one.
func HD95(pred, truth *volume.Volume, label int) (float64, error) {
	p, t, g, err := surfacePair("HD95", pred, truth, label)
	if err != nil {
		return 0, err
	}
	return hd95(p, t, uint8(label), g), nil
}

// hd95 is HD95 on flat label maps of grid g.
func hd95(pred, truth []uint8, label uint8, g grid) float64 {
	dp, dt, ok, empty := surfaceDistances(pred, truth, label, g)
	if !ok {
		return empty
	}
	return math.Max(percentile(dp, 95), percentile(dt, 95))
}

// SurfaceDice returns the normalised surface Dice at tolerance tol
// millimetres (Nikolov et al. 2021) of the voxels labelled label in the
// label maps pred and truth (one channel each, same shape and spacing): the
// fraction of surface voxels of both masks that lie within tol of the other
// mask's surface, distances scaled by the volumes' Spacing. It is NaN when
// the label is absent from both maps and 0 when it is absent from just one.
func SurfaceDice(pred, truth *volume.Volume, label int, tol float64) (float64, error) {
	if tol < 0 || math.IsNaN(tol) {
		return 0, fmt.Errorf("%w: SurfaceDice: tolerance %v mm, want >= 0", ErrInput, tol)
	}
	p, t, g, err := surfacePair("SurfaceDice", pred, truth, label)
	if err != nil {
		return 0, err
	}
	return surfaceDice(p, t, uint8(label), g, tol), nil
}

// surfaceDice is SurfaceDice on flat label maps of grid g.
func surfaceDice(pred, truth []uint8, label uint8, g grid, tol float64) float64 {
	dp, dt, ok, empty := surfaceDistances(pred, truth, label, g)
	if !ok {
		if math.IsInf(empty, 1) {
			return 0
		}
		return empty
	}
	var within int
	for _, d := range dp {
		if d <= tol {
			within++
		}
	}
	for _, d := range dt {
		if d <= tol {
			within++
		}
	}
	return float64(within) / float64(len(dp)+len(dt))
}

// surfaceDistances returns, for every surface voxel of pred's mask, its
// distance to truth's surface (dp), and the reverse (dt). When either surface
// is empty ok is false and empty holds NaN (both empty) or +Inf (one empty).
func surfaceDistances(pred, truth []uint8, label uint8, g grid) (dp, dt []float64, ok bool, empty float64) {
	sp := surface(pred, label, g.shape)
	st := surface(truth, label, g.shape)
	np, nt := count(sp), count(st)
	switch {
	case np == 0 && nt == 0:
		return nil, nil, false, math.NaN()
	case np == 0 || nt == 0:
		return nil, nil, false, math.Inf(1)
	}
	toT := distanceTransform(st, g)
	toP := distanceTransform(sp, g)
	dp = make([]float64, 0, np)
	dt = make([]float64, 0, nt)
	for i, s := range sp {
		if s {
			dp = append(dp, math.Sqrt(toT[i]))
		}
	}
	for i, s := range st {
		if s {
			dt = append(dt, math.Sqrt(toP[i]))
		}
	}
	return dp, dt, true, 0
}

func count(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

// surface marks the voxels of the label's mask that have a face neighbour
// outside the mask or lie on the grid's edge.
func surface(m []uint8, label uint8, shape [3]int) []bool {
	d, h, w := shape[0], shape[1], shape[2]
	out := make([]bool, len(m))
	in := func(z, y, x int) bool {
		return z >= 0 && z < d && y >= 0 && y < h && x >= 0 && x < w && m[(z*h+y)*w+x] == label
	}
	for z := 0; z < d; z++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if m[(z*h+y)*w+x] != label {
					continue
				}
				out[(z*h+y)*w+x] = !in(z-1, y, x) || !in(z+1, y, x) || !in(z, y-1, x) ||
					!in(z, y+1, x) || !in(z, y, x-1) || !in(z, y, x+1)
			}
		}
	}
	return out
}

// distanceTransform returns the squared Euclidean distance in mm² from every
// voxel to the nearest marked voxel, by the separable lower-envelope
// algorithm of Felzenszwalb and Huttenlocher (2012) applied along W, H, D.
func distanceTransform(feature []bool, g grid) []float64 {
	d, h, w := g.shape[0], g.shape[1], g.shape[2]
	f := make([]float64, len(feature))
	for i, v := range feature {
		if v {
			f[i] = 0
		} else {
			f[i] = math.Inf(1)
		}
	}
	n := d
	if h > n {
		n = h
	}
	if w > n {
		n = w
	}
	line := make([]float64, n)
	out := make([]float64, n)
	env := newEnvelope(n)
	pass := func(length, stride int, starts func(yield func(int)), spacing float64) {
		starts(func(base int) {
			for i := 0; i < length; i++ {
				line[i] = f[base+i*stride]
			}
			env.transform(line[:length], out[:length], spacing)
			for i := 0; i < length; i++ {
				f[base+i*stride] = out[i]
			}
		})
	}
	pass(w, 1, func(yield func(int)) {
		for z := 0; z < d; z++ {
			for y := 0; y < h; y++ {
				yield((z*h + y) * w)
			}
		}
	}, g.spacing[2])
	pass(h, w, func(yield func(int)) {
		for z := 0; z < d; z++ {
			for x := 0; x < w; x++ {
				yield(z*h*w + x)
			}
		}
	}, g.spacing[1])
	pass(d, h*w, func(yield func(int)) {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yield(y*w + x)
			}
		}
	}, g.spacing[0])
	return f
}

// envelope holds the scratch space of the 1D squared distance transform.
type envelope struct {
	v []int     // positions of the parabolas in the lower envelope
	z []float64 // boundaries between them
}

func newEnvelope(n int) *envelope {
	return &envelope{v: make([]int, n), z: make([]float64, n+1)}
}

// transform writes to out the 1D transform of f with sample spacing s:
// out[q] = min_p f[p] + (s·(q-p))².
func (e *envelope) transform(f, out []float64, s float64) {
	n := len(f)
	k := -1
	for q := 0; q < n; q++ {
		if math.IsInf(f[q], 1) {
			continue
		}
		xq := float64(q) * s
		for k >= 0 {
			p := e.v[k]
			xp := float64(p) * s
			// intersection of parabolas from p and q
			x := ((f[q] + xq*xq) - (f[p] + xp*xp)) / (2 * (xq - xp))
			if x <= e.z[k] {
				k--
				continue
			}
			k++
			e.v[k] = q
			e.z[k] = x
			e.z[k+1] = math.Inf(1)
			break
		}
		if k < 0 {
			k = 0
			e.v[0] = q
			e.z[0] = math.Inf(-1)
			e.z[1] = math.Inf(1)
		}
	}
	if k < 0 {
		for q := range out {
			out[q] = math.Inf(1)
		}
		return
	}
	j := 0
	for q := 0; q < n; q++ {
		xq := float64(q) * s
		for e.z[j+1] < xq {
			j++
		}
		p := e.v[j]
		dx := xq - float64(p)*s
		out[q] = dx*dx + f[p]
	}
}

// percentile returns the p-th percentile of x (0..100) with linear
// interpolation between order statistics, as numpy.percentile does by
// default. x is sorted in place.
func percentile(x []float64, p float64) float64 {
	sort.Float64s(x)
	return samplestat.Quantile(x, p/100)
}
