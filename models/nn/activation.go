package nn

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

type actKind int

const (
	actReLU actKind = iota
	actLeakyReLU
	actGELU
	actSigmoid
)

// ReLU returns max(x, 0) elementwise; x may have any shape.
func ReLU(x *gorgonia.Node) (*gorgonia.Node, error) {
	return apply(activation{kind: actReLU}, x)
}

// LeakyReLU returns x where x > 0 and slope*x elsewhere, elementwise, like
// torch.nn.LeakyReLU(negative_slope=slope). The paper's networks use 0.01.
func LeakyReLU(x *gorgonia.Node, slope float64) (*gorgonia.Node, error) {
	return apply(activation{kind: actLeakyReLU, alpha: slope}, x)
}

// GELU returns x*Phi(x) elementwise with Phi the standard normal CDF computed
// through erf (torch.nn.GELU with approximate='none').
func GELU(x *gorgonia.Node) (*gorgonia.Node, error) {
	return apply(activation{kind: actGELU}, x)
}

// Sigmoid returns 1/(1+exp(-x)) elementwise.
func Sigmoid(x *gorgonia.Node) (*gorgonia.Node, error) {
	return apply(activation{kind: actSigmoid}, x)
}

// activation is an elementwise function with its derivative.
type activation struct {
	kind  actKind
	alpha float64
}

func (a activation) String() string {
	switch a.kind {
	case actReLU:
		return "ReLU"
	case actLeakyReLU:
		return fmt.Sprintf("LeakyReLU(%g)", a.alpha)
	case actGELU:
		return "GELU"
	default:
		return "Sigmoid"
	}
}

func (a activation) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%w: %s: %d inputs, want 1", ErrConfig, a, len(in))
	}
	return in[0].Clone(), nil
}

func (a activation) forward(out *tensor.Dense, in []*tensor.Dense) error {
	return byDtype(out,
		func() error { actForward(a, data[float32](out), data[float32](in[0])); return nil },
		func() error { actForward(a, data[float64](out), data[float64](in[0])); return nil })
}

func actForward[T float](a activation, y, x []T) {
	alpha := T(a.alpha)
	parallelFor(len(x), 1<<15, func(lo, hi int) {
		switch a.kind {
		case actReLU:
			reluScale(y[lo:hi], x[lo:hi], x[lo:hi], 0)
		case actLeakyReLU:
			reluScale(y[lo:hi], x[lo:hi], x[lo:hi], alpha)
		case actGELU:
			for i := lo; i < hi; i++ {
				v := float64(x[i])
				y[i] = T(0.5 * v * (1 + math.Erf(v/math.Sqrt2)))
			}
		case actSigmoid:
			for i := lo; i < hi; i++ {
				y[i] = T(sigmoid(float64(x[i])))
			}
		}
	})
}

func sigmoid(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
}

func (a activation) grad(i int) kernel {
	if i != 0 {
		return nil
	}
	return activationGrad(a)
}

// activationGrad computes dx from (x, y, dy).
type activationGrad activation

func (a activationGrad) String() string { return activation(a).String() + "Grad" }

func (a activationGrad) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 3 || !in[0].Eq(in[2]) {
		return nil, fmt.Errorf("%w: %s: shapes %v", ErrShape, a, in)
	}
	return in[0].Clone(), nil
}

func (a activationGrad) forward(out *tensor.Dense, in []*tensor.Dense) error {
	return byDtype(out,
		func() error {
			actBackward(activation(a), data[float32](out), data[float32](in[0]), data[float32](in[1]), data[float32](in[2]))
			return nil
		},
		func() error {
			actBackward(activation(a), data[float64](out), data[float64](in[0]), data[float64](in[1]), data[float64](in[2]))
			return nil
		})
}

func actBackward[T float](a activation, dx, x, y, dy []T) {
	alpha := T(a.alpha)
	parallelFor(len(x), 1<<15, func(lo, hi int) {
		switch a.kind {
		case actReLU:
			reluScale(dx[lo:hi], x[lo:hi], dy[lo:hi], 0)
		case actLeakyReLU:
			reluScale(dx[lo:hi], x[lo:hi], dy[lo:hi], alpha)
		case actGELU:
			const invSqrt2Pi = 0.3989422804014327
			for i := lo; i < hi; i++ {
				v := float64(x[i])
				d := 0.5*(1+math.Erf(v/math.Sqrt2)) + v*invSqrt2Pi*math.Exp(-0.5*v*v)
				dx[i] = T(d) * dy[i]
			}
		case actSigmoid:
			for i := lo; i < hi; i++ {
				dx[i] = dy[i] * y[i] * (1 - y[i])
			}
		}
	})
}

func (a activationGrad) grad(int) kernel { return nil }

// reluScale sets out[i] = v[i] where x[i] > 0 and alpha*v[i] elsewhere
// (x = v: (leaky) ReLU; v = dy: its gradient). It selects with bit masks,
// not branches: the sign of x is a coin toss in a network, and a
// mispredicted branch per element cost 5x the whole loop. NaN x counts as
// positive (as PyTorch's threshold_backward passes the gradient).
func reluScale[T float](out, x, v []T, alpha T) {
	switch o := any(out).(type) {
	case []float32:
		x, v := any(x).([]float32), any(v).([]float32)
		if alpha == 0 { // masked, not multiplied: ReLU(-Inf) is 0, not NaN
			for i := range o {
				b := math.Float32bits(x[i])
				o[i] = math.Float32frombits(math.Float32bits(v[i]) & uint32(int32(-b&^b)>>31))
			}
			return
		}
		one, a := math.Float32bits(1), math.Float32bits(float32(alpha))
		for i := range o {
			b := math.Float32bits(x[i])
			m := uint32(int32(-b&^b) >> 31) // ones where x > 0
			o[i] = v[i] * math.Float32frombits(one&m|a&^m)
		}
	case []float64:
		x, v := any(x).([]float64), any(v).([]float64)
		if alpha == 0 {
			for i := range o {
				b := math.Float64bits(x[i])
				o[i] = math.Float64frombits(math.Float64bits(v[i]) & uint64(int64(-b&^b)>>63))
			}
			return
		}
		one, a := math.Float64bits(1), math.Float64bits(float64(alpha))
		for i := range o {
			b := math.Float64bits(x[i])
			m := uint64(int64(-b&^b) >> 63)
			o[i] = v[i] * math.Float64frombits(one&m|a&^m)
		}
	}
}
