package nn

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Softmax returns exp(x) normalised to sum 1 along the channel axis (1) of
// x (N, C, ...), as torch.softmax(x, dim=1).
func Softmax(x *gorgonia.Node) (*gorgonia.Node, error) { return SoftmaxAxis(x, 1) }

// LogSoftmax returns log(Softmax(x)) along the channel axis (1), computed
// stably, as torch.log_softmax(x, dim=1).
func LogSoftmax(x *gorgonia.Node) (*gorgonia.Node, error) { return LogSoftmaxAxis(x, 1) }

// SoftmaxAxis is Softmax along any axis of x.
func SoftmaxAxis(x *gorgonia.Node, axis int) (*gorgonia.Node, error) {
	return apply(&softmaxKernel{axis: axis}, x)
}

// LogSoftmaxAxis is LogSoftmax along any axis of x.
func LogSoftmaxAxis(x *gorgonia.Node, axis int) (*gorgonia.Node, error) {
	return apply(&softmaxKernel{axis: axis, log: true}, x)
}

type softmaxKernel struct {
	axis int
	log  bool
}

func (k *softmaxKernel) String() string {
	if k.log {
		return fmt.Sprintf("LogSoftmax(axis=%d)", k.axis)
	}
	return fmt.Sprintf("Softmax(axis=%d)", k.axis)
}

func (k *softmaxKernel) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) < 1 || k.axis < 0 || k.axis >= in[0].Dims() {
		var s tensor.Shape
		if len(in) > 0 {
			s = in[0]
		}
		return nil, shapeErr(k.String(), s, fmt.Sprintf("at least %d axes", k.axis+1))
	}
	return in[0].Clone(), nil
}

func (k *softmaxKernel) view(s tensor.Shape) view {
	p := 1
	for _, d := range s[:k.axis] {
		p *= d
	}
	return view{p, s[k.axis], s.TotalSize() / (p * s[k.axis])}
}

func (k *softmaxKernel) forward(out *tensor.Dense, in []*tensor.Dense) error {
	v := k.view(in[0].Shape())
	return byDtype(out,
		func() error { softmaxForward(v, k.log, data[float32](out), data[float32](in[0])); return nil },
		func() error { softmaxForward(v, k.log, data[float64](out), data[float64](in[0])); return nil })
}

// softmaxForward works on x viewed as (p, q, t), reducing over q.
func softmaxForward[T float](v view, log bool, y, x []T) {
	parallelFor(v.p, 1, func(lo, hi int) {
		m := make([]float64, v.t)
		s := make([]float64, v.t)
		for p := lo; p < hi; p++ {
			base := p * v.q * v.t
			for t := range m {
				m[t] = math.Inf(-1)
				s[t] = 0
			}
			for q := 0; q < v.q; q++ {
				for t, val := range x[base+q*v.t : base+(q+1)*v.t] {
					m[t] = max(m[t], float64(val))
				}
			}
			for q := 0; q < v.q; q++ {
				for t, val := range x[base+q*v.t : base+(q+1)*v.t] {
					s[t] += math.Exp(float64(val) - m[t])
				}
			}
			for q := 0; q < v.q; q++ {
				xr, yr := x[base+q*v.t:base+(q+1)*v.t], y[base+q*v.t:base+(q+1)*v.t]
				for t, val := range xr {
					if log {
						yr[t] = T(float64(val) - m[t] - math.Log(s[t]))
					} else {
						yr[t] = T(math.Exp(float64(val)-m[t]) / s[t])
					}
				}
			}
		}
	})
}

func (k *softmaxKernel) grad(i int) kernel {
	if i != 0 {
		return nil
	}
	return &softmaxGradKernel{k}
}

// softmaxGradKernel computes dx from (x, y, dy):
// softmax dx = y*(dy - sum(dy*y)); log-softmax dx = dy - exp(y)*sum(dy).
type softmaxGradKernel struct{ fwd *softmaxKernel }

func (k *softmaxGradKernel) String() string { return k.fwd.String() + "Grad" }

func (k *softmaxGradKernel) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) != 3 || !in[0].Eq(in[2]) {
		return nil, fmt.Errorf("%w: %s: shapes %v", ErrShape, k, in)
	}
	return in[0].Clone(), nil
}

func (k *softmaxGradKernel) forward(out *tensor.Dense, in []*tensor.Dense) error {
	v := k.fwd.view(in[0].Shape())
	return byDtype(out,
		func() error {
			softmaxBackward(v, k.fwd.log, data[float32](out), data[float32](in[1]), data[float32](in[2]))
			return nil
		},
		func() error {
			softmaxBackward(v, k.fwd.log, data[float64](out), data[float64](in[1]), data[float64](in[2]))
			return nil
		})
}

func softmaxBackward[T float](v view, log bool, dx, y, dy []T) {
	parallelFor(v.p, 1, func(lo, hi int) {
		s := make([]float64, v.t)
		for p := lo; p < hi; p++ {
			base := p * v.q * v.t
			clear(s)
			for q := 0; q < v.q; q++ {
				o := base + q*v.t
				for t := 0; t < v.t; t++ {
					if log {
						s[t] += float64(dy[o+t])
					} else {
						s[t] += float64(dy[o+t]) * float64(y[o+t])
					}
				}
			}
			for q := 0; q < v.q; q++ {
				o := base + q*v.t
				for t := 0; t < v.t; t++ {
					if log {
						dx[o+t] = T(float64(dy[o+t]) - math.Exp(float64(y[o+t]))*s[t])
					} else {
						dx[o+t] = T(float64(y[o+t]) * (float64(dy[o+t]) - s[t]))
					}
				}
			}
		}
	})
}

func (k *softmaxGradKernel) grad(int) kernel { return nil }
