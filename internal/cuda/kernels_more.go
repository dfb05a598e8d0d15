package cuda

import (
	"fmt"
	"unsafe"
)

// PoolGeom is a pooling's geometry as the kernels take it (ub_pool_geom):
// Planes = N*C, the input and output sizes (D, H, W), window, stride and
// padding, and Max (1: max pooling, 0: average).
type PoolGeom struct {
	Planes                  int32
	In, Out, K, Stride, Pad [3]int32
	Max                     int32
}

func (g PoolGeom) sizes() (in, out int) {
	p := int(g.Planes)
	return p * int(g.In[0]) * int(g.In[1]) * int(g.In[2]), p * int(g.Out[0]) * int(g.Out[1]) * int(g.Out[2])
}

func (g PoolGeom) check() error {
	in, out := g.sizes()
	for i := 0; i < 3; i++ {
		if g.K[i] < 1 || g.Stride[i] < 1 || g.Pad[i] < 0 {
			return fmt.Errorf("%w: pool3d: geometry %+v", ErrLaunch, g)
		}
	}
	if _, err := i32("pool3d input size", in); err != nil {
		return err
	}
	_, err := i32("pool3d output size", out)
	return err
}

// Pool3dForward sets y (Planes, Out...) to the max or mean over each window
// of x (Planes, In...).
func (k *Kernels) Pool3dForward(g PoolGeom, x, y Ptr) error {
	if err := g.check(); err != nil {
		return err
	}
	_, n := g.sizes()
	return k.launch1D(kPoolFwd, n, g, x, y)
}

// Pool3dBackward sets dx (Planes, In...) from x and dy (Planes, Out...).
func (k *Kernels) Pool3dBackward(g PoolGeom, x, dy, dx Ptr) error {
	if err := g.check(); err != nil {
		return err
	}
	n, _ := g.sizes()
	return k.launch1D(kPoolBwd, n, g, x, dy, dx)
}

// UpsampleGeom is an upsampling's planes (N*C) and input and output sizes.
type UpsampleGeom struct {
	Planes  int32
	In, Out [3]int32
}

// UpsampleAxis is one axis's source map: output position o reads input
// positions I0[o] and I1[o] with weights 1-L1[o] and L1[o] (nearest: I0 =
// I1, L1 = 0), as the CPU engine's axisMap.
type UpsampleAxis struct {
	I0, I1 []int
	L1     []float64
}

// UpsampleMaps is the three axes' maps in device memory, in the layouts of
// ub_ups_fwd (forward) and ub_ups_bwd (per input position, its outputs).
type UpsampleMaps struct {
	geom         UpsampleGeom
	idx, l1      Ptr // forward
	off, ent, wt Ptr // backward
	dev          Device
}

// NewUpsampleMaps uploads the maps of the three axes (D, H, W) for planes
// planes of input size in. Free releases them.
func (k *Kernels) NewUpsampleMaps(planes int, in [3]int, axes [3]UpsampleAxis) (*UpsampleMaps, error) {
	m := &UpsampleMaps{dev: k.dev}
	m.geom.Planes = int32(planes)
	var idx []int32
	var l1 []float64
	for a := 0; a < 3; a++ {
		ax := axes[a]
		if len(ax.I1) != len(ax.I0) || len(ax.L1) != len(ax.I0) {
			return nil, fmt.Errorf("%w: upsample axis %d: map lengths %d, %d, %d", ErrLaunch, a, len(ax.I0), len(ax.I1), len(ax.L1))
		}
		m.geom.In[a], m.geom.Out[a] = int32(in[a]), int32(len(ax.I0))
	}
	for a := 0; a < 3; a++ {
		for _, v := range axes[a].I0 {
			idx = append(idx, int32(v))
		}
		for _, v := range axes[a].I1 {
			idx = append(idx, int32(v))
		}
		l1 = append(l1, axes[a].L1...)
	}
	// Backward: for each input position of each axis, the (output, weight)
	// entries that read it, in output order.
	var off, ent []int32
	var wt []float64
	for a := 0; a < 3; a++ {
		ax := axes[a]
		lists := make([][]int, in[a])
		weights := make([][]float64, in[a])
		for o := range ax.I0 {
			for s, i := range [2]int{ax.I0[o], ax.I1[o]} {
				if i < 0 || i >= in[a] {
					return nil, fmt.Errorf("%w: upsample axis %d: output %d reads %d of %d", ErrLaunch, a, o, i, in[a])
				}
				w := 1 - ax.L1[o]
				if s == 1 {
					w = ax.L1[o]
				}
				lists[i] = append(lists[i], o)
				weights[i] = append(weights[i], w)
			}
		}
		base := int32(len(ent))
		for i := range lists {
			off = append(off, base)
			for j, o := range lists[i] {
				ent = append(ent, int32(o))
				wt = append(wt, weights[i][j])
				base++
			}
		}
		off = append(off, base)
	}
	var err error
	up := func(n int, src unsafe.Pointer) (Ptr, error) {
		p, err := k.dev.Alloc(n)
		if err != nil {
			return 0, err
		}
		return p, k.dev.CopyHtoD(p, src, n)
	}
	if m.idx, err = up(4*len(idx), unsafe.Pointer(&idx[0])); err == nil {
		if m.l1, err = up(8*len(l1), unsafe.Pointer(&l1[0])); err == nil {
			if m.off, err = up(4*len(off), unsafe.Pointer(&off[0])); err == nil {
				if m.ent, err = up(4*len(ent), unsafe.Pointer(&ent[0])); err == nil {
					m.wt, err = up(8*len(wt), unsafe.Pointer(&wt[0]))
				}
			}
		}
	}
	if err != nil {
		m.Free()
		return nil, fmt.Errorf("cuda: upsample maps: %w", err)
	}
	return m, nil
}

// Free releases the maps' device memory.
func (m *UpsampleMaps) Free() error {
	var first error
	for _, p := range []*Ptr{&m.idx, &m.l1, &m.off, &m.ent, &m.wt} {
		if err := m.dev.Free(*p); err != nil && first == nil {
			first = err
		}
		*p = 0
	}
	return first
}

func (m *UpsampleMaps) sizes() (in, out int) {
	g := m.geom
	p := int(g.Planes)
	return p * int(g.In[0]) * int(g.In[1]) * int(g.In[2]), p * int(g.Out[0]) * int(g.Out[1]) * int(g.Out[2])
}

// Upsample3dForward sets y (Planes, Out...) from x (Planes, In...).
func (k *Kernels) Upsample3dForward(m *UpsampleMaps, x, y Ptr) error {
	_, n := m.sizes()
	if _, err := i32("upsample output size", n); err != nil {
		return err
	}
	return k.launch1D(kUpsFwd, n, m.geom, m.idx, m.l1, x, y)
}

// Upsample3dBackward sets dx (Planes, In...) from dy (Planes, Out...).
func (k *Kernels) Upsample3dBackward(m *UpsampleMaps, dy, dx Ptr) error {
	n, _ := m.sizes()
	if _, err := i32("upsample input size", n); err != nil {
		return err
	}
	return k.launch1D(kUpsBwd, n, m.geom, m.off, m.ent, m.wt, dy, dx)
}

// View is a tensor seen as (P, Q, T): softmax reduces over Q; a norm takes
// statistics per Q over (P, T) or, Across, per (P, T) over Q.
type View struct{ P, Q, T int }

func (v View) check(what string) error {
	_, err := i32(what+" size", v.P*v.Q*v.T)
	return err
}

func b32(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// Softmax sets y to the (log-)softmax of x over v.Q.
func (k *Kernels) Softmax(v View, log bool, x, y Ptr) error {
	if err := v.check("softmax"); err != nil {
		return err
	}
	return k.launch1D(kSoftmaxFwd, v.P*v.T, int32(v.P), int32(v.Q), int32(v.T), b32(log), x, y)
}

// SoftmaxGrad sets dx from the forward output y and dy.
func (k *Kernels) SoftmaxGrad(v View, log bool, y, dy, dx Ptr) error {
	if err := v.check("softmax"); err != nil {
		return err
	}
	return k.launch1D(kSoftmaxBwd, v.P*v.T, int32(v.P), int32(v.Q), int32(v.T), b32(log), y, dy, dx)
}

// AttentionSoftmax sets each of the rows (m values each) of y to the
// softmax of scale times the row of x.
func (k *Kernels) AttentionSoftmax(rows, m int, scale float64, x, y Ptr) error {
	if _, err := i32("attention softmax size", rows*m); err != nil {
		return err
	}
	return k.launch1D(kAttnSoftmax, rows, int32(rows), int32(m), scale, AttnMask{}, x, y)
}

// AttentionSoftmaxGrad sets dx = mul * y*(dy - sum(dy*y)) per row.
func (k *Kernels) AttentionSoftmaxGrad(rows, m int, mul float64, y, dy, dx Ptr) error {
	if _, err := i32("attention softmax size", rows*m); err != nil {
		return err
	}
	return k.launch1D(kAttnSoftmaxBwd, rows, int32(rows), int32(m), mul, y, dy, dx)
}

// normThreadGroup is the largest group (P*T values) whose statistics and
// gradient NormStats and NormGrad give one thread rather than a block
// (LayerNorm over the channels of each token).
const normThreadGroup = 512

// NormStats computes mean, var and rstd = 1/sqrt(var+eps) (float64 device
// arrays of Q entries, or P*T when across) of x viewed as v.
func (k *Kernels) NormStats(v View, across bool, eps float64, x, mean, variance, rstd Ptr) error {
	if err := v.check("norm"); err != nil {
		return err
	}
	if across {
		return k.launch1D(kNormStatsAcross, v.P*v.T, int32(v.P), int32(v.Q), int32(v.T), eps, x, mean, variance, rstd)
	}
	if v.Q == 0 {
		return nil
	}
	if v.P*v.T <= normThreadGroup {
		return k.launch1D(kNormStatsThread, v.Q, int32(v.P), int32(v.Q), int32(v.T), eps, x, mean, variance, rstd)
	}
	return k.dev.Launch(k.fn[kNormStatsMiddle], Dim3{X: v.Q}, Dim3{X: blockThreads}, 0,
		int32(v.P), int32(v.Q), int32(v.T), eps, x, mean, variance, rstd)
}

// NormApply sets y = (x - mean)*rstd.
func (k *Kernels) NormApply(v View, across bool, x, mean, rstd, y Ptr) error {
	if err := v.check("norm"); err != nil {
		return err
	}
	return k.launch1D(kNormApply, v.P*v.Q*v.T, int32(v.P), int32(v.Q), int32(v.T), b32(across), x, mean, rstd, y)
}

// NormGrad sets dx = rstd*(dy - mean(dy) - y*mean(dy*y)) per group of the
// layout, or rstd*dy when fixed (running statistics), y the normalised x.
func (k *Kernels) NormGrad(v View, across, fixed bool, y, dy, rstd, dx Ptr) error {
	if err := v.check("norm"); err != nil {
		return err
	}
	if across {
		return k.launch1D(kNormBwdAcross, v.P*v.T, int32(v.P), int32(v.Q), int32(v.T), b32(fixed), y, dy, rstd, dx)
	}
	if v.Q == 0 {
		return nil
	}
	if v.P*v.T <= normThreadGroup {
		return k.launch1D(kNormBwdThread, v.Q, int32(v.P), int32(v.Q), int32(v.T), b32(fixed), y, dy, rstd, dx)
	}
	return k.dev.Launch(k.fn[kNormBwdMiddle], Dim3{X: v.Q}, Dim3{X: blockThreads}, 0,
		int32(v.P), int32(v.Q), int32(v.T), b32(fixed), y, dy, rstd, dx)
}

// Affine sets y = x*g[q] + b[q] for x viewed as v.
func (k *Kernels) Affine(v View, x, g, b, y Ptr) error {
	if err := v.check("affine"); err != nil {
		return err
	}
	return k.launch1D(kAffineFwd, v.P*v.Q*v.T, int32(v.P), int32(v.Q), int32(v.T), x, g, b, y)
}

// AffineGrad sets out to the gradient of Affine with respect to input wrt:
// 0 x (dy*g), 1 g (sum of dy*x per q), 2 b (sum of dy per q).
func (k *Kernels) AffineGrad(v View, wrt int, x, g, dy, out Ptr) error {
	if err := v.check("affine"); err != nil {
		return err
	}
	if wrt == 0 {
		return k.launch1D(kAffineBwdX, v.P*v.Q*v.T, int32(v.P), int32(v.Q), int32(v.T), g, dy, out)
	}
	if v.Q == 0 {
		return nil
	}
	return k.dev.Launch(k.fn[kAffineBwdParam], Dim3{X: v.Q}, Dim3{X: blockThreads}, 0,
		int32(v.P), int32(v.Q), int32(v.T), b32(wrt == 1), x, dy, out)
}

// AdamParams are one Adam step's settings as ub_adam takes them: StepSize
// is lr/(1-beta1^t), SqrtBC2 sqrt(1-beta2^t); Decoupled 1 is AdamW.
type AdamParams struct {
	Beta1, Beta2, Eps, WeightDecay, LR, StepSize, SqrtBC2 float64
	Decoupled, pad                                        int32
}

// Adam updates w (n values) in place from g, the moments m and v, and
// zeroes g.
func (k *Kernels) Adam(n int, a AdamParams, w, g, m, v Ptr) error {
	n32, err := i32("n", n)
	if err != nil {
		return err
	}
	return k.launch1D(kAdam, n, n32, a, w, g, m, v)
}

// StridedMaxRank is the most axes of a strided view.
const StridedMaxRank = 8

// Strided is a strided view as the kernels take it (ub_strided): element k
// of the view, read in row-major order over Iter[:Rank], is
// src[Offset + sum_j i_j*Strides[j]].
type Strided struct {
	Rank, Offset  int32
	Iter, Strides [StridedMaxRank]int32
}

// NewStrided returns the view of iteration shape iter, strides and offset.
func NewStrided(iter, strides []int, offset int) (Strided, error) {
	var s Strided
	if len(iter) == 0 || len(iter) > StridedMaxRank || len(strides) != len(iter) {
		return s, fmt.Errorf("%w: strided view of %d axes (%d strides), at most %d", ErrLaunch, len(iter), len(strides), StridedMaxRank)
	}
	s.Rank, s.Offset = int32(len(iter)), int32(offset)
	for j := range iter {
		s.Iter[j], s.Strides[j] = int32(iter[j]), int32(strides[j])
	}
	return s, nil
}

func (s Strided) size() int {
	n := 1
	for j := 0; j < int(s.Rank); j++ {
		n *= int(s.Iter[j])
	}
	return n
}

// StridedGather copies the view of src into the contiguous dst.
func (k *Kernels) StridedGather(s Strided, src, dst Ptr) error {
	n, err := i32("strided view size", s.size())
	if err != nil {
		return err
	}
	return k.launch1D(kStridedGather, int(n), s, n, src, dst)
}

// StridedScatter writes the contiguous src back to the view's positions in
// dst (dstLen values), zeroing the rest of dst.
func (k *Kernels) StridedScatter(s Strided, src, dst Ptr, dstLen int) error {
	n, err := i32("strided view size", s.size())
	if err != nil {
		return err
	}
	if int(n) != dstLen {
		if err := k.Fill(dstLen, 0, dst); err != nil {
			return err
		}
	}
	return k.launch1D(kStridedScatter, int(n), s, n, src, dst)
}

// BNRunning updates BatchNorm's running statistics mean and variance (n
// float64 device values each) in place from a batch's bmean and bvar as
// models/nn's CPU engine does: mean = (1-momentum)·mean + momentum·bmean,
// variance = (1-momentum)·variance + momentum·bvar·unbias (unbias = N/(N-1)
// for N values per channel), each product rounded. With bmean 0 the
// statistics are only read. When rstd is not 0 it gets 1/sqrt(variance +
// eps) of the (updated) running variance, as eval mode normalises.
func (k *Kernels) BNRunning(n int, momentum, unbias, eps float64, bmean, bvar, mean, variance, rstd Ptr) error {
	n32, err := i32("n", n)
	if err != nil {
		return err
	}
	return k.launch1D(kBNRunning, n, n32, momentum, unbias, eps, bmean, bvar, mean, variance, rstd)
}
