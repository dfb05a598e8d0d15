package nn

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func attnCheckWindow(layer string, window [3]int) error {
	for _, w := range window {
		if w <= 0 {
			return fmt.Errorf("%w: %s: window %v, want positive sizes", ErrShape, layer, window)
		}
	}
	return nil
}

// WindowPartition cuts x of shape (N, D, H, W, C) (channels last) into
// non-overlapping windows of window[0] x window[1] x window[2] voxels and
// returns them as (N*nW, Wd*Wh*Ww, C), nW = (D/Wd)(H/Wh)(W/Ww), windows in
// (n, d, h, w) row-major order and voxels inside a window in (d, h, w)
// row-major order, as MONAI's window_partition. D, H and W must be
// multiples of the window (pad first with PadChannelsLast).
func WindowPartition(x *G.Node, window [3]int) (*G.Node, error) {
	if err := attnNeedRank("WindowPartition", x, 5, "(N, D, H, W, C)"); err != nil {
		return nil, err
	}
	if _, err := attnDtype("WindowPartition", x); err != nil {
		return nil, err
	}
	if err := attnCheckWindow("WindowPartition", window); err != nil {
		return nil, err
	}
	s := x.Shape()
	n, d, h, w, c := s[0], s[1], s[2], s[3], s[4]
	wd, wh, ww := window[0], window[1], window[2]
	if d%wd != 0 || h%wh != 0 || w%ww != 0 {
		return nil, fmt.Errorf("%w: WindowPartition: input shape %v, spatial sizes must be multiples of window %v", ErrShape, s, window)
	}
	view := []int{n, d / wd, wd, h / wh, wh, w / ww, ww, c}
	nw := n * (d / wd) * (h / wh) * (w / ww)
	out := tensor.Shape{nw, wd * wh * ww, c}
	return G.ApplyOp(permuteView(fmt.Sprintf("WindowPartition%v", window), s, view, []int{0, 1, 3, 5, 2, 4, 6, 7}, out), x)
}

// WindowReverse is the inverse of WindowPartition: windows of shape
// (N*nW, Wd*Wh*Ww, C) become a tensor of shape (N, D, H, W, C), the sizes
// given by dims = (N, D, H, W).
func WindowReverse(windows *G.Node, window [3]int, dims [4]int) (*G.Node, error) {
	if err := attnNeedRank("WindowReverse", windows, 3, "(N*nW, Wd*Wh*Ww, C)"); err != nil {
		return nil, err
	}
	if _, err := attnDtype("WindowReverse", windows); err != nil {
		return nil, err
	}
	if err := attnCheckWindow("WindowReverse", window); err != nil {
		return nil, err
	}
	s := windows.Shape()
	n, d, h, w := dims[0], dims[1], dims[2], dims[3]
	wd, wh, ww := window[0], window[1], window[2]
	if n <= 0 || d <= 0 || h <= 0 || w <= 0 || d%wd != 0 || h%wh != 0 || w%ww != 0 {
		return nil, fmt.Errorf("%w: WindowReverse: dims %v, want positive multiples of window %v", ErrShape, dims, window)
	}
	nw := n * (d / wd) * (h / wh) * (w / ww)
	if s[0] != nw || s[1] != wd*wh*ww {
		return nil, fmt.Errorf("%w: WindowReverse: input shape %v, want (%d, %d, C) for dims %v and window %v", ErrShape, s, nw, wd*wh*ww, dims, window)
	}
	c := s[2]
	view := []int{n, d / wd, h / wh, w / ww, wd, wh, ww, c}
	out := tensor.Shape{n, d, h, w, c}
	return G.ApplyOp(permuteView(fmt.Sprintf("WindowReverse%v", window), s, view, []int{0, 1, 4, 2, 5, 3, 6, 7}, out), windows)
}

// PadChannelsLast pads x of shape (N, D, H, W, C) with zeros at the end of
// D, H and W by pad[0], pad[1], pad[2] voxels (F.pad(x, (0, 0, 0, pw, 0, ph,
// 0, pd)) in PyTorch), giving (N, D+pd, H+ph, W+pw, C).
func PadChannelsLast(x *G.Node, pad [3]int) (*G.Node, error) {
	if err := attnNeedRank("PadChannelsLast", x, 5, "(N, D, H, W, C)"); err != nil {
		return nil, err
	}
	if _, err := attnDtype("PadChannelsLast", x); err != nil {
		return nil, err
	}
	if pad[0] < 0 || pad[1] < 0 || pad[2] < 0 {
		return nil, fmt.Errorf("%w: PadChannelsLast: pad %v, want non-negative", ErrShape, pad)
	}
	if pad == [3]int{} {
		return x, nil
	}
	s := x.Shape()
	big := tensor.Shape{s[0], s[1] + pad[0], s[2] + pad[1], s[3] + pad[2], s[4]}
	return G.ApplyOp(&stridedScatterOp{fwd: cropView(big, s)}, x)
}

// CropChannelsLast keeps the first dims[0], dims[1], dims[2] voxels along
// D, H and W of x of shape (N, D, H, W, C) (x[:, :d, :h, :w, :]), the
// inverse of PadChannelsLast.
func CropChannelsLast(x *G.Node, dims [3]int) (*G.Node, error) {
	if err := attnNeedRank("CropChannelsLast", x, 5, "(N, D, H, W, C)"); err != nil {
		return nil, err
	}
	if _, err := attnDtype("CropChannelsLast", x); err != nil {
		return nil, err
	}
	s := x.Shape()
	if dims[0] <= 0 || dims[1] <= 0 || dims[2] <= 0 || dims[0] > s[1] || dims[1] > s[2] || dims[2] > s[3] {
		return nil, fmt.Errorf("%w: CropChannelsLast: input shape %v cannot be cropped to %v", ErrShape, s, dims)
	}
	if dims[0] == s[1] && dims[1] == s[2] && dims[2] == s[3] {
		return x, nil
	}
	return G.ApplyOp(cropView(s, tensor.Shape{s[0], dims[0], dims[1], dims[2], s[4]}), x)
}

// cropView reads the leading corner of shape small out of a tensor of shape
// big (both rank 5, channels last).
func cropView(big, small tensor.Shape) *stridedOp {
	st := rowMajorStrides(big)
	return &stridedOp{
		name:     "Crop",
		iter:     []int{small[0], small[1], small[2], small[3] * small[4]},
		strides:  []int{st[0], st[1], st[2], 1},
		inShape:  big.Clone(),
		outShape: small.Clone(),
	}
}

// RelativePositionIndex returns the (L, L) table, L = Wd*Wh*Ww, of indices
// into a relative position bias table of (2Wd-1)(2Wh-1)(2Ww-1) rows: entry
// (i, j) encodes the offset between voxels i and j of a window, computed
// exactly as MONAI's WindowAttention.relative_position_index.
func RelativePositionIndex(window [3]int) ([]int, error) {
	if err := attnCheckWindow("RelativePositionIndex", window); err != nil {
		return nil, err
	}
	wd, wh, ww := window[0], window[1], window[2]
	l := wd * wh * ww
	coords := make([][3]int, 0, l)
	for d := 0; d < wd; d++ {
		for h := 0; h < wh; h++ {
			for w := 0; w < ww; w++ {
				coords = append(coords, [3]int{d, h, w})
			}
		}
	}
	idx := make([]int, l*l)
	for i := 0; i < l; i++ {
		for j := 0; j < l; j++ {
			rd := coords[i][0] - coords[j][0] + wd - 1
			rh := coords[i][1] - coords[j][1] + wh - 1
			rw := coords[i][2] - coords[j][2] + ww - 1
			idx[i*l+j] = rd*(2*wh-1)*(2*ww-1) + rh*(2*ww-1) + rw
		}
	}
	return idx, nil
}

// RelativePositionTableSize is the number of rows of the relative position
// bias table of a window: (2Wd-1)(2Wh-1)(2Ww-1).
func RelativePositionTableSize(window [3]int) int {
	return (2*window[0] - 1) * (2*window[1] - 1) * (2*window[2] - 1)
}

// RelativePositionBias gathers the bias of shape (heads, n, n) from table
// of shape ((2Wd-1)(2Wh-1)(2Ww-1), heads): bias[h, i, j] =
// table[index[i, j], h] with index = RelativePositionIndex(window) cut to
// its first n rows and columns (n <= Wd*Wh*Ww; MONAI cuts the same way when
// a window is clipped). The gradient scatter-adds into the table.
func RelativePositionBias(table *G.Node, window [3]int, n int) (*G.Node, error) {
	if _, err := attnDtype("RelativePositionBias", table); err != nil {
		return nil, err
	}
	idx, err := RelativePositionIndex(window)
	if err != nil {
		return nil, err
	}
	rows := RelativePositionTableSize(window)
	s := table.Shape()
	if s.Dims() != 2 || s[0] != rows || s[1] <= 0 {
		return nil, fmt.Errorf("%w: RelativePositionBias: table shape %v, want (%d, heads) for window %v", ErrShape, s, rows, window)
	}
	l := window[0] * window[1] * window[2]
	if n <= 0 || n > l {
		return nil, fmt.Errorf("%w: RelativePositionBias: %d tokens per window, want 1..%d for window %v", ErrShape, n, l, window)
	}
	heads := s[1]
	src := make([]int32, heads*n*n)
	for h := 0; h < heads; h++ {
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				src[(h*n+i)*n+j] = int32(idx[i*l+j]*heads + h)
			}
		}
	}
	op := &gatherOp{id: attnNextID(), name: fmt.Sprintf("RelativePositionBias%v", window), src: src, inShape: s.Clone(), outShape: tensor.Shape{heads, n, n}}
	return G.ApplyOp(op, table)
}

// gatherOp reads out[k] = in[src[k]]; its adjoint scatterAddOp adds.
type gatherOp struct {
	attnCache

	id       uint64
	name     string
	src      []int32
	inShape  tensor.Shape
	outShape tensor.Shape
}

func (op *gatherOp) Arity() int            { return 1 }
func (op *gatherOp) Type() hm.Type         { return attnType(op.outShape.Dims(), op.inShape.Dims()) }
func (op *gatherOp) ReturnsPtr() bool      { return false }
func (op *gatherOp) CallsExtern() bool     { return false }
func (op *gatherOp) OverwritesInput() int  { return -1 }
func (op *gatherOp) WriteHash(h hash.Hash) { attnWriteHash(h, op) }
func (op *gatherOp) Hashcode() uint32      { return attnHash(op) }
func (op *gatherOp) String() string {
	return fmt.Sprintf("Gather#%d:%s%v->%v", op.id, op.name, op.inShape, op.outShape)
}
func (op *gatherOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.outShape.Clone(), nil }
func (op *gatherOp) Do(in ...G.Value) (G.Value, error)              { return op.UsePreallocDo(nil, in...) }
func (op *gatherOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	x, err := attnDense(op, in[0], op.inShape.TotalSize())
	if err != nil {
		return nil, err
	}
	out := op.out(prealloc, x.Dtype(), op.outShape, x)
	switch s := x.Data().(type) {
	case []float32:
		gatherKernel(out.Data().([]float32), s, op.src)
	case []float64:
		gatherKernel(out.Data().([]float64), s, op.src)
	}
	return out, nil
}
func (op *gatherOp) DiffWRT(int) []bool { return []bool{true} }
func (op *gatherOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	g, err := G.ApplyOp(&scatterAddOp{fwd: op}, grad)
	if err != nil {
		return nil, fmt.Errorf("%v: gradient: %w", op, err)
	}
	return G.Nodes{g}, nil
}

// scatterAddOp is the adjoint of a gatherOp: out[src[k]] += in[k], from zero.
type scatterAddOp struct {
	attnCache
	fwd *gatherOp
}

func (op *scatterAddOp) Arity() int { return 1 }
func (op *scatterAddOp) Type() hm.Type {
	return attnType(op.fwd.inShape.Dims(), op.fwd.outShape.Dims())
}
func (op *scatterAddOp) ReturnsPtr() bool      { return false }
func (op *scatterAddOp) CallsExtern() bool     { return false }
func (op *scatterAddOp) OverwritesInput() int  { return -1 }
func (op *scatterAddOp) WriteHash(h hash.Hash) { attnWriteHash(h, op) }
func (op *scatterAddOp) Hashcode() uint32      { return attnHash(op) }
func (op *scatterAddOp) String() string        { return "ScatterAdd" + op.fwd.String() }
func (op *scatterAddOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.fwd.inShape.Clone(), nil
}
func (op *scatterAddOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }
func (op *scatterAddOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	g, err := attnDense(op, in[0], op.fwd.outShape.TotalSize())
	if err != nil {
		return nil, err
	}
	out := op.out(prealloc, g.Dtype(), op.fwd.inShape, g)
	switch s := g.Data().(type) {
	case []float32:
		scatterAddKernel(out.Data().([]float32), s, op.fwd.src)
	case []float64:
		scatterAddKernel(out.Data().([]float64), s, op.fwd.src)
	}
	return out, nil
}
func (op *scatterAddOp) DiffWRT(int) []bool { return []bool{true} }
func (op *scatterAddOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	fwd := *op.fwd // a fresh op: output buffers are per node
	fwd.attnCache = attnCache{}
	fwd.id = attnNextID()
	g, err := G.ApplyOp(&fwd, grad)
	if err != nil {
		return nil, fmt.Errorf("%v: gradient: %w", op, err)
	}
	return G.Nodes{g}, nil
}

func gatherKernel[T attnFloat](dst, src []T, idx []int32) {
	for k, i := range idx {
		dst[k] = src[i]
	}
}

func scatterAddKernel[T attnFloat](dst, src []T, idx []int32) {
	clear(dst)
	for k, i := range idx {
		dst[i] += src[k]
	}
}

// attnPySlice resolves a Python slice with optional negative bounds
// (nil = omitted) on a sequence of length n, as Python does.
func attnPySlice(start, stop *int, n int) (int, int) {
	norm := func(p *int, def int) int {
		if p == nil {
			return def
		}
		v := *p
		if v < 0 {
			v += n
			if v < 0 {
				v = 0
			}
		}
		if v > n {
			v = n
		}
		return v
	}
	lo, hi := norm(start, 0), norm(stop, n)
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// ShiftedWindowMask computes the additive attention mask of shifted-window
// attention for a (padded) volume of dims (D, H, W), as MONAI's
// compute_mask: the volume is split into regions by the slices
// [:-w], [-w:-s], [-s:] along each axis (Python slice rules, so a zero
// shift makes the last slice the whole axis), regions are numbered, and
// entry (k, i, j) of the result is 0 when voxels i and j of window k lie in
// the same region and -100 otherwise. The result has shape (nW, L, L),
// nW = (D/Wd)(H/Wh)(W/Ww), L = Wd*Wh*Ww, dtype float64 (MaskedSoftmax
// converts). dims must be multiples of window.
func ShiftedWindowMask(dims, window, shift [3]int) (*tensor.Dense, error) {
	region, nw, l, err := shiftedWindowRegions(dims, window, shift)
	if err != nil {
		return nil, err
	}
	mask := make([]float64, nw*l*l)
	for k := 0; k < nw; k++ {
		r := region[k*l : (k+1)*l]
		for i := 0; i < l; i++ {
			for j := 0; j < l; j++ {
				if r[j] != r[i] {
					mask[(k*l+i)*l+j] = attnMaskFill
				}
			}
		}
	}
	return tensor.New(tensor.WithShape(nw, l, l), tensor.WithBacking(mask)), nil
}

// attnMaskFill is what MONAI's compute_mask puts between voxels of
// different regions.
const attnMaskFill = -100

// shiftedWindowRegions returns, for every window k and voxel i of it, the
// region number of compute_mask (ShiftedWindowMask's (k, i, j) entry is
// attnMaskFill where region[k, i] != region[k, j]): nW*L labels, compact
// where the mask itself has nW*L*L entries.
func shiftedWindowRegions(dims, window, shift [3]int) (region []int32, nw, l int, err error) {
	if err := attnCheckWindow("ShiftedWindowMask", window); err != nil {
		return nil, 0, 0, err
	}
	for i := 0; i < 3; i++ {
		if dims[i] <= 0 || dims[i]%window[i] != 0 || shift[i] < 0 || shift[i] >= window[i] {
			return nil, 0, 0, fmt.Errorf("%w: ShiftedWindowMask: dims %v, window %v, shift %v: dims must be multiples of the window and 0 <= shift < window", ErrShape, dims, window, shift)
		}
	}
	d, h, w := dims[0], dims[1], dims[2]
	img := make([]int32, d*h*w)
	type rng struct{ lo, hi int }
	axis := func(i int) []rng {
		n, ws, ss := dims[i], window[i], shift[i]
		mw, ms := -ws, -ss
		var out []rng
		lo, hi := attnPySlice(nil, &mw, n)
		out = append(out, rng{lo, hi})
		lo, hi = attnPySlice(&mw, &ms, n)
		out = append(out, rng{lo, hi})
		lo, hi = attnPySlice(&ms, nil, n)
		out = append(out, rng{lo, hi})
		return out
	}
	var cnt int32
	for _, rd := range axis(0) {
		for _, rh := range axis(1) {
			for _, rw := range axis(2) {
				for z := rd.lo; z < rd.hi; z++ {
					for y := rh.lo; y < rh.hi; y++ {
						for x := rw.lo; x < rw.hi; x++ {
							img[(z*h+y)*w+x] = cnt
						}
					}
				}
				cnt++
			}
		}
	}
	wd, wh, ww := window[0], window[1], window[2]
	l = wd * wh * ww
	nw = (d / wd) * (h / wh) * (w / ww)
	region = make([]int32, nw*l)
	k := 0
	for bd := 0; bd < d/wd; bd++ {
		for bh := 0; bh < h/wh; bh++ {
			for bw := 0; bw < w/ww; bw++ {
				i := 0
				for z := 0; z < wd; z++ {
					for y := 0; y < wh; y++ {
						for x := 0; x < ww; x++ {
							region[k*l+i] = img[((bd*wd+z)*h+bh*wh+y)*w+bw*ww+x]
							i++
						}
					}
				}
				k++
			}
		}
	}
	return region, nw, l, nil
}
