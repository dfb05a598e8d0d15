package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// attnTruncNormal draws n values from N(0, std^2) truncated to [lo, hi]
// (absolute bounds, as torch.nn.init.trunc_normal_), from opt.Rand or the
// package's shared stream.
func attnTruncNormal(opt *LayerOptions, n int, std, lo, hi float64) []float64 {
	r := opt.rand()
	if r == nil {
		sharedRand.Lock()
		defer sharedRand.Unlock()
		r = sharedRand.r
	}
	v := make([]float64, n)
	for i := range v {
		for {
			x := r.Norm() * std
			if x >= lo && x <= hi {
				v[i] = x
				break
			}
		}
	}
	return v
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

// WindowAttentionConfig configures NewWindowAttention. Dim, Heads and
// Window are required; the zero value of the rest means a bias on the qkv
// projection and scale (Dim/Heads)^-0.5, as MONAI's SwinUNETR.
type WindowAttentionConfig struct {
	Dim, Heads int
	Window     [3]int  // (Wd, Wh, Ww)
	NoQKVBias  bool    // leave out qkv.bias (MONAI's qkv_bias=False)
	Scale      float64 // 0: (Dim/Heads)^-0.5
}

// WindowAttention is the self-attention of Swin transformers inside 3D
// windows, with a learnable relative position bias and an optional
// shifted-window mask, as MONAI's WindowAttention (SwinUNETR). It owns,
// named Name + "." + PyTorch's name:
//
//	relative_position_bias_table ((2Wd-1)(2Wh-1)(2Ww-1), Heads),
//	qkv.weight (3*Dim, Dim), qkv.bias (3*Dim), proj.weight (Dim, Dim),
//	proj.bias (Dim)
//
// initialised as torch.nn.Linear (uniform in ±1/sqrt(Dim)) and, for the
// table, trunc_normal(std 0.02, [-2, 2]) as MONAI does.
type WindowAttention struct {
	Name   string
	Config WindowAttentionConfig // Scale filled in

	QKVWeight, QKVBias   *G.Node // QKVBias nil with NoQKVBias
	ProjWeight, ProjBias *G.Node
	BiasTable            *G.Node
}

// NewWindowAttention makes a WindowAttention layer in g; name prefixes its
// parameter names ("layers1.0.blocks.0.attn").
func NewWindowAttention(g *G.ExprGraph, name string, cfg WindowAttentionConfig, opt *LayerOptions) (*WindowAttention, error) {
	dt, err := opt.dtype()
	if err != nil {
		return nil, fmt.Errorf("nn.WindowAttention %s: %w", name, err)
	}
	dim, heads, window := cfg.Dim, cfg.Heads, cfg.Window
	if g == nil || dim <= 0 || heads <= 0 || dim%heads != 0 {
		return nil, fmt.Errorf("%w: nn.WindowAttention %s: dim %d, heads %d: dim must be a positive multiple of heads", ErrConfig, name, dim, heads)
	}
	if window[0] <= 0 || window[1] <= 0 || window[2] <= 0 {
		return nil, fmt.Errorf("%w: nn.WindowAttention %s: window %v, want positive sizes", ErrConfig, name, window)
	}
	if cfg.Scale == 0 {
		cfg.Scale = 1 / math.Sqrt(float64(dim/heads))
	}
	l := &WindowAttention{Name: name, Config: cfg}
	bound := 1 / math.Sqrt(float64(dim))
	rows := RelativePositionTableSize(window)
	l.BiasTable = newParam(g, dt, join(name, "relative_position_bias_table"), attnTruncNormal(opt, rows*heads, 0.02, -2, 2), rows, heads)
	l.QKVWeight = newParam(g, dt, join(name, "qkv.weight"), opt.uniform(3*dim*dim, bound), 3*dim, dim)
	if !cfg.NoQKVBias {
		l.QKVBias = newParam(g, dt, join(name, "qkv.bias"), opt.uniform(3*dim, bound), 3*dim)
	}
	l.ProjWeight = newParam(g, dt, join(name, "proj.weight"), opt.uniform(dim*dim, bound), dim, dim)
	l.ProjBias = newParam(g, dt, join(name, "proj.bias"), opt.uniform(dim, bound), dim)
	return l, nil
}

// Params lists the parameters in PyTorch's state_dict order.
func (l *WindowAttention) Params() []Param {
	ps := []Param{{join(l.Name, "relative_position_bias_table"), l.BiasTable}, {join(l.Name, "qkv.weight"), l.QKVWeight}}
	if l.QKVBias != nil {
		ps = append(ps, Param{join(l.Name, "qkv.bias"), l.QKVBias})
	}
	return append(ps, Param{join(l.Name, "proj.weight"), l.ProjWeight}, Param{join(l.Name, "proj.bias"), l.ProjBias})
}

// State lists the parameters' values.
func (l *WindowAttention) State() []StateTensor { return paramState(l.Params()) }

// Forward attends within each window: x has shape (B, n, Dim), B = N*nW
// windows of n <= Wd*Wh*Ww tokens (WindowPartition's output); mask, if not
// nil, has shape (nW, n, n) (ShiftedWindowMask). The result has the shape
// of x.
func (l *WindowAttention) Forward(x *G.Node, mask *tensor.Dense) (*G.Node, error) {
	layer := "nn.WindowAttention " + l.Name
	dim, window := l.Config.Dim, l.Config.Window
	if x == nil || x.Shape().Dims() != 3 || x.Shape()[2] != dim || x.Shape()[1] > window[0]*window[1]*window[2] {
		var s tensor.Shape
		if x != nil {
			s = x.Shape()
		}
		return nil, fmt.Errorf("%w: %s: input shape %v, want (B, n <= %d, %d)", ErrShape, layer, s, window[0]*window[1]*window[2], dim)
	}
	if mask != nil {
		ms, xs := mask.Shape(), x.Shape()
		if ms.Dims() != 3 || ms[0] <= 0 || xs[0]%ms[0] != 0 || ms[1] != xs[1] || ms[2] != xs[1] {
			return nil, fmt.Errorf("%w: %s: input shape %v, mask shape %v, want (nW, %d, %d) with nW dividing %d", ErrShape, layer, xs, ms, xs[1], xs[1], xs[0])
		}
	}
	return l.forward(x, mask, nil, 0)
}

// forward is Forward with the shifted-window mask given either densely or
// as region labels (shiftedWindowRegions), already checked.
func (l *WindowAttention) forward(x *G.Node, mask *tensor.Dense, regions []int32, nw int) (*G.Node, error) {
	layer := "nn.WindowAttention " + l.Name
	heads, window := l.Config.Heads, l.Config.Window
	n := x.Shape()[1]
	wrap := func(err error) error { return fmt.Errorf("%s: %w", layer, err) }
	qkv, err := attnLinear(x, l.QKVWeight, l.QKVBias)
	if err != nil {
		return nil, wrap(err)
	}
	var qkvs [3]*G.Node
	for i := range qkvs {
		if qkvs[i], err = attnSplitHeads(l.Name+".qkv", qkv, 3, i, heads); err != nil {
			return nil, wrap(err)
		}
	}
	scores, err := BatchedMatMul(qkvs[0], qkvs[1], false, true)
	if err != nil {
		return nil, wrap(err)
	}
	bias, err := RelativePositionBias(l.BiasTable, window, n)
	if err != nil {
		return nil, wrap(err)
	}
	p, err := attentionSoftmax(scores, l.Config.Scale, bias, mask, regions, nw)
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

// MultiHeadAttentionConfig configures NewMultiHeadAttention: Dim channels
// (embed_dim), a multiple of Heads.
type MultiHeadAttentionConfig struct {
	Dim, Heads int
}

// MultiHeadAttention is scaled dot-product attention with Heads heads whose
// query comes from one token tensor and key and value from another, as
// torch.nn.MultiheadAttention(Dim, Heads, batch_first=True) (the
// cross-attention on the skips of the Trans-UNet variant). It owns, named
// Name + "." + PyTorch's name:
//
//	in_proj_weight (3*Dim, Dim) (rows: q, k, v projections), in_proj_bias
//	(3*Dim), out_proj.weight (Dim, Dim), out_proj.bias (Dim)
//
// initialised as PyTorch does: xavier_uniform for in_proj_weight, zero
// biases, uniform in ±1/sqrt(Dim) for out_proj.weight.
type MultiHeadAttention struct {
	Name   string
	Config MultiHeadAttentionConfig

	InProjWeight, InProjBias   *G.Node
	OutProjWeight, OutProjBias *G.Node
}

// NewMultiHeadAttention makes a MultiHeadAttention layer in g; name prefixes
// its parameter names.
func NewMultiHeadAttention(g *G.ExprGraph, name string, cfg MultiHeadAttentionConfig, opt *LayerOptions) (*MultiHeadAttention, error) {
	dt, err := opt.dtype()
	if err != nil {
		return nil, fmt.Errorf("nn.MultiHeadAttention %s: %w", name, err)
	}
	dim, heads := cfg.Dim, cfg.Heads
	if g == nil || dim <= 0 || heads <= 0 || dim%heads != 0 {
		return nil, fmt.Errorf("%w: nn.MultiHeadAttention %s: dim %d, heads %d: dim must be a positive multiple of heads", ErrConfig, name, dim, heads)
	}
	l := &MultiHeadAttention{Name: name, Config: cfg}
	xavier := math.Sqrt(6 / float64(dim+3*dim))
	l.InProjWeight = newParam(g, dt, join(name, "in_proj_weight"), opt.uniform(3*dim*dim, xavier), 3*dim, dim)
	l.InProjBias = newParam(g, dt, join(name, "in_proj_bias"), make([]float64, 3*dim), 3*dim)
	l.OutProjWeight = newParam(g, dt, join(name, "out_proj.weight"), opt.uniform(dim*dim, 1/math.Sqrt(float64(dim))), dim, dim)
	l.OutProjBias = newParam(g, dt, join(name, "out_proj.bias"), make([]float64, dim), dim)
	return l, nil
}

// Params lists the parameters in PyTorch's state_dict order.
func (l *MultiHeadAttention) Params() []Param {
	return []Param{
		{join(l.Name, "in_proj_weight"), l.InProjWeight}, {join(l.Name, "in_proj_bias"), l.InProjBias},
		{join(l.Name, "out_proj.weight"), l.OutProjWeight}, {join(l.Name, "out_proj.bias"), l.OutProjBias},
	}
}

// State lists the parameters' values.
func (l *MultiHeadAttention) State() []StateTensor { return paramState(l.Params()) }

// Forward attends from query of shape (N, Lq, Dim) to key and value both
// taken from kv of shape (N, Lk, Dim), giving (N, Lq, Dim).
func (l *MultiHeadAttention) Forward(query, kv *G.Node) (*G.Node, error) {
	layer := "nn.MultiHeadAttention " + l.Name
	dim, heads := l.Config.Dim, l.Config.Heads
	if query == nil || kv == nil {
		return nil, fmt.Errorf("%w: %s: nil input", ErrShape, layer)
	}
	qs, ks := query.Shape(), kv.Shape()
	if qs.Dims() != 3 || qs[2] != dim {
		return nil, fmt.Errorf("%w: %s: query shape %v, want (N, Lq, %d)", ErrShape, layer, qs, dim)
	}
	if ks.Dims() != 3 || ks[2] != dim || ks[0] != qs[0] {
		return nil, fmt.Errorf("%w: %s: query shape %v, key/value shape %v, want (%d, Lk, %d)", ErrShape, layer, qs, ks, qs[0], dim)
	}
	wrap := func(err error) error { return fmt.Errorf("%s: %w", layer, err) }
	var qkv [3]*G.Node
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
		if qkv[i], err = attnSplitHeads(l.Name+".in_proj", p, 1, 0, heads); err != nil {
			return nil, wrap(err)
		}
	}
	scores, err := BatchedMatMul(qkv[0], qkv[1], false, true)
	if err != nil {
		return nil, wrap(err)
	}
	p, err := AttentionSoftmax(scores, 1/math.Sqrt(float64(dim/heads)), nil, nil)
	if err != nil {
		return nil, wrap(err)
	}
	o, err := BatchedMatMul(p, qkv[2], false, false)
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
	layer := "nn.WindowAttention " + l.Name
	dim, window := l.Config.Dim, l.Config.Window
	if x == nil || x.Shape().Dims() != 5 || x.Shape()[4] != dim {
		var s tensor.Shape
		if x != nil {
			s = x.Shape()
		}
		return nil, fmt.Errorf("%w: %s: input shape %v, want (N, D, H, W, %d)", ErrShape, layer, s, dim)
	}
	for i := range shift {
		if shift[i] < 0 || shift[i] >= window[i] {
			return nil, fmt.Errorf("%w: %s: shift %v, want 0 <= shift < window %v", ErrConfig, layer, shift, window)
		}
	}
	s := x.Shape()
	dims := [3]int{s[1], s[2], s[3]}
	win, sh := ClipWindow(dims, window, shift)
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
	var regions []int32
	var nw int
	shifted := sh != [3]int{}
	if shifted {
		if y, err = Roll3d(y, [3]int{-sh[0], -sh[1], -sh[2]}); err != nil {
			return nil, wrap(err)
		}
		// The mask as region labels: nW*L values instead of nW*L*L.
		if regions, nw, _, err = shiftedWindowRegions(padded, win, sh); err != nil {
			return nil, wrap(err)
		}
	}
	if y, err = WindowPartition(y, win); err != nil {
		return nil, wrap(err)
	}
	if y, err = l.forward(y, nil, regions, nw); err != nil {
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
