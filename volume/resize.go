package volume

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
)

// axisWeights holds, for each output index along one axis, the two source
// indices and their weights of linear interpolation.
type axisWeights struct {
	i0, i1 []int
	w0, w1 []float32
}

// linearWeights returns the interpolation table from n to m samples as
// PyTorch's F.interpolate(mode="trilinear", align_corners=False) computes
// it: source = (i + 0.5) * n/m - 0.5, clamped below at 0, in float32.
func linearWeights(n, m int) axisWeights {
	w := axisWeights{make([]int, m), make([]int, m), make([]float32, m), make([]float32, m)}
	scale := float32(n) / float32(m)
	for i := 0; i < m; i++ {
		src := scale*(float32(i)+0.5) - 0.5
		if src < 0 {
			src = 0
		}
		i0 := int(src)
		i1 := i0
		if i0 < n-1 {
			i1 = i0 + 1
		}
		l1 := src - float32(i0)
		w.i0[i], w.i1[i], w.w0[i], w.w1[i] = i0, i1, 1-l1, l1
	}
	return w
}

// nearestIndex returns PyTorch's F.interpolate(mode="nearest") source
// indices from n to m samples: floor(i * n/m) in float32, at most n-1.
func nearestIndex(n, m int) []int {
	idx := make([]int, m)
	scale := float32(n) / float32(m)
	for i := range idx {
		switch {
		case n == m:
			idx[i] = i
		case m == 2*n:
			idx[i] = i >> 1
		default:
			idx[i] = min(int(float32(math.Floor(float64(float32(i)*scale)))), n-1)
		}
	}
	return idx
}

// resampled returns v's geometry resized to shape: spacing scaled by
// old/new and the affine moved so that each new voxel centre lies where
// align_corners=False puts it in the old grid.
func resampled(v *Volume, shape [3]int, channels int) *Volume {
	w := New(shape, channels)
	w.Header = v.Header
	var t Affine = Identity()
	for i := 0; i < 3; i++ {
		s := float64(v.Shape[i]) / float64(shape[i])
		w.Spacing[i] = v.Spacing[i] * s
		t[i][i] = s
		t[i][3] = 0.5*s - 0.5
	}
	w.Affine = v.Affine.Mul(t)
	return w
}

func checkTarget(v *Volume, shape [3]int) error {
	if err := v.Check(); err != nil {
		return err
	}
	for i, s := range shape {
		if s < 1 || s > 1<<16 {
			return fmt.Errorf("%w: target shape %v: axis %d must be 1..65536", ErrShape, shape, i)
		}
	}
	// Every axis may be legal and the whole still absurd (65536^3).
	if n, ok := count(shape, v.Channels); !ok || n > MaxVoxels {
		return fmt.Errorf("%w: target shape %v with %d channel(s): more than MaxVoxels (%d) voxels", ErrTooLarge, shape, v.Channels, int64(MaxVoxels))
	}
	return nil
}

// Resize resamples every channel of v to shape (X, Y, Z voxels) by
// trilinear interpolation, as PyTorch's F.interpolate(x, size,
// mode="trilinear", align_corners=False) does on the (C, Z, Y, X) tensor.
// The result's spacing (mm) and affine describe the same physical extent.
// It stops with ctx.Err() (wrapped) when ctx is cancelled.
func Resize(ctx context.Context, v *Volume, shape [3]int) (*Volume, error) {
	if err := checkTarget(v, shape); err != nil {
		return nil, fmt.Errorf("volume: Resize: %w", err)
	}
	w := resampled(v, shape, v.Channels)
	for c := 0; c < v.Channels; c++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("volume: Resize: %w", err)
		}
		resizeLinear(w.Channel(c), v.Channel(c), v.Shape, shape)
	}
	return w, nil
}

// ResizeNearest resamples every channel of v to shape with PyTorch's
// mode="nearest" rule (source index floor(i*in/out)).
func ResizeNearest(ctx context.Context, v *Volume, shape [3]int) (*Volume, error) {
	if err := checkTarget(v, shape); err != nil {
		return nil, fmt.Errorf("volume: ResizeNearest: %w", err)
	}
	w := resampled(v, shape, v.Channels)
	ix := nearestIndex(v.Shape[0], shape[0])
	iy := nearestIndex(v.Shape[1], shape[1])
	iz := nearestIndex(v.Shape[2], shape[2])
	X, Y := v.Shape[0], v.Shape[1]
	for c := 0; c < v.Channels; c++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("volume: ResizeNearest: %w", err)
		}
		src, dst := v.Channel(c), w.Channel(c)
		k := 0
		for _, z := range iz {
			for _, y := range iy {
				row := src[(z*Y+y)*X : (z*Y+y+1)*X]
				for _, x := range ix {
					dst[k] = row[x]
					k++
				}
			}
		}
	}
	return w, nil
}

// resizeLinear resamples one (Z, Y, X) channel src of shape in into dst of
// shape out, separably: along X, then Y, then Z, the slices split over the
// CPUs. Separable passes give the trilinear weights' product exactly up to
// float32 rounding.
func resizeLinear(dst, src []float32, in, out [3]int) {
	wx := linearWeights(in[0], out[0])
	wy := linearWeights(in[1], out[1])
	wz := linearWeights(in[2], out[2])
	// Pass 1: X. (Z, Y, inX) -> (Z, Y, outX)
	t1 := make([]float32, in[2]*in[1]*out[0])
	parallel(in[2]*in[1], func(lo, hi int) {
		for r := lo; r < hi; r++ {
			s := src[r*in[0] : (r+1)*in[0]]
			d := t1[r*out[0] : (r+1)*out[0]]
			for i := range d {
				d[i] = wx.w0[i]*s[wx.i0[i]] + wx.w1[i]*s[wx.i1[i]]
			}
		}
	})
	// Pass 2: Y. (Z, inY, outX) -> (Z, outY, outX)
	t2 := make([]float32, in[2]*out[1]*out[0])
	X := out[0]
	parallel(in[2], func(lo, hi int) {
		for z := lo; z < hi; z++ {
			for j := 0; j < out[1]; j++ {
				a := t1[(z*in[1]+wy.i0[j])*X : (z*in[1]+wy.i0[j]+1)*X]
				b := t1[(z*in[1]+wy.i1[j])*X : (z*in[1]+wy.i1[j]+1)*X]
				d := t2[(z*out[1]+j)*X : (z*out[1]+j+1)*X]
				w0, w1 := wy.w0[j], wy.w1[j]
				for i := range d {
					d[i] = w0*a[i] + w1*b[i]
				}
			}
		}
	})
	// Pass 3: Z. (inZ, outY, outX) -> (outZ, outY, outX)
	plane := out[1] * out[0]
	parallel(out[2], func(lo, hi int) {
		for k := lo; k < hi; k++ {
			a := t2[wz.i0[k]*plane : (wz.i0[k]+1)*plane]
			b := t2[wz.i1[k]*plane : (wz.i1[k]+1)*plane]
			d := dst[k*plane : (k+1)*plane]
			w0, w1 := wz.w0[k], wz.w1[k]
			for i := range d {
				d[i] = w0*a[i] + w1*b[i]
			}
		}
	})
}

// parallel runs f over [0, n) split into contiguous ranges, one per CPU.
func parallel(n int, f func(lo, hi int)) {
	p := min(runtime.GOMAXPROCS(0), n)
	if p <= 1 || n < 4 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for k := 0; k < p; k++ {
		lo, hi := k*n/p, (k+1)*n/p
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}
