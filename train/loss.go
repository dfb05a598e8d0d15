package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"strings"
	"sync"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/unetlab/unetlab/models/nn"
)

// ErrShape is returned (wrapped) when logits and targets do not fit each
// other; the message names both shapes.
var ErrShape = errors.New("train: shape mismatch")

// ErrOptions is returned (wrapped) for invalid options; the message names the
// field and the value at fault.
var ErrOptions = errors.New("train: invalid options")

// LossKind selects the loss function.
type LossKind string

// Loss kinds. The zero value "" means DiceCE.
const (
	// DiceCE is LambdaDice x Dice + LambdaCE x cross-entropy, MONAI's
	// DiceCELoss(softmax=True, to_onehot_y=True).
	DiceCE LossKind = "dicece"
	// DiceOnly is the soft Dice loss alone (MONAI's DiceLoss(softmax=True)).
	DiceOnly LossKind = "dice"
	// CEOnly is the cross-entropy alone (torch.nn.CrossEntropyLoss).
	CEOnly LossKind = "ce"
)

// LossOptions configures a loss. The zero value is the paper's loss: Dice +
// cross-entropy with weights 1 and 1, smoothing 1e-5 in numerator and
// denominator, every class (background included) in the Dice, averaged over
// the batch and the classes, applied to logits. Loss and LossValue take it by
// pointer, nil meaning that zero value; Options.Loss holds it by value.
//
// The fields follow MONAI's DiceCELoss: LambdaDice and LambdaCE are its
// lambda_dice and lambda_ce, SmoothNr and SmoothDr its smooth_nr and
// smooth_dr, IncludeBackground... is ExcludeBackground here so that the zero
// value keeps MONAI's default include_background=True.
type LossOptions struct {
	Kind LossKind
	// LambdaDice and LambdaCE weigh the two terms of DiceCE (0 means 1;
	// negative is refused).
	LambdaDice, LambdaCE float64
	// SmoothNr and SmoothDr are added to the Dice numerator and
	// denominator (0 means 1e-5; negative is refused).
	SmoothNr, SmoothDr float64
	// ExcludeBackground leaves class 0 out of the Dice average (MONAI's
	// include_background=False); the cross-entropy always sees every class.
	ExcludeBackground bool
	// Softmaxed applies the loss to softmax(logits) instead of the logits,
	// as the authors' code did: the Dice then sees the probabilities and
	// the cross-entropy a second softmax (MONAI's DiceCELoss(softmax=False)
	// given softmax outputs).
	Softmaxed bool
}

// String returns the kind's name ("dicece" for the zero value).
func (k LossKind) String() string {
	if k == "" {
		return string(DiceCE)
	}
	return string(k)
}

// withDefaults returns o with every zero field replaced by its default and
// checks it; errors name the field as prefix+name (prefix "Loss." inside
// Options).
func (o LossOptions) withDefaults(prefix ...string) (LossOptions, error) {
	pre := strings.Join(prefix, "")
	if o.Kind == "" {
		o.Kind = DiceCE
	}
	switch o.Kind {
	case DiceCE, DiceOnly, CEOnly:
	default:
		return o, badOption(pre+"Kind", string(o.Kind), fmt.Sprintf("must be %q, %q or %q", DiceCE, DiceOnly, CEOnly))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"LambdaDice", o.LambdaDice}, {"LambdaCE", o.LambdaCE}, {"SmoothNr", o.SmoothNr}, {"SmoothDr", o.SmoothDr}} {
		if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return o, badOption(pre+f.name, f.v, "must be finite and >= 0")
		}
	}
	if o.LambdaDice == 0 {
		o.LambdaDice = 1
	}
	if o.LambdaCE == 0 {
		o.LambdaCE = 1
	}
	if o.SmoothNr == 0 {
		o.SmoothNr = 1e-5
	}
	if o.SmoothDr == 0 {
		o.SmoothDr = 1e-5
	}
	switch o.Kind {
	case DiceOnly:
		o.LambdaCE = 0
	case CEOnly:
		o.LambdaDice = 0
	}
	return o, nil
}

// UnmarshalJSON reads LossOptions, also from run records written before the
// fields took MONAI's names (DiceWeight, CEWeight and Smooth, which set both
// SmoothNr and SmoothDr).
func (o *LossOptions) UnmarshalJSON(b []byte) error {
	type plain LossOptions
	var v struct {
		plain
		DiceWeight, CEWeight, Smooth *float64
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*o = LossOptions(v.plain)
	if v.DiceWeight != nil {
		o.LambdaDice = *v.DiceWeight
	}
	if v.CEWeight != nil {
		o.LambdaCE = *v.CEWeight
	}
	if v.Smooth != nil {
		o.SmoothNr, o.SmoothDr = *v.Smooth, *v.Smooth
	}
	return nil
}

// resolveLoss copies *opt (nil: the zero value) and fills in the defaults.
func resolveLoss(opt *LossOptions) (LossOptions, error) {
	var o LossOptions
	if opt != nil {
		o = *opt
	}
	return o.withDefaults()
}

// Loss adds the loss of logits (N, C, D, H, W) against target to the graph
// and returns the scalar loss node. target holds class values as (N, 1, D, H,
// W) or per-class probabilities (one-hot) as (N, C, D, H, W), in the logits'
// dtype (float32 or float64); the gradient flows to logits only. Any number
// of spatial axes (one or more) is accepted.
//
// With p = softmax(logits) over C, t the one-hot target, s the smoothing, the
// Dice term is the mean over samples n and classes c of
// 1 - (2 sum_v p t + s) / (sum_v p + sum_v t + s), and the cross-entropy the
// mean over samples and voxels of -sum_c t log p.
//
// opt may be nil: the defaults (DiceCE, weights 1 and 1, smoothing 1e-5);
// Loss does not change *opt.
func Loss(logits, target *gorgonia.Node, opt *LossOptions) (*gorgonia.Node, error) {
	o, err := resolveLoss(opt)
	if err != nil {
		return nil, err
	}
	if logits == nil || target == nil {
		return nil, fmt.Errorf("%w: nil logits or target node", ErrShape)
	}
	if _, err := checkLossShapes(logits.Shape(), target.Shape()); err != nil {
		return nil, err
	}
	if logits.Dtype() != target.Dtype() {
		return nil, fmt.Errorf("%w: logits are %v, target %v", ErrShape, logits.Dtype(), target.Dtype())
	}
	if dt := logits.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("%w: logits are %v, want float32 or float64", ErrShape, dt)
	}
	return gorgonia.ApplyOp(&lossOp{opt: o, dims: logits.Dims()}, logits, target)
}

// lossShape is (N, C, V) plus the target's channel count.
type lossShape struct{ n, c, v, tc int }

func checkLossShapes(x, t tensor.Shape) (lossShape, error) {
	if x.Dims() < 3 {
		return lossShape{}, fmt.Errorf("%w: logits %v, want (N, C, D, H, W)", ErrShape, x)
	}
	if t.Dims() != x.Dims() || (t[1] != 1 && t[1] != x[1]) || t[0] != x[0] {
		return lossShape{}, fmt.Errorf("%w: target %v, want (N, 1, ...) or %v", ErrShape, t, x)
	}
	v := 1
	for i := 2; i < x.Dims(); i++ {
		if t[i] != x[i] {
			return lossShape{}, fmt.Errorf("%w: target %v, want (N, 1, ...) or %v", ErrShape, t, x)
		}
		v *= x[i]
	}
	if x[1] < 1 || v < 1 || x[0] < 1 {
		return lossShape{}, fmt.Errorf("%w: logits %v are empty", ErrShape, x)
	}
	return lossShape{n: x[0], c: x[1], v: v, tc: t[1]}, nil
}

// LossValue computes the loss of logits (N, C, ...) against target (N, 1,
// ...) or (N, C, ...), given as row-major data with their shapes, without a
// graph; validation uses it. opt may be nil: the defaults, as for Loss.
func LossValue(logits []float32, shape []int, target []float32, targetShape []int, opt *LossOptions) (float64, error) {
	o, err := resolveLoss(opt)
	if err != nil {
		return 0, err
	}
	s, err := checkLossShapes(tensor.Shape(shape), tensor.Shape(targetShape))
	if err != nil {
		return 0, err
	}
	if len(logits) != s.n*s.c*s.v || len(target) != s.n*s.tc*s.v {
		return 0, fmt.Errorf("%w: %d logits and %d targets for shapes %v and %v", ErrShape, len(logits), len(target), shape, targetShape)
	}
	return lossCompute(logits, target, s, o, nil, 0)
}

type float interface{ ~float32 | ~float64 }

// lossBufs are lossCompute's five work slices of one sample's size, kept
// in a pool so that a training step does not allocate them anew (2.5 MB
// per call at 2 x 32^3).
type lossBufs struct{ s [5][]float64 }

var lossBufPool sync.Pool

// getLossBufs returns work slices of length n each. Their contents are
// undefined.
func getLossBufs(n int) *lossBufs {
	b, _ := lossBufPool.Get().(*lossBufs)
	if b == nil {
		b = &lossBufs{}
	}
	for i := range b.s {
		if cap(b.s[i]) < n {
			b.s[i] = make([]float64, n)
		}
		b.s[i] = b.s[i][:n]
	}
	return b
}

// lossCompute returns the loss and, when dx is not nil, writes scale times its
// gradient with respect to x into dx. Sums run in float64.
func lossCompute[T float](x, t []T, s lossShape, o LossOptions, dx []T, scale float64) (float64, error) {
	n, c, v := s.n, s.c, s.v
	bufs := getLossBufs(c * v)
	defer lossBufPool.Put(bufs)
	a := bufs.s[0]  // the loss's input: x or softmax(x)
	pd := bufs.s[1] // probabilities the Dice sees
	pc := bufs.s[2] // softmax(a), what the cross-entropy sees
	tt := bufs.s[3] // one-hot target
	var ga []float64
	if dx != nil {
		ga = bufs.s[4]
		clear(ga)
	}
	c0 := 0
	if o.ExcludeBackground && c > 1 {
		c0 = 1
	}
	diceCount := float64(n * (c - c0))
	var diceSum, ceSum float64
	for b := range n {
		xs := x[b*c*v : (b+1)*c*v]
		for i, val := range xs {
			a[i] = float64(val)
		}
		if o.Softmaxed {
			softmaxChannels(a, c, v)
		}
		copy(pc, a)
		softmaxChannels(pc, c, v)
		if o.Softmaxed {
			copy(pd, a)
		} else {
			copy(pd, pc)
		}
		// One-hot target.
		if s.tc == 1 {
			clear(tt)
			ts := t[b*v : (b+1)*v]
			for i, val := range ts {
				k := int(val)
				if float64(k) != float64(val) || k < 0 || k >= c {
					return 0, fmt.Errorf("%w: target value %g at sample %d voxel %d, want a class in 0..%d", ErrShape, float64(val), b, i, c-1)
				}
				tt[k*v+i] = 1
			}
		} else {
			for i, val := range t[b*c*v : (b+1)*c*v] {
				tt[i] = float64(val)
			}
		}
		if ga != nil {
			clear(ga)
		}
		if o.LambdaDice != 0 && o.Kind != CEOnly {
			for k := c0; k < c; k++ {
				var inter, sp, st float64
				pk, tk := pd[k*v:(k+1)*v], tt[k*v:(k+1)*v]
				for i := range v {
					inter += pk[i] * tk[i]
					sp += pk[i]
					st += tk[i]
				}
				num := 2*inter + o.SmoothNr
				den := sp + st + o.SmoothDr
				diceSum += 1 - num/den
				if ga != nil {
					f := -o.LambdaDice / diceCount / (den * den)
					gk := ga[k*v : (k+1)*v]
					for i := range v {
						gk[i] = f * (2*tk[i]*den - num)
					}
				}
			}
			if ga != nil && !o.Softmaxed {
				// Dice's gradient is with respect to pd = softmax(a).
				softmaxBackward(ga, pd, c, v)
			}
		}
		if o.LambdaCE != 0 && o.Kind != DiceOnly {
			f := o.LambdaCE / float64(n*v)
			for i := range v {
				var tsum float64
				for k := range c {
					tk := tt[k*v+i]
					if tk != 0 {
						ceSum -= tk * math.Log(pc[k*v+i])
					}
					tsum += tk
				}
				if ga != nil {
					for k := range c {
						ga[k*v+i] += f * (pc[k*v+i]*tsum - tt[k*v+i])
					}
				}
			}
		}
		if ga != nil {
			if o.Softmaxed {
				// a = softmax(x): chain through the first softmax.
				softmaxBackward(ga, a, c, v)
			}
			d := dx[b*c*v : (b+1)*c*v]
			for i := range d {
				d[i] = T(scale * ga[i])
			}
		}
	}
	var loss float64
	if o.Kind != CEOnly {
		loss += o.LambdaDice * diceSum / diceCount
	}
	if o.Kind != DiceOnly {
		loss += o.LambdaCE * ceSum / float64(n*v)
	}
	return loss, nil
}

// softmaxChannels replaces a (C, V) by its softmax over C at each voxel.
func softmaxChannels(a []float64, c, v int) {
	for i := range v {
		m := math.Inf(-1)
		for k := range c {
			m = max(m, a[k*v+i])
		}
		var sum float64
		for k := range c {
			e := math.Exp(a[k*v+i] - m)
			a[k*v+i] = e
			sum += e
		}
		for k := range c {
			a[k*v+i] /= sum
		}
	}
}

// softmaxBackward turns g, a gradient with respect to p = softmax(z) (C, V),
// into the gradient with respect to z: p (g - sum_k p_k g_k).
func softmaxBackward(g, p []float64, c, v int) {
	for i := range v {
		var dot float64
		for k := range c {
			dot += p[k*v+i] * g[k*v+i]
		}
		for k := range c {
			g[k*v+i] = p[k*v+i] * (g[k*v+i] - dot)
		}
	}
}

// lossOp is the gorgonia operation of Loss: (logits, target) -> scalar.
type lossOp struct {
	opt  LossOptions
	dims int
}

func (op *lossOp) Arity() int { return 2 }

func (op *lossOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := gorgonia.TensorType{Dims: op.dims, Of: a}
	return hm.NewFnType(t, t, a)
}

func (op *lossOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (op *lossOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 2 {
		return nil, fmt.Errorf("%w: %s: %d inputs, want 2", ErrShape, op, len(vals))
	}
	x, t := vals[0], vals[1]
	s, err := checkLossShapes(x.Shape(), t.Shape())
	if err != nil {
		return nil, err
	}
	switch xd := x.Data().(type) {
	case []float32:
		td, ok := t.Data().([]float32)
		if !ok {
			return nil, fmt.Errorf("%w: target is %v, logits float32", ErrShape, t.Dtype())
		}
		l, err := lossCompute(xd, td, s, op.opt, nil, 0)
		if err != nil {
			return nil, err
		}
		return gorgonia.NewF32(float32(l)), nil
	case []float64:
		td, ok := t.Data().([]float64)
		if !ok {
			return nil, fmt.Errorf("%w: target is %v, logits float64", ErrShape, t.Dtype())
		}
		l, err := lossCompute(xd, td, s, op.opt, nil, 0)
		if err != nil {
			return nil, err
		}
		return gorgonia.NewF64(l), nil
	}
	return nil, fmt.Errorf("%w: logits of type %T", ErrShape, x.Data())
}

func (op *lossOp) ReturnsPtr() bool     { return false }
func (op *lossOp) CallsExtern() bool    { return false }
func (op *lossOp) OverwritesInput() int { return -1 }

func (op *lossOp) String() string {
	o := op.opt
	return fmt.Sprintf("train.Loss{%s,%g,%g,%g,%g,%t,%t}", o.Kind, o.LambdaDice, o.LambdaCE, o.SmoothNr, o.SmoothDr, o.ExcludeBackground, o.Softmaxed)
}

func (op *lossOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s/%d", op, op.dims) }

func (op *lossOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op *lossOp) DiffWRT(n int) []bool { return []bool{true, false}[:n] }

func (op *lossOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != 2 {
		return nil, fmt.Errorf("%w: %s: SymDiff with %d inputs", ErrShape, op, len(inputs))
	}
	g, err := gorgonia.ApplyOp(&lossGradOp{loss: op}, inputs[0], inputs[1], grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{g, nil}, nil
}

// lossGradOp computes dLoss/dlogits: (logits, target, dOut) -> logits' shape.
type lossGradOp struct {
	loss  *lossOp
	cache *tensor.Dense
}

func (op *lossGradOp) Arity() int { return 3 }

func (op *lossGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := gorgonia.TensorType{Dims: op.loss.dims, Of: a}
	return hm.NewFnType(t, t, a, t)
}

func (op *lossGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	if len(in) < 1 {
		return nil, fmt.Errorf("%w: %s: no inputs", ErrShape, op)
	}
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("%w: %s: logits have no known shape", ErrShape, op)
	}
	return s.Clone(), nil
}

// scalarOf reads the loss gradient or a loss value (nn.ScalarValue with
// this package's error).
func scalarOf(v gorgonia.Value) (float64, error) {
	x, err := nn.ScalarValue(v)
	if err != nil {
		return 0, fmt.Errorf("%w: loss: %w", ErrShape, err)
	}
	return x, nil
}

func (op *lossGradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 3 {
		return nil, fmt.Errorf("%w: %s: %d inputs, want 3", ErrShape, op, len(vals))
	}
	x, t := vals[0], vals[1]
	s, err := checkLossShapes(x.Shape(), t.Shape())
	if err != nil {
		return nil, err
	}
	scale, err := scalarOf(vals[2])
	if err != nil {
		return nil, err
	}
	out := op.cache
	if out == nil || out.Dtype() != x.Dtype() || !out.Shape().Eq(x.Shape()) {
		out = tensor.New(tensor.Of(x.Dtype()), tensor.WithShape(x.Shape().Clone()...))
		op.cache = out
	}
	switch xd := x.Data().(type) {
	case []float32:
		td, ok := t.Data().([]float32)
		if !ok {
			return nil, fmt.Errorf("%w: target is %v, logits float32", ErrShape, t.Dtype())
		}
		_, err = lossCompute(xd, td, s, op.loss.opt, out.Data().([]float32), scale)
	case []float64:
		td, ok := t.Data().([]float64)
		if !ok {
			return nil, fmt.Errorf("%w: target is %v, logits float64", ErrShape, t.Dtype())
		}
		_, err = lossCompute(xd, td, s, op.loss.opt, out.Data().([]float64), scale)
	default:
		err = fmt.Errorf("%w: logits of type %T", ErrShape, x.Data())
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (op *lossGradOp) ReturnsPtr() bool     { return false }
func (op *lossGradOp) CallsExtern() bool    { return false }
func (op *lossGradOp) OverwritesInput() int { return -1 }
func (op *lossGradOp) String() string       { return "grad(" + op.loss.String() + ")" }

func (op *lossGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s/%d", op, op.loss.dims) }

func (op *lossGradOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
