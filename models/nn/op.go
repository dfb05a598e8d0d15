package nn

import (
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"sync/atomic"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ErrShape is returned (wrapped) when an input's shape does not fit an
// operation or layer. The message names the layer and both shapes.
var ErrShape = errors.New("nn: shape mismatch")

// ErrDtype is returned (wrapped) when an input is neither float32 nor float64,
// or when the inputs of one operation disagree on the dtype.
var ErrDtype = errors.New("nn: unsupported dtype")

// ErrConfig is returned (wrapped) for invalid operation or layer settings
// (a zero channel count, a negative padding, groups not dividing channels).
var ErrConfig = errors.New("nn: invalid configuration")

// kernel is the inside of one operation: what it computes and how it is
// differentiated. The gorgonia plumbing (type, hash, prealloc, SymDiff,
// DoDiff) lives in op, which wraps a kernel.
//
// Conventions:
//   - every input and the output are float32 or float64 dense tensors of one
//     dtype (checked by op before calling the kernel);
//   - forward must overwrite every element of out (out is reused between runs);
//   - grad(i) returns the kernel computing dLoss/dInput_i. The gradient kernel
//     receives the forward inputs, then the forward output, then dLoss/dOutput
//     (arity = forward arity + 2), and its output has input i's shape. It
//     returns nil where input i is not differentiable.
type kernel interface {
	// String names the operation and every parameter that changes its
	// result; it is also the operation's hash.
	String() string
	// inferShape checks the input shapes and returns the output shape.
	inferShape(in []tensor.Shape) (tensor.Shape, error)
	// forward computes out from in.
	forward(out *tensor.Dense, in []*tensor.Dense) error
	// grad returns the gradient kernel for input i, or nil.
	grad(i int) kernel
}

// gradShape checks the inputs (x_0, ..., x_{n-1}, y, dy) of g, the kernel
// computing the gradient of fwd with respect to x_wrt, and returns the shape
// of x_wrt, which is g's output shape: y must be fwd's output for the x and
// dy must have y's shape.
func gradShape(g fmt.Stringer, fwd kernel, in []tensor.Shape, n, wrt int) (tensor.Shape, error) {
	if n < 1 || len(in) != n+2 || wrt < 0 || wrt >= n {
		return nil, fmt.Errorf("%w: %s: %d inputs", ErrConfig, g, len(in))
	}
	y, err := fwd.inferShape(in[:n])
	if err != nil {
		return nil, err
	}
	if !y.Eq(in[n+1]) {
		return nil, fmt.Errorf("%w: %s: output gradient %v, output %v", ErrShape, g, in[n+1], y)
	}
	return in[wrt].Clone(), nil
}

// uniqueKernel is implemented by kernels that carry state (running
// statistics, saved indices) and must never be merged with an equal-looking
// node by the graph's common-subexpression elimination.
type uniqueKernel interface {
	unique() bool
}

var opSerial atomic.Uint64

// op adapts a kernel to gorgonia.Op, gorgonia.SDOp, gorgonia.ADOp and
// gorgonia.UsePreallocDoer. It keeps its output tensor between runs of a
// machine, so a training loop does not allocate a new output every step.
type op struct {
	k       kernel
	inDims  []int // number of dimensions of each input
	outDims int
	serial  uint64 // nonzero for unique kernels
	cache   *tensor.Dense
}

// newOp builds the op for kernel k applied to inputs with the given shapes.
func newOp(k kernel, inShapes []tensor.Shape) (*op, error) {
	out, err := k.inferShape(inShapes)
	if err != nil {
		return nil, err
	}
	o := &op{k: k, inDims: make([]int, len(inShapes)), outDims: out.Dims()}
	for i, s := range inShapes {
		o.inDims[i] = s.Dims()
	}
	if u, ok := k.(uniqueKernel); ok && u.unique() {
		o.serial = opSerial.Add(1)
	}
	return o, nil
}

// apply builds a node computing k on the given nodes. Shape errors come from
// the kernel's inferShape and name the operation and the shapes.
func apply(k kernel, nodes ...*gorgonia.Node) (*gorgonia.Node, error) {
	shapes := make([]tensor.Shape, len(nodes))
	var dt tensor.Dtype
	for i, n := range nodes {
		if n == nil {
			return nil, fmt.Errorf("%w: %s: input %d is nil", ErrConfig, k, i)
		}
		shapes[i] = n.Shape()
		if err := checkDtype(n.Dtype()); err != nil {
			return nil, fmt.Errorf("%s: input %d: %w", k, i, err)
		}
		if i == 0 {
			dt = n.Dtype()
		} else if n.Dtype() != dt {
			return nil, fmt.Errorf("%w: %s: input %d is %v, input 0 is %v", ErrDtype, k, i, n.Dtype(), dt)
		}
	}
	o, err := newOp(k, shapes)
	if err != nil {
		return nil, err
	}
	return gorgonia.ApplyOp(o, nodes...)
}

func checkDtype(dt tensor.Dtype) error {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return fmt.Errorf("%w: %v, want float32 or float64", ErrDtype, dt)
	}
	return nil
}

func (o *op) Arity() int { return len(o.inDims) }

func (o *op) Type() hm.Type {
	a := hm.TypeVariable('a')
	ts := make(hm.Types, 0, len(o.inDims)+1)
	for _, d := range o.inDims {
		ts = append(ts, tensorType(d, a))
	}
	ts = append(ts, tensorType(o.outDims, a))
	return hm.NewFnType(ts...)
}

func tensorType(dims int, a hm.TypeVariable) hm.Type {
	if dims == 0 {
		return a
	}
	return gorgonia.TensorType{Dims: dims, Of: a}
}

func (o *op) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	shapes := make([]tensor.Shape, len(in))
	for i, d := range in {
		s, ok := d.(tensor.Shape)
		if !ok {
			return nil, fmt.Errorf("%w: %s: input %d has no known shape (%T)", ErrShape, o.k, i, d)
		}
		shapes[i] = s
	}
	return o.k.inferShape(shapes)
}

func (o *op) ReturnsPtr() bool     { return false }
func (o *op) CallsExtern() bool    { return false }
func (o *op) OverwritesInput() int { return -1 }
func (o *op) String() string       { return o.k.String() }

func (o *op) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "unetlab/nn.%s#%d", o.k.String(), o.serial)
	for _, d := range o.inDims {
		fmt.Fprintf(h, ",%d", d)
	}
}

func (o *op) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

// denseInputs checks arity, dtypes and shapes of the values and returns them
// as contiguous dense tensors, plus the output shape.
func (o *op) denseInputs(vals []gorgonia.Value) ([]*tensor.Dense, tensor.Shape, error) {
	if len(vals) != len(o.inDims) {
		return nil, nil, fmt.Errorf("%w: %s: %d inputs, want %d", ErrConfig, o.k, len(vals), len(o.inDims))
	}
	in := make([]*tensor.Dense, len(vals))
	shapes := make([]tensor.Shape, len(vals))
	for i, v := range vals {
		d, err := asDense(v)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: input %d: %w", o.k, i, err)
		}
		if i > 0 && d.Dtype() != in[0].Dtype() {
			return nil, nil, fmt.Errorf("%w: %s: input %d is %v, input 0 is %v", ErrDtype, o.k, i, d.Dtype(), in[0].Dtype())
		}
		in[i] = d
		shapes[i] = d.Shape()
	}
	out, err := o.k.inferShape(shapes)
	if err != nil {
		return nil, nil, err
	}
	return in, out, nil
}

// asDense returns v as a contiguous float dense tensor.
func asDense(v gorgonia.Value) (*tensor.Dense, error) {
	var d *tensor.Dense
	switch t := v.(type) {
	case *tensor.Dense:
		d = t
	case *gorgonia.F64:
		d = tensor.New(tensor.WithShape(), tensor.FromScalar(float64(*t)))
	case *gorgonia.F32:
		d = tensor.New(tensor.WithShape(), tensor.FromScalar(float32(*t)))
	default:
		return nil, fmt.Errorf("%w: value of type %T", ErrDtype, v)
	}
	if err := checkDtype(d.Dtype()); err != nil {
		return nil, err
	}
	if d.RequiresIterator() {
		m := d.Materialize()
		md, ok := m.(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("%w: cannot materialise %T", ErrDtype, m)
		}
		d = md
	}
	return d, nil
}

// Do runs the kernel, reusing the op's output tensor from the previous run
// when its shape and dtype still fit.
func (o *op) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	in, shp, err := o.denseInputs(vals)
	if err != nil {
		return nil, err
	}
	out := o.cache
	if out == nil || out.Dtype() != in[0].Dtype() || !out.Shape().Eq(shp) {
		out = tensor.New(tensor.Of(in[0].Dtype()), tensor.WithShape(shp.Clone()...))
		o.cache = out
	}
	if err := o.k.forward(out, in); err != nil {
		return nil, err
	}
	return out, nil
}

// UsePreallocDo computes into prealloc when it is a dense tensor of the right
// shape and dtype, and returns an error otherwise (the machine then calls Do).
func (o *op) UsePreallocDo(prealloc gorgonia.Value, vals ...gorgonia.Value) (gorgonia.Value, error) {
	in, shp, err := o.denseInputs(vals)
	if err != nil {
		return nil, err
	}
	out, ok := prealloc.(*tensor.Dense)
	if !ok || out.Dtype() != in[0].Dtype() || !out.Shape().Eq(shp) || out.RequiresIterator() {
		return nil, fmt.Errorf("%w: %s: preallocated value does not fit %v", ErrShape, o.k, shp)
	}
	if err := o.k.forward(out, in); err != nil {
		return nil, err
	}
	return out, nil
}

// DiffWRT reports, for each input, whether the kernel has a gradient for it.
func (o *op) DiffWRT(n int) []bool {
	r := make([]bool, n)
	for i := range r {
		r[i] = o.k.grad(i) != nil
	}
	return r
}

// SymDiff builds one gradient node per differentiable input.
func (o *op) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != len(o.inDims) {
		return nil, fmt.Errorf("%w: %s: SymDiff with %d inputs, want %d", ErrConfig, o.k, len(inputs), len(o.inDims))
	}
	args := make([]*gorgonia.Node, 0, len(inputs)+2)
	args = append(args, inputs...)
	args = append(args, output, grad)
	ret := make(gorgonia.Nodes, len(inputs))
	for i := range inputs {
		gk := o.k.grad(i)
		if gk == nil {
			continue
		}
		n, err := apply(gk, args...)
		if err != nil {
			return nil, fmt.Errorf("gradient of %s for input %d: %w", o.k, i, err)
		}
		ret[i] = n
	}
	return ret, nil
}

// DoDiff computes the gradients for the LispMachine (automatic
// differentiation mode) and adds them to the inputs' gradients.
func (o *op) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	vals := make([]gorgonia.Value, 0, len(inputs)+2)
	for _, n := range inputs {
		vals = append(vals, n.Value())
	}
	dOut, err := output.Grad()
	if err != nil {
		return fmt.Errorf("%s: output gradient: %w", o.k, err)
	}
	vals = append(vals, output.Value(), dOut)
	for i, n := range inputs {
		gk := o.k.grad(i)
		if gk == nil {
			continue
		}
		shapes := make([]tensor.Shape, len(vals))
		for j, v := range vals {
			shapes[j] = v.Shape()
		}
		g, err := newOp(gk, shapes)
		if err != nil {
			return err
		}
		gv, err := g.Do(vals...)
		if err != nil {
			return err
		}
		dIn, err := n.Grad()
		if err != nil {
			return fmt.Errorf("%s: gradient of input %d: %w", o.k, i, err)
		}
		dd, err := asDense(dIn)
		if err != nil {
			return err
		}
		if _, err := tensor.Add(dd, gv, tensor.UseUnsafe()); err != nil {
			return fmt.Errorf("%s: adding gradient of input %d: %w", o.k, i, err)
		}
	}
	return nil
}

// shapeErr formats a shape mismatch naming the layer or op and both shapes.
func shapeErr(name string, got tensor.Shape, want string) error {
	return fmt.Errorf("%w: %s: input shape %v, want %s", ErrShape, name, got, want)
}

// float is the element type of every kernel.
type float interface{ ~float32 | ~float64 }

// data returns the backing slice of a dense float tensor of element type T.
func data[T float](d *tensor.Dense) []T {
	return d.Data().([]T)
}

// forAnyDtype calls f32 or f64 according to d's dtype.
func byDtype(d *tensor.Dense, f32 func() error, f64 func() error) error {
	switch d.Dtype() {
	case tensor.Float32:
		return f32()
	case tensor.Float64:
		return f64()
	}
	return fmt.Errorf("%w: %v", ErrDtype, d.Dtype())
}
