package nn

// Shared plumbing for the attention ops of this package (layout, window,
// roll, matmul, softmax). Every op here is a gorgonia.Op with a symbolic
// derivative (gorgonia.SDOp), computes in float32 or float64, and writes
// into the machine's preallocated output when that is safe.

import (
	"fmt"
	"hash"
	"hash/fnv"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// attnFloat is the element type of the attention kernels.
type attnFloat interface{ ~float32 | ~float64 }

// attnOpSeq numbers ops whose parameters are too large to hash (index
// tables), so that two such ops are never merged by the graph.
var attnOpSeq atomic.Uint64

func attnNextID() uint64 { return attnOpSeq.Add(1) }

// attnHash hashes an op's String form; ops put every parameter there.
func attnHash(s fmt.Stringer) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s.String()))
	return h.Sum32()
}

func attnWriteHash(h hash.Hash, s fmt.Stringer) { h.Write([]byte(s.String())) }

// attnType is the hm type of an op taking tensors of the given ranks and
// returning a tensor of rank out, all of the same element type.
func attnType(out int, in ...int) hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, 0, len(in)+1)
	for _, d := range in {
		ts = append(ts, attnTensorType(d, a))
	}
	ts = append(ts, attnTensorType(out, a))
	return hm.NewFnType(ts...)
}

func attnTensorType(d int, a hm.TypeVariable) hm.Type {
	if d == 0 {
		return a
	}
	return G.TensorType{Dims: d, Of: a}
}

// attnDtype checks that a node holds float32 or float64 values.
func attnDtype(layer string, n *G.Node) (tensor.Dtype, error) {
	if n == nil {
		return tensor.Dtype{}, fmt.Errorf("%w: %s: nil node", ErrShape, layer)
	}
	dt, err := dtypeOfNode(n)
	if err != nil {
		return tensor.Dtype{}, fmt.Errorf("%s: %w", layer, err)
	}
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return tensor.Dtype{}, fmt.Errorf("%w: %s: dtype %v, want float32 or float64", ErrDtype, layer, dt)
	}
	if s := n.Shape(); s.Dims() == 0 || s.TotalSize() <= 0 {
		return tensor.Dtype{}, fmt.Errorf("%w: %s: input shape %v, want a non-empty tensor", ErrShape, layer, s)
	}
	return dt, nil
}

func dtypeOfNode(n *G.Node) (tensor.Dtype, error) {
	t := n.Type()
	for {
		switch tt := t.(type) {
		case G.TensorType:
			t = tt.Of
			continue
		case tensor.Dtype:
			return tt, nil
		default:
			return tensor.Dtype{}, fmt.Errorf("%w: node %q has type %v", ErrShape, n.Name(), n.Type())
		}
	}
}

// attnDense returns v as a contiguous *tensor.Dense of numel elements.
func attnDense(op fmt.Stringer, v G.Value, numel int) (*tensor.Dense, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%v: input is %T, want *tensor.Dense", op, v)
	}
	if d.IsMaterializable() {
		d = d.Materialize().(*tensor.Dense)
	}
	if d.Dtype() != tensor.Float32 && d.Dtype() != tensor.Float64 {
		return nil, fmt.Errorf("%w: %v: dtype %v, want float32 or float64", ErrDtype, op, d.Dtype())
	}
	if d.Shape().TotalSize() != numel {
		return nil, fmt.Errorf("%w: %v: input shape %v has %d elements, want %d", ErrShape, op, d.Shape(), d.Shape().TotalSize(), numel)
	}
	return d, nil
}

// attnCache keeps an op's output tensor between runs of a machine (a
// TapeMachine's Reset drops its registers), so a training loop does not
// allocate a new output every step. An op instance belongs to one graph
// node; machines running the same graph concurrently must not share it.
type attnCache struct{ last *tensor.Dense }

// out returns the tensor an op writes its result into: prealloc when it
// has the right dtype and size and shares no memory with the inputs, else
// the op's output from the previous run under the same conditions, else a
// new tensor (kept for the next run).
func (c *attnCache) out(prealloc G.Value, dt tensor.Dtype, shape tensor.Shape, inputs ...*tensor.Dense) *tensor.Dense {
	if p, ok := prealloc.(*tensor.Dense); ok && attnUsable(p, dt, shape, inputs) {
		return p
	}
	if attnUsable(c.last, dt, shape, inputs) {
		return c.last
	}
	c.last = tensor.New(tensor.Of(dt), tensor.WithShape(shape.Clone()...))
	return c.last
}

// attnUsable reports whether p can hold an output of the given dtype and
// shape without overlapping an input; it reshapes p when needed.
func attnUsable(p *tensor.Dense, dt tensor.Dtype, shape tensor.Shape, inputs []*tensor.Dense) bool {
	if p == nil || p.IsView() || p.Dtype() != dt || p.DataSize() != shape.TotalSize() || shape.TotalSize() == 0 {
		return false
	}
	lo, hi := p.Uintptr(), p.Uintptr()+p.MemSize()
	for _, in := range inputs {
		if in == nil || in.DataSize() == 0 {
			continue
		}
		ilo, ihi := in.Uintptr(), in.Uintptr()+in.MemSize()
		if ilo < hi && lo < ihi {
			return false
		}
	}
	if !p.Shape().Eq(shape) {
		return p.Reshape(shape...) == nil
	}
	return true
}

// attnParallel runs f over [0, n) split into contiguous chunks, one per
// core, when the work (n items of cost each) is large enough.
func attnParallel(n, cost int, f func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers > n {
		workers = n
	}
	if workers <= 1 || n*cost < 1<<15 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := lo + chunk
		if hi > n {
			hi = n
		}
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(lo, hi)
	}
	wg.Wait()
}

func attnProd(s []int) int {
	p := 1
	for _, v := range s {
		p *= v
	}
	return p
}
