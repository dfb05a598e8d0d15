package nn

import (
	"fmt"
	"math"

	"github.com/unetlab/unetlab/internal/invalid"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// PoolOptions are the settings of MaxPool3d and AvgPool3d, per axis (D, H, W).
// They go by pointer; Kernel has no default, so a nil *PoolOptions is refused
// with an error naming Kernel.
type PoolOptions struct {
	// Kernel is the window size; required (each at least 1).
	Kernel [3]int
	// Stride per axis; 0 means the kernel size (PyTorch's default).
	Stride [3]int
	// Padding per axis on both sides; at most half the kernel. Max pooling
	// pads with -Inf; average pooling counts the zero padding in the
	// divisor (PyTorch's count_include_pad=True).
	Padding [3]int
}

// MaxPool3d returns the maximum over each window of x (N, C, D, H, W); the
// output is (N, C, D', H', W') with D' = (D + 2*pad - kD)/stride + 1, as
// torch.nn.MaxPool3d (ceil_mode off, dilation 1). The gradient goes to the
// first maximum of each window.
func MaxPool3d(x *gorgonia.Node, opt *PoolOptions) (*gorgonia.Node, error) {
	p, err := opt.params("MaxPool3d")
	if err != nil {
		return nil, err
	}
	return apply(&poolKernel{p: p, max: true}, x)
}

// AvgPool3d returns the mean over each window of x (N, C, D, H, W), shaped
// like MaxPool3d's output, as torch.nn.AvgPool3d (count_include_pad on).
func AvgPool3d(x *gorgonia.Node, opt *PoolOptions) (*gorgonia.Node, error) {
	p, err := opt.params("AvgPool3d")
	if err != nil {
		return nil, err
	}
	return apply(&poolKernel{p: p}, x)
}

type poolParams struct{ k, stride, pad [3]int }

// params fills in the defaults; errors name the function and the one field
// at fault.
func (o *PoolOptions) params(name string) (poolParams, error) {
	if o == nil {
		o = &PoolOptions{}
	}
	p := poolParams{k: o.Kernel, stride: o.Stride, pad: o.Padding}
	for i := 0; i < 3; i++ {
		if p.stride[i] == 0 {
			p.stride[i] = p.k[i]
		}
	}
	switch {
	case p.k[0] < 1 || p.k[1] < 1 || p.k[2] < 1:
		return p, invalid.Field(ErrConfig, name+": PoolOptions.Kernel", o.Kernel, "each must be >= 1 (required)")
	case o.Stride[0] < 0 || o.Stride[1] < 0 || o.Stride[2] < 0:
		return p, invalid.Field(ErrConfig, name+": PoolOptions.Stride", o.Stride, "each must be >= 0 (0: the kernel size)")
	}
	for i := 0; i < 3; i++ {
		if p.pad[i] < 0 || 2*p.pad[i] > p.k[i] {
			return p, invalid.Field(ErrConfig, name+": PoolOptions.Padding", o.Padding, fmt.Sprintf("each must be in [0, kernel/2] for kernel %v", o.Kernel))
		}
	}
	return p, nil
}

type poolKernel struct {
	p   poolParams
	max bool
}

func (k *poolKernel) String() string {
	name := "AvgPool3d"
	if k.max {
		name = "MaxPool3d"
	}
	return fmt.Sprintf("%s(k=%v s=%v p=%v)", name, k.p.k, k.p.stride, k.p.pad)
}

func (k *poolKernel) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) < 1 {
		return nil, fmt.Errorf("%w: %s: no input", ErrConfig, k)
	}
	s := in[0]
	if s.Dims() != 5 {
		return nil, shapeErr(k.String(), s, "(N, C, D, H, W)")
	}
	out := tensor.Shape{s[0], s[1], 0, 0, 0}
	for i := 0; i < 3; i++ {
		out[2+i] = (s[2+i]+2*k.p.pad[i]-k.p.k[i])/k.p.stride[i] + 1
		if s[2+i]+2*k.p.pad[i] < k.p.k[i] {
			return nil, fmt.Errorf("%w: %s: input %v smaller than the window", ErrShape, k, s)
		}
	}
	return out, nil
}

// window iterates the input offsets of output voxel (od, oh, ow) of one
// plane; f gets the flat input index, or -1 for a padding position.
func (k *poolKernel) window(in [3]int, od, oh, ow int, f func(idx int)) {
	for kd := 0; kd < k.p.k[0]; kd++ {
		id := od*k.p.stride[0] - k.p.pad[0] + kd
		for kh := 0; kh < k.p.k[1]; kh++ {
			ih := oh*k.p.stride[1] - k.p.pad[1] + kh
			for kw := 0; kw < k.p.k[2]; kw++ {
				iw := ow*k.p.stride[2] - k.p.pad[2] + kw
				if id < 0 || ih < 0 || iw < 0 || id >= in[0] || ih >= in[1] || iw >= in[2] {
					f(-1)
					continue
				}
				f((id*in[1]+ih)*in[2] + iw)
			}
		}
	}
}

func (k *poolKernel) forward(out *tensor.Dense, in []*tensor.Dense) error {
	return byDtype(out,
		func() error {
			poolForward(k, data[float32](out), data[float32](in[0]), in[0].Shape(), out.Shape())
			return nil
		},
		func() error {
			poolForward(k, data[float64](out), data[float64](in[0]), in[0].Shape(), out.Shape())
			return nil
		})
}

func poolForward[T float](k *poolKernel, y, x []T, xs, ys tensor.Shape) {
	in := [3]int{xs[2], xs[3], xs[4]}
	inN, outN := in[0]*in[1]*in[2], ys[2]*ys[3]*ys[4]
	div := T(k.p.k[0] * k.p.k[1] * k.p.k[2])
	fast := k.max && k.p.pad == [3]int{} && k.p.k == k.p.stride && k.p.k == [3]int{2, 2, 2}
	parallelFor(xs[0]*xs[1], 1, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			src := x[pl*inN : (pl+1)*inN]
			dst := y[pl*outN : (pl+1)*outN]
			if fast {
				maxPool222(dst, src, in, [3]int{ys[2], ys[3], ys[4]})
				continue
			}
			o := 0
			for od := 0; od < ys[2]; od++ {
				for oh := 0; oh < ys[3]; oh++ {
					for ow := 0; ow < ys[4]; ow++ {
						if k.max {
							m := T(math.Inf(-1))
							k.window(in, od, oh, ow, func(i int) {
								if i >= 0 && src[i] > m {
									m = src[i]
								}
							})
							dst[o] = m
						} else {
							var s T
							k.window(in, od, oh, ow, func(i int) {
								if i >= 0 {
									s += src[i]
								}
							})
							dst[o] = s / div
						}
						o++
					}
				}
			}
		}
	})
}

// maxPool222 is the common kernel 2, stride 2, no padding case.
func maxPool222[T float](dst, src []T, in, out [3]int) {
	hw := in[1] * in[2]
	o := 0
	for od := 0; od < out[0]; od++ {
		for oh := 0; oh < out[1]; oh++ {
			r0 := src[(2*od)*hw+(2*oh)*in[2]:]
			r1 := src[(2*od)*hw+(2*oh+1)*in[2]:]
			r2 := src[(2*od+1)*hw+(2*oh)*in[2]:]
			r3 := src[(2*od+1)*hw+(2*oh+1)*in[2]:]
			for ow := 0; ow < out[2]; ow++ {
				j := 2 * ow
				m := max(r0[j], r0[j+1], r1[j], r1[j+1], r2[j], r2[j+1], r3[j], r3[j+1])
				dst[o] = m
				o++
			}
		}
	}
}

func (k *poolKernel) grad(i int) kernel {
	if i != 0 {
		return nil
	}
	return &poolGradKernel{k}
}

// poolGradKernel computes dx from (x, y, dy).
type poolGradKernel struct{ fwd *poolKernel }

func (k *poolGradKernel) String() string { return k.fwd.String() + "Grad" }

func (k *poolGradKernel) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	return gradShape(k, k.fwd, in, 1, 0)
}

func (k *poolGradKernel) forward(out *tensor.Dense, in []*tensor.Dense) error {
	return byDtype(out,
		func() error {
			poolBackward(k.fwd, data[float32](out), data[float32](in[0]), data[float32](in[2]), in[0].Shape(), in[2].Shape())
			return nil
		},
		func() error {
			poolBackward(k.fwd, data[float64](out), data[float64](in[0]), data[float64](in[2]), in[0].Shape(), in[2].Shape())
			return nil
		})
}

func poolBackward[T float](k *poolKernel, dx, x, dy []T, xs, ys tensor.Shape) {
	in := [3]int{xs[2], xs[3], xs[4]}
	inN, outN := in[0]*in[1]*in[2], ys[2]*ys[3]*ys[4]
	div := T(k.p.k[0] * k.p.k[1] * k.p.k[2])
	parallelFor(xs[0]*xs[1], 1, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			src := x[pl*inN : (pl+1)*inN]
			d := dx[pl*inN : (pl+1)*inN]
			g := dy[pl*outN : (pl+1)*outN]
			clear(d)
			o := 0
			for od := 0; od < ys[2]; od++ {
				for oh := 0; oh < ys[3]; oh++ {
					for ow := 0; ow < ys[4]; ow++ {
						if k.max {
							m, arg := T(math.Inf(-1)), -1
							k.window(in, od, oh, ow, func(i int) {
								if i >= 0 && (arg < 0 || src[i] > m) {
									m, arg = src[i], i
								}
							})
							if arg >= 0 {
								d[arg] += g[o]
							}
						} else {
							v := g[o] / div
							k.window(in, od, oh, ow, func(i int) {
								if i >= 0 {
									d[i] += v
								}
							})
						}
						o++
					}
				}
			}
		}
	})
}

func (k *poolGradKernel) grad(int) kernel { return nil }
