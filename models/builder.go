package models

import (
	"fmt"
	"slices"

	"github.com/unetlab/unetlab/models/nn"
	"gorgonia.org/gorgonia"
)

// val is a tensor flowing through an architecture description: its shape
// always, and its graph node when a graph is being built.
type val struct {
	shape []int
	node  *gorgonia.Node
}

func (v val) dims() int { return len(v.shape) }

// spatial returns (D, H, W) of a channels-first volume.
func (v val) spatial() []int { return v.shape[2:] }

// engine builds the graph nodes of the primitives. A builder without an
// engine only describes (shapes, parameters, compute).
type engine interface {
	conv(l *Layer, x *gorgonia.Node, cs convSpec) (*gorgonia.Node, error)
	convT(l *Layer, x *gorgonia.Node, cs convSpec) (*gorgonia.Node, error)
	norm(l *Layer, x *gorgonia.Node, ns normSpec) (*gorgonia.Node, error)
	act(x *gorgonia.Node, a Activation, slope float64) (*gorgonia.Node, error)
	maxPool(x *gorgonia.Node, k int) (*gorgonia.Node, error)
	upsample(x *gorgonia.Node, factor int, mode UpMode) (*gorgonia.Node, error)
	add(a, b *gorgonia.Node) (*gorgonia.Node, error)
	concat(a, b *gorgonia.Node) (*gorgonia.Node, error)
	channelsLast(x *gorgonia.Node) (*gorgonia.Node, error)
	channelsFirst(x *gorgonia.Node) (*gorgonia.Node, error)
	linear(l *Layer, x *gorgonia.Node, in, out int, bias bool) (*gorgonia.Node, error)
	scale(l *Layer, x *gorgonia.Node, init float64) (*gorgonia.Node, error)
	posEnc(x *gorgonia.Node) (*gorgonia.Node, error)
	crossAttention(l *Layer, q, kv *gorgonia.Node, heads int) (*gorgonia.Node, error)
	windowAttention(l *Layer, x *gorgonia.Node, ws windowSpec) (*gorgonia.Node, error)
	patchMerge(x *gorgonia.Node, legacy bool) (*gorgonia.Node, error)
}

type convSpec struct {
	in, out, k, stride, pad, groups int
	bias                            bool
}

// normSpec is one normalisation layer to build.
type normSpec struct {
	kind   nn.NormKind
	ch     int
	affine bool
	eps    float64
}

type windowSpec struct {
	dim, heads, window, shift int
	// window and shift are per axis after MONAI's get_window_size clamp.
	win, sh [3]int
	pad     [3]int // padded (D, H, W)
	table   int    // rows of the relative position bias table
}

// builder walks an architecture: it records one Layer per module with its
// output shape, parameters and compute, and, when eng is set, builds the
// graph. The first error sticks; later calls are no-ops.
type builder struct {
	cfg    Config
	eng    engine
	layers []Layer
	err    error
}

func (b *builder) fail(format string, args ...any) val {
	if b.err == nil {
		b.err = fmt.Errorf(format, args...)
	}
	return val{}
}

func (b *builder) ok() bool { return b.err == nil }

// record appends l and, with an engine, runs mk on the last layer.
func (b *builder) record(l Layer, x val, mk func(l *Layer) (*gorgonia.Node, error)) val {
	b.layers = append(b.layers, l)
	out := val{shape: l.Output}
	if b.eng != nil && mk != nil {
		n, err := mk(&b.layers[len(b.layers)-1])
		if err != nil {
			return b.fail("models: %s (%s): %w", l.Name, l.Type, err)
		}
		out.node = n
	}
	return out
}

func weightBias(name string, w []int, bias bool, biasLen int) []Param {
	ps := []Param{{Name: name + ".weight", Shape: w}}
	if bias {
		ps = append(ps, Param{Name: name + ".bias", Shape: []int{biasLen}})
	}
	return ps
}

func (b *builder) need5(name, op string, x val) bool {
	if !b.ok() {
		return false
	}
	if x.dims() != 5 {
		b.fail("models: %s (%s): input %v, want (N, C, D, H, W)", name, op, shapeString(x.shape))
		return false
	}
	return true
}

// conv is nn.Conv3d(in, out, k, stride, padding=pad, groups) named name.
func (b *builder) conv(name string, x val, out, k, stride, pad, groups int, bias bool) val {
	if !b.need5(name, "Conv3d", x) {
		return val{}
	}
	in := x.shape[1]
	if in%groups != 0 || out%groups != 0 {
		return b.fail("models: %s (Conv3d): %d groups do not divide %d -> %d channels", name, groups, in, out)
	}
	o := []int{x.shape[0], out, 0, 0, 0}
	for i := 2; i < 5; i++ {
		o[i] = (x.shape[i]+2*pad-k)/stride + 1
		if x.shape[i]+2*pad < k || o[i] <= 0 { // a negative numerator truncates toward 0
			return b.fail("models: %s (Conv3d): input %v too small for kernel %d", name, shapeString(x.shape), k)
		}
	}
	k3 := int64(k * k * k)
	macs := numel(o) * int64(in/groups) * k3
	fl := 2 * macs
	if bias {
		fl += numel(o)
	}
	cs := convSpec{in, out, k, stride, pad, groups, bias}
	return b.record(Layer{Name: name, Type: "Conv3d", Output: o,
		Params: weightBias(name, []int{out, in / groups, k, k, k}, bias, out), MACs: macs, FLOPs: fl},
		x, func(l *Layer) (*gorgonia.Node, error) { return b.eng.conv(l, x.node, cs) })
}

// convT is nn.ConvTranspose3d(in, out, k, stride=k) named name.
func (b *builder) convT(name string, x val, out, k int, bias bool) val {
	if !b.need5(name, "ConvTranspose3d", x) {
		return val{}
	}
	in := x.shape[1]
	o := []int{x.shape[0], out, x.shape[2] * k, x.shape[3] * k, x.shape[4] * k}
	k3 := int64(k * k * k)
	macs := numel(o) * int64(in) * k3 // thop: by output size, k^3 too many
	fl := 2 * numel(x.shape) * int64(out) * k3
	if bias {
		fl += numel(o)
	}
	cs := convSpec{in, out, k, k, 0, 1, bias}
	return b.record(Layer{Name: name, Type: "ConvTranspose3d", Output: o,
		Params: weightBias(name, []int{in, out, k, k, k}, bias, out), MACs: macs, FLOPs: fl},
		x, func(l *Layer) (*gorgonia.Node, error) { return b.eng.convT(l, x.node, cs) })
}

// norm applies the configured normalisation over the channels of x.
func (b *builder) norm(name string, x val) val {
	switch b.cfg.Norm {
	case nn.NormNone:
		return x
	case nn.NormBatch:
		return b.batchNorm(name, x)
	}
	return b.instanceNorm(name, x, b.cfg.NormAffine)
}

func (b *builder) instanceNorm(name string, x val, affine bool) val {
	if !b.need5(name, "InstanceNorm3d", x) {
		return val{}
	}
	c := x.shape[1]
	var ps []Param
	macs, fl := 2*numel(x.shape), 5*numel(x.shape)
	if affine {
		ps = []Param{{Name: name + ".weight", Shape: []int{c}}, {Name: name + ".bias", Shape: []int{c}}}
		macs *= 2
		fl += 2 * numel(x.shape)
	}
	ns := normSpec{kind: nn.NormInstance, ch: c, affine: affine, eps: 1e-5}
	return b.record(Layer{Name: name, Type: "InstanceNorm3d", Output: slices.Clone(x.shape), Params: ps, MACs: macs, FLOPs: fl},
		x, func(l *Layer) (*gorgonia.Node, error) { return b.eng.norm(l, x.node, ns) })
}

func (b *builder) batchNorm(name string, x val) val {
	if !b.need5(name, "BatchNorm3d", x) {
		return val{}
	}
	c := x.shape[1]
	ps := []Param{
		{Name: name + ".weight", Shape: []int{c}}, {Name: name + ".bias", Shape: []int{c}},
		{Name: name + ".running_mean", Shape: []int{c}, Buffer: true},
		{Name: name + ".running_var", Shape: []int{c}, Buffer: true},
		{Name: name + ".num_batches_tracked", Shape: []int{}, Buffer: true, Int64: true},
	}
	ns := normSpec{kind: nn.NormBatch, ch: c, affine: true, eps: 1e-5}
	return b.record(Layer{Name: name, Type: "BatchNorm3d", Output: slices.Clone(x.shape), Params: ps,
		MACs: 4 * numel(x.shape), FLOPs: 7 * numel(x.shape)},
		x, func(l *Layer) (*gorgonia.Node, error) { return b.eng.norm(l, x.node, ns) })
}

// layerNorm is nn.LayerNorm over the last axis of x. With affine false it is
// a functional F.layer_norm (MONAI's proj_out), which thop does not see.
func (b *builder) layerNorm(name string, x val, affine bool, eps float64) val {
	if !b.ok() {
		return val{}
	}
	c := x.shape[len(x.shape)-1]
	var ps []Param
	var macs int64
	fl := 5 * numel(x.shape)
	if affine {
		ps = []Param{{Name: name + ".weight", Shape: []int{c}}, {Name: name + ".bias", Shape: []int{c}}}
		macs = 4 * numel(x.shape)
		fl += 2 * numel(x.shape)
	}
	ns := normSpec{kind: nn.NormLayer, ch: c, affine: affine, eps: eps}
	return b.record(Layer{Name: name, Type: "LayerNorm", Output: slices.Clone(x.shape), Params: ps, MACs: macs, FLOPs: fl},
		x, func(l *Layer) (*gorgonia.Node, error) { return b.eng.norm(l, x.node, ns) })
}

// act applies the configured activation.
func (b *builder) act(name string, x val) val {
	return b.activation(name, x, b.cfg.Activation, b.cfg.NegativeSlope)
}

func (b *builder) activation(name string, x val, a Activation, slope float64) val {
	if !b.ok() {
		return val{}
	}
	typ, per := "LeakyReLU", int64(1)
	switch a {
	case ActReLU:
		typ = "ReLU"
	case ActGELU:
		typ, per = "GELU", 8
	}
	return b.record(Layer{Name: name, Type: typ, Output: slices.Clone(x.shape), FLOPs: per * numel(x.shape)},
		x, func(*Layer) (*gorgonia.Node, error) { return b.eng.act(x.node, a, slope) })
}

func (b *builder) maxPool(name string, x val) val {
	if !b.need5(name, "MaxPool3d", x) {
		return val{}
	}
	o := slices.Clone(x.shape)
	for i := 2; i < 5; i++ {
		if o[i]%2 != 0 {
			return b.fail("models: %s (MaxPool3d): input %v has an odd side", name, shapeString(x.shape))
		}
		o[i] /= 2
	}
	return b.record(Layer{Name: name, Type: "MaxPool3d", Output: o, FLOPs: 7 * numel(o)},
		x, func(*Layer) (*gorgonia.Node, error) { return b.eng.maxPool(x.node, 2) })
}

// upsample interpolates x by an integer factor (nearest or trilinear,
// align-corners off). thop 0.1.1 counts neither mode.
func (b *builder) upsample(name string, x val, factor int, mode UpMode) val {
	if !b.need5(name, "Upsample", x) {
		return val{}
	}
	o := slices.Clone(x.shape)
	for i := 2; i < 5; i++ {
		o[i] *= factor
	}
	var fl int64
	if mode == UpTrilinear {
		fl = 15 * numel(o)
	}
	return b.record(Layer{Name: name, Type: "Upsample", Output: o, FLOPs: fl},
		x, func(*Layer) (*gorgonia.Node, error) { return b.eng.upsample(x.node, factor, mode) })
}

func (b *builder) add(name string, x, y val) val {
	if !b.ok() {
		return val{}
	}
	if !slices.Equal(x.shape, y.shape) {
		return b.fail("models: %s (Add): shapes %v and %v differ", name, shapeString(x.shape), shapeString(y.shape))
	}
	return b.record(Layer{Name: name, Type: "Add", Output: slices.Clone(x.shape), FLOPs: numel(x.shape)},
		x, func(*Layer) (*gorgonia.Node, error) { return b.eng.add(x.node, y.node) })
}

// concat is torch.cat([x, y], dim=1).
func (b *builder) concat(name string, x, y val) val {
	if !b.ok() {
		return val{}
	}
	if x.dims() != 5 || y.dims() != 5 || x.shape[0] != y.shape[0] || !slices.Equal(x.spatial(), y.spatial()) {
		return b.fail("models: %s (Concat): shapes %v and %v do not concatenate on channels", name, shapeString(x.shape), shapeString(y.shape))
	}
	o := slices.Clone(x.shape)
	o[1] += y.shape[1]
	return b.record(Layer{Name: name, Type: "Concat", Output: o},
		x, func(*Layer) (*gorgonia.Node, error) { return b.eng.concat(x.node, y.node) })
}

// channelsLast permutes (N, C, D, H, W) to (N, D, H, W, C); it is not a
// module and records nothing.
func (b *builder) channelsLast(x val) val {
	if !b.ok() {
		return val{}
	}
	o := val{shape: []int{x.shape[0], x.shape[2], x.shape[3], x.shape[4], x.shape[1]}}
	if b.eng != nil {
		n, err := b.eng.channelsLast(x.node)
		if err != nil {
			return b.fail("models: channels-last %v: %w", shapeString(x.shape), err)
		}
		o.node = n
	}
	return o
}

func (b *builder) channelsFirst(x val) val {
	if !b.ok() {
		return val{}
	}
	o := val{shape: []int{x.shape[0], x.shape[4], x.shape[1], x.shape[2], x.shape[3]}}
	if b.eng != nil {
		n, err := b.eng.channelsFirst(x.node)
		if err != nil {
			return b.fail("models: channels-first %v: %w", shapeString(x.shape), err)
		}
		o.node = n
	}
	return o
}

// linear is nn.Linear over the last axis of x.
func (b *builder) linear(name string, x val, out int, bias bool) val {
	if !b.ok() {
		return val{}
	}
	in := x.shape[len(x.shape)-1]
	o := slices.Clone(x.shape)
	o[len(o)-1] = out
	macs := int64(in) * numel(o)
	fl := 2 * macs
	if bias {
		fl += numel(o)
	}
	return b.record(Layer{Name: name, Type: "Linear", Output: o,
		Params: weightBias(name, []int{out, in}, bias, out), MACs: macs, FLOPs: fl},
		x, func(l *Layer) (*gorgonia.Node, error) { return b.eng.linear(l, x.node, in, out, bias) })
}

// scale multiplies the last axis of x by a learnt vector named name (the
// original ConvNeXt's layer scale "gamma").
func (b *builder) scale(name string, x val, init float64) val {
	if !b.ok() {
		return val{}
	}
	c := x.shape[len(x.shape)-1]
	return b.record(Layer{Name: name, Type: "LayerScale", Output: slices.Clone(x.shape),
		Params: []Param{{Name: name, Shape: []int{c}}}, FLOPs: numel(x.shape)},
		x, func(l *Layer) (*gorgonia.Node, error) { return b.eng.scale(l, x.node, init) })
}

// posEnc adds the 3D sinusoidal positional encoding to a channels-first x
// (PositionalEncodingPermute3D).
func (b *builder) posEnc(name string, x val) val {
	if !b.need5(name, "PositionalEncoding3D", x) {
		return val{}
	}
	return b.record(Layer{Name: name, Type: "PositionalEncoding3D", Output: slices.Clone(x.shape), FLOPs: numel(x.shape)},
		x, func(*Layer) (*gorgonia.Node, error) { return b.eng.posEnc(x.node) })
}

// crossAttention is nn.MultiheadAttention(E, heads, batch_first=True)
// called as (q, kv, kv) on channels-first volumes; the result has q's grid.
// thop 0.1.1 has no rule for it (its projections are not called as modules).
func (b *builder) crossAttention(name string, q, kv val, heads int) val {
	if !b.need5(name, "MultiheadAttention", q) || !b.need5(name, "MultiheadAttention", kv) {
		return val{}
	}
	e := q.shape[1]
	if kv.shape[1] != e || q.shape[0] != kv.shape[0] {
		return b.fail("models: %s (MultiheadAttention): query %v and key %v differ in batch or width", name, shapeString(q.shape), shapeString(kv.shape))
	}
	n := int64(q.shape[0])
	lq, lk := numel(q.spatial()), numel(kv.spatial())
	e64, h := int64(e), int64(heads)
	fl := 2*n*lq*e64*e64 + 2*2*n*lk*e64*e64 + 2*n*lq*e64*e64 // in-projection q, k, v and out-projection
	fl += n*lq*e64 + 2*n*lk*e64 + n*lq*e64                   // their biases
	fl += 2 * (2 * n * lq * lk * e64)                        // QK^T and AV
	fl += 5 * n * h * lq * lk                                // scaling and softmax
	ps := []Param{
		{Name: name + ".in_proj_weight", Shape: []int{3 * e, e}},
		{Name: name + ".in_proj_bias", Shape: []int{3 * e}},
		{Name: name + ".out_proj.weight", Shape: []int{e, e}},
		{Name: name + ".out_proj.bias", Shape: []int{e}},
	}
	return b.record(Layer{Name: name, Type: "MultiheadAttention", Output: slices.Clone(q.shape), Params: ps, FLOPs: fl},
		q, func(l *Layer) (*gorgonia.Node, error) { return b.eng.crossAttention(l, q.node, kv.node, heads) })
}

// windowAttention is MONAI's WindowAttention inside SwinTransformerBlock
// (padding to whole windows, cyclic shift, partition, qkv, biased and masked
// attention, proj, reverse, crop) on channels-last x (N, D, H, W, C).
func (b *builder) windowAttention(name string, x val, heads, window, shift int) val {
	if !b.ok() {
		return val{}
	}
	ws := windowSpec{dim: x.shape[4], heads: heads, window: window, shift: shift}
	tokens := int64(x.shape[0]) // padded token count
	winTokens := int64(1)
	for i := range 3 {
		side := x.shape[1+i]
		ws.win[i], ws.sh[i] = window, shift
		if side <= window { // MONAI get_window_size
			ws.win[i], ws.sh[i] = side, 0
		}
		ws.pad[i] = (side + ws.win[i] - 1) / ws.win[i] * ws.win[i]
		tokens *= int64(ws.pad[i])
		winTokens *= int64(ws.win[i])
	}
	ws.table = (2*window - 1) * (2*window - 1) * (2*window - 1)
	c := int64(ws.dim)
	h := int64(heads)
	macs := tokens*c*3*c + tokens*c*c // qkv and proj Linear, on the padded windows
	fl := 2*macs + tokens*3*c + tokens*c
	scores := tokens * winTokens * h // per window: heads x Lw x Lw
	fl += 2 * 2 * tokens * winTokens * c
	fl += 5*scores + scores // softmax and relative position bias
	if ws.sh != [3]int{} {
		fl += scores // mask
	}
	// MONAI registers relative_position_index as a buffer; it is in the
	// state so that MONAI's load_state_dict(strict=True) accepts our files.
	ps := []Param{
		{Name: name + ".relative_position_bias_table", Shape: []int{ws.table, heads}},
		{Name: name + ".qkv.weight", Shape: []int{3 * ws.dim, ws.dim}},
		{Name: name + ".qkv.bias", Shape: []int{3 * ws.dim}},
		{Name: name + ".proj.weight", Shape: []int{ws.dim, ws.dim}},
		{Name: name + ".proj.bias", Shape: []int{ws.dim}},
		{Name: name + ".relative_position_index", Shape: []int{window * window * window, window * window * window}, Buffer: true, Int64: true},
	}
	return b.record(Layer{Name: name, Type: "WindowAttention", Output: slices.Clone(x.shape), Params: ps, MACs: macs, FLOPs: fl},
		x, func(l *Layer) (*gorgonia.Node, error) { return b.eng.windowAttention(l, x.node, ws) })
}

// patchMerge gathers each 2x2x2 neighbourhood of a channels-last x into
// (N, D/2, H/2, W/2, 8C), in MONAI's order (legacy: MONAI's PatchMerging,
// which repeats some neighbours).
func (b *builder) patchMerge(name string, x val, legacy bool) val {
	if !b.ok() {
		return val{}
	}
	o := []int{x.shape[0], x.shape[1] / 2, x.shape[2] / 2, x.shape[3] / 2, 8 * x.shape[4]}
	for i := 1; i < 4; i++ {
		if x.shape[i]%2 != 0 {
			return b.fail("models: %s (PatchMerging): input %v has an odd side", name, shapeString(x.shape))
		}
	}
	return b.record(Layer{Name: name, Type: "PatchMerging", Output: o},
		x, func(*Layer) (*gorgonia.Node, error) { return b.eng.patchMerge(x.node, legacy) })
}
