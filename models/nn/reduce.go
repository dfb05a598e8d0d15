package nn

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Sum returns the sum of every element of x (any shape, float32 or
// float64) as a scalar node: a loss of one's own, say. It is gorgonia's
// Sum over all axes, but its gradient (dLoss/dx, every element the
// scalar dLoss/dSum) is filled on all cores in one pass, where gorgonia's
// broadcasts it with a serial element copy (17% of the wall time of a
// Conv3d 32->32 forward+backward at 64^3).
func Sum(x *gorgonia.Node) (*gorgonia.Node, error) { return reduceAll(x, false) }

// Mean is Sum divided by the number of elements of x.
func Mean(x *gorgonia.Node) (*gorgonia.Node, error) { return reduceAll(x, true) }

func reduceAll(x *gorgonia.Node, mean bool) (*gorgonia.Node, error) {
	op := &reduceOp{mean: mean}
	name := op.String()
	if x == nil {
		return nil, fmt.Errorf("%w: %s: nil input", ErrConfig, name)
	}
	if _, err := attnDtype(name, x); err != nil {
		return nil, err
	}
	op.dims = x.Shape().Dims()
	return gorgonia.ApplyOp(op, x)
}

// reduceOp is Sum or Mean over all elements: x -> scalar.
type reduceOp struct {
	mean bool
	dims int
}

func (op *reduceOp) Arity() int { return 1 }
func (op *reduceOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(gorgonia.TensorType{Dims: op.dims, Of: a}, a)
}
func (op *reduceOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}
func (op *reduceOp) ReturnsPtr() bool     { return false }
func (op *reduceOp) CallsExtern() bool    { return false }
func (op *reduceOp) OverwritesInput() int { return -1 }
func (op *reduceOp) String() string {
	if op.mean {
		return "nn.Mean"
	}
	return "nn.Sum"
}
func (op *reduceOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s/%d", op, op.dims) }
func (op *reduceOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op *reduceOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 1 {
		return nil, fmt.Errorf("%w: %s: %d inputs, want 1", ErrConfig, op, len(vals))
	}
	switch d := vals[0].Data().(type) {
	case []float32:
		return gorgonia.NewF32(float32(op.total(parallelSum(d), len(d)))), nil
	case []float64:
		return gorgonia.NewF64(op.total(parallelSum(d), len(d))), nil
	}
	return nil, fmt.Errorf("%w: %s: input of type %T", ErrDtype, op, vals[0].Data())
}

// total turns the sum of n elements into the op's result.
func (op *reduceOp) total(sum float64, n int) float64 {
	if op.mean && n > 0 {
		return sum / float64(n)
	}
	return sum
}

// parallelSum sums x in float64 on all cores, in a fixed order of chunks
// so that the result does not depend on the core count.
func parallelSum[T float](x []T) float64 {
	const chunk = 1 << 16
	n := (len(x) + chunk - 1) / chunk
	if n <= 1 {
		return sum4(x)
	}
	parts := make([]float64, n)
	parallelFor(n, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			parts[i] = sum4(x[i*chunk : min((i+1)*chunk, len(x))])
		}
	})
	var s float64
	for _, p := range parts {
		s += p
	}
	return s
}

func (op *reduceOp) DiffWRT(n int) []bool { return []bool{true}[:n] }

func (op *reduceOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("%w: %s: SymDiff with %d inputs", ErrConfig, op, len(inputs))
	}
	g, err := gorgonia.ApplyOp(&reduceGradOp{fwd: op}, inputs[0], grad)
	if err != nil {
		return nil, fmt.Errorf("%s: gradient: %w", op, err)
	}
	return gorgonia.Nodes{g}, nil
}

// reduceGradOp fills x's shape with dLoss/dOut (divided by the element
// count for Mean): (x, dOut) -> x's shape. x is read for its shape only.
type reduceGradOp struct {
	fwd   *reduceOp
	cache *tensor.Dense
}

func (op *reduceGradOp) Arity() int { return 2 }
func (op *reduceGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := gorgonia.TensorType{Dims: op.fwd.dims, Of: a}
	return hm.NewFnType(t, a, t)
}
func (op *reduceGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	if len(in) < 1 {
		return nil, fmt.Errorf("%w: %s: no inputs", ErrConfig, op)
	}
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("%w: %s: input has no known shape", ErrShape, op)
	}
	return s.Clone(), nil
}
func (op *reduceGradOp) ReturnsPtr() bool      { return false }
func (op *reduceGradOp) CallsExtern() bool     { return false }
func (op *reduceGradOp) OverwritesInput() int  { return -1 }
func (op *reduceGradOp) String() string        { return "grad(" + op.fwd.String() + ")" }
func (op *reduceGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s/%d", op, op.fwd.dims) }
func (op *reduceGradOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op *reduceGradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 2 {
		return nil, fmt.Errorf("%w: %s: %d inputs, want 2", ErrConfig, op, len(vals))
	}
	x := vals[0]
	g, err := ScalarValue(vals[1])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	n := x.Shape().TotalSize()
	if op.fwd.mean && n > 0 {
		g /= float64(n)
	}
	out := op.cache
	if out == nil || out.Dtype() != x.Dtype() || !out.Shape().Eq(x.Shape()) {
		out = tensor.New(tensor.Of(x.Dtype()), tensor.WithShape(x.Shape().Clone()...))
		op.cache = out
	}
	switch d := out.Data().(type) {
	case []float32:
		parallelFill(d, float32(g))
	case []float64:
		parallelFill(d, g)
	default:
		return nil, fmt.Errorf("%w: %s: input of type %T", ErrDtype, op, d)
	}
	return out, nil
}

// parallelFill sets every element of d to v, on all cores.
func parallelFill[T float](d []T, v T) {
	parallelFor(len(d), 1<<16, func(lo, hi int) {
		s := d[lo:hi]
		for i := range s {
			s[i] = v
		}
	})
}

// ScalarValue reads a scalar gorgonia value (an F32, an F64 or a
// one-element tensor, such as a loss node's value after a run) as float64.
func ScalarValue(v gorgonia.Value) (float64, error) {
	switch s := v.(type) {
	case *gorgonia.F32:
		return float64(*s), nil
	case *gorgonia.F64:
		return float64(*s), nil
	case nil:
		return 0, fmt.Errorf("%w: no value (has the graph run?)", ErrShape)
	}
	switch d := v.Data().(type) {
	case float32:
		return float64(d), nil
	case float64:
		return d, nil
	case []float32:
		if len(d) == 1 {
			return float64(d[0]), nil
		}
	case []float64:
		if len(d) == 1 {
			return d[0], nil
		}
	}
	return 0, fmt.Errorf("%w: a value of type %T and shape %v is not a scalar", ErrShape, v, v.Shape())
}
