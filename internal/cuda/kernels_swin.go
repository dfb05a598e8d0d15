package cuda

import (
	"fmt"
	"unsafe"
)

// AttnMask is what AttentionSoftmaxMasked adds to the scaled scores of a
// row, as models/nn's AttentionSoftmax: a bias of NB values (Bias, device
// float32) that the rows (m values each) read cyclically, row r from
// (r*m) mod NB; and at most one of the shifted-window masks, Dense
// ((NW, L, m) float64 values added) or Regions ((NW, L) int32 labels; -100
// where a column's label differs from the row's), row r using window
// (r / (L*Heads)) mod NW and position r mod L. Zero pointers add nothing.
type AttnMask struct {
	Bias, Dense, Regions Ptr
	NB, Heads, L, NW     int32
}

func (a AttnMask) check(m int) error {
	if a.Bias != 0 && (a.NB <= 0 || int(a.NB)%m != 0) {
		return fmt.Errorf("%w: attention bias of %d values for rows of %d", ErrLaunch, a.NB, m)
	}
	if a.Dense != 0 && a.Regions != 0 {
		return fmt.Errorf("%w: attention mask both dense and by regions", ErrLaunch)
	}
	if (a.Dense != 0 || a.Regions != 0) && (a.Heads <= 0 || a.L <= 0 || a.NW <= 0) {
		return fmt.Errorf("%w: attention mask heads %d, L %d, %d windows", ErrLaunch, a.Heads, a.L, a.NW)
	}
	return nil
}

// AttentionSoftmaxMasked sets each of the rows (m values each) of y to the
// softmax of scale times the row of x plus what a adds; a row whose
// maximum is -Inf or NaN gives zeros.
func (k *Kernels) AttentionSoftmaxMasked(rows, m int, scale float64, a AttnMask, x, y Ptr) error {
	if _, err := i32("attention softmax size", rows*m); err != nil {
		return err
	}
	if err := a.check(m); err != nil {
		return err
	}
	return k.launch1D(kAttnSoftmax, rows, int32(rows), int32(m), scale, a, x, y)
}

// ReduceRows sets dst[i] = mul * the sum over k of x[k*n + i] for i < n,
// where x holds reps*n values: the gradient of an operand broadcast over
// leading axes.
func (k *Kernels) ReduceRows(n, reps int, mul float64, x, dst Ptr) error {
	if _, err := i32("reduce size", n*reps); err != nil {
		return err
	}
	return k.launch1D(kReduceRows, n, int32(n), int32(reps), mul, x, dst)
}

// Roll is torch.roll over every axis as the kernels take it (ub_roll): out
// element j reads in[(j - Shift) mod Shape] per axis, Shift in [0, Shape).
type Roll struct {
	Rank         int32
	Shape, Shift [StridedMaxRank]int32
}

// NewRoll returns the roll of a tensor of shape by shift (per axis, each
// in [0, shape[a])).
func NewRoll(shape, shift []int) (Roll, error) {
	var r Roll
	if len(shape) == 0 || len(shape) > StridedMaxRank || len(shift) != len(shape) {
		return r, fmt.Errorf("%w: roll of %d axes (%d shifts), at most %d", ErrLaunch, len(shape), len(shift), StridedMaxRank)
	}
	r.Rank = int32(len(shape))
	for a := range shape {
		if shape[a] <= 0 || shift[a] < 0 || shift[a] >= shape[a] {
			return r, fmt.Errorf("%w: roll axis %d: shift %d of %d", ErrLaunch, a, shift[a], shape[a])
		}
		r.Shape[a], r.Shift[a] = int32(shape[a]), int32(shift[a])
	}
	return r, nil
}

func (r Roll) size() int {
	n := 1
	for a := 0; a < int(r.Rank); a++ {
		n *= int(r.Shape[a])
	}
	return n
}

// RollForward sets dst to src rolled by r (both of r's shape).
func (k *Kernels) RollForward(r Roll, src, dst Ptr) error {
	n, err := i32("roll size", r.size())
	if err != nil {
		return err
	}
	return k.launch1D(kRollFwd, int(n), r, n, src, dst)
}

// GatherIndex is an index map in device memory for Gather (dst[k] =
// src[Idx[k]]) and its adjoint GatherSum (the sum into each source element
// of the dst elements that read it). Free releases it.
type GatherIndex struct {
	n, srcLen     int
	idx, off, ent Ptr
	dev           Device
}

// NewGatherIndex uploads idx (each in [0, srcLen)) and its inverse (for
// each source element, the positions that read it, ascending).
func (k *Kernels) NewGatherIndex(idx []int32, srcLen int) (*GatherIndex, error) {
	if _, err := i32("gather size", max(len(idx), srcLen)); err != nil {
		return nil, err
	}
	g := &GatherIndex{n: len(idx), srcLen: srcLen, dev: k.dev}
	count := make([]int32, srcLen+1)
	for k, i := range idx {
		if i < 0 || int(i) >= srcLen {
			return nil, fmt.Errorf("%w: gather index [%d] = %d of %d", ErrLaunch, k, i, srcLen)
		}
		count[i+1]++
	}
	for i := 0; i < srcLen; i++ {
		count[i+1] += count[i]
	}
	off := append([]int32(nil), count...)
	ent := make([]int32, max(len(idx), 1))
	next := append([]int32(nil), count[:srcLen]...)
	for k, i := range idx {
		ent[next[i]] = int32(k)
		next[i]++
	}
	var err error
	if g.idx, err = k.UploadInt32(idx); err == nil {
		if g.off, err = k.UploadInt32(off); err == nil {
			g.ent, err = k.UploadInt32(ent)
		}
	}
	if err != nil {
		g.Free()
		return nil, fmt.Errorf("cuda: gather index: %w", err)
	}
	return g, nil
}

// Bytes is the device memory the index holds.
func (g *GatherIndex) Bytes() int64 { return int64(4 * (2*max(g.n, 1) + g.srcLen + 1)) }

// Free releases the index's device memory.
func (g *GatherIndex) Free() error {
	var first error
	for _, p := range []*Ptr{&g.idx, &g.off, &g.ent} {
		if err := g.dev.Free(*p); err != nil && first == nil {
			first = err
		}
		*p = 0
	}
	return first
}

// Gather sets dst[k] = src[idx[k]] for the index's len(idx) positions.
func (k *Kernels) Gather(g *GatherIndex, src, dst Ptr) error {
	return k.launch1D(kGather, g.n, int32(g.n), g.idx, src, dst)
}

// GatherSum sets each of the srcLen elements of dst to the sum of the
// elements of src (len(idx) values) at the positions that read it
// (Gather's adjoint; a scatter-add done as a gather, in ascending order).
func (k *Kernels) GatherSum(g *GatherIndex, src, dst Ptr) error {
	return k.launch1D(kGatherSum, g.srcLen, int32(g.srcLen), g.off, g.ent, src, dst)
}

// UploadInt32 copies v to new device memory (free it with the device's
// Free).
func (k *Kernels) UploadInt32(v []int32) (Ptr, error) {
	p, err := k.dev.Alloc(4 * max(len(v), 1))
	if err != nil || len(v) == 0 {
		return p, err
	}
	if err := k.dev.CopyHtoD(p, unsafe.Pointer(&v[0]), 4*len(v)); err != nil {
		k.dev.Free(p)
		return 0, err
	}
	return p, nil
}

// UploadFloat64 copies v to new device memory (free it with the device's
// Free).
func (k *Kernels) UploadFloat64(v []float64) (Ptr, error) {
	p, err := k.dev.Alloc(8 * max(len(v), 1))
	if err != nil || len(v) == 0 {
		return p, err
	}
	if err := k.dev.CopyHtoD(p, unsafe.Pointer(&v[0]), 8*len(v)); err != nil {
		k.dev.Free(p)
		return 0, err
	}
	return p, nil
}
