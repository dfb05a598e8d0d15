package nn

import (
	"fmt"
	"math"
	"sync"

	"github.com/unetlab/unetlab/rng"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Param is one named learnable parameter of a layer. Names follow
// PyTorch's state_dict ("enc1.conv.weight", "enc1.conv.bias").
type Param struct {
	Name string
	Node *gorgonia.Node
}

// StateTensor is one named tensor of a layer's state: a parameter's value
// or a buffer (BatchNorm's running_mean, running_var).
type StateTensor struct {
	Name  string
	Value *tensor.Dense
}

// LayerOptions are what every layer constructor shares. The zero value
// means float32 parameters drawn from the package's shared random stream
// (rng.New(0), like PyTorch's default generator after manual_seed(0)).
// Constructors take it by pointer; nil means that zero value.
type LayerOptions struct {
	// Dtype is tensor.Float32 (the default) or tensor.Float64.
	Dtype tensor.Dtype
	// Rand draws the initial weights (rng.New(seed)); nil means the
	// shared stream.
	Rand *rng.Rand
}

var sharedRand = struct {
	sync.Mutex
	r *rng.Rand
}{r: rng.New(0)}

// rand is o.Rand; nil for a nil o.
func (o *LayerOptions) rand() *rng.Rand {
	if o == nil {
		return nil
	}
	return o.Rand
}

// dtype returns the parameters' dtype; a nil o means float32.
func (o *LayerOptions) dtype() (tensor.Dtype, error) {
	if o == nil {
		return tensor.Float32, nil
	}
	switch o.Dtype {
	case tensor.Dtype{}:
		return tensor.Float32, nil
	case tensor.Float32, tensor.Float64:
		return o.Dtype, nil
	}
	return o.Dtype, fmt.Errorf("%w: %v, want float32 or float64", ErrDtype, o.Dtype)
}

// uniform draws n values uniformly from [-bound, bound).
func (o *LayerOptions) uniform(n int, bound float64) []float64 {
	r := o.rand()
	if r == nil {
		sharedRand.Lock()
		defer sharedRand.Unlock()
		r = sharedRand.r
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = (2*r.Float64() - 1) * bound
	}
	return v
}

func filled(n int, x float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = x
	}
	return v
}

// newParam creates a named parameter node of the given shape holding vals.
func newParam(g *gorgonia.ExprGraph, dt tensor.Dtype, name string, vals []float64, shape ...int) *gorgonia.Node {
	var t *tensor.Dense
	if dt == tensor.Float64 {
		t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(vals))
	} else {
		v := make([]float32, len(vals))
		for i, x := range vals {
			v[i] = float32(x)
		}
		t = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	return gorgonia.NewTensor(g, dt, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name), gorgonia.WithValue(t))
}

func paramState(ps []Param) []StateTensor {
	var s []StateTensor
	for _, p := range ps {
		if d, ok := p.Node.Value().(*tensor.Dense); ok {
			s = append(s, StateTensor{Name: p.Name, Value: d})
		}
	}
	return s
}

// Nodes returns the nodes of ps, for gorgonia.Grad and the solvers.
func Nodes(ps []Param) gorgonia.Nodes {
	n := make(gorgonia.Nodes, len(ps))
	for i, p := range ps {
		n[i] = p.Node
	}
	return n
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// ConvConfig configures the Conv3d and ConvTranspose3d layers.
type ConvConfig struct {
	InChannels, OutChannels int
	// Kernel is (kD, kH, kW).
	Kernel [3]int
	ConvOptions
	// NoBias drops the bias (PyTorch bias=False).
	NoBias bool
}

// Conv3dLayer is a 3D convolution layer (torch.nn.Conv3d; the function
// Conv3d is its functional form) owning Weight (Cout, Cin/groups, kD, kH,
// kW) and Bias (Cout), initialised as torch.nn.Conv3d: kaiming_uniform with
// a = sqrt(5) for the weight, which is uniform in ±1/sqrt(fan_in), and
// uniform in ±1/sqrt(fan_in) for the bias, fan_in = Cin/groups*kD*kH*kW.
type Conv3dLayer struct {
	Name   string
	Config ConvConfig
	Weight *gorgonia.Node
	Bias   *gorgonia.Node // nil with NoBias
	p      convParams
}

// NewConv3d makes a Conv3dLayer in g; name prefixes its parameter names.
func NewConv3d(g *gorgonia.ExprGraph, name string, cfg ConvConfig, opt *LayerOptions) (*Conv3dLayer, error) {
	l := &Conv3dLayer{Name: name, Config: cfg}
	w, b, p, err := newConvParams(g, name, "Conv3d", cfg, false, opt)
	if err != nil {
		return nil, err
	}
	l.Weight, l.Bias, l.p = w, b, p
	return l, nil
}

func newConvParams(g *gorgonia.ExprGraph, name, kind string, cfg ConvConfig, transposed bool, opt *LayerOptions) (w, b *gorgonia.Node, p convParams, err error) {
	dt, err := opt.dtype()
	if err != nil {
		return nil, nil, p, fmt.Errorf("nn.%s %s: %w", kind, name, err)
	}
	p, err = cfg.ConvOptions.params(cfg.Kernel)
	if err != nil {
		return nil, nil, p, fmt.Errorf("nn.%s %s: %w", kind, name, err)
	}
	if cfg.InChannels < 1 || cfg.OutChannels < 1 || cfg.InChannels%p.groups != 0 || cfg.OutChannels%p.groups != 0 {
		return nil, nil, p, fmt.Errorf("%w: nn.%s %s: in %d, out %d channels, %d groups", ErrConfig, kind, name, cfg.InChannels, cfg.OutChannels, p.groups)
	}
	kvol := p.k[0] * p.k[1] * p.k[2]
	var shape []int
	var fanIn int
	if transposed {
		shape = []int{cfg.InChannels, cfg.OutChannels / p.groups, p.k[0], p.k[1], p.k[2]}
		fanIn = cfg.OutChannels / p.groups * kvol // PyTorch takes fan_in from weight dim 1
	} else {
		shape = []int{cfg.OutChannels, cfg.InChannels / p.groups, p.k[0], p.k[1], p.k[2]}
		fanIn = cfg.InChannels / p.groups * kvol
	}
	bound := 1 / math.Sqrt(float64(fanIn))
	w = newParam(g, dt, join(name, "weight"), opt.uniform(tensor.Shape(shape).TotalSize(), bound), shape...)
	if !cfg.NoBias {
		b = newParam(g, dt, join(name, "bias"), opt.uniform(cfg.OutChannels, bound), cfg.OutChannels)
	}
	return w, b, p, nil
}

// Forward returns the convolution of x (N, InChannels, D, H, W).
func (l *Conv3dLayer) Forward(x *gorgonia.Node) (*gorgonia.Node, error) {
	if err := checkChannels("Conv3d", l.Name, x, l.Config.InChannels); err != nil {
		return nil, err
	}
	y, err := Conv3d(x, l.Weight, l.Bias, &l.Config.ConvOptions)
	if err != nil {
		return nil, fmt.Errorf("nn.Conv3d %s: %w", l.Name, err)
	}
	return y, nil
}

// Params lists weight and bias.
func (l *Conv3dLayer) Params() []Param { return weightBias(l.Name, l.Weight, l.Bias) }

// State lists the parameters' values.
func (l *Conv3dLayer) State() []StateTensor { return paramState(l.Params()) }

func weightBias(name string, w, b *gorgonia.Node) []Param {
	ps := []Param{{join(name, "weight"), w}}
	if b != nil {
		ps = append(ps, Param{join(name, "bias"), b})
	}
	return ps
}

func checkChannels(kind, name string, x *gorgonia.Node, c int) error {
	if x == nil {
		return fmt.Errorf("%w: nn.%s %s: nil input", ErrConfig, kind, name)
	}
	s := x.Shape()
	if s.Dims() != 5 || s[1] != c {
		return fmt.Errorf("%w: nn.%s %s: input shape %v, want (N, %d, D, H, W)", ErrShape, kind, name, s, c)
	}
	return nil
}

// ConvTranspose3dLayer is a transposed convolution layer owning Weight (Cin,
// Cout/groups, kD, kH, kW) and Bias (Cout), initialised as
// torch.nn.ConvTranspose3d (uniform in ±1/sqrt(fan_in) with
// fan_in = Cout/groups*kD*kH*kW).
type ConvTranspose3dLayer struct {
	Name   string
	Config ConvConfig
	Weight *gorgonia.Node
	Bias   *gorgonia.Node
}

// NewConvTranspose3d makes a ConvTranspose3dLayer in g.
func NewConvTranspose3d(g *gorgonia.ExprGraph, name string, cfg ConvConfig, opt *LayerOptions) (*ConvTranspose3dLayer, error) {
	w, b, _, err := newConvParams(g, name, "ConvTranspose3d", cfg, true, opt)
	if err != nil {
		return nil, err
	}
	return &ConvTranspose3dLayer{Name: name, Config: cfg, Weight: w, Bias: b}, nil
}

// Forward returns the transposed convolution of x (N, InChannels, D, H, W).
func (l *ConvTranspose3dLayer) Forward(x *gorgonia.Node) (*gorgonia.Node, error) {
	if err := checkChannels("ConvTranspose3d", l.Name, x, l.Config.InChannels); err != nil {
		return nil, err
	}
	y, err := ConvTranspose3d(x, l.Weight, l.Bias, &l.Config.ConvOptions)
	if err != nil {
		return nil, fmt.Errorf("nn.ConvTranspose3d %s: %w", l.Name, err)
	}
	return y, nil
}

// Params lists weight and bias.
func (l *ConvTranspose3dLayer) Params() []Param { return weightBias(l.Name, l.Weight, l.Bias) }

// State lists the parameters' values.
func (l *ConvTranspose3dLayer) State() []StateTensor { return paramState(l.Params()) }

// NormKind names a normalisation layer, as MONAI's Norm (INSTANCE, BATCH,
// GROUP, LAYER) does. It is the module's one normalisation kind:
// models.Config.Norm takes it too. The name NormKind, not Norm, because Norm
// is the layer.
type NormKind string

// Normalisation kinds.
const (
	NormInstance      NormKind = "instance"      // InstanceNorm3d
	NormBatch         NormKind = "batch"         // BatchNorm3d
	NormGroup         NormKind = "group"         // GroupNorm
	NormLayer         NormKind = "layer"         // LayerNorm over the last axis (channels-last)
	NormLayerChannels NormKind = "layerchannels" // LayerNorm over axis 1 of (N, C, D, H, W)
	NormNone          NormKind = "none"          // no normalisation (models only; no layer)
)

// NormKinds lists every kind.
var NormKinds = []NormKind{NormInstance, NormBatch, NormGroup, NormLayer, NormLayerChannels, NormNone}

// Layer returns the PyTorch class the kind builds ("InstanceNorm3d",
// "BatchNorm3d", "GroupNorm", "LayerNorm", "LayerNormChannels"; "" for
// NormNone or an unknown kind).
func (k NormKind) Layer() string {
	switch k {
	case NormInstance:
		return "InstanceNorm3d"
	case NormBatch:
		return "BatchNorm3d"
	case NormGroup:
		return "GroupNorm"
	case NormLayer:
		return "LayerNorm"
	case NormLayerChannels:
		return "LayerNormChannels"
	}
	return ""
}

// NormConfig configures the normalisation layers.
type NormConfig struct {
	// Channels is C (InstanceNorm, BatchNorm, GroupNorm, LayerNorm's
	// normalised size).
	Channels int
	// Groups is GroupNorm's group count.
	Groups int
	// Affine adds the learnable Weight (ones) and Bias (zeros). PyTorch's
	// InstanceNorm3d defaults to no affine; BatchNorm, GroupNorm and
	// LayerNorm to affine, so set it for those to match.
	Affine bool
	// Eps is the variance epsilon; 0 means DefaultEps.
	Eps float64
	// Momentum is BatchNorm's running-statistics momentum; 0 means 0.1.
	Momentum float64
}

// Norm is a normalisation layer: InstanceNorm3d, BatchNorm3d, GroupNorm,
// LayerNorm (channels-last, over the last axis) or LayerNormChannels (over
// axis 1 of NCDHW). Weight and Bias are nil without Affine.
type Norm struct {
	Name   string
	Kind   NormKind
	Config NormConfig
	Weight *gorgonia.Node
	Bias   *gorgonia.Node
	// Stats holds BatchNorm's running statistics and training flag.
	Stats *BatchNormStats
}

// NewInstanceNorm3d makes an InstanceNorm3d layer (torch.nn.InstanceNorm3d,
// track_running_stats off).
func NewInstanceNorm3d(g *gorgonia.ExprGraph, name string, cfg NormConfig, opt *LayerOptions) (*Norm, error) {
	return newNorm(g, name, NormInstance, cfg, opt)
}

// NewBatchNorm3d makes a BatchNorm3d layer in training mode; set
// l.Stats.Training = false for evaluation with the running statistics.
func NewBatchNorm3d(g *gorgonia.ExprGraph, name string, cfg NormConfig, opt *LayerOptions) (*Norm, error) {
	return newNorm(g, name, NormBatch, cfg, opt)
}

// NewGroupNorm makes a GroupNorm layer with cfg.Groups groups.
func NewGroupNorm(g *gorgonia.ExprGraph, name string, cfg NormConfig, opt *LayerOptions) (*Norm, error) {
	return newNorm(g, name, NormGroup, cfg, opt)
}

// NewLayerNorm makes a LayerNorm over the last axis (channels-last data,
// torch.nn.LayerNorm(C)).
func NewLayerNorm(g *gorgonia.ExprGraph, name string, cfg NormConfig, opt *LayerOptions) (*Norm, error) {
	return newNorm(g, name, NormLayer, cfg, opt)
}

// NewLayerNormChannels makes a LayerNorm over axis 1 of (N, C, D, H, W).
func NewLayerNormChannels(g *gorgonia.ExprGraph, name string, cfg NormConfig, opt *LayerOptions) (*Norm, error) {
	return newNorm(g, name, NormLayerChannels, cfg, opt)
}

func newNorm(g *gorgonia.ExprGraph, name string, kind NormKind, cfg NormConfig, opt *LayerOptions) (*Norm, error) {
	dt, err := opt.dtype()
	if err != nil {
		return nil, fmt.Errorf("nn.%s %s: %w", kind.Layer(), name, err)
	}
	if cfg.Channels < 1 || (kind == NormGroup && (cfg.Groups < 1 || cfg.Channels%cfg.Groups != 0)) {
		return nil, fmt.Errorf("%w: nn.%s %s: %d channels, %d groups", ErrConfig, kind.Layer(), name, cfg.Channels, cfg.Groups)
	}
	l := &Norm{Name: name, Kind: kind, Config: cfg}
	if cfg.Affine {
		l.Weight = newParam(g, dt, join(name, "weight"), filled(cfg.Channels, 1), cfg.Channels)
		l.Bias = newParam(g, dt, join(name, "bias"), filled(cfg.Channels, 0), cfg.Channels)
	}
	if kind == NormBatch {
		l.Stats = NewBatchNormStats(cfg.Channels)
		if cfg.Momentum != 0 {
			l.Stats.Momentum = cfg.Momentum
		}
	}
	return l, nil
}

// Forward normalises x: (N, C, D, H, W) for the 3D norms and
// LayerNormChannels, (..., C) for LayerNorm.
func (l *Norm) Forward(x *gorgonia.Node) (*gorgonia.Node, error) {
	var y *gorgonia.Node
	var err error
	switch l.Kind {
	case NormLayer:
		if x == nil || x.Dims() < 1 || x.Shape()[x.Dims()-1] != l.Config.Channels {
			var s tensor.Shape
			if x != nil {
				s = x.Shape()
			}
			return nil, fmt.Errorf("%w: nn.LayerNorm %s: input shape %v, want (..., %d)", ErrShape, l.Name, s, l.Config.Channels)
		}
		y, err = LayerNorm(x, l.Weight, l.Bias, l.Config.Eps)
	default:
		if err := checkChannels(l.Kind.Layer(), l.Name, x, l.Config.Channels); err != nil {
			return nil, err
		}
		switch l.Kind {
		case NormInstance:
			y, err = InstanceNorm3d(x, l.Weight, l.Bias, l.Config.Eps)
		case NormBatch:
			y, err = BatchNorm3d(x, l.Weight, l.Bias, l.Stats, l.Config.Eps)
		case NormGroup:
			y, err = GroupNorm(x, l.Config.Groups, l.Weight, l.Bias, l.Config.Eps)
		case NormLayerChannels:
			y, err = LayerNormChannels(x, l.Weight, l.Bias, l.Config.Eps)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("nn.%s %s: %w", l.Kind.Layer(), l.Name, err)
	}
	return y, nil
}

// Params lists weight and bias (none without Affine).
func (l *Norm) Params() []Param {
	if l.Weight == nil {
		return nil
	}
	return weightBias(l.Name, l.Weight, l.Bias)
}

// State lists the parameters and, for BatchNorm, running_mean and
// running_var (float64 views of the statistics, updated in place by Load).
func (l *Norm) State() []StateTensor {
	s := paramState(l.Params())
	if l.Stats != nil {
		c := len(l.Stats.Mean)
		s = append(s,
			StateTensor{join(l.Name, "running_mean"), tensor.New(tensor.WithShape(c), tensor.WithBacking(l.Stats.Mean))},
			StateTensor{join(l.Name, "running_var"), tensor.New(tensor.WithShape(c), tensor.WithBacking(l.Stats.Var))})
	}
	return s
}

// Linear is y = x W^T + b over the last axis of x, owning Weight (out, in)
// and Bias (out), initialised as torch.nn.Linear (uniform in
// ±1/sqrt(in)).
type Linear struct {
	Name        string
	In, Out     int
	Weight      *gorgonia.Node
	Bias        *gorgonia.Node
	withoutBias bool
}

// NewLinear makes a Linear layer from in to out features; noBias drops the bias.
func NewLinear(g *gorgonia.ExprGraph, name string, in, out int, noBias bool, opt *LayerOptions) (*Linear, error) {
	dt, err := opt.dtype()
	if err != nil {
		return nil, fmt.Errorf("nn.Linear %s: %w", name, err)
	}
	if in < 1 || out < 1 {
		return nil, fmt.Errorf("%w: nn.Linear %s: %d in, %d out features", ErrConfig, name, in, out)
	}
	bound := 1 / math.Sqrt(float64(in))
	l := &Linear{Name: name, In: in, Out: out, withoutBias: noBias}
	l.Weight = newParam(g, dt, join(name, "weight"), opt.uniform(in*out, bound), out, in)
	if !noBias {
		l.Bias = newParam(g, dt, join(name, "bias"), opt.uniform(out, bound), out)
	}
	return l, nil
}

// Forward maps x (..., In) to (..., Out).
func (l *Linear) Forward(x *gorgonia.Node) (*gorgonia.Node, error) {
	if x == nil || x.Dims() < 1 || x.Shape()[x.Dims()-1] != l.In {
		var s tensor.Shape
		if x != nil {
			s = x.Shape()
		}
		return nil, fmt.Errorf("%w: nn.Linear %s: input shape %v, want (..., %d)", ErrShape, l.Name, s, l.In)
	}
	var y *gorgonia.Node
	var err error
	if l.Bias != nil {
		y, err = apply(&linearKernel{bias: true}, x, l.Weight, l.Bias)
	} else {
		y, err = apply(&linearKernel{}, x, l.Weight)
	}
	if err != nil {
		return nil, fmt.Errorf("nn.Linear %s: %w", l.Name, err)
	}
	return y, nil
}

// Params lists weight and bias.
func (l *Linear) Params() []Param { return weightBias(l.Name, l.Weight, l.Bias) }

// State lists the parameters' values.
func (l *Linear) State() []StateTensor { return paramState(l.Params()) }

// linearKernel: inputs (x (..., in), w (out, in)[, b (out)]).
type linearKernel struct{ bias bool }

func (k *linearKernel) String() string { return fmt.Sprintf("Linear(bias=%v)", k.bias) }

func (k *linearKernel) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("%w: %s: %d inputs", ErrConfig, k, len(in))
	}
	x, w := in[0], in[1]
	if x.Dims() < 1 || w.Dims() != 2 || x[x.Dims()-1] != w[1] {
		return nil, fmt.Errorf("%w: Linear: input shape %v, weight %v", ErrShape, x, w)
	}
	if k.bias && (len(in) < 3 || in[2].Dims() != 1 || in[2][0] != w[0]) {
		return nil, fmt.Errorf("%w: Linear: bias for weight %v", ErrShape, w)
	}
	out := x.Clone()
	out[out.Dims()-1] = w[0]
	return out, nil
}

func (k *linearKernel) forward(out *tensor.Dense, in []*tensor.Dense) error {
	ws := in[1].Shape()
	m := in[0].Shape().TotalSize() / ws[1]
	return byDtype(out,
		func() error { linearForward(k, m, ws[0], ws[1], data[float32](out), in); return nil },
		func() error { linearForward(k, m, ws[0], ws[1], data[float64](out), in); return nil })
}

func linearForward[T float](k *linearKernel, m, o, i int, y []T, in []*tensor.Dense) {
	x, w := data[T](in[0]), data[T](in[1])
	gemm(false, true, m, o, i, x, i, w, i, 0, y, o)
	if k.bias {
		b := data[T](in[2])
		for r := 0; r < m; r++ {
			row := y[r*o : (r+1)*o]
			for j := range row {
				row[j] += b[j]
			}
		}
	}
}

func (k *linearKernel) grad(i int) kernel {
	if i > 2 || (i == 2 && !k.bias) {
		return nil
	}
	return &linearGradKernel{fwd: k, wrt: i}
}

type linearGradKernel struct {
	fwd *linearKernel
	wrt int
}

func (k *linearGradKernel) String() string { return fmt.Sprintf("%sGrad%d", k.fwd, k.wrt) }

func (k *linearGradKernel) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	return gradShape(k, k.fwd, in, len(in)-2, k.wrt)
}

func (k *linearGradKernel) forward(out *tensor.Dense, in []*tensor.Dense) error {
	ws := in[1].Shape()
	m := in[0].Shape().TotalSize() / ws[1]
	dy := in[len(in)-1]
	return byDtype(out,
		func() error { linearBackward(k.wrt, m, ws[0], ws[1], data[float32](out), in[0], in[1], dy); return nil },
		func() error { linearBackward(k.wrt, m, ws[0], ws[1], data[float64](out), in[0], in[1], dy); return nil })
}

func linearBackward[T float](wrt, m, o, i int, out []T, xt, wt, dyt *tensor.Dense) {
	x, w, dy := data[T](xt), data[T](wt), data[T](dyt)
	switch wrt {
	case 0:
		gemm(false, false, m, i, o, dy, o, w, i, 0, out, i)
	case 1:
		gemm(true, false, o, i, m, dy, o, x, i, 0, out, i)
	case 2:
		clear(out)
		for r := 0; r < m; r++ {
			for j, v := range dy[r*o : (r+1)*o] {
				out[j] += v
			}
		}
	}
}

func (k *linearGradKernel) grad(int) kernel { return nil }
