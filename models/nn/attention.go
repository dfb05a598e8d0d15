package nn

import (
	"fmt"
	"math"
	"math/rand"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// attnRand is the generator used when a layer's options give none: one
// shared, seeded stream, like PyTorch's global generator.
var attnRand = struct {
	sync.Mutex
	r *rand.Rand
}{r: rand.New(rand.NewSource(0))}

func attnFill(opt *rand.Rand, n int, f func(r *rand.Rand) float64) []float64 {
	v := make([]float64, n)
	r := opt
	if r == nil {
		attnRand.Lock()
		defer attnRand.Unlock()
		r = attnRand.r
	}
	for i := range v {
		v[i] = f(r)
	}
	return v
}

func attnUniform(r *rand.Rand, n int, bound float64) []float64 {
	return attnFill(r, n, func(r *rand.Rand) float64 { return (2*r.Float64() - 1) * bound })
}

// attnTruncNormal draws from N(0, std^2) truncated to [lo, hi] (absolute
// bounds, as torch.nn.init.trunc_normal_).
func attnTruncNormal(r *rand.Rand, n int, std, lo, hi float64) []float64 {
	return attnFill(r, n, func(r *rand.Rand) float64 {
		for {
			v := r.NormFloat64() * std
			if v >= lo && v <= hi {
				return v
			}
		}
	})
}

// attnParam makes a named parameter node holding vals.
func attnParam(g *G.ExprGraph, dt tensor.Dtype, name string, vals []float64, shape ...int) *G.Node {
	var t *tensor.Dense
	if dt == tensor.Float64 {
		t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(vals))
	} else {
		v32 := make([]float32, len(vals))
		for i, v := range vals {
			v32[i] = float32(v)
		}
		t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v32))
	}
	if len(shape) == 1 {
		return G.NewVector(g, dt, G.WithShape(shape...), G.WithName(name), G.WithValue(t))
	}
	return G.NewTensor(g, dt, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(t))
}

func attnDefaultDtype(dt tensor.Dtype) (tensor.Dtype, error) {
	switch dt {
	case tensor.Dtype{}:
		return tensor.Float32, nil
	case tensor.Float32, tensor.Float64:
		return dt, nil
	}
	return dt, fmt.Errorf("%w: %v, want float32 or float64", ErrDtype, dt)
}

// attnLinear applies x W^T (+ b) for x (..., in).
func attnLinear(x, w, b *G.Node) (*G.Node, error) {
	y, err := LinearMap(x, w)
	if err != nil || b == nil {
		return y, err
	}
	return AddTrailing(y, b)
}

// attnSplitHeads reads part `part` of `parts` equal chunks of the last axis
// of x (B, n, parts*heads*hd) as (B, heads, n, hd).
func attnSplitHeads(name string, x *G.Node, parts, part, heads int) (*G.Node, error) {
	s := x.Shape()
	b, n, c := s[0], s[1], s[2]/parts
	hd := c / heads
	op := &stridedOp{
		name:     fmt.Sprintf("%s.heads[%d/%d]", name, part, parts),
		iter:     []int{b, heads, n, hd},
		strides:  []int{n * parts * c, hd, parts * c, 1},
		offset:   part * c,
		inShape:  s.Clone(),
		outShape: tensor.Shape{b, heads, n, hd},
	}
	return G.ApplyOp(op, x)
}

// attnMergeHeads turns (B, heads, n, hd) into (B, n, heads*hd).
func attnMergeHeads(name string, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	b, h, n, hd := s[0], s[1], s[2], s[3]
	return G.ApplyOp(permuteView(name+".merge_heads", s, s, []int{0, 2, 1, 3}, tensor.Shape{b, n, h * hd}), x)
}

// attnRows returns rows [part*rows, (part+1)*rows) of a parameter of shape
// (parts*rows, cols...) as a tensor of shape (rows, cols...).
func attnRows(p *G.Node, part, parts int) (*G.Node, error) {
	s := p.Shape()
	n := s.TotalSize() / parts
	out := s.Clone()
	out[0] /= parts
	op := &stridedOp{name: fmt.Sprintf("%s[%d/%d]", p.Name(), part, parts), iter: []int{n}, strides: []int{1}, offset: part * n, inShape: s.Clone(), outShape: out}
	return G.ApplyOp(op, p)
}

// WindowAttentionOptions configures NewWindowAttention. The zero value
// means: float32 parameters, a bias on the qkv projection, scale
// (Dim/Heads)^-0.5, the package's shared random stream.
type WindowAttentionOptions struct {
	Dtype     tensor.Dtype // tensor.Float32 (default) or tensor.Float64
	NoQKVBias bool         // leave out qkv.bias (MONAI's qkv_bias=False)
	Scale     float64      // 0: (Dim/Heads)^-0.5
	Rand      *rand.Rand   // nil: the package's shared, seeded stream
}

// WindowAttention is the self-attention of Swin transformers inside 3D
// windows, with a learnable relative position bias and an optional
// shifted-window mask, as MONAI's WindowAttention (SwinUNETR). Parameters,
// named Prefix + PyTorch's name:
//
//	qkv.weight (3*Dim, Dim), qkv.bias (3*Dim), proj.weight (Dim, Dim),
//	proj.bias (Dim), relative_position_bias_table
//	((2Wd-1)(2Wh-1)(2Ww-1), Heads)
//
// initialised as PyTorch's Linear (uniform in ±1/sqrt(fan_in)) and, for the
// table, trunc_normal(std 0.02, [-2, 2]) as MONAI does.
type WindowAttention struct {
	Name   string // prefix of the parameter names, e.g. "layers1.0.blocks.0.attn."
	Dim    int
	Heads  int
	Window [3]int
	Scale  float64

	QKVWeight, QKVBias   *G.Node // QKVBias nil with NoQKVBias
	ProjWeight, ProjBias *G.Node
	BiasTable            *G.Node
}

// NewWindowAttention adds the parameters of a window attention layer over
// dim channels with heads heads (dim a multiple of heads) and windows of
// window voxels to g.
func NewWindowAttention(g *G.ExprGraph, name string, dim, heads int, window [3]int, opt WindowAttentionOptions) (*WindowAttention, error) {
	dt, err := attnDefaultDtype(opt.Dtype)
	if err != nil {
		return nil, fmt.Errorf("WindowAttention %q: %w", name, err)
	}
	if g == nil || dim <= 0 || heads <= 0 || dim%heads != 0 {
		return nil, fmt.Errorf("%w: WindowAttention %q: dim %d, heads %d: dim must be a positive multiple of heads", ErrConfig, name, dim, heads)
	}
	if err := attnCheckWindow("WindowAttention "+name, window); err != nil {
		return nil, err
	}
	l := &WindowAttention{Name: name, Dim: dim, Heads: heads, Window: window, Scale: opt.Scale}
	if l.Scale == 0 {
		l.Scale = 1 / math.Sqrt(float64(dim/heads))
	}
	bound := 1 / math.Sqrt(float64(dim))
	rows := RelativePositionTableSize(window)
	l.BiasTable = attnParam(g, dt, name+"relative_position_bias_table", attnTruncNormal(opt.Rand, rows*heads, 0.02, -2, 2), rows, heads)
	l.QKVWeight = attnParam(g, dt, name+"qkv.weight", attnUniform(opt.Rand, 3*dim*dim, bound), 3*dim, dim)
	if !opt.NoQKVBias {
		l.QKVBias = attnParam(g, dt, name+"qkv.bias", attnUniform(opt.Rand, 3*dim, bound), 3*dim)
	}
	l.ProjWeight = attnParam(g, dt, name+"proj.weight", attnUniform(opt.Rand, dim*dim, bound), dim, dim)
	l.ProjBias = attnParam(g, dt, name+"proj.bias", attnUniform(opt.Rand, dim, bound), dim)
	return l, nil
}

// Params lists the layer's parameters in PyTorch's state_dict order; each
// node's Name() is its full parameter name.
func (l *WindowAttention) Params() G.Nodes {
	ps := G.Nodes{l.BiasTable, l.QKVWeight}
	if l.QKVBias != nil {
		ps = append(ps, l.QKVBias)
	}
	return append(ps, l.ProjWeight, l.ProjBias)
}

// Forward attends within each window: x has shape (B, n, Dim), B = N*nW
// windows of n <= Wd*Wh*Ww tokens (WindowPartition's output); mask, if not
// nil, has shape (nW, n, n) (ShiftedWindowMask). The result has the shape
// of x.
func (l *WindowAttention) Forward(x *G.Node, mask *tensor.Dense) (*G.Node, error) {
	layer := fmt.Sprintf("WindowAttention %q", l.Name)
	if x == nil || x.Shape().Dims() != 3 || x.Shape()[2] != l.Dim || x.Shape()[1] > l.Window[0]*l.Window[1]*l.Window[2] {
		var s tensor.Shape
		if x != nil {
			s = x.Shape()
		}
		return nil, fmt.Errorf("%w: %s: input shape %v, want (B, n <= %d, %d)", ErrShape, layer, s, l.Window[0]*l.Window[1]*l.Window[2], l.Dim)
	}
	if mask != nil {
		ms, xs := mask.Shape(), x.Shape()
		if ms.Dims() != 3 || ms[0] <= 0 || xs[0]%ms[0] != 0 || ms[1] != xs[1] || ms[2] != xs[1] {
			return nil, fmt.Errorf("%w: %s: input shape %v, mask shape %v, want (nW, %d, %d) with nW dividing %d", ErrShape, layer, xs, ms, xs[1], xs[1], xs[0])
		}
	}
	n := x.Shape()[1]
	wrap := func(err error) error { return fmt.Errorf("%s: %w", layer, err) }
	qkv, err := attnLinear(x, l.QKVWeight, l.QKVBias)
	if err != nil {
		return nil, wrap(err)
	}
	var qkvs [3]*G.Node
	for i := range qkvs {
		if qkvs[i], err = attnSplitHeads(l.Name+"qkv", qkv, 3, i, l.Heads); err != nil {
			return nil, wrap(err)
		}
	}
	scores, err := BatchedMatMul(qkvs[0], qkvs[1], false, true)
	if err != nil {
		return nil, wrap(err)
	}
	bias, err := RelativePositionBias(l.BiasTable, l.Window, n)
	if err != nil {
		return nil, wrap(err)
	}
	p, err := AttentionSoftmax(scores, l.Scale, bias, mask)
	if err != nil {
		return nil, wrap(err)
	}
	o, err := BatchedMatMul(p, qkvs[2], false, false)
	if err != nil {
		return nil, wrap(err)
	}
	if o, err = attnMergeHeads(l.Name, o); err != nil {
		return nil, wrap(err)
	}
	y, err := attnLinear(o, l.ProjWeight, l.ProjBias)
	if err != nil {
		return nil, wrap(err)
	}
	return y, nil
}

// MultiHeadAttentionOptions configures NewMultiHeadAttention. The zero
// value means float32 parameters and the package's shared random stream.
type MultiHeadAttentionOptions struct {
	Dtype tensor.Dtype // tensor.Float32 (default) or tensor.Float64
	Rand  *rand.Rand   // nil: the package's shared, seeded stream
}

// MultiHeadAttention is scaled dot-product attention with Heads heads whose
// query comes from one token tensor and key and value from another, as
// PyTorch's nn.MultiheadAttention(Dim, Heads, batch_first=True) (the
// cross-attention on the skips of the Trans-UNet variant). Parameters, named
// Prefix + PyTorch's name:
//
//	in_proj_weight (3*Dim, Dim) (rows: q, k, v projections), in_proj_bias
//	(3*Dim), out_proj.weight (Dim, Dim), out_proj.bias (Dim)
//
// initialised as PyTorch does: xavier_uniform for in_proj_weight, zero
// biases, uniform in ±1/sqrt(Dim) for out_proj.weight.
type MultiHeadAttention struct {
	Name  string
	Dim   int
	Heads int

	InProjWeight, InProjBias   *G.Node
	OutProjWeight, OutProjBias *G.Node
}

// NewMultiHeadAttention adds the parameters of a multi-head attention layer
// over dim channels (a multiple of heads) to g.
func NewMultiHeadAttention(g *G.ExprGraph, name string, dim, heads int, opt MultiHeadAttentionOptions) (*MultiHeadAttention, error) {
	dt, err := attnDefaultDtype(opt.Dtype)
	if err != nil {
		return nil, fmt.Errorf("MultiHeadAttention %q: %w", name, err)
	}
	if g == nil || dim <= 0 || heads <= 0 || dim%heads != 0 {
		return nil, fmt.Errorf("%w: MultiHeadAttention %q: dim %d, heads %d: dim must be a positive multiple of heads", ErrConfig, name, dim, heads)
	}
	l := &MultiHeadAttention{Name: name, Dim: dim, Heads: heads}
	xavier := math.Sqrt(6 / float64(dim+3*dim))
	l.InProjWeight = attnParam(g, dt, name+"in_proj_weight", attnUniform(opt.Rand, 3*dim*dim, xavier), 3*dim, dim)
	l.InProjBias = attnParam(g, dt, name+"in_proj_bias", make([]float64, 3*dim), 3*dim)
	l.OutProjWeight = attnParam(g, dt, name+"out_proj.weight", attnUniform(opt.Rand, dim*dim, 1/math.Sqrt(float64(dim))), dim, dim)
	l.OutProjBias = attnParam(g, dt, name+"out_proj.bias", make([]float64, dim), dim)
	return l, nil
}

// Params lists the layer's parameters in PyTorch's state_dict order; each
// node's Name() is its full parameter name.
func (l *MultiHeadAttention) Params() G.Nodes {
	return G.Nodes{l.InProjWeight, l.InProjBias, l.OutProjWeight, l.OutProjBias}
}

// Forward attends from query of shape (N, Lq, Dim) to key and value both
// taken from kv of shape (N, Lk, Dim), giving (N, Lq, Dim).
func (l *MultiHeadAttention) Forward(query, kv *G.Node) (*G.Node, error) {
	layer := fmt.Sprintf("MultiHeadAttention %q", l.Name)
	if query == nil || kv == nil {
		return nil, fmt.Errorf("%w: %s: nil input", ErrShape, layer)
	}
	qs, ks := query.Shape(), kv.Shape()
	if qs.Dims() != 3 || qs[2] != l.Dim {
		return nil, fmt.Errorf("%w: %s: query shape %v, want (N, Lq, %d)", ErrShape, layer, qs, l.Dim)
	}
	if ks.Dims() != 3 || ks[2] != l.Dim || ks[0] != qs[0] {
		return nil, fmt.Errorf("%w: %s: query shape %v, key/value shape %v, want (%d, Lk, %d)", ErrShape, layer, qs, ks, qs[0], l.Dim)
	}
	wrap := func(err error) error { return fmt.Errorf("%s: %w", layer, err) }
	var heads [3]*G.Node
	for i, src := range []*G.Node{query, kv, kv} {
		w, err := attnRows(l.InProjWeight, i, 3)
		if err != nil {
			return nil, wrap(err)
		}
		b, err := attnRows(l.InProjBias, i, 3)
		if err != nil {
			return nil, wrap(err)
		}
		p, err := attnLinear(src, w, b)
		if err != nil {
			return nil, wrap(err)
		}
		if heads[i], err = attnSplitHeads(l.Name+"in_proj", p, 1, 0, l.Heads); err != nil {
			return nil, wrap(err)
		}
	}
	scores, err := BatchedMatMul(heads[0], heads[1], false, true)
	if err != nil {
		return nil, wrap(err)
	}
	p, err := AttentionSoftmax(scores, 1/math.Sqrt(float64(l.Dim/l.Heads)), nil, nil)
	if err != nil {
		return nil, wrap(err)
	}
	o, err := BatchedMatMul(p, heads[2], false, false)
	if err != nil {
		return nil, wrap(err)
	}
	if o, err = attnMergeHeads(l.Name, o); err != nil {
		return nil, wrap(err)
	}
	y, err := attnLinear(o, l.OutProjWeight, l.OutProjBias)
	if err != nil {
		return nil, wrap(err)
	}
	return y, nil
}

// ClipWindow returns the window and shift that MONAI's get_window_size
// uses for a volume of dims (D, H, W): along an axis no longer than the
// window, the window shrinks to the axis and the shift becomes 0.
func ClipWindow(dims, window, shift [3]int) ([3]int, [3]int) {
	for i := range dims {
		if dims[i] <= window[i] {
			window[i] = dims[i]
			shift[i] = 0
		}
	}
	return window, shift
}

// ForwardVolume runs (shifted-)window attention over a whole volume, the
// attention half of a Swin transformer block (MONAI's
// SwinTransformerBlock.forward_part1 after norm1): x of shape
// (N, D, H, W, Dim), channels last, has its window and shift clipped by
// ClipWindow, is zero-padded at the end to multiples of the window, rolled
// by -shift, partitioned into windows, attended (with ShiftedWindowMask
// when a shift is non-zero), put back, rolled by +shift and cropped. The
// result has the shape of x. shift (0 <= shift < window) is usually
// window/2 on every other block and zero otherwise.
func (l *WindowAttention) ForwardVolume(x *G.Node, shift [3]int) (*G.Node, error) {
	layer := fmt.Sprintf("WindowAttention %q", l.Name)
	if x == nil || x.Shape().Dims() != 5 || x.Shape()[4] != l.Dim {
		var s tensor.Shape
		if x != nil {
			s = x.Shape()
		}
		return nil, fmt.Errorf("%w: %s: input shape %v, want (N, D, H, W, %d)", ErrShape, layer, s, l.Dim)
	}
	for i := range shift {
		if shift[i] < 0 || shift[i] >= l.Window[i] {
			return nil, fmt.Errorf("%w: %s: shift %v, want 0 <= shift < window %v", ErrConfig, layer, shift, l.Window)
		}
	}
	s := x.Shape()
	dims := [3]int{s[1], s[2], s[3]}
	win, sh := ClipWindow(dims, l.Window, shift)
	var pad, padded [3]int
	for i := range dims {
		pad[i] = (win[i] - dims[i]%win[i]) % win[i]
		padded[i] = dims[i] + pad[i]
	}
	wrap := func(err error) error { return fmt.Errorf("%s: %w", layer, err) }
	y, err := PadChannelsLast(x, pad)
	if err != nil {
		return nil, wrap(err)
	}
	var mask *tensor.Dense
	shifted := sh != [3]int{}
	if shifted {
		if y, err = Roll3d(y, [3]int{-sh[0], -sh[1], -sh[2]}); err != nil {
			return nil, wrap(err)
		}
		if mask, err = ShiftedWindowMask(padded, win, sh); err != nil {
			return nil, wrap(err)
		}
	}
	if y, err = WindowPartition(y, win); err != nil {
		return nil, wrap(err)
	}
	if y, err = l.Forward(y, mask); err != nil {
		return nil, err
	}
	if y, err = WindowReverse(y, win, [4]int{s[0], padded[0], padded[1], padded[2]}); err != nil {
		return nil, wrap(err)
	}
	if shifted {
		if y, err = Roll3d(y, sh); err != nil {
			return nil, wrap(err)
		}
	}
	if y, err = CropChannelsLast(y, dims); err != nil {
		return nil, wrap(err)
	}
	return y, nil
}
