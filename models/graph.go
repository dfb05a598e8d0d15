package models

import (
	"fmt"

	"github.com/unetlab/unetlab/models/nn"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// graphEngine builds the primitives of an architecture description with
// the layers and operations of package nn. Layers are created on first use
// under their PyTorch module names and reused by later forward passes in
// the same graph. With dry set it only creates the layers (parameters) and
// builds no node.
type graphEngine struct {
	g     *gorgonia.ExprGraph
	opt   nn.LayerOptions
	dry   bool
	order []string       // module names in creation order
	mods  map[string]any // name -> *nn.Conv3d, *nn.Norm, *nn.Linear, *nn.WindowAttention, ...
}

// scaleParam is the original ConvNeXt's layer scale (gamma), with a constant
// zero shift for nn.ChannelAffine.
type scaleParam struct {
	gamma, zero *gorgonia.Node
}

// windowIndex records a WindowAttention's window for its
// relative_position_index buffer.
type windowAttn struct {
	*nn.WindowAttention
	window int
}

func newGraphEngine(g *gorgonia.ExprGraph, opt nn.LayerOptions) *graphEngine {
	return &graphEngine{g: g, opt: opt, mods: map[string]any{}}
}

// module returns the module named name, creating it with mk on first use.
func (e *graphEngine) module(name string, mk func() (any, error)) (any, error) {
	if m, ok := e.mods[name]; ok {
		return m, nil
	}
	m, err := mk()
	if err != nil {
		return nil, err
	}
	e.mods[name] = m
	e.order = append(e.order, name)
	return m, nil
}

func (e *graphEngine) dtype() tensor.Dtype {
	if e.opt.Dtype == tensor.Float64 {
		return tensor.Float64
	}
	return tensor.Float32
}

func (e *graphEngine) conv(l *Layer, x *gorgonia.Node, cs convSpec) (*gorgonia.Node, error) {
	m, err := e.module(l.Name, func() (any, error) {
		return nn.NewConv3d(e.g, l.Name, nn.ConvConfig{InChannels: cs.in, OutChannels: cs.out, Kernel: [3]int{cs.k, cs.k, cs.k},
			ConvOptions: nn.ConvOptions{Stride: [3]int{cs.stride, cs.stride, cs.stride}, Padding: [3]int{cs.pad, cs.pad, cs.pad}, Groups: cs.groups},
			NoBias:      !cs.bias}, &e.opt)
	})
	if err != nil || e.dry {
		return nil, err
	}
	return m.(*nn.Conv3dLayer).Forward(x)
}

func (e *graphEngine) convT(l *Layer, x *gorgonia.Node, cs convSpec) (*gorgonia.Node, error) {
	m, err := e.module(l.Name, func() (any, error) {
		return nn.NewConvTranspose3d(e.g, l.Name, nn.ConvConfig{InChannels: cs.in, OutChannels: cs.out, Kernel: [3]int{cs.k, cs.k, cs.k},
			ConvOptions: nn.ConvOptions{Stride: [3]int{cs.stride, cs.stride, cs.stride}}, NoBias: !cs.bias}, &e.opt)
	})
	if err != nil || e.dry {
		return nil, err
	}
	return m.(*nn.ConvTranspose3dLayer).Forward(x)
}

func (e *graphEngine) norm(l *Layer, x *gorgonia.Node, ns normSpec) (*gorgonia.Node, error) {
	if ns.kind == nn.NormLayer && !ns.affine { // functional F.layer_norm
		if e.dry {
			return nil, nil
		}
		return nn.LayerNorm(x, nil, nil, ns.eps)
	}
	m, err := e.module(l.Name, func() (any, error) {
		cfg := nn.NormConfig{Channels: ns.ch, Affine: ns.affine, Eps: ns.eps}
		switch ns.kind {
		case nn.NormBatch:
			return nn.NewBatchNorm3d(e.g, l.Name, cfg, &e.opt)
		case nn.NormLayer:
			return nn.NewLayerNorm(e.g, l.Name, cfg, &e.opt)
		case nn.NormLayerChannels:
			return nn.NewLayerNormChannels(e.g, l.Name, cfg, &e.opt)
		}
		return nn.NewInstanceNorm3d(e.g, l.Name, cfg, &e.opt)
	})
	if err != nil || e.dry {
		return nil, err
	}
	return m.(*nn.Norm).Forward(x)
}

func (e *graphEngine) act(x *gorgonia.Node, a Activation, slope float64) (*gorgonia.Node, error) {
	if e.dry {
		return nil, nil
	}
	switch a {
	case ActReLU:
		return nn.ReLU(x)
	case ActGELU:
		return nn.GELU(x)
	}
	return nn.LeakyReLU(x, slope)
}

func (e *graphEngine) maxPool(x *gorgonia.Node, k int) (*gorgonia.Node, error) {
	if e.dry {
		return nil, nil
	}
	return nn.MaxPool3d(x, &nn.PoolOptions{Kernel: [3]int{k, k, k}})
}

func (e *graphEngine) upsample(x *gorgonia.Node, factor int, mode UpMode) (*gorgonia.Node, error) {
	if e.dry {
		return nil, nil
	}
	m := nn.Nearest
	if mode == UpTrilinear {
		m = nn.Trilinear
	}
	s := x.Shape()
	return nn.Upsample3d(x, &nn.UpsampleOptions{Size: [3]int{s[2] * factor, s[3] * factor, s[4] * factor}, Mode: m})
}

func (e *graphEngine) add(a, b *gorgonia.Node) (*gorgonia.Node, error) {
	if e.dry {
		return nil, nil
	}
	return gorgonia.Add(a, b)
}

func (e *graphEngine) concat(a, b *gorgonia.Node) (*gorgonia.Node, error) {
	if e.dry {
		return nil, nil
	}
	return nn.ConcatChannels(a, b)
}

func (e *graphEngine) channelsLast(x *gorgonia.Node) (*gorgonia.Node, error) {
	if e.dry {
		return nil, nil
	}
	return nn.ToChannelsLast(x)
}

func (e *graphEngine) channelsFirst(x *gorgonia.Node) (*gorgonia.Node, error) {
	if e.dry {
		return nil, nil
	}
	return nn.ToChannelsFirst(x)
}

func (e *graphEngine) linear(l *Layer, x *gorgonia.Node, in, out int, bias bool) (*gorgonia.Node, error) {
	m, err := e.module(l.Name, func() (any, error) { return nn.NewLinear(e.g, l.Name, in, out, !bias, &e.opt) })
	if err != nil || e.dry {
		return nil, err
	}
	return m.(*nn.Linear).Forward(x)
}

func (e *graphEngine) scale(l *Layer, x *gorgonia.Node, init float64) (*gorgonia.Node, error) {
	c := l.Output[len(l.Output)-1]
	m, err := e.module(l.Name, func() (any, error) {
		dt := e.dtype()
		g := gorgonia.NewVector(e.g, dt, gorgonia.WithShape(c), gorgonia.WithName(l.Name), gorgonia.WithInit(gorgonia.ValuesOf(castScalar(dt, init))))
		z := gorgonia.NewVector(e.g, dt, gorgonia.WithShape(c), gorgonia.WithName(l.Name+"#zero"), gorgonia.WithInit(gorgonia.Zeroes()))
		return &scaleParam{gamma: g, zero: z}, nil
	})
	if err != nil || e.dry {
		return nil, err
	}
	s := m.(*scaleParam)
	return nn.ChannelAffine(x, s.gamma, s.zero, x.Dims()-1)
}

func castScalar(dt tensor.Dtype, v float64) any {
	if dt == tensor.Float64 {
		return v
	}
	return float32(v)
}

func (e *graphEngine) posEnc(x *gorgonia.Node) (*gorgonia.Node, error) {
	if e.dry {
		return nil, nil
	}
	return nn.AddPositionalEncoding3d(x)
}

func (e *graphEngine) crossAttention(l *Layer, q, kv *gorgonia.Node, heads int) (*gorgonia.Node, error) {
	dim := l.Output[1]
	m, err := e.module(l.Name, func() (any, error) {
		return nn.NewMultiHeadAttention(e.g, l.Name, nn.MultiHeadAttentionConfig{Dim: dim, Heads: heads}, &e.opt)
	})
	if err != nil || e.dry {
		return nil, err
	}
	s := q.Shape()
	qt, err := nn.ToTokens(q)
	if err != nil {
		return nil, err
	}
	kt, err := nn.ToTokens(kv)
	if err != nil {
		return nil, err
	}
	o, err := m.(*nn.MultiHeadAttention).Forward(qt, kt)
	if err != nil {
		return nil, err
	}
	return nn.FromTokens(o, s[2], s[3], s[4])
}

func (e *graphEngine) windowAttention(l *Layer, x *gorgonia.Node, ws windowSpec) (*gorgonia.Node, error) {
	m, err := e.module(l.Name, func() (any, error) {
		w := ws.window
		a, err := nn.NewWindowAttention(e.g, l.Name, nn.WindowAttentionConfig{Dim: ws.dim, Heads: ws.heads, Window: [3]int{w, w, w}}, &e.opt)
		if err != nil {
			return nil, err
		}
		return &windowAttn{a, w}, nil
	})
	if err != nil || e.dry {
		return nil, err
	}
	return m.(*windowAttn).ForwardVolume(x, [3]int{ws.shift, ws.shift, ws.shift})
}

// legacyOrder is MONAI's legacy PatchMerging neighbour order: offsets
// (d, h, w) as indices i*4 + j*2 + k into the corrected order, where
// neighbours 2 (0,1,0) and 1 (0,0,1) are taken twice and (1,1,0), (0,1,1)
// never.
var legacyOrder = [8]int{0, 4, 2, 1, 5, 2, 1, 7}

func (e *graphEngine) patchMerge(x *gorgonia.Node, legacy bool) (*gorgonia.Node, error) {
	if e.dry {
		return nil, nil
	}
	s := x.Shape()
	n, d, h, w, c := s[0], s[1]/2, s[2]/2, s[3]/2, s[4]
	y, err := nn.Reshape(x, n, d, 2, h, 2, w, 2, c)
	if err != nil {
		return nil, err
	}
	// (N, D', i, H', j, W', k, C) -> (N, D', H', W', i, j, k, C): the
	// channel blocks in itertools.product order, as PatchMergingV2.
	if y, err = nn.Permute(y, 0, 1, 3, 5, 2, 4, 6, 7); err != nil {
		return nil, err
	}
	if legacy {
		// Select blocks by a constant 8 x 8 0/1 matrix on the block axis.
		if y, err = nn.Reshape(y, n, d, h, w, 8, c); err != nil {
			return nil, err
		}
		if y, err = nn.Permute(y, 0, 1, 2, 3, 5, 4); err != nil {
			return nil, err
		}
		sel := make([]float64, 64)
		for o, i := range legacyOrder {
			sel[o*8+i] = 1
		}
		var t *tensor.Dense
		if e.dtype() == tensor.Float64 {
			t = tensor.New(tensor.WithShape(8, 8), tensor.WithBacking(sel))
		} else {
			s32 := make([]float32, 64)
			for i, v := range sel {
				s32[i] = float32(v)
			}
			t = tensor.New(tensor.WithShape(8, 8), tensor.WithBacking(s32))
		}
		w8 := gorgonia.NewConstant(t)
		if y, err = nn.LinearMap(y, w8); err != nil {
			return nil, err
		}
		if y, err = nn.Permute(y, 0, 1, 2, 3, 5, 4); err != nil {
			return nil, err
		}
	}
	return nn.Reshape(y, n, d, h, w, 8*c)
}

// params lists the trained parameters in module order under their
// PyTorch names.
func (e *graphEngine) params() []nn.Param {
	var ps []nn.Param
	for _, name := range e.order {
		switch m := e.mods[name].(type) {
		case *nn.Conv3dLayer:
			ps = append(ps, m.Params()...)
		case *nn.ConvTranspose3dLayer:
			ps = append(ps, m.Params()...)
		case *nn.Norm:
			ps = append(ps, m.Params()...)
		case *nn.Linear:
			ps = append(ps, m.Params()...)
		case *scaleParam:
			ps = append(ps, nn.Param{Name: name, Node: m.gamma})
		case *nn.MultiHeadAttention:
			ps = append(ps, m.Params()...)
		case *windowAttn:
			ps = append(ps, m.Params()...)
		default:
			panic(fmt.Sprintf("models: module %s of type %T", name, m))
		}
	}
	return ps
}
