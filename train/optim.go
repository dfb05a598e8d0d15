package train

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/unetlab/unetlab/models/nn"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// AdamOptions configures Adam. The zero value is PyTorch's torch.optim.Adam
// defaults with the paper's weight decay: betas (0.9, 0.999), eps 1e-8,
// weight decay 1e-7 added to the gradient (L2). NewAdam takes it by pointer,
// nil meaning that zero value; Options.Adam holds it by value.
type AdamOptions struct {
	Beta1, Beta2 float64 // in [0, 1); 0 means 0.9 and 0.999
	Eps          float64 // >= 0; 0 means 1e-8
	// WeightDecay is the L2 coefficient (0 means 1e-7, the paper's;
	// negative means none).
	WeightDecay float64
	// Decoupled applies the weight decay as AdamW does (p -= lr*wd*p before
	// the update) instead of adding wd*p to the gradient.
	Decoupled bool
}

// withDefaults returns o with every zero field replaced by its default and
// checks it; errors name the field as prefix+name (prefix "Adam." inside
// Options).
func (o AdamOptions) withDefaults(prefix ...string) (AdamOptions, error) {
	pre := strings.Join(prefix, "")
	for _, f := range []struct {
		name string
		v    float64
	}{{"Beta1", o.Beta1}, {"Beta2", o.Beta2}} {
		if f.v < 0 || f.v >= 1 || math.IsNaN(f.v) {
			return o, badOption(pre+f.name, f.v, "must be in [0, 1)")
		}
	}
	if o.Eps < 0 || math.IsNaN(o.Eps) || math.IsInf(o.Eps, 0) {
		return o, badOption(pre+"Eps", o.Eps, "must be finite and >= 0")
	}
	if math.IsNaN(o.WeightDecay) || math.IsInf(o.WeightDecay, 0) {
		return o, badOption(pre+"WeightDecay", o.WeightDecay, "must be finite")
	}
	if o.Beta1 == 0 {
		o.Beta1 = 0.9
	}
	if o.Beta2 == 0 {
		o.Beta2 = 0.999
	}
	if o.Eps == 0 {
		o.Eps = 1e-8
	}
	switch {
	case o.WeightDecay == 0:
		o.WeightDecay = 1e-7
	case o.WeightDecay < 0:
		o.WeightDecay = 0
	}
	return o, nil
}

// Adam is the Adam optimiser over a model's parameters, computing as
// torch.optim.Adam (or AdamW with Decoupled) does: the moments have the
// parameters' dtype, each update is computed in float64. Its state (moments,
// step count, learning rate) is saved in checkpoints.
type Adam struct {
	Options AdamOptions
	// LR is the learning rate of the next step; schedulers change it.
	LR     float64
	params []nn.Param
	m, v   []*tensor.Dense // first and second moments, one per parameter
	step   int64
	// grad returns parameter i's gradient; nil means its node's Grad.
	grad func(i int) (gorgonia.Value, error)
}

// NewAdam returns Adam over params with learning rate lr. opt may be nil:
// the defaults (AdamOptions' zero value); NewAdam does not change *opt.
func NewAdam(params []nn.Param, lr float64, opt *AdamOptions) (*Adam, error) {
	if !(lr > 0) || math.IsInf(lr, 0) {
		return nil, badOption("lr", lr, "must be finite and > 0")
	}
	var o AdamOptions
	if opt != nil {
		o = *opt
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	a := &Adam{Options: o, LR: lr, params: params}
	for _, p := range params {
		n := p.Node.Shape().TotalSize()
		dt := p.Node.Dtype()
		if dt != tensor.Float32 && dt != tensor.Float64 {
			return nil, fmt.Errorf("%w: Adam: parameter %s is %v, want float32 or float64", ErrShape, p.Name, dt)
		}
		a.m = append(a.m, tensor.New(tensor.Of(dt), tensor.WithShape(n)))
		a.v = append(a.v, tensor.New(tensor.Of(dt), tensor.WithShape(n)))
	}
	return a, nil
}

// Steps is the number of updates made so far.
func (a *Adam) Steps() int64 { return a.step }

// Step updates every parameter from the gradient its node holds (bound by
// gorgonia.BindDualValues after a machine ran the backward pass), then zeroes
// that gradient: gorgonia's machines add each run's gradient to it.
func (a *Adam) Step() error {
	a.step++
	o := a.Options
	bc1 := 1 - math.Pow(o.Beta1, float64(a.step))
	bc2 := 1 - math.Pow(o.Beta2, float64(a.step))
	stepSize := a.LR / bc1
	sqrtBC2 := math.Sqrt(bc2)
	for i, p := range a.params {
		var gv gorgonia.Value
		var err error
		if a.grad != nil {
			gv, err = a.grad(i)
		} else {
			gv, err = p.Node.Grad()
		}
		if err != nil {
			return fmt.Errorf("train: Adam: gradient of %s: %w", p.Name, err)
		}
		pv := p.Node.Value()
		switch pd := pv.Data().(type) {
		case []float32:
			gd, ok := gv.Data().([]float32)
			m, mok := a.m[i].Data().([]float32)
			if !ok || !mok || len(gd) != len(pd) || len(pd) != len(m) {
				return fmt.Errorf("%w: Adam: gradient of %s does not fit its value %v", ErrShape, p.Name, pv.Shape())
			}
			adamUpdate(pd, gd, m, a.v[i].Data().([]float32), o, a.LR, stepSize, sqrtBC2)
			clear(gd)
		case []float64:
			gd, ok := gv.Data().([]float64)
			m, mok := a.m[i].Data().([]float64)
			if !ok || !mok || len(gd) != len(pd) || len(pd) != len(m) {
				return fmt.Errorf("%w: Adam: gradient of %s does not fit its value %v", ErrShape, p.Name, pv.Shape())
			}
			adamUpdate(pd, gd, m, a.v[i].Data().([]float64), o, a.LR, stepSize, sqrtBC2)
			clear(gd)
		default:
			return fmt.Errorf("%w: Adam: parameter %s holds %T", ErrShape, p.Name, pv.Data())
		}
	}
	return nil
}

// adamUpdate is one torch.optim.Adam (or AdamW) update of w in place.
func adamUpdate[T float](w, grad, m, v []T, o AdamOptions, lr, stepSize, sqrtBC2 float64) {
	for j := range m {
		wj := float64(w[j])
		g := float64(grad[j])
		if o.Decoupled {
			wj *= 1 - lr*o.WeightDecay
		} else if o.WeightDecay != 0 {
			g += o.WeightDecay * wj
		}
		mj := T(o.Beta1*float64(m[j]) + (1-o.Beta1)*g)
		vj := T(o.Beta2*float64(v[j]) + (1-o.Beta2)*g*g)
		m[j], v[j] = mj, vj
		w[j] = T(wj - stepSize*float64(mj)/(math.Sqrt(float64(vj))/sqrtBC2+o.Eps))
	}
}

// state lists the moments under "m.NAME" and "v.NAME" and the step count and
// learning rate under "adam.step" and "adam.lr" (float64 tensors).
func (a *Adam) state() []nn.StateTensor {
	st := []nn.StateTensor{
		{Name: "adam.step", Value: tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{float64(a.step)}))},
		{Name: "adam.lr", Value: tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{a.LR}))},
	}
	for i, p := range a.params {
		st = append(st, nn.StateTensor{Name: "m." + p.Name, Value: a.m[i]}, nn.StateTensor{Name: "v." + p.Name, Value: a.v[i]})
	}
	return st
}

// SaveState writes the optimiser's state to path atomically.
func (a *Adam) SaveState(path string) error {
	return nn.SaveStateFile(path, a.state())
}

// LoadState reads a state SaveState wrote for the same parameters.
func (a *Adam) LoadState(path string) error {
	st := a.state()
	if err := nn.LoadStateFile(path, st); err != nil {
		return fmt.Errorf("train: optimiser state %s: %w", path, err)
	}
	a.step = int64(st[0].Value.Data().([]float64)[0])
	a.LR = st[1].Value.Data().([]float64)[0]
	return nil
}

// Plateau is torch.optim.lr_scheduler.ReduceLROnPlateau in mode "min" with a
// relative threshold: after more than Patience epochs without the monitored
// value falling below best x (1 - Threshold), the learning rate is multiplied
// by Factor (not below MinLR) and the count restarts.
type Plateau struct {
	Factor    float64 // 0 means 0.1
	Patience  int     // epochs; 0 means 20 (the paper's), negative means 0
	Threshold float64 // 0 means 1e-4
	MinLR     float64
	// Best and Bad are the state: the best value so far (+Inf at first)
	// and the number of epochs since it.
	Best float64
	Bad  int
}

// NewPlateau returns a scheduler with the given factor and patience (zero
// values mean 0.1 and 20).
func NewPlateau(factor float64, patience int) *Plateau {
	p := &Plateau{Factor: factor, Patience: patience, Best: math.Inf(1)}
	if p.Factor == 0 {
		p.Factor = 0.1
	}
	switch {
	case p.Patience == 0:
		p.Patience = 20
	case p.Patience < 0:
		p.Patience = 0
	}
	p.Threshold = 1e-4
	return p
}

// Step records one epoch's value and returns the learning rate to use next.
func (p *Plateau) Step(value, lr float64) float64 {
	if value < p.Best*(1-p.Threshold) || (math.IsInf(p.Best, 1) && !math.IsNaN(value)) {
		p.Best = value
		p.Bad = 0
		return lr
	}
	p.Bad++
	if p.Bad > p.Patience {
		p.Bad = 0
		nl := math.Max(lr*p.Factor, p.MinLR)
		if lr-nl > 1e-8 {
			return nl
		}
	}
	return lr
}

type plateauJSON struct {
	Factor    float64
	Patience  int
	Threshold float64
	MinLR     float64
	Best      *float64 // null: none yet (+Inf)
	Bad       int
}

// MarshalJSON writes the +Inf best value of a fresh scheduler as null.
func (p Plateau) MarshalJSON() ([]byte, error) {
	return json.Marshal(plateauJSON{p.Factor, p.Patience, p.Threshold, p.MinLR, ptr(p.Best), p.Bad})
}

// UnmarshalJSON reads a null best value as +Inf.
func (p *Plateau) UnmarshalJSON(b []byte) error {
	var j plateauJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*p = Plateau{Factor: j.Factor, Patience: j.Patience, Threshold: j.Threshold, MinLR: j.MinLR, Best: math.Inf(1), Bad: j.Bad}
	if j.Best != nil {
		p.Best = *j.Best
	}
	return nil
}
