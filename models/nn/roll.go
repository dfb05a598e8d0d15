package nn

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Roll shifts x cyclically along the given axes, like torch.roll(x, shifts,
// dims): out[..., (i+s) mod n, ...] = x[..., i, ...]. Negative shifts roll
// the other way. The gradient is the inverse roll.
func Roll(x *G.Node, shifts, axes []int) (*G.Node, error) {
	if _, err := attnDtype("Roll", x); err != nil {
		return nil, err
	}
	s := x.Shape()
	if len(shifts) != len(axes) {
		return nil, fmt.Errorf("%w: Roll: %d shifts for %d axes", ErrShape, len(shifts), len(axes))
	}
	per := make([]int, s.Dims())
	for i, a := range axes {
		if a < 0 || a >= s.Dims() {
			return nil, fmt.Errorf("%w: Roll: axis %d for input shape %v", ErrShape, a, s)
		}
		per[a] += shifts[i]
	}
	for a := range per {
		per[a] %= s[a]
		if per[a] < 0 {
			per[a] += s[a]
		}
	}
	return G.ApplyOp(&rollOp{shape: s.Clone(), shift: per}, x)
}

// Roll3d rolls x of shape (N, D, H, W, C) (channels last) by shift[0],
// shift[1], shift[2] voxels along D, H and W: torch.roll(x, shifts=shift,
// dims=(1, 2, 3)), the cyclic shift of shifted-window attention (Swin rolls
// by minus the shift before attention and by plus the shift after).
func Roll3d(x *G.Node, shift [3]int) (*G.Node, error) {
	if err := attnNeedRank("Roll3d", x, 5, "(N, D, H, W, C)"); err != nil {
		return nil, err
	}
	return Roll(x, shift[:], []int{1, 2, 3})
}

// rollOp: out[j] = in[(j - shift) mod n] along every axis; shift in [0, n).
type rollOp struct {
	attnCache

	shape tensor.Shape
	shift []int
}

func (op *rollOp) Arity() int            { return 1 }
func (op *rollOp) Type() hm.Type         { return attnType(op.shape.Dims(), op.shape.Dims()) }
func (op *rollOp) ReturnsPtr() bool      { return false }
func (op *rollOp) CallsExtern() bool     { return false }
func (op *rollOp) OverwritesInput() int  { return -1 }
func (op *rollOp) WriteHash(h hash.Hash) { attnWriteHash(h, op) }
func (op *rollOp) Hashcode() uint32      { return attnHash(op) }
func (op *rollOp) String() string        { return fmt.Sprintf("Roll%v%v", op.shape, op.shift) }
func (op *rollOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape.Clone(), nil
}
func (op *rollOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }
func (op *rollOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	x, err := attnDense(op, in[0], op.shape.TotalSize())
	if err != nil {
		return nil, err
	}
	out := op.out(prealloc, x.Dtype(), op.shape, x)
	switch s := x.Data().(type) {
	case []float32:
		rollKernel(out.Data().([]float32), s, op.shape, op.shift)
	case []float64:
		rollKernel(out.Data().([]float64), s, op.shape, op.shift)
	}
	return out, nil
}
func (op *rollOp) DiffWRT(int) []bool { return []bool{true} }
func (op *rollOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	inv := make([]int, len(op.shift))
	for a, s := range op.shift {
		inv[a] = (op.shape[a] - s) % op.shape[a]
	}
	g, err := G.ApplyOp(&rollOp{shape: op.shape, shift: inv}, grad)
	if err != nil {
		return nil, fmt.Errorf("%v: gradient: %w", op, err)
	}
	return G.Nodes{g}, nil
}

func rollKernel[T attnFloat](dst, src []T, shape []int, shift []int) {
	r := len(shape)
	if r == 0 {
		copy(dst, src)
		return
	}
	inner := shape[r-1]
	si := shift[r-1]
	rows := len(dst) / inner
	attnParallel(rows, inner, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			// source row: undo the shift on every outer axis.
			q, srow, mul := row, 0, 1
			for a := r - 2; a >= 0; a-- {
				i := q % shape[a]
				q /= shape[a]
				j := i - shift[a]
				if j < 0 {
					j += shape[a]
				}
				srow += j * mul
				mul *= shape[a]
			}
			d := dst[row*inner : (row+1)*inner]
			s := src[srow*inner : (srow+1)*inner]
			// d[i] = s[(i - si) mod inner]
			copy(d[si:], s[:inner-si])
			copy(d[:si], s[inner-si:])
		}
	})
}
