package models

import (
	"errors"
	"fmt"
	"slices"

	"github.com/unetlab/unetlab/models/nn"
	"github.com/unetlab/unetlab/rng"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ErrWeights is returned (wrapped) when a weights file does not fit a model:
// a missing or unexpected tensor, or a shape that differs. The message names
// the tensor and both shapes.
var ErrWeights = errors.New("models: weights do not fit the model")

// Options are the construction settings of NewWithOptions that do not change
// the architecture. The zero value means float32 parameters initialised as
// PyTorch does from a generator seeded with 0; NewWithOptions takes it by
// pointer, nil meaning that zero value.
type Options struct {
	// Float64 makes the parameters (and the inputs Forward accepts) float64.
	Float64 bool
	// Seed seeds the generator of the initial weights (rng.New(Seed)).
	Seed uint64
}

// Model is a network of the paper as gorgonia parameters in one expression
// graph. Forward adds a forward pass on an input node of that graph; the
// parameters are shared by every pass.
type Model struct {
	cfg     Config
	opt     Options
	g       *gorgonia.ExprGraph
	eng     *graphEngine
	summary *Summary
}

// New builds the parameters of the network cfg describes in a new graph,
// with PyTorch's default initialisation. The error wraps ErrConfig for an
// invalid cfg.
func New(cfg Config) (*Model, error) { return NewWithOptions(cfg, nil) }

// NewWithOptions is New with construction options; opt may be nil: the
// defaults (float32, seed 0). It keeps a copy of *opt.
func NewWithOptions(cfg Config, opt *Options) (*Model, error) {
	var o Options
	if opt != nil {
		o = *opt
	}
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	s, err := Describe(c)
	if err != nil {
		return nil, err
	}
	g := gorgonia.NewGraph()
	lo := nn.LayerOptions{Dtype: tensor.Float32, Rand: rng.New(o.Seed)}
	if o.Float64 {
		lo.Dtype = tensor.Float64
	}
	m := &Model{cfg: c, opt: o, g: g, eng: newGraphEngine(g, lo), summary: s}
	m.eng.dry = true
	b := &builder{cfg: c, eng: m.eng}
	b.build(val{shape: slices.Clone(s.Input)})
	m.eng.dry = false
	if b.err != nil {
		return nil, b.err
	}
	return m, nil
}

// Config returns the model's configuration with every default filled in.
func (m *Model) Config() Config { return m.cfg }

// Graph returns the expression graph that holds the parameters; inputs
// given to Forward must belong to it.
func (m *Model) Graph() *gorgonia.ExprGraph { return m.g }

// Dtype is the element type of the parameters and of Forward's input.
func (m *Model) Dtype() tensor.Dtype { return m.eng.dtype() }

// Summary returns the layer table of the model at Config.Batch volumes of
// Config.InputSize.
func (m *Model) Summary() *Summary { return m.summary }

// Input makes an input node named name of shape (n, InChannels, D, H, W)
// in the model's graph, D, H, W being Config.InputSize.
func (m *Model) Input(name string, n int) *gorgonia.Node {
	c := m.cfg
	return gorgonia.NewTensor(m.g, m.Dtype(), 5, gorgonia.WithShape(n, c.InChannels, c.InputSize[0], c.InputSize[1], c.InputSize[2]), gorgonia.WithName(name))
}

// Forward adds the network applied to x (N, InChannels, D, H, W) to the
// graph and returns the logits (N, Classes, D, H, W). D, H and W must be
// divisible by 2^(levels-1) (32 for SwinUNETR); TransUNet needs Config's
// InputSize, whose patch sizes its parameters fix. Errors name the layer
// and the shapes.
func (m *Model) Forward(x *gorgonia.Node) (*gorgonia.Node, error) {
	if x == nil {
		return nil, fmt.Errorf("models: %s: nil input", m.cfg.Arch)
	}
	if x.Graph() != m.g {
		return nil, fmt.Errorf("models: %s: input %s is not in the model's graph", m.cfg.Arch, x.Name())
	}
	s := x.Shape()
	if s.Dims() != 5 || s[1] != m.cfg.InChannels {
		return nil, fmt.Errorf("models: %s: input shape %v, want (N, %d, D, H, W)", m.cfg.Arch, s, m.cfg.InChannels)
	}
	if x.Dtype() != m.Dtype() {
		return nil, fmt.Errorf("models: %s: input is %v, the parameters %v", m.cfg.Arch, x.Dtype(), m.Dtype())
	}
	c := m.cfg
	c.InputSize = [3]int{s[2], s[3], s[4]}
	c.Batch = s[0]
	// TransUNet's patch sizes follow the input size: a pass on another
	// size would need other parameters.
	d, err := Describe(c)
	if err != nil {
		return nil, fmt.Errorf("models: input shape %v: %w", s, err)
	}
	want, got := m.summary.State(), d.State()
	same := len(want) == len(got)
	for i := 0; same && i < len(want); i++ {
		same = want[i].Name == got[i].Name && slices.Equal(want[i].Shape, got[i].Shape)
	}
	if !same {
		return nil, fmt.Errorf("models: %s: input shape %v needs other parameters than the model's (built for %v)", m.cfg.Arch, s, m.cfg.InputSize)
	}
	b := &builder{cfg: c, eng: m.eng}
	out := b.build(val{shape: []int(s.Clone()), node: x})
	if b.err != nil {
		return nil, b.err
	}
	return out.node, nil
}

// Parameters lists the trained parameters under their PyTorch names
// ("encoder.conv_blocks.0.conv_block_1.convolution.weight", ...) in module
// order.
func (m *Model) Parameters() []nn.Param { return m.eng.params() }

// Learnables returns the parameter nodes, for gorgonia.Grad and solvers.
func (m *Model) Learnables() gorgonia.Nodes { return nn.Nodes(m.eng.params()) }

// NumParams is the number of trained parameters.
func (m *Model) NumParams() int64 {
	var n int64
	for _, p := range m.eng.params() {
		n += int64(p.Node.Shape().TotalSize())
	}
	return n
}

// SetTraining switches BatchNorm layers between batch statistics (true, the
// default) and running statistics (false, evaluation). It affects passes
// run afterwards.
func (m *Model) SetTraining(training bool) {
	for _, mod := range m.eng.mods {
		if n, ok := mod.(*nn.Norm); ok && n.Stats != nil {
			n.Stats.Training = training
		}
	}
}
