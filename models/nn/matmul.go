package nn

import (
	"fmt"
	"hash"
	"slices"

	"github.com/chewxy/hm"
	"github.com/unetlab/unetlab/internal/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BatchedMatMul multiplies a of shape (..., M, K) by b of shape (..., K, N)
// batch by batch, giving (..., M, N); the leading (batch) axes of a and b
// must be equal and there must be at least one. transA (transB) reads a
// (b) as transposed in its last two axes: a (..., K, M), b (..., N, K), like
// a.transpose(-2, -1) @ b in PyTorch. float32 or float64.
//
// gorgonia's own BatchedMatMul has correct gradients (see the tests) but
// slices every batch through the generic tensor API; this one runs the
// GEMMs on the raw data, one batch per core.
func BatchedMatMul(a, b *G.Node, transA, transB bool) (*G.Node, error) {
	if _, err := attnDtype("BatchedMatMul", a); err != nil {
		return nil, err
	}
	if _, err := attnDtype("BatchedMatMul", b); err != nil {
		return nil, err
	}
	op, err := newMatmulOp(mmBatched, transA, transB, a.Shape(), b.Shape())
	if err != nil {
		return nil, err
	}
	return G.ApplyOp(op, a, b)
}

// LinearMap computes x W^T for x of shape (..., in) and a weight of shape
// (out, in) (a PyTorch Linear weight), giving (..., out). Add a bias with
// AddTrailing.
func LinearMap(x, weight *G.Node) (*G.Node, error) {
	if _, err := attnDtype("LinearMap", x); err != nil {
		return nil, err
	}
	if _, err := attnDtype("LinearMap", weight); err != nil {
		return nil, err
	}
	op, err := newMatmulOp(mmShared, false, true, x.Shape(), weight.Shape())
	if err != nil {
		return nil, err
	}
	return G.ApplyOp(op, x, weight)
}

type mmMode int

const (
	mmBatched  mmMode = iota // (..., M, K) x (..., K, N) -> (..., M, N)
	mmShared                 // (..., K) x (K, N) -> (..., N); rows flattened
	mmContract               // (..., P) x (..., Q) -> (P, Q) = A^T B, rows flattened
)

type matmulOp struct {
	attnCache

	mode           mmMode
	transA, transB bool
	aShape, bShape tensor.Shape
	outShape       tensor.Shape
	batch          int // batched: number of batches; shared, contract: rows
	m, n, k        int // GEMM sizes of one product
}

func newMatmulOp(mode mmMode, transA, transB bool, as, bs tensor.Shape) (*matmulOp, error) {
	op := &matmulOp{mode: mode, transA: transA, transB: transB, aShape: as.Clone(), bShape: bs.Clone()}
	bad := func() (*matmulOp, error) {
		return nil, fmt.Errorf("%w: %v: shapes %v and %v do not multiply", ErrShape, op.label(), as, bs)
	}
	switch mode {
	case mmBatched:
		ra, rb := as.Dims(), bs.Dims()
		if ra < 3 || ra != rb || !slices.Equal(as[:ra-2], bs[:rb-2]) {
			return bad()
		}
		m, ka := as[ra-2], as[ra-1]
		if transA {
			m, ka = ka, m
		}
		kb, n := bs[rb-2], bs[rb-1]
		if transB {
			kb, n = n, kb
		}
		if ka != kb {
			return bad()
		}
		op.batch, op.m, op.n, op.k = attnProd(as[:ra-2]), m, n, ka
		op.outShape = append(as[:ra-2].Clone(), m, n)
	case mmShared:
		ra := as.Dims()
		if ra < 1 || bs.Dims() != 2 || transA {
			return bad()
		}
		k, n := bs[0], bs[1]
		if transB {
			k, n = n, k
		}
		if as[ra-1] != k {
			return bad()
		}
		op.batch, op.m, op.n, op.k = 1, as.TotalSize()/k, n, k
		op.outShape = append(as[:ra-1].Clone(), n)
	case mmContract:
		ra, rb := as.Dims(), bs.Dims()
		if ra < 1 || ra != rb || !slices.Equal(as[:ra-1], bs[:rb-1]) {
			return bad()
		}
		op.batch, op.m, op.n, op.k = 1, as[ra-1], bs[rb-1], as.TotalSize()/as[ra-1]
		op.outShape = tensor.Shape{op.m, op.n}
	}
	if op.outShape.TotalSize() == 0 || op.k == 0 {
		return bad()
	}
	return op, nil
}

func (op *matmulOp) label() string {
	switch op.mode {
	case mmShared:
		return "LinearMap"
	case mmContract:
		return "MatMulContract"
	}
	return "BatchedMatMul"
}

func (op *matmulOp) Arity() int { return 2 }
func (op *matmulOp) Type() hm.Type {
	return attnType(op.outShape.Dims(), op.aShape.Dims(), op.bShape.Dims())
}
func (op *matmulOp) ReturnsPtr() bool      { return false }
func (op *matmulOp) CallsExtern() bool     { return false }
func (op *matmulOp) OverwritesInput() int  { return -1 }
func (op *matmulOp) WriteHash(h hash.Hash) { attnWriteHash(h, op) }
func (op *matmulOp) Hashcode() uint32      { return attnHash(op) }
func (op *matmulOp) String() string {
	return fmt.Sprintf("%s{tA=%v tB=%v}%v x %v", op.label(), op.transA, op.transB, op.aShape, op.bShape)
}
func (op *matmulOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.outShape.Clone(), nil }
func (op *matmulOp) Do(in ...G.Value) (G.Value, error)              { return op.UsePreallocDo(nil, in...) }
func (op *matmulOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	a, err := attnDense(op, in[0], op.aShape.TotalSize())
	if err != nil {
		return nil, err
	}
	b, err := attnDense(op, in[1], op.bShape.TotalSize())
	if err != nil {
		return nil, err
	}
	if a.Dtype() != b.Dtype() {
		return nil, fmt.Errorf("%w: %v: dtypes %v and %v", ErrShape, op, a.Dtype(), b.Dtype())
	}
	out := op.out(prealloc, a.Dtype(), op.outShape, a, b)
	switch av := a.Data().(type) {
	case []float32:
		matmulRun(op, out.Data().([]float32), av, b.Data().([]float32))
	case []float64:
		matmulRun(op, out.Data().([]float64), av, b.Data().([]float64))
	}
	return out, nil
}

func matmulRun[T attnFloat](op *matmulOp, c, a, b []T) {
	m, n, k := op.m, op.n, op.k
	switch op.mode {
	case mmShared:
		ldb := n
		if op.transB {
			ldb = k
		}
		attnGemm(false, op.transB, m, n, k, a, k, b, ldb, c, n)
	case mmContract:
		// c (P, Q) = A^T B with A (rows, P), B (rows, Q).
		attnGemm(true, false, m, n, k, a, m, b, n, c, n)
	default:
		lda, ldb := k, n
		if op.transA {
			lda = m
		}
		if op.transB {
			ldb = k
		}
		sa, sb, sc := m*k, k*n, m*n
		// Small products run one per core; large ones one after another,
		// each using the BLAS's own threads.
		cost := m * n * k
		if cost >= 1<<20 {
			for i := 0; i < op.batch; i++ {
				attnGemm(op.transA, op.transB, m, n, k, a[i*sa:(i+1)*sa], lda, b[i*sb:(i+1)*sb], ldb, c[i*sc:(i+1)*sc], n)
			}
			return
		}
		attnParallel(op.batch, cost/64+1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				attnGemm(op.transA, op.transB, m, n, k, a[i*sa:(i+1)*sa], lda, b[i*sb:(i+1)*sb], ldb, c[i*sc:(i+1)*sc], n)
			}
		})
	}
}

// attnGemm sets c = op(a) op(b), row-major, through internal/blas.
func attnGemm[T attnFloat](tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, c []T, ldc int) {
	switch av := any(a).(type) {
	case []float32:
		blas.Sgemm(tA, tB, m, n, k, 1, av, lda, any(b).([]float32), ldb, 0, any(c).([]float32), ldc)
	case []float64:
		blas.Dgemm(tA, tB, m, n, k, 1, av, lda, any(b).([]float64), ldb, 0, any(c).([]float64), ldc)
	}
}

func (op *matmulOp) DiffWRT(int) []bool { return []bool{true, true} }

func (op *matmulOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	a, b := inputs[0], inputs[1]
	mk := func(mode mmMode, tA, tB bool, x, y *G.Node) (*G.Node, error) {
		o, err := newMatmulOp(mode, tA, tB, x.Shape(), y.Shape())
		if err != nil {
			return nil, fmt.Errorf("%v: gradient: %w", op, err)
		}
		return G.ApplyOp(o, x, y)
	}
	var da, db *G.Node
	var err error
	switch op.mode {
	case mmBatched:
		switch {
		case !op.transA && !op.transB:
			if da, err = mk(mmBatched, false, true, grad, b); err == nil {
				db, err = mk(mmBatched, true, false, a, grad)
			}
		case !op.transA && op.transB:
			if da, err = mk(mmBatched, false, false, grad, b); err == nil {
				db, err = mk(mmBatched, true, false, grad, a)
			}
		case op.transA && !op.transB:
			if da, err = mk(mmBatched, false, true, b, grad); err == nil {
				db, err = mk(mmBatched, false, false, a, grad)
			}
		default:
			if da, err = mk(mmBatched, true, true, b, grad); err == nil {
				db, err = mk(mmBatched, true, true, grad, a)
			}
		}
	case mmShared:
		if !op.transB {
			if da, err = mk(mmShared, false, true, grad, b); err == nil {
				db, err = mk(mmContract, false, false, a, grad)
			}
		} else {
			if da, err = mk(mmShared, false, false, grad, b); err == nil {
				db, err = mk(mmContract, false, false, grad, a)
			}
		}
	case mmContract:
		if da, err = mk(mmShared, false, true, b, grad); err == nil {
			db, err = mk(mmShared, false, false, a, grad)
		}
	}
	if err != nil {
		return nil, err
	}
	return G.Nodes{da, db}, nil
}

// AddTrailing adds b to x, b's shape being the trailing axes of x's shape:
// x (..., S) + b (S) -> (..., S), e.g. a Linear bias (out) to (..., out) or
// a position encoding (C, D, H, W) to (N, C, D, H, W). The gradient of b
// sums over the leading axes.
func AddTrailing(x, b *G.Node) (*G.Node, error) {
	if _, err := attnDtype("AddTrailing", x); err != nil {
		return nil, err
	}
	if _, err := attnDtype("AddTrailing", b); err != nil {
		return nil, err
	}
	xs, bs := x.Shape(), b.Shape()
	if bs.Dims() == 0 || bs.Dims() > xs.Dims() || !slices.Equal(xs[xs.Dims()-bs.Dims():], bs) {
		return nil, fmt.Errorf("%w: AddTrailing: input shape %v, addend shape %v must be its trailing axes", ErrShape, xs, bs)
	}
	return G.ApplyOp(&addTrailingOp{xShape: xs.Clone(), bShape: bs.Clone()}, x, b)
}

type addTrailingOp struct {
	attnCache
	xShape, bShape tensor.Shape
}

func (op *addTrailingOp) Arity() int { return 2 }
func (op *addTrailingOp) Type() hm.Type {
	return attnType(op.xShape.Dims(), op.xShape.Dims(), op.bShape.Dims())
}
func (op *addTrailingOp) ReturnsPtr() bool      { return false }
func (op *addTrailingOp) CallsExtern() bool     { return false }
func (op *addTrailingOp) OverwritesInput() int  { return -1 }
func (op *addTrailingOp) WriteHash(h hash.Hash) { attnWriteHash(h, op) }
func (op *addTrailingOp) Hashcode() uint32      { return attnHash(op) }
func (op *addTrailingOp) String() string {
	return fmt.Sprintf("AddTrailing%v+%v", op.xShape, op.bShape)
}
func (op *addTrailingOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.xShape.Clone(), nil
}
func (op *addTrailingOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }
func (op *addTrailingOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	x, err := attnDense(op, in[0], op.xShape.TotalSize())
	if err != nil {
		return nil, err
	}
	b, err := attnDense(op, in[1], op.bShape.TotalSize())
	if err != nil {
		return nil, err
	}
	if x.Dtype() != b.Dtype() {
		return nil, fmt.Errorf("%w: %v: dtypes %v and %v", ErrShape, op, x.Dtype(), b.Dtype())
	}
	out := op.out(prealloc, x.Dtype(), op.xShape, x, b)
	switch xv := x.Data().(type) {
	case []float32:
		addTrailingKernel(out.Data().([]float32), xv, b.Data().([]float32))
	case []float64:
		addTrailingKernel(out.Data().([]float64), xv, b.Data().([]float64))
	}
	return out, nil
}
func (op *addTrailingOp) DiffWRT(int) []bool { return []bool{true, true} }
func (op *addTrailingOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	db, err := G.ApplyOp(&sumLeadingOp{inShape: op.xShape, outShape: op.bShape}, grad)
	if err != nil {
		return nil, fmt.Errorf("%v: gradient: %w", op, err)
	}
	return G.Nodes{grad, db}, nil
}

func addTrailingKernel[T attnFloat](dst, x, b []T) {
	n := len(b)
	attnParallel(len(x)/n, n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			d, s := dst[r*n:(r+1)*n], x[r*n:(r+1)*n]
			for i := range d {
				d[i] = s[i] + b[i]
			}
		}
	})
}

// sumLeadingOp sums a tensor of shape (..., S) over its leading axes to (S).
type sumLeadingOp struct {
	attnCache
	inShape, outShape tensor.Shape
}

func (op *sumLeadingOp) Arity() int            { return 1 }
func (op *sumLeadingOp) Type() hm.Type         { return attnType(op.outShape.Dims(), op.inShape.Dims()) }
func (op *sumLeadingOp) ReturnsPtr() bool      { return false }
func (op *sumLeadingOp) CallsExtern() bool     { return false }
func (op *sumLeadingOp) OverwritesInput() int  { return -1 }
func (op *sumLeadingOp) WriteHash(h hash.Hash) { attnWriteHash(h, op) }
func (op *sumLeadingOp) Hashcode() uint32      { return attnHash(op) }
func (op *sumLeadingOp) String() string {
	return fmt.Sprintf("SumLeading%v->%v", op.inShape, op.outShape)
}
func (op *sumLeadingOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.outShape.Clone(), nil
}
func (op *sumLeadingOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }
func (op *sumLeadingOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	x, err := attnDense(op, in[0], op.inShape.TotalSize())
	if err != nil {
		return nil, err
	}
	out := op.out(prealloc, x.Dtype(), op.outShape, x)
	switch xv := x.Data().(type) {
	case []float32:
		sumLeadingKernel(out.Data().([]float32), xv)
	case []float64:
		sumLeadingKernel(out.Data().([]float64), xv)
	}
	return out, nil
}
func (op *sumLeadingOp) DiffWRT(int) []bool { return []bool{true} }
func (op *sumLeadingOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("nn: %v: second-order gradients are not supported", op)
}

func sumLeadingKernel[T attnFloat](dst, x []T) {
	n := len(dst)
	rows := len(x) / n
	// Split the output columns over cores; each sums its columns over rows.
	attnParallel(n, rows, func(lo, hi int) {
		d := dst[lo:hi]
		clear(d)
		for r := 0; r < rows; r++ {
			s := x[r*n+lo : r*n+hi]
			for i := range d {
				d[i] += s[i]
			}
		}
	})
}
