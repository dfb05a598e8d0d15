package nn

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// stridedOp copies a strided view of its input into a new contiguous
// tensor: with the output read in row-major order over the iteration shape
// iter, element k = (i_0, ..., i_r) is in[offset + sum_j i_j*strides[j]].
// The view must be injective (a permutation of axes, possibly restricted to
// a sub-block), so its adjoint is stridedScatterOp.
type stridedOp struct {
	attnCache

	name     string
	iter     []int
	strides  []int
	offset   int
	inShape  tensor.Shape
	outShape tensor.Shape
}

func (op *stridedOp) Arity() int            { return 1 }
func (op *stridedOp) Type() hm.Type         { return attnType(op.outShape.Dims(), op.inShape.Dims()) }
func (op *stridedOp) ReturnsPtr() bool      { return false }
func (op *stridedOp) CallsExtern() bool     { return false }
func (op *stridedOp) OverwritesInput() int  { return -1 }
func (op *stridedOp) WriteHash(h hash.Hash) { attnWriteHash(h, op) }
func (op *stridedOp) Hashcode() uint32      { return attnHash(op) }
func (op *stridedOp) String() string {
	return fmt.Sprintf("%s%v->%v{iter%v strides%v +%d}", op.name, op.inShape, op.outShape, op.iter, op.strides, op.offset)
}
func (op *stridedOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.outShape.Clone(), nil }
func (op *stridedOp) Do(in ...G.Value) (G.Value, error)              { return op.UsePreallocDo(nil, in...) }
func (op *stridedOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	x, err := attnDense(op, in[0], op.inShape.TotalSize())
	if err != nil {
		return nil, err
	}
	out := op.out(prealloc, x.Dtype(), op.outShape, x)
	switch src := x.Data().(type) {
	case []float32:
		stridedGather(out.Data().([]float32), src, op.iter, op.strides, op.offset)
	case []float64:
		stridedGather(out.Data().([]float64), src, op.iter, op.strides, op.offset)
	}
	return out, nil
}
func (op *stridedOp) DiffWRT(int) []bool { return []bool{true} }
func (op *stridedOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	back := &stridedScatterOp{fwd: op}
	g, err := G.ApplyOp(back, grad)
	if err != nil {
		return nil, fmt.Errorf("%v: gradient: %w", op, err)
	}
	return G.Nodes{g}, nil
}

// stridedScatterOp is the adjoint of a stridedOp: it takes a tensor of the
// strided op's output shape and writes it back to the positions it was read
// from, leaving zeros elsewhere.
type stridedScatterOp struct {
	attnCache
	fwd *stridedOp
}

func (op *stridedScatterOp) Arity() int { return 1 }
func (op *stridedScatterOp) Type() hm.Type {
	return attnType(op.fwd.inShape.Dims(), op.fwd.outShape.Dims())
}
func (op *stridedScatterOp) ReturnsPtr() bool      { return false }
func (op *stridedScatterOp) CallsExtern() bool     { return false }
func (op *stridedScatterOp) OverwritesInput() int  { return -1 }
func (op *stridedScatterOp) WriteHash(h hash.Hash) { attnWriteHash(h, op) }
func (op *stridedScatterOp) Hashcode() uint32      { return attnHash(op) }
func (op *stridedScatterOp) String() string        { return "Adjoint" + op.fwd.String() }
func (op *stridedScatterOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.fwd.inShape.Clone(), nil
}
func (op *stridedScatterOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }
func (op *stridedScatterOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	g, err := attnDense(op, in[0], op.fwd.outShape.TotalSize())
	if err != nil {
		return nil, err
	}
	out := op.out(prealloc, g.Dtype(), op.fwd.inShape, g)
	f := op.fwd
	switch src := g.Data().(type) {
	case []float32:
		dst := out.Data().([]float32)
		if attnProd(f.iter) != len(dst) {
			clear(dst)
		}
		stridedScatter(dst, src, f.iter, f.strides, f.offset)
	case []float64:
		dst := out.Data().([]float64)
		if attnProd(f.iter) != len(dst) {
			clear(dst)
		}
		stridedScatter(dst, src, f.iter, f.strides, f.offset)
	}
	return out, nil
}
func (op *stridedScatterOp) DiffWRT(int) []bool { return []bool{true} }
func (op *stridedScatterOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	fwd := *op.fwd // a fresh op: output buffers are per node
	fwd.attnCache = attnCache{}
	g, err := G.ApplyOp(&fwd, grad)
	if err != nil {
		return nil, fmt.Errorf("%v: gradient: %w", op, err)
	}
	return G.Nodes{g}, nil
}

// stridedRows calls f(row, srcBase) for every row (all but the last
// iteration axis) in [lo, hi).
func stridedRowBase(row int, iter, strides []int, offset int) int {
	base := offset
	for j := len(iter) - 2; j >= 0; j-- {
		base += (row % iter[j]) * strides[j]
		row /= iter[j]
	}
	return base
}

func stridedGather[T attnFloat](dst, src []T, iter, strides []int, offset int) {
	r := len(iter)
	inner, is := iter[r-1], strides[r-1]
	rows := len(dst) / inner
	attnParallel(rows, inner, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			b := stridedRowBase(row, iter, strides, offset)
			d := dst[row*inner : (row+1)*inner]
			if is == 1 {
				copy(d, src[b:b+inner])
				continue
			}
			for i := range d {
				d[i] = src[b+i*is]
			}
		}
	})
}

func stridedScatter[T attnFloat](dst, src []T, iter, strides []int, offset int) {
	r := len(iter)
	inner, is := iter[r-1], strides[r-1]
	rows := len(src) / inner
	attnParallel(rows, inner, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			b := stridedRowBase(row, iter, strides, offset)
			s := src[row*inner : (row+1)*inner]
			if is == 1 {
				copy(dst[b:b+inner], s)
				continue
			}
			for i, v := range s {
				dst[b+i*is] = v
			}
		}
	})
}

// rowMajorStrides returns the element strides of a contiguous tensor.
func rowMajorStrides(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
	return st
}

// permuteView builds the stridedOp that permutes the axes of a tensor whose
// (possibly finer, same-size) view shape is view; the result is given the
// shape out.
func permuteView(name string, in tensor.Shape, view []int, axes []int, out tensor.Shape) *stridedOp {
	vs := rowMajorStrides(view)
	iter := make([]int, len(axes))
	strides := make([]int, len(axes))
	for i, a := range axes {
		iter[i] = view[a]
		strides[i] = vs[a]
	}
	// Merge neighbouring axes that stay contiguous: fewer, longer rows.
	mi, ms := []int{iter[0]}, []int{strides[0]}
	for i := 1; i < len(iter); i++ {
		k := len(mi) - 1
		if ms[k] == strides[i]*iter[i] {
			mi[k] *= iter[i]
			ms[k] = strides[i]
			continue
		}
		mi = append(mi, iter[i])
		ms = append(ms, strides[i])
	}
	return &stridedOp{name: name, iter: mi, strides: ms, inShape: in.Clone(), outShape: out.Clone()}
}

func attnCheckAxes(axes []int, r int) bool {
	if len(axes) != r {
		return false
	}
	seen := make([]bool, r)
	for _, a := range axes {
		if a < 0 || a >= r || seen[a] {
			return false
		}
		seen[a] = true
	}
	return true
}

// Permute returns x with its axes reordered: output axis i is input axis
// axes[i], like torch.permute. The result is a new contiguous tensor; the
// gradient is the inverse permutation. Any rank, float32 or float64.
func Permute(x *G.Node, axes ...int) (*G.Node, error) {
	if _, err := attnDtype("Permute", x); err != nil {
		return nil, err
	}
	in := x.Shape()
	if !attnCheckAxes(axes, in.Dims()) {
		return nil, fmt.Errorf("%w: Permute: axes %v for input shape %v", ErrShape, axes, in)
	}
	out := make(tensor.Shape, len(axes))
	for i, a := range axes {
		out[i] = in[a]
	}
	return G.ApplyOp(permuteView(fmt.Sprintf("Permute%v", axes), in, in, axes, out), x)
}

// Reshape returns a copy of x with a new shape of the same number of
// elements (a view copy, never aliasing x). The gradient is reshaped back.
func Reshape(x *G.Node, shape ...int) (*G.Node, error) {
	if _, err := attnDtype("Reshape", x); err != nil {
		return nil, err
	}
	in := x.Shape()
	if len(shape) == 0 || attnProd(shape) != in.TotalSize() {
		return nil, fmt.Errorf("%w: Reshape: input shape %v cannot become %v", ErrShape, in, tensor.Shape(shape))
	}
	for _, s := range shape {
		if s <= 0 {
			return nil, fmt.Errorf("%w: Reshape: input shape %v cannot become %v", ErrShape, in, tensor.Shape(shape))
		}
	}
	n := in.TotalSize()
	op := &stridedOp{name: "Reshape", iter: []int{n}, strides: []int{1}, inShape: in.Clone(), outShape: tensor.Shape(shape).Clone()}
	return G.ApplyOp(op, x)
}

func attnNeedRank(layer string, x *G.Node, rank int, want string) error {
	if x.Shape().Dims() != rank {
		return fmt.Errorf("%w: %s: input shape %v, want %s", ErrShape, layer, x.Shape(), want)
	}
	return nil
}

// ToChannelsLast turns x of shape (N, C, D, H, W) into (N, D, H, W, C).
func ToChannelsLast(x *G.Node) (*G.Node, error) {
	if err := attnNeedRank("ToChannelsLast", x, 5, "(N, C, D, H, W)"); err != nil {
		return nil, err
	}
	return Permute(x, 0, 2, 3, 4, 1)
}

// ToChannelsFirst turns x of shape (N, D, H, W, C) into (N, C, D, H, W).
func ToChannelsFirst(x *G.Node) (*G.Node, error) {
	if err := attnNeedRank("ToChannelsFirst", x, 5, "(N, D, H, W, C)"); err != nil {
		return nil, err
	}
	return Permute(x, 0, 4, 1, 2, 3)
}

// ToTokens turns x of shape (N, C, D, H, W) into tokens of shape
// (N, D*H*W, C), token index d*H*W + h*W + w (x.flatten(2).transpose(1, 2)
// in PyTorch).
func ToTokens(x *G.Node) (*G.Node, error) {
	if err := attnNeedRank("ToTokens", x, 5, "(N, C, D, H, W)"); err != nil {
		return nil, err
	}
	s := x.Shape()
	n, c, l := s[0], s[1], s[2]*s[3]*s[4]
	view := []int{n, c, l}
	return G.ApplyOp(permuteView("ToTokens", s, view, []int{0, 2, 1}, tensor.Shape{n, l, c}), x)
}

// FromTokens turns tokens of shape (N, D*H*W, C) back into (N, C, D, H, W),
// the inverse of ToTokens.
func FromTokens(x *G.Node, d, h, w int) (*G.Node, error) {
	if err := attnNeedRank("FromTokens", x, 3, "(N, L, C)"); err != nil {
		return nil, err
	}
	s := x.Shape()
	if d <= 0 || h <= 0 || w <= 0 || s[1] != d*h*w {
		return nil, fmt.Errorf("%w: FromTokens: input shape %v, want (N, %d, C) for D, H, W = %d, %d, %d", ErrShape, s, d*h*w, d, h, w)
	}
	n, l, c := s[0], s[1], s[2]
	return G.ApplyOp(permuteView("FromTokens", s, []int{n, l, c}, []int{0, 2, 1}, tensor.Shape{n, c, d, h, w}), x)
}
