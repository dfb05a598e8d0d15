package nn

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ConcatChannels joins tensors (N, Ci, ...) along the channel axis into
// (N, sum Ci, ...), as torch.cat(xs, dim=1). All other axes must agree.
// It is gorgonia.Concat(1, xs...) with a memcpy forward and backward.
func ConcatChannels(xs ...*gorgonia.Node) (*gorgonia.Node, error) {
	if len(xs) == 0 {
		return nil, fmt.Errorf("%w: ConcatChannels: no inputs", ErrConfig)
	}
	if len(xs) == 1 {
		return xs[0], nil
	}
	return apply(&concatKernel{n: len(xs)}, xs...)
}

type concatKernel struct{ n int }

func (k *concatKernel) String() string { return fmt.Sprintf("ConcatChannels(%d)", k.n) }

func (k *concatKernel) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) < k.n {
		return nil, fmt.Errorf("%w: %s: %d inputs", ErrConfig, k, len(in))
	}
	first := in[0]
	if first.Dims() < 2 {
		return nil, shapeErr("ConcatChannels", first, "(N, C, ...)")
	}
	out := first.Clone()
	for _, s := range in[1:k.n] {
		ok := s.Dims() == first.Dims()
		for a := 0; ok && a < s.Dims(); a++ {
			ok = a == 1 || s[a] == first[a]
		}
		if !ok {
			return nil, fmt.Errorf("%w: ConcatChannels: shapes %v and %v differ outside the channel axis", ErrShape, first, s)
		}
		out[1] += s[1]
	}
	return out, nil
}

func (k *concatKernel) forward(out *tensor.Dense, in []*tensor.Dense) error {
	return byDtype(out,
		func() error { concatForward(data[float32](out), in[:k.n], out.Shape()); return nil },
		func() error { concatForward(data[float64](out), in[:k.n], out.Shape()); return nil })
}

// concatForward copies each input's per-sample block into its channel range.
func concatForward[T float](y []T, in []*tensor.Dense, ys tensor.Shape) {
	n := ys[0]
	per := ys.TotalSize() / n // elements per sample of y
	parallelFor(n*len(in), 1, func(lo, hi int) {
		for it := lo; it < hi; it++ {
			b, i := it/len(in), it%len(in)
			off := 0
			for _, x := range in[:i] {
				off += x.Shape().TotalSize() / n
			}
			x := data[T](in[i])
			sz := len(x) / n
			copy(y[b*per+off:b*per+off+sz], x[b*sz:(b+1)*sz])
		}
	})
}

func (k *concatKernel) grad(i int) kernel {
	if i >= k.n {
		return nil
	}
	return &concatGradKernel{fwd: k, wrt: i}
}

// concatGradKernel slices input wrt's channels out of dy.
type concatGradKernel struct {
	fwd *concatKernel
	wrt int
}

func (k *concatGradKernel) String() string { return fmt.Sprintf("%sGrad%d", k.fwd, k.wrt) }

func (k *concatGradKernel) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	return gradShape(k, k.fwd, in, k.fwd.n, k.wrt)
}

func (k *concatGradKernel) forward(out *tensor.Dense, in []*tensor.Dense) error {
	dy := in[len(in)-1]
	n := dy.Shape()[0]
	off := 0
	for _, x := range in[:k.wrt] {
		off += x.Shape().TotalSize() / n
	}
	return byDtype(out,
		func() error { concatBackward(data[float32](out), data[float32](dy), n, off); return nil },
		func() error { concatBackward(data[float64](out), data[float64](dy), n, off); return nil })
}

func concatBackward[T float](dx, dy []T, n, off int) {
	per := len(dy) / n
	sz := len(dx) / n
	for b := 0; b < n; b++ {
		copy(dx[b*sz:(b+1)*sz], dy[b*per+off:b*per+off+sz])
	}
}

func (k *concatGradKernel) grad(int) kernel { return nil }
