package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SinusoidalPositionalEncoding3d returns the fixed 3D sinusoidal position
// encoding of shape (C, D, H, W) for c channels, as the Trans-UNet variants
// use it (the PositionalEncoding3D of the positional-encodings package,
// channels-first): with k = 2*ceil(c/6) (rounded up to even) and
// f_i = 10000^(-2i/k), i < k/2, the first k channels encode the D position
// d as sin(d f_0), cos(d f_0), sin(d f_1), cos(d f_1), ..., the next k the H
// position and the last k the W position; the first c of these 3k channels
// are kept. dtype is tensor.Float32 or tensor.Float64.
func SinusoidalPositionalEncoding3d(c, d, h, w int, dtype tensor.Dtype) (*tensor.Dense, error) {
	if c <= 0 || d <= 0 || h <= 0 || w <= 0 {
		return nil, fmt.Errorf("%w: SinusoidalPositionalEncoding3d: shape (%d, %d, %d, %d), want positive sizes", ErrShape, c, d, h, w)
	}
	if dtype != tensor.Float32 && dtype != tensor.Float64 {
		return nil, fmt.Errorf("%w: SinusoidalPositionalEncoding3d: dtype %v, want float32 or float64", ErrShape, dtype)
	}
	k := 2 * ((c + 5) / 6)
	if k%2 != 0 {
		k++
	}
	// The reference computes the frequencies in float32.
	freq := make([]float64, k/2)
	for i := range freq {
		freq[i] = float64(float32(1 / math.Pow(10000, float64(float32(2*i)/float32(k)))))
	}
	emb := func(pos, ch int) float64 {
		// channel ch < k of one axis: pair i = ch/2, sin for even, cos for odd.
		a := float64(float32(float64(pos) * freq[ch/2]))
		if ch%2 == 0 {
			return math.Sin(a)
		}
		return math.Cos(a)
	}
	n := d * h * w
	vals := make([]float64, c*n)
	for ch := 0; ch < c; ch++ {
		axis, j := ch/k, ch%k
		plane := vals[ch*n : (ch+1)*n]
		for z := 0; z < d; z++ {
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					pos := [3]int{z, y, x}[axis]
					plane[(z*h+y)*w+x] = emb(pos, j)
				}
			}
		}
	}
	if dtype == tensor.Float64 {
		return tensor.New(tensor.WithShape(c, d, h, w), tensor.WithBacking(vals)), nil
	}
	v32 := make([]float32, len(vals))
	for i, v := range vals {
		v32[i] = float32(v)
	}
	return tensor.New(tensor.WithShape(c, d, h, w), tensor.WithBacking(v32)), nil
}

// AddPositionalEncoding3d adds SinusoidalPositionalEncoding3d to x of shape
// (N, C, D, H, W), the same encoding for every sample. The encoding is a
// constant; the gradient flows to x unchanged.
func AddPositionalEncoding3d(x *G.Node) (*G.Node, error) {
	dt, err := attnDtype("AddPositionalEncoding3d", x)
	if err != nil {
		return nil, err
	}
	if err := attnNeedRank("AddPositionalEncoding3d", x, 5, "(N, C, D, H, W)"); err != nil {
		return nil, err
	}
	s := x.Shape()
	pe, err := SinusoidalPositionalEncoding3d(s[1], s[2], s[3], s[4], dt)
	if err != nil {
		return nil, err
	}
	c := G.NewConstant(pe, G.WithName(fmt.Sprintf("posenc3d_%d_%d_%d_%d", s[1], s[2], s[3], s[4])))
	return AddTrailing(x, c)
}
