package nn

import (
	"fmt"
	"hash"
	"math"
	"slices"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MaskedSoftmax is softmax over the last axis of x + mask. x has shape
// (B, heads, L, M); mask, a constant (no gradient) of shape (nW, L, M) with
// B a multiple of nW, is added as MONAI's shifted-window attention does:
// row (b, h, i) gets mask[b mod nW, i]. Mask entries may be -inf; a row
// that is -inf everywhere gives zeros. A nil mask is plain softmax over the
// last axis of x of any rank >= 1. A float64 mask is used in place, not
// copied: leave it unchanged while the graph is in use.
func MaskedSoftmax(x *G.Node, mask *tensor.Dense) (*G.Node, error) {
	return AttentionSoftmax(x, 1, nil, mask)
}

// AttentionSoftmax is softmax over the last axis of scale*x + bias + mask,
// the attention weights of scaled dot-product attention: x of shape
// (B, heads, L, M) holds q k^T, bias (optional, learnable, e.g. the
// relative position bias) has the shape of x's trailing axes, e.g.
// (heads, L, M), and mask (optional constant) has shape (nW, L, M) as in
// MaskedSoftmax. Gradients flow to x and bias.
func AttentionSoftmax(x *G.Node, scale float64, bias *G.Node, mask *tensor.Dense) (*G.Node, error) {
	return attentionSoftmax(x, scale, bias, mask, nil, 0)
}

// attentionSoftmax also takes the shifted-window mask in its compact form:
// regions (nW, L) as shiftedWindowRegions returns them, used when mask is
// nil (x then has shape (B, heads, L, L)).
func attentionSoftmax(x *G.Node, scale float64, bias *G.Node, mask *tensor.Dense, regions []int32, nw int) (*G.Node, error) {
	dt, err := attnDtype("AttentionSoftmax", x)
	if err != nil {
		return nil, err
	}
	xs := x.Shape()
	if xs.Dims() < 1 || xs.TotalSize() == 0 {
		return nil, fmt.Errorf("%w: AttentionSoftmax: input shape %v", ErrShape, xs)
	}
	op := &attnSoftmaxOp{id: attnNextID(), xShape: xs.Clone(), scale: scale}
	inputs := []*G.Node{x}
	if bias != nil {
		bdt, err := attnDtype("AttentionSoftmax", bias)
		if err != nil {
			return nil, err
		}
		bs := bias.Shape()
		if bdt != dt || bs.Dims() == 0 || bs.Dims() > xs.Dims() || !slices.Equal(xs[xs.Dims()-bs.Dims():], bs) {
			return nil, fmt.Errorf("%w: AttentionSoftmax: input shape %v, bias shape %v (%v) must be its trailing axes (%v)", ErrShape, xs, bs, bdt, dt)
		}
		op.bShape = bs.Clone()
		inputs = append(inputs, bias)
	}
	if mask != nil {
		ms := mask.Shape()
		if xs.Dims() != 4 || ms.Dims() != 3 || ms[0] <= 0 || xs[0]%ms[0] != 0 || ms[1] != xs[2] || ms[2] != xs[3] {
			return nil, fmt.Errorf("%w: AttentionSoftmax: input shape %v, mask shape %v, want (B, heads, L, M) and (nW, L, M) with B a multiple of nW", ErrShape, xs, ms)
		}
		m, err := attnFloat64s(mask)
		if err != nil {
			return nil, fmt.Errorf("AttentionSoftmax: mask: %w", err)
		}
		op.mask, op.nw = m, ms[0]
	} else if regions != nil {
		if xs.Dims() != 4 || nw <= 0 || xs[2] != xs[3] || len(regions) != nw*xs[2] || xs[0]%nw != 0 {
			return nil, fmt.Errorf("%w: AttentionSoftmax: input shape %v, %d region labels for %d windows", ErrShape, xs, len(regions), nw)
		}
		op.regions, op.nw = regions, nw
	}
	return G.ApplyOp(op, inputs...)
}

func attnFloat64s(t *tensor.Dense) ([]float64, error) {
	if t.IsMaterializable() {
		t = t.Materialize().(*tensor.Dense)
	}
	switch d := t.Data().(type) {
	case []float64:
		return d, nil
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: dtype %v, want float32 or float64", ErrShape, t.Dtype())
}

type attnSoftmaxOp struct {
	attnCache

	id      uint64
	xShape  tensor.Shape
	bShape  tensor.Shape // nil: no bias input
	scale   float64
	mask    []float64 // (nW, L, M) or nil
	regions []int32   // (nW, L) region labels (shiftedWindowRegions) or nil
	nw      int
}

func (op *attnSoftmaxOp) Arity() int {
	if op.bShape != nil {
		return 2
	}
	return 1
}
func (op *attnSoftmaxOp) Type() hm.Type {
	if op.bShape != nil {
		return attnType(op.xShape.Dims(), op.xShape.Dims(), op.bShape.Dims())
	}
	return attnType(op.xShape.Dims(), op.xShape.Dims())
}
func (op *attnSoftmaxOp) ReturnsPtr() bool      { return false }
func (op *attnSoftmaxOp) CallsExtern() bool     { return false }
func (op *attnSoftmaxOp) OverwritesInput() int  { return -1 }
func (op *attnSoftmaxOp) WriteHash(h hash.Hash) { attnWriteHash(h, op) }
func (op *attnSoftmaxOp) Hashcode() uint32      { return attnHash(op) }
func (op *attnSoftmaxOp) String() string {
	return fmt.Sprintf("AttentionSoftmax#%d%v{scale=%g bias=%v masked=%v}", op.id, op.xShape, op.scale, op.bShape, op.mask != nil || op.regions != nil)
}
func (op *attnSoftmaxOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.xShape.Clone(), nil
}
func (op *attnSoftmaxOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }
func (op *attnSoftmaxOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	x, err := attnDense(op, in[0], op.xShape.TotalSize())
	if err != nil {
		return nil, err
	}
	var b *tensor.Dense
	if op.bShape != nil {
		if b, err = attnDense(op, in[1], op.bShape.TotalSize()); err != nil {
			return nil, err
		}
		if b.Dtype() != x.Dtype() {
			return nil, fmt.Errorf("%w: %v: dtypes %v and %v", ErrShape, op, x.Dtype(), b.Dtype())
		}
	}
	out := op.out(prealloc, x.Dtype(), op.xShape, x, b)
	switch xv := x.Data().(type) {
	case []float32:
		var bv []float32
		if b != nil {
			bv = b.Data().([]float32)
		}
		attnSoftmaxKernel(op, out.Data().([]float32), xv, bv)
	case []float64:
		var bv []float64
		if b != nil {
			bv = b.Data().([]float64)
		}
		attnSoftmaxKernel(op, out.Data().([]float64), xv, bv)
	}
	return out, nil
}

// maskRow returns what is added to row r of x: a dense mask row, or the
// region labels of the row's window and the row voxel's own label (nil,
// nil: nothing).
func (op *attnSoftmaxOp) maskRow(r int) ([]float64, []int32, int32) {
	if op.mask == nil && op.regions == nil {
		return nil, nil, 0
	}
	heads, l, m := op.xShape[1], op.xShape[2], op.xShape[3]
	i := r % l
	w := (r / (l * heads)) % op.nw
	if op.mask != nil {
		return op.mask[(w*l+i)*m : (w*l+i+1)*m], nil, 0
	}
	reg := op.regions[w*l : (w+1)*l]
	return nil, reg, reg[i]
}

func attnSoftmaxKernel[T attnFloat](op *attnSoftmaxOp, dst, x, b []T) {
	m := op.xShape[op.xShape.Dims()-1]
	rows := len(x) / m
	nb := len(b)
	_, f32 := any(x).([]float32)
	vec := f32 && expVec != nil && m >= expLanes
	attnParallel(rows, m*8, func(lo, hi int) {
		var z []float64
		var z32 []float32
		if vec {
			z32 = make([]float32, m)
		} else {
			z = make([]float64, m)
		}
		for r := lo; r < hi; r++ {
			xr := x[r*m : (r+1)*m]
			mr, rr, ri := op.maskRow(r)
			var br []T
			if nb > 0 {
				off := (r * m) % nb
				br = b[off : off+m]
			}
			if vec {
				d32, _ := any(dst[r*m : (r+1)*m]).([]float32)
				x32, _ := any(xr).([]float32)
				b32, _ := any(br).([]float32)
				attnSoftmaxRow32(d32, x32, b32, mr, rr, ri, float32(op.scale), z32)
				continue
			}
			mx := math.Inf(-1)
			for j, v := range xr {
				zj := op.scale * float64(v)
				if br != nil {
					zj += float64(br[j])
				}
				if mr != nil {
					zj += mr[j]
				} else if rr != nil && rr[j] != ri {
					zj += attnMaskFill
				}
				z[j] = zj
				if zj > mx {
					mx = zj
				}
			}
			d := dst[r*m : (r+1)*m]
			if math.IsInf(mx, -1) || math.IsNaN(mx) {
				clear(d)
				continue
			}
			sum := 0.0
			if f32 {
				for j := range z {
					e := attnExp(z[j] - mx)
					z[j] = e
					sum += e
				}
			} else {
				for j := range z {
					e := math.Exp(z[j] - mx)
					z[j] = e
					sum += e
				}
			}
			inv := 1 / sum
			for j := range d {
				d[j] = T(z[j] * inv)
			}
		}
	})
}

// attnSoftmaxRow32 is one row of the softmax in float32 with the
// exponentials in vectors (expVec; len(x) >= expLanes): d = softmax
// of scale*x + b + mask, where the mask is the dense row mr, or
// attnMaskFill where the region label rr[j] differs from ri, or nothing.
// z is scratch of len(x). Values whose exponential would be under 3e-38
// give 0.
func attnSoftmaxRow32(d, x, b []float32, mr []float64, rr []int32, ri int32, scale float32, z []float32) {
	m := len(x)
	z = z[:m]
	if b != nil {
		b = b[:m]
	}
	// k: how many leading elements the AVX-512 helpers take.
	k := 0
	if haveSoftmax16 && expLanes == 16 {
		k = m &^ 15
	}
	mx := float32(math.Inf(-1))
	if k > 0 {
		var bp *float32
		if b != nil {
			bp = &b[0]
		}
		mx = scaleAddMax16(&z[0], &x[0], bp, k, scale)
	}
	for j := k; j < m; j++ {
		v := scale * x[j]
		if b != nil {
			v += b[j]
		}
		z[j] = v
	}
	masked := true
	switch {
	case mr != nil:
		mr = mr[:m]
		for j, v := range mr {
			z[j] = float32(float64(z[j]) + v)
		}
	case rr != nil:
		rr = rr[:m]
		for j, lab := range rr {
			if lab != ri {
				z[j] += attnMaskFill
			}
		}
	default:
		masked = false
	}
	if masked && k > 0 {
		mx = scaleAddMax16(&z[0], &z[0], nil, k, 1) // the max after masking
	}
	for _, v := range z[k:] {
		if v > mx { // not the max builtin: its NaN handling cost 5x this loop
			mx = v
		}
	}
	if math.IsInf(float64(mx), -1) || mx != mx {
		clear(d)
		return
	}
	ke := m - m%expLanes
	sum := float64(expVec(&z[0], ke, mx))
	for j := ke; j < m; j++ {
		var e float32
		if v := z[j] - mx; v >= -86.5 { // as expVec: no subnormals
			e = float32(attnExp(float64(v)))
		}
		z[j] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	d = d[:m]
	if k > 0 {
		scale16(&d[0], &z[0], k, inv)
	}
	for j := k; j < m; j++ {
		d[j] = z[j] * inv
	}
}

func (op *attnSoftmaxOp) DiffWRT(n int) []bool {
	w := make([]bool, n)
	for i := range w {
		w[i] = true
	}
	return w
}

func (op *attnSoftmaxOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&attnSoftmaxBackOp{fwd: op, mul: op.scale, outShape: op.xShape}, output, grad)
	if err != nil {
		return nil, fmt.Errorf("%v: gradient: %w", op, err)
	}
	if op.bShape == nil {
		return G.Nodes{dx}, nil
	}
	// The bias gradient is dx/scale summed down to the bias shape: one
	// cheap reduction instead of the softmax gradient computed again.
	var db *G.Node
	if op.scale != 0 {
		db, err = G.ApplyOp(&attnReduceOp{fwd: op, mul: 1 / op.scale, outShape: op.bShape}, dx)
	} else {
		db, err = G.ApplyOp(&attnSoftmaxBackOp{fwd: op, mul: 1, outShape: op.bShape}, output, grad)
	}
	if err != nil {
		return nil, fmt.Errorf("%v: gradient: %w", op, err)
	}
	return G.Nodes{dx, db}, nil
}

// attnSoftmaxBackOp computes from (y, dy) the gradient of the softmax input
// z, mul * y * (dy - sum(dy*y)), summed over leading axes down to outShape
// when that is smaller than y (the bias gradient).
type attnSoftmaxBackOp struct {
	attnCache

	fwd      *attnSoftmaxOp
	mul      float64
	outShape tensor.Shape
}

func (op *attnSoftmaxBackOp) Arity() int { return 2 }
func (op *attnSoftmaxBackOp) Type() hm.Type {
	d := op.fwd.xShape.Dims()
	return attnType(op.outShape.Dims(), d, d)
}
func (op *attnSoftmaxBackOp) ReturnsPtr() bool      { return false }
func (op *attnSoftmaxBackOp) CallsExtern() bool     { return false }
func (op *attnSoftmaxBackOp) OverwritesInput() int  { return -1 }
func (op *attnSoftmaxBackOp) WriteHash(h hash.Hash) { attnWriteHash(h, op) }
func (op *attnSoftmaxBackOp) Hashcode() uint32      { return attnHash(op) }
func (op *attnSoftmaxBackOp) String() string {
	return fmt.Sprintf("Grad%v*%g->%v", op.fwd, op.mul, op.outShape)
}
func (op *attnSoftmaxBackOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.outShape.Clone(), nil
}
func (op *attnSoftmaxBackOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }
func (op *attnSoftmaxBackOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	n := op.fwd.xShape.TotalSize()
	y, err := attnDense(op, in[0], n)
	if err != nil {
		return nil, err
	}
	dy, err := attnDense(op, in[1], n)
	if err != nil {
		return nil, err
	}
	out := op.out(prealloc, y.Dtype(), op.outShape, y, dy)
	m := op.fwd.xShape[op.fwd.xShape.Dims()-1]
	switch yv := y.Data().(type) {
	case []float32:
		attnSoftmaxBack(out.Data().([]float32), yv, dy.Data().([]float32), m, op.mul)
	case []float64:
		attnSoftmaxBack(out.Data().([]float64), yv, dy.Data().([]float64), m, op.mul)
	}
	return out, nil
}
func (op *attnSoftmaxBackOp) DiffWRT(int) []bool { return []bool{false, false} }
func (op *attnSoftmaxBackOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("nn: %v: second-order gradients are not supported", op)
}

func attnSoftmaxBack[T attnFloat](dst, y, dy []T, m int, mul float64) {
	rows := len(y) / m
	if len(dst) == len(y) {
		attnParallel(rows, m*2, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				yr, gr, d := y[r*m:(r+1)*m], dy[r*m:(r+1)*m], dst[r*m:(r+1)*m]
				if d32, ok := any(d).([]float32); ok && haveSoftmax16 && m >= 16 {
					softmaxGradRow32(d32, any(yr).([]float32), any(gr).([]float32), float32(mul))
					continue
				}
				_, s := sumDot4(yr, gr)
				for j := range d {
					d[j] = T(mul * float64(yr[j]) * (float64(gr[j]) - s))
				}
			}
		})
		return
	}
	// Reduce to the bias: rows of y map onto bias rows cyclically. Split
	// the bias rows over cores so that no two write the same element.
	brows := len(dst) / m
	attnParallel(brows, (rows/brows)*m*2, func(lo, hi int) {
		clear(dst[lo*m : hi*m])
		for r0 := lo; r0 < hi; r0++ {
			d := dst[r0*m : (r0+1)*m]
			for r := r0; r < rows; r += brows {
				yr, gr := y[r*m:(r+1)*m], dy[r*m:(r+1)*m]
				_, s := sumDot4(yr, gr)
				for j := range d {
					d[j] += T(mul * float64(yr[j]) * (float64(gr[j]) - s))
				}
			}
		}
	})
}

// attnReduceOp sums dx (the shape of the softmax input) down to the bias
// shape, its trailing axes, times mul: rows of dx map onto bias rows
// cyclically, as the bias broadcasts.
type attnReduceOp struct {
	attnCache

	fwd      *attnSoftmaxOp
	mul      float64
	outShape tensor.Shape
}

func (op *attnReduceOp) Arity() int { return 1 }
func (op *attnReduceOp) Type() hm.Type {
	return attnType(op.outShape.Dims(), op.fwd.xShape.Dims())
}
func (op *attnReduceOp) ReturnsPtr() bool      { return false }
func (op *attnReduceOp) CallsExtern() bool     { return false }
func (op *attnReduceOp) OverwritesInput() int  { return -1 }
func (op *attnReduceOp) WriteHash(h hash.Hash) { attnWriteHash(h, op) }
func (op *attnReduceOp) Hashcode() uint32      { return attnHash(op) }
func (op *attnReduceOp) String() string {
	return fmt.Sprintf("Reduce%v*%g->%v", op.fwd, op.mul, op.outShape)
}
func (op *attnReduceOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.outShape.Clone(), nil
}
func (op *attnReduceOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }
func (op *attnReduceOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	dx, err := attnDense(op, in[0], op.fwd.xShape.TotalSize())
	if err != nil {
		return nil, err
	}
	out := op.out(prealloc, dx.Dtype(), op.outShape, dx)
	switch v := dx.Data().(type) {
	case []float32:
		attnReduceRows(out.Data().([]float32), v, op.mul)
	case []float64:
		attnReduceRows(out.Data().([]float64), v, op.mul)
	}
	return out, nil
}
func (op *attnReduceOp) DiffWRT(int) []bool { return []bool{false} }
func (op *attnReduceOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("nn: %v: second-order gradients are not supported", op)
}

// attnReduceRows sets dst[i] = mul * sum over k of x[k*len(dst) + i].
func attnReduceRows[T attnFloat](dst, x []T, mul float64) {
	n := len(dst)
	reps := len(x) / n
	attnParallel(n, reps, func(lo, hi int) {
		d := dst[lo:hi]
		clear(d)
		for k := 0; k < reps; k++ {
			for i, v := range x[k*n+lo : k*n+hi] {
				d[i] += v
			}
		}
		m := T(mul)
		for i := range d {
			d[i] *= m
		}
	})
}

// attnExp is exp(x) for x <= 0 with a relative error below 1e-8, about ten
// times faster than math.Exp: x = n ln2 + r, |r| <= ln2/2, exp(r) by its
// Taylor polynomial of degree 7, times 2^n. Used for float32 data only;
// float64 keeps math.Exp.
func attnExp(x float64) float64 {
	if x < -700 {
		return 0
	}
	const (
		log2e = 1.4426950408889634
		ln2hi = 6.93145751953125e-1
		ln2lo = 1.42860682030941723212e-6
	)
	n := math.Floor(x*log2e + 0.5)
	r := x - n*ln2hi - n*ln2lo
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
	return p * math.Float64frombits(uint64(int64(n)+1023)<<52)
}

// expKernel names a vectorised exp and its granule (see expVec).
type expKernel struct {
	name  string
	f     func(z *float32, n int, mx float32) float32
	lanes int
}

// softmaxGradRow32 sets d = mul * y * (dy - sum(y*dy)) over one row of at
// least 16 elements with the AVX-512 helpers (the tail in Go).
func softmaxGradRow32(d, y, dy []float32, mul float32) {
	m := len(d)
	k := m &^ 15
	y, dy = y[:m], dy[:m]
	s := dot16(&y[0], &dy[0], k)
	for j := k; j < m; j++ {
		s += y[j] * dy[j]
	}
	softmaxGrad16(&d[0], &y[0], &dy[0], k, mul, s)
	for j := k; j < m; j++ {
		d[j] = mul * y[j] * (dy[j] - s)
	}
}
