package nn

import (
	"fmt"
	"math"

	"github.com/unetlab/unetlab/internal/invalid"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// UpsampleMode selects the interpolation of Upsample3d.
type UpsampleMode int

const (
	// Nearest copies the nearest input voxel (PyTorch mode "nearest").
	Nearest UpsampleMode = iota
	// Trilinear interpolates linearly along each axis with align_corners
	// off (PyTorch mode "trilinear", align_corners=False).
	Trilinear
)

// String returns PyTorch's name of the mode: "nearest" or "trilinear".
func (m UpsampleMode) String() string {
	switch m {
	case Nearest:
		return "nearest"
	case Trilinear:
		return "trilinear"
	}
	return fmt.Sprintf("UpsampleMode(%d)", int(m))
}

// UpsampleOptions are the settings of Upsample3d. Give either Size or Scale;
// as neither has a default, a nil *UpsampleOptions is refused with an error
// naming Scale.
type UpsampleOptions struct {
	// Size is the output (D, H, W); when zero, Scale is used.
	Size [3]int
	// Scale multiplies each input axis; the output size is floor(in*Scale)
	// and source coordinates use 1/Scale, as PyTorch's scale_factor.
	Scale [3]float64
	// Mode is Nearest (the zero value) or Trilinear.
	Mode UpsampleMode
}

// Upsample3d resizes x (N, C, D, H, W) to (N, C, D', H', W') by nearest or
// trilinear interpolation, matching torch.nn.functional.interpolate.
func Upsample3d(x *gorgonia.Node, opt *UpsampleOptions) (*gorgonia.Node, error) {
	var o UpsampleOptions
	if opt != nil {
		o = *opt
	}
	if o.Mode != Nearest && o.Mode != Trilinear {
		return nil, invalid.Field(ErrConfig, "Upsample3d: UpsampleOptions.Mode", o.Mode, fmt.Sprintf("must be %v or %v", Nearest, Trilinear))
	}
	if o.Size == [3]int{} {
		for _, s := range o.Scale {
			if !(s > 0) || math.IsInf(s, 0) {
				return nil, invalid.Field(ErrConfig, "Upsample3d: UpsampleOptions.Scale", o.Scale, "each must be finite and > 0 when Size is zero")
			}
		}
	} else {
		for _, s := range o.Size {
			if s < 1 {
				return nil, invalid.Field(ErrConfig, "Upsample3d: UpsampleOptions.Size", o.Size, "each must be >= 1")
			}
		}
	}
	return apply(&upsampleKernel{opt: o}, x)
}

type upsampleKernel struct{ opt UpsampleOptions }

func (k *upsampleKernel) String() string {
	mode := "nearest"
	if k.opt.Mode == Trilinear {
		mode = "trilinear"
	}
	return fmt.Sprintf("Upsample3d(%s size=%v scale=%v)", mode, k.opt.Size, k.opt.Scale)
}

func (k *upsampleKernel) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) < 1 || in[0].Dims() != 5 {
		var s tensor.Shape
		if len(in) > 0 {
			s = in[0]
		}
		return nil, shapeErr(k.String(), s, "(N, C, D, H, W)")
	}
	s := in[0]
	out := tensor.Shape{s[0], s[1], 0, 0, 0}
	for i := 0; i < 3; i++ {
		if k.opt.Size != [3]int{} {
			out[2+i] = k.opt.Size[i]
		} else {
			out[2+i] = int(math.Floor(float64(s[2+i]) * k.opt.Scale[i]))
		}
		if out[2+i] < 1 {
			return nil, fmt.Errorf("%w: %s: input %v gives an empty output", ErrShape, k, s)
		}
	}
	return out, nil
}

// ratio returns the source-per-destination step along axis i.
func (k *upsampleKernel) ratio(i, in, out int) float64 {
	if k.opt.Size == [3]int{} {
		return 1 / k.opt.Scale[i]
	}
	return float64(in) / float64(out)
}

// axisMap holds, per output index, two source indices and the weight of the
// second (nearest: one index, weight 0).
type axisMap struct {
	i0, i1 []int
	l1     []float64
}

func (k *upsampleKernel) axis(i, in, out int) axisMap {
	m := axisMap{i0: make([]int, out), i1: make([]int, out), l1: make([]float64, out)}
	r := k.ratio(i, in, out)
	for o := 0; o < out; o++ {
		if k.opt.Mode == Nearest {
			s := min(int(math.Floor(float64(o)*r)), in-1)
			m.i0[o], m.i1[o] = s, s
			continue
		}
		src := max((float64(o)+0.5)*r-0.5, 0)
		i0 := min(int(src), in-1)
		i1 := min(i0+1, in-1)
		m.i0[o], m.i1[o], m.l1[o] = i0, i1, src-float64(i0)
	}
	return m
}

func (k *upsampleKernel) maps(xs, ys tensor.Shape) [3]axisMap {
	var m [3]axisMap
	for i := 0; i < 3; i++ {
		m[i] = k.axis(i, xs[2+i], ys[2+i])
	}
	return m
}

func (k *upsampleKernel) forward(out *tensor.Dense, in []*tensor.Dense) error {
	m := k.maps(in[0].Shape(), out.Shape())
	return byDtype(out,
		func() error {
			upsampleForward(m, data[float32](out), data[float32](in[0]), in[0].Shape(), out.Shape())
			return nil
		},
		func() error {
			upsampleForward(m, data[float64](out), data[float64](in[0]), in[0].Shape(), out.Shape())
			return nil
		})
}

// upsampleVisit calls f(outIndex, inIndex, weight) for the up to 8
// contributions of every output voxel of one plane.
func upsampleVisit(m [3]axisMap, xs, ys tensor.Shape, f func(o, i int, w float64)) {
	H, W := xs[3], xs[4]
	o := 0
	for od := 0; od < ys[2]; od++ {
		for oh := 0; oh < ys[3]; oh++ {
			for ow := 0; ow < ys[4]; ow++ {
				ds := [2]int{m[0].i0[od], m[0].i1[od]}
				dw := [2]float64{1 - m[0].l1[od], m[0].l1[od]}
				hs := [2]int{m[1].i0[oh], m[1].i1[oh]}
				hw := [2]float64{1 - m[1].l1[oh], m[1].l1[oh]}
				ws := [2]int{m[2].i0[ow], m[2].i1[ow]}
				ww := [2]float64{1 - m[2].l1[ow], m[2].l1[ow]}
				for a := 0; a < 2; a++ {
					for b := 0; b < 2; b++ {
						for c := 0; c < 2; c++ {
							w := dw[a] * hw[b] * ww[c]
							if w == 0 {
								continue
							}
							f(o, (ds[a]*H+hs[b])*W+ws[c], w)
						}
					}
				}
				o++
			}
		}
	}
}

func upsampleForward[T float](m [3]axisMap, y, x []T, xs, ys tensor.Shape) {
	inN, outN := xs[2]*xs[3]*xs[4], ys[2]*ys[3]*ys[4]
	parallelFor(xs[0]*xs[1], 1, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			src := x[pl*inN : (pl+1)*inN]
			dst := y[pl*outN : (pl+1)*outN]
			clear(dst)
			upsampleVisit(m, xs, ys, func(o, i int, w float64) { dst[o] += T(w) * src[i] })
		}
	})
}

func (k *upsampleKernel) grad(i int) kernel {
	if i != 0 {
		return nil
	}
	return &upsampleGradKernel{k}
}

type upsampleGradKernel struct{ fwd *upsampleKernel }

func (k *upsampleGradKernel) String() string { return k.fwd.String() + "Grad" }

func (k *upsampleGradKernel) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	return gradShape(k, k.fwd, in, 1, 0)
}

func (k *upsampleGradKernel) forward(out *tensor.Dense, in []*tensor.Dense) error {
	xs, ys := in[0].Shape(), in[2].Shape()
	m := k.fwd.maps(xs, ys)
	return byDtype(out,
		func() error { upsampleBackward(m, data[float32](out), data[float32](in[2]), xs, ys); return nil },
		func() error { upsampleBackward(m, data[float64](out), data[float64](in[2]), xs, ys); return nil })
}

func upsampleBackward[T float](m [3]axisMap, dx, dy []T, xs, ys tensor.Shape) {
	inN, outN := xs[2]*xs[3]*xs[4], ys[2]*ys[3]*ys[4]
	parallelFor(xs[0]*xs[1], 1, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			d := dx[pl*inN : (pl+1)*inN]
			g := dy[pl*outN : (pl+1)*outN]
			clear(d)
			upsampleVisit(m, xs, ys, func(o, i int, w float64) { d[i] += T(w) * g[o] })
		}
	})
}

func (k *upsampleGradKernel) grad(int) kernel { return nil }
