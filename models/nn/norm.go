package nn

import (
	"fmt"
	"math"
	"sync"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// DefaultEps is the variance epsilon of every normalisation when the
// caller passes 0 (PyTorch's 1e-5).
const DefaultEps = 1e-5

// normLayout says over which elements a normalisation takes its statistics.
type normLayout int

const (
	// layoutGroups: x viewed as (N*G, rest); one group per row (GroupNorm,
	// InstanceNorm with G = C).
	layoutGroups normLayout = iota
	// layoutBatch: x viewed as (N, C, S); one group per channel (BatchNorm).
	layoutBatch
	// layoutChannels: x viewed as (N, C, S); one group per (n, s) over C
	// (LayerNorm over the channel axis of NCDHW).
	layoutChannels
	// layoutLast: one group per row of the last axis (channels-last LayerNorm).
	layoutLast
)

// view is x seen as (p, q, t). Statistics are taken either per q over
// (p, t) ("middle") or per (p, t) over q ("across").
type view struct{ p, q, t int }

// normKernel normalises x to zero mean and unit variance (biased variance)
// over groups of elements; in training BatchNorm it also updates running
// statistics, and in eval BatchNorm it uses them instead.
type normKernel struct {
	layout normLayout
	groups int // layoutGroups only
	eps    float64
	bn     *BatchNormStats // layoutBatch only
	name   string
}

func (k *normKernel) String() string {
	return fmt.Sprintf("%s(layout=%d groups=%d eps=%g)", k.name, k.layout, k.groups, k.eps)
}

func (k *normKernel) unique() bool { return k.bn != nil }

func (k *normKernel) view(s tensor.Shape) view {
	switch k.layout {
	case layoutGroups:
		return view{1, s[0] * k.groups, s.TotalSize() / (s[0] * k.groups)}
	case layoutBatch, layoutChannels:
		return view{s[0], s[1], s.TotalSize() / (s[0] * s[1])}
	default:
		c := s[len(s)-1]
		return view{1, s.TotalSize() / c, c}
	}
}

// across reports whether statistics run across q (layoutChannels) rather
// than per q.
func (k *normKernel) across() bool { return k.layout == layoutChannels }

func (k *normKernel) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) < 1 {
		return nil, fmt.Errorf("%w: %s: no input", ErrConfig, k.name)
	}
	s := in[0]
	switch k.layout {
	case layoutGroups:
		if s.Dims() < 3 {
			return nil, shapeErr(k.name, s, "(N, C, spatial...)")
		}
		if s[1]%k.groups != 0 {
			return nil, fmt.Errorf("%w: %s: %d groups do not divide the %d channels of %v", ErrShape, k.name, k.groups, s[1], s)
		}
	case layoutBatch, layoutChannels:
		if s.Dims() < 2 {
			return nil, shapeErr(k.name, s, "(N, C, ...)")
		}
		if k.bn != nil && len(k.bn.Mean) != s[1] {
			return nil, fmt.Errorf("%w: %s: input %v, running statistics for %d channels", ErrShape, k.name, s, len(k.bn.Mean))
		}
	default:
		if s.Dims() < 1 {
			return nil, shapeErr(k.name, s, "(..., C)")
		}
	}
	return s.Clone(), nil
}

// evalMode reports whether a BatchNorm uses its running statistics.
func (k *normKernel) evalMode() bool { return k.bn != nil && !k.bn.Training }

func (k *normKernel) forward(out *tensor.Dense, in []*tensor.Dense) error {
	v := k.view(in[0].Shape())
	return byDtype(out,
		func() error { normForward(k, v, data[float32](out), data[float32](in[0])); return nil },
		func() error { normForward(k, v, data[float64](out), data[float64](in[0])); return nil })
}

// stats returns mean and 1/sqrt(var+eps) per group.
func normStats[T float](k *normKernel, v view, x []T) (mean, rstd []float64, variance []float64) {
	if k.evalMode() {
		mean = k.bn.Mean
		rstd = make([]float64, v.q)
		for i := range rstd {
			rstd[i] = 1 / math.Sqrt(k.bn.Var[i]+k.eps)
		}
		return mean, rstd, nil
	}
	if k.across() {
		n := v.p * v.t
		mean, variance, rstd = make([]float64, n), make([]float64, n), make([]float64, n)
		parallelFor(v.p, 1, func(lo, hi int) {
			for p := lo; p < hi; p++ {
				m, va := mean[p*v.t:(p+1)*v.t], variance[p*v.t:(p+1)*v.t]
				for q := 0; q < v.q; q++ {
					row := x[(p*v.q+q)*v.t : (p*v.q+q+1)*v.t]
					for t, val := range row {
						m[t] += float64(val)
					}
				}
				for t := range m {
					m[t] /= float64(v.q)
				}
				for q := 0; q < v.q; q++ {
					row := x[(p*v.q+q)*v.t : (p*v.q+q+1)*v.t]
					for t, val := range row {
						d := float64(val) - m[t]
						va[t] += d * d
					}
				}
				r := rstd[p*v.t : (p+1)*v.t]
				for t := range va {
					va[t] /= float64(v.q)
					r[t] = 1 / math.Sqrt(va[t]+k.eps)
				}
			}
		})
		return mean, rstd, variance
	}
	mean, variance, rstd = make([]float64, v.q), make([]float64, v.q), make([]float64, v.q)
	cnt := float64(v.p * v.t)
	parallelFor(v.q, 1, func(lo, hi int) {
		for q := lo; q < hi; q++ {
			var s float64
			for p := 0; p < v.p; p++ {
				s += sum4(x[(p*v.q+q)*v.t : (p*v.q+q+1)*v.t])
			}
			m := s / cnt
			var s2 float64
			for p := 0; p < v.p; p++ {
				s2 += sumSqDev4(x[(p*v.q+q)*v.t:(p*v.q+q+1)*v.t], m)
			}
			mean[q], variance[q] = m, s2/cnt
			rstd[q] = 1 / math.Sqrt(s2/cnt+k.eps)
		}
	})
	return mean, rstd, variance
}

func normForward[T float](k *normKernel, v view, y, x []T) {
	mean, rstd, variance := normStats(k, v, x)
	if k.bn != nil && k.bn.Training {
		k.bn.update(mean, variance, v.p*v.t)
	}
	if k.across() {
		parallelFor(v.p*v.q, 1, func(lo, hi int) {
			for pq := lo; pq < hi; pq++ {
				p := pq / v.q
				m, r := mean[p*v.t:(p+1)*v.t], rstd[p*v.t:(p+1)*v.t]
				xr, yr := x[pq*v.t:(pq+1)*v.t], y[pq*v.t:(pq+1)*v.t]
				for t := range xr {
					yr[t] = T((float64(xr[t]) - m[t]) * r[t])
				}
			}
		})
		return
	}
	parallelFor(v.p*v.q, 1, func(lo, hi int) {
		for pq := lo; pq < hi; pq++ {
			q := pq % v.q
			m, r := T(mean[q]), T(rstd[q])
			xr, yr := x[pq*v.t:(pq+1)*v.t], y[pq*v.t:(pq+1)*v.t]
			for t := range xr {
				yr[t] = (xr[t] - m) * r
			}
		}
	})
}

func (k *normKernel) grad(i int) kernel {
	if i != 0 {
		return nil
	}
	return &normGradKernel{k}
}

// normGradKernel computes dx from (x, y, dy) with y the normalised x:
// dx = rstd * (dy - mean(dy) - y*mean(dy*y)) over each group, or
// dx = rstd*dy with fixed (running) statistics.
type normGradKernel struct{ fwd *normKernel }

func (k *normGradKernel) String() string { return k.fwd.String() + "Grad" }

func (k *normGradKernel) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 3 || !in[0].Eq(in[2]) {
		return nil, fmt.Errorf("%w: %s: shapes %v", ErrShape, k, in)
	}
	return k.fwd.inferShape(in[:1])
}

func (k *normGradKernel) forward(out *tensor.Dense, in []*tensor.Dense) error {
	v := k.fwd.view(in[0].Shape())
	return byDtype(out,
		func() error {
			normBackward(k.fwd, v, data[float32](out), data[float32](in[0]), data[float32](in[1]), data[float32](in[2]))
			return nil
		},
		func() error {
			normBackward(k.fwd, v, data[float64](out), data[float64](in[0]), data[float64](in[1]), data[float64](in[2]))
			return nil
		})
}

func normBackward[T float](k *normKernel, v view, dx, x, y, dy []T) {
	// Recompute the statistics without touching running statistics.
	_, rstd, _ := normStats(k, v, x)
	fixed := k.evalMode()
	if k.across() {
		parallelFor(v.p, 1, func(lo, hi int) {
			md := make([]float64, v.t)
			mdy := make([]float64, v.t)
			for p := lo; p < hi; p++ {
				clear(md)
				clear(mdy)
				if !fixed {
					for q := 0; q < v.q; q++ {
						o := (p*v.q + q) * v.t
						for t := 0; t < v.t; t++ {
							md[t] += float64(dy[o+t])
							mdy[t] += float64(dy[o+t]) * float64(y[o+t])
						}
					}
					for t := range md {
						md[t] /= float64(v.q)
						mdy[t] /= float64(v.q)
					}
				}
				r := rstd[p*v.t : (p+1)*v.t]
				for q := 0; q < v.q; q++ {
					o := (p*v.q + q) * v.t
					for t := 0; t < v.t; t++ {
						dx[o+t] = T(r[t] * (float64(dy[o+t]) - md[t] - float64(y[o+t])*mdy[t]))
					}
				}
			}
		})
		return
	}
	cnt := float64(v.p * v.t)
	parallelFor(v.q, 1, func(lo, hi int) {
		for q := lo; q < hi; q++ {
			var sd, sdy float64
			if !fixed {
				for p := 0; p < v.p; p++ {
					o := (p*v.q + q) * v.t
					a, b := sumDot4(dy[o:o+v.t], y[o:o+v.t])
					sd += a
					sdy += b
				}
			}
			md, mdy, r := T(sd/cnt), T(sdy/cnt), T(rstd[q])
			for p := 0; p < v.p; p++ {
				o := (p*v.q + q) * v.t
				for t := 0; t < v.t; t++ {
					dx[o+t] = r * (dy[o+t] - md - y[o+t]*mdy)
				}
			}
		}
	})
}

func (k *normGradKernel) grad(int) kernel { return nil }

// BatchNormStats are a BatchNorm's running statistics and mode. Training
// is read each time the graph runs, so one graph serves training and
// evaluation.
type BatchNormStats struct {
	// Mean and Var are the running mean and (unbiased) variance per channel.
	Mean, Var []float64
	// Momentum weighs the newest batch (PyTorch's momentum, default 0.1).
	Momentum float64
	// Training selects batch statistics (and updates the running ones);
	// otherwise the running statistics normalise.
	Training bool
	// Batches counts the training forward passes (num_batches_tracked).
	Batches int64

	mu sync.Mutex
}

// NewBatchNormStats returns statistics for c channels: mean 0, variance 1,
// momentum 0.1, training mode.
func NewBatchNormStats(c int) *BatchNormStats {
	s := &BatchNormStats{Mean: make([]float64, c), Var: make([]float64, c), Momentum: 0.1, Training: true}
	for i := range s.Var {
		s.Var[i] = 1
	}
	return s
}

func (s *BatchNormStats) update(mean, variance []float64, count int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	unbias := unbiasFor(count)
	// The explicit conversions round each product (no fused multiply-add),
	// as the device's ub_bn_running does.
	for c := range s.Mean {
		s.Mean[c] = float64((1-s.Momentum)*s.Mean[c]) + float64(s.Momentum*mean[c])
		s.Var[c] = float64((1-s.Momentum)*s.Var[c]) + float64(s.Momentum*variance[c]*unbias)
	}
	s.Batches++
}

// countBatch counts a training forward pass whose statistics were updated
// elsewhere (on a device).
func (s *BatchNormStats) countBatch() {
	s.mu.Lock()
	s.Batches++
	s.mu.Unlock()
}

// unbiasFor is Bessel's correction count/(count-1) for a variance over
// count values (1 for a single value).
func unbiasFor(count int) float64 {
	if count > 1 {
		return float64(count) / float64(count-1)
	}
	return 1
}

// InstanceNorm3d normalises each channel of each sample of x (N, C, D, H, W)
// over its voxels; gamma and beta (C) scale and shift when both are non-nil
// (affine), as torch.nn.InstanceNorm3d. eps 0 means DefaultEps.
func InstanceNorm3d(x, gamma, beta *gorgonia.Node, eps float64) (*gorgonia.Node, error) {
	if err := want5d("InstanceNorm3d", x); err != nil {
		return nil, err
	}
	return GroupNorm(x, x.Shape()[1], gamma, beta, eps)
}

// GroupNorm normalises x (N, C, ...) over groups of C/groups channels and
// all voxels, then applies the per-channel gamma and beta (C) when given,
// as torch.nn.GroupNorm. eps 0 means DefaultEps.
func GroupNorm(x *gorgonia.Node, groups int, gamma, beta *gorgonia.Node, eps float64) (*gorgonia.Node, error) {
	if groups < 1 {
		return nil, fmt.Errorf("%w: GroupNorm: %d groups", ErrConfig, groups)
	}
	n, err := apply(&normKernel{layout: layoutGroups, groups: groups, eps: epsOr(eps), name: "GroupNorm"}, x)
	if err != nil {
		return nil, err
	}
	return affine(n, gamma, beta, 1, "GroupNorm")
}

// LayerNormChannels normalises x (N, C, ...) over the channel axis at each
// voxel, then applies gamma and beta (C) when given (ConvNeXt's
// "channels_first" LayerNorm). eps 0 means DefaultEps (ConvNeXt uses 1e-6).
func LayerNormChannels(x, gamma, beta *gorgonia.Node, eps float64) (*gorgonia.Node, error) {
	n, err := apply(&normKernel{layout: layoutChannels, eps: epsOr(eps), name: "LayerNormChannels"}, x)
	if err != nil {
		return nil, err
	}
	return affine(n, gamma, beta, 1, "LayerNormChannels")
}

// LayerNorm normalises x (..., C) over its last axis, then applies gamma
// and beta (C) when given, as torch.nn.LayerNorm(C) on channels-last data.
// eps 0 means DefaultEps.
func LayerNorm(x, gamma, beta *gorgonia.Node, eps float64) (*gorgonia.Node, error) {
	if x == nil {
		return nil, fmt.Errorf("%w: LayerNorm: nil input", ErrConfig)
	}
	n, err := apply(&normKernel{layout: layoutLast, eps: epsOr(eps), name: "LayerNorm"}, x)
	if err != nil {
		return nil, err
	}
	return affine(n, gamma, beta, x.Dims()-1, "LayerNorm")
}

// BatchNorm3d normalises each channel of x (N, C, ...) over the batch and
// voxels while stats.Training (updating the running statistics), or with
// the running statistics otherwise, then applies gamma and beta (C) when
// given, as torch.nn.BatchNorm3d. eps 0 means DefaultEps.
func BatchNorm3d(x, gamma, beta *gorgonia.Node, stats *BatchNormStats, eps float64) (*gorgonia.Node, error) {
	if stats == nil {
		return nil, fmt.Errorf("%w: BatchNorm3d: nil statistics", ErrConfig)
	}
	n, err := apply(&normKernel{layout: layoutBatch, eps: epsOr(eps), bn: stats, name: "BatchNorm3d"}, x)
	if err != nil {
		return nil, err
	}
	return affine(n, gamma, beta, 1, "BatchNorm3d")
}

func epsOr(eps float64) float64 {
	if eps == 0 {
		return DefaultEps
	}
	return eps
}

func want5d(name string, x *gorgonia.Node) error {
	if x == nil {
		return fmt.Errorf("%w: %s: nil input", ErrConfig, name)
	}
	if x.Dims() != 5 {
		return shapeErr(name, x.Shape(), "(N, C, D, H, W)")
	}
	return nil
}

func affine(x, gamma, beta *gorgonia.Node, axis int, name string) (*gorgonia.Node, error) {
	if gamma == nil && beta == nil {
		return x, nil
	}
	if gamma == nil || beta == nil {
		return nil, fmt.Errorf("%w: %s: give both gamma and beta or neither", ErrConfig, name)
	}
	return apply(&affineKernel{axis: axis, name: name}, x, gamma, beta)
}

// ChannelAffine returns x*gamma[c] + beta[c] with c the index along axis
// of x; gamma and beta have shape (x.Shape()[axis]).
func ChannelAffine(x, gamma, beta *gorgonia.Node, axis int) (*gorgonia.Node, error) {
	if x == nil || axis < 0 || axis >= x.Dims() {
		return nil, fmt.Errorf("%w: ChannelAffine: axis %d", ErrConfig, axis)
	}
	return apply(&affineKernel{axis: axis, name: "ChannelAffine"}, x, gamma, beta)
}

// affineKernel: inputs (x, gamma, beta), per-channel scale and shift.
type affineKernel struct {
	axis int
	name string
}

func (k *affineKernel) String() string { return fmt.Sprintf("%sAffine(axis=%d)", k.name, k.axis) }

func (k *affineKernel) view(s tensor.Shape) view {
	p := 1
	for _, d := range s[:k.axis] {
		p *= d
	}
	return view{p, s[k.axis], s.TotalSize() / (p * s[k.axis])}
}

func (k *affineKernel) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("%w: %s: %d inputs", ErrConfig, k, len(in))
	}
	s := in[0]
	if s.Dims() <= k.axis {
		return nil, shapeErr(k.name, s, fmt.Sprintf("at least %d axes", k.axis+1))
	}
	c := s[k.axis]
	for _, p := range in[1:] {
		if p.Dims() != 1 || p[0] != c {
			return nil, fmt.Errorf("%w: %s: parameter shape %v, want (%d) for input %v", ErrShape, k.name, p, c, s)
		}
	}
	return s.Clone(), nil
}

func (k *affineKernel) forward(out *tensor.Dense, in []*tensor.Dense) error {
	v := k.view(in[0].Shape())
	return byDtype(out,
		func() error {
			affineForward(v, data[float32](out), data[float32](in[0]), data[float32](in[1]), data[float32](in[2]))
			return nil
		},
		func() error {
			affineForward(v, data[float64](out), data[float64](in[0]), data[float64](in[1]), data[float64](in[2]))
			return nil
		})
}

func affineForward[T float](v view, y, x, g, b []T) {
	parallelFor(v.p*v.q, 1, func(lo, hi int) {
		for pq := lo; pq < hi; pq++ {
			q := pq % v.q
			xr, yr := x[pq*v.t:(pq+1)*v.t], y[pq*v.t:(pq+1)*v.t]
			if v.t == 1 {
				yr[0] = xr[0]*g[q] + b[q]
				continue
			}
			gq, bq := g[q], b[q]
			for t := range xr {
				yr[t] = xr[t]*gq + bq
			}
		}
	})
}

func (k *affineKernel) grad(i int) kernel { return &affineGradKernel{fwd: k, wrt: i} }

type affineGradKernel struct {
	fwd *affineKernel
	wrt int
}

func (k *affineGradKernel) String() string { return fmt.Sprintf("%sGrad%d", k.fwd, k.wrt) }

func (k *affineGradKernel) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 5 || !in[0].Eq(in[4]) {
		return nil, fmt.Errorf("%w: %s: shapes %v", ErrShape, k, in)
	}
	return in[k.wrt].Clone(), nil
}

func (k *affineGradKernel) forward(out *tensor.Dense, in []*tensor.Dense) error {
	v := k.fwd.view(in[0].Shape())
	return byDtype(out,
		func() error {
			affineBackward(k.wrt, v, data[float32](out), data[float32](in[0]), data[float32](in[1]), data[float32](in[4]))
			return nil
		},
		func() error {
			affineBackward(k.wrt, v, data[float64](out), data[float64](in[0]), data[float64](in[1]), data[float64](in[4]))
			return nil
		})
}

func affineBackward[T float](wrt int, v view, o, x, g, dy []T) {
	if wrt == 0 {
		parallelFor(v.p*v.q, 1, func(lo, hi int) {
			for pq := lo; pq < hi; pq++ {
				gq := g[pq%v.q]
				for t := pq * v.t; t < (pq+1)*v.t; t++ {
					o[t] = dy[t] * gq
				}
			}
		})
		return
	}
	parallelFor(v.q, 16, func(lo, hi int) {
		for q := lo; q < hi; q++ {
			var s float64
			for p := 0; p < v.p; p++ {
				off := (p*v.q + q) * v.t
				var a T
				for t := off; t < off+v.t; t++ {
					if wrt == 1 {
						a += dy[t] * x[t]
					} else {
						a += dy[t]
					}
				}
				s += float64(a)
			}
			o[q] = T(s)
		}
	})
}

func (k *affineGradKernel) grad(int) kernel { return nil }

// The reductions below keep four running sums in float64: four
// independent additions in flight instead of one chain waiting on the
// adder's latency (about 4x faster), and float64 sums of float32 values
// lose no precision over a 128^3 volume.

// sum4 returns the sum of x.
func sum4[T float](x []T) float64 {
	var a, b, c, d float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		a += float64(v[0])
		b += float64(v[1])
		c += float64(v[2])
		d += float64(v[3])
	}
	for ; i < len(x); i++ {
		a += float64(x[i])
	}
	return (a + b) + (c + d)
}

// sumSqDev4 returns the sum of (x - m)^2.
func sumSqDev4[T float](x []T, m float64) float64 {
	var a, b, c, d float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		e0, e1, e2, e3 := float64(v[0])-m, float64(v[1])-m, float64(v[2])-m, float64(v[3])-m
		a += e0 * e0
		b += e1 * e1
		c += e2 * e2
		d += e3 * e3
	}
	for ; i < len(x); i++ {
		e := float64(x[i]) - m
		a += e * e
	}
	return (a + b) + (c + d)
}

// sumDot4 returns the sum of x and the dot product of x and y (len(y) >= len(x)).
func sumDot4[T float](x, y []T) (sum, dot float64) {
	var a, b, c, d, e, f, g, h float64
	y = y[:len(x)]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		u, w := x[i:i+4:i+4], y[i:i+4:i+4]
		a += float64(u[0])
		b += float64(u[1])
		c += float64(u[2])
		d += float64(u[3])
		e += float64(u[0]) * float64(w[0])
		f += float64(u[1]) * float64(w[1])
		g += float64(u[2]) * float64(w[2])
		h += float64(u[3]) * float64(w[3])
	}
	for ; i < len(x); i++ {
		a += float64(x[i])
		e += float64(x[i]) * float64(y[i])
	}
	return (a + b) + (c + d), (e + f) + (g + h)
}
