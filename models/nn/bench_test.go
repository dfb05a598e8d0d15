package nn

import (
	"fmt"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func randF32(rng *rand.Rand, shape ...int) *tensor.Dense {
	n := tensor.Shape(shape).TotalSize()
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
}

// benchGrad times forward and backward of sum(y) with respect to wrt on
// graph g, one TapeMachine reused across the b.N iterations.
func benchGrad(b *testing.B, g *gorgonia.ExprGraph, y *gorgonia.Node, wrt ...*gorgonia.Node) {
	b.Helper()
	loss, err := Sum(y)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := gorgonia.Grad(loss, wrt...); err != nil {
		b.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Reset()
		if err := m.RunAll(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConv3dFwdBwd is the reference shape: Conv3d 32->32, k3,
// padding 1, on 1x32xSxSxS, forward plus backward (input and weight
// gradients). GFLOP/s counts 3 x 2 x MACs.
func benchConv(b *testing.B, s int) {
	rng := rand.New(rand.NewSource(1))
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(1, 32, s, s, s), gorgonia.WithValue(randF32(rng, 1, 32, s, s, s)), gorgonia.WithName("x"))
	w := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(32, 32, 3, 3, 3), gorgonia.WithValue(randF32(rng, 32, 32, 3, 3, 3)), gorgonia.WithName("w"))
	bias := gorgonia.NewTensor(g, tensor.Float32, 1, gorgonia.WithShape(32), gorgonia.WithValue(randF32(rng, 32)), gorgonia.WithName("b"))
	y, err := Conv3d(x, w, bias, &ConvOptions{Padding: [3]int{1, 1, 1}})
	if err != nil {
		b.Fatal(err)
	}
	benchGrad(b, g, y, x, w, bias)
	macs := float64(s*s*s) * 32 * 32 * 27
	b.ReportMetric(3*2*macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkConv3dFwdBwd32(b *testing.B) { benchConvPaths(b, 32) }
func BenchmarkConv3dFwdBwd64(b *testing.B) { benchConvPaths(b, 64) }

// benchConvPaths runs benchConv on every convolution path (benchPaths).
func benchConvPaths(b *testing.B, s int) {
	benchPaths(b, func(b *testing.B) { benchConv(b, s) })
}

// benchPaths runs f on each direct micro-kernel set the CPU runs (AVX-512,
// AVX2) and on the vol2col+GEMM path, in the same run, so their ratios can
// be read off one output.
func benchPaths(b *testing.B, f func(b *testing.B)) {
	defer func(best *directISA) { directBest = best }(directBest)
	for _, dk := range directAll() {
		directBest = dk
		b.Run("path="+dk.name, f)
	}
	directBest = nil
	b.Run("path=gemm", f)
}

// BenchmarkDepthwiseK7 is ConvNeXt's depthwise convolution: 32 channels,
// k7 p3, groups 32, on 1x32x32^3, forward and backward, on every path.
func BenchmarkDepthwiseK7(b *testing.B) { benchPaths(b, benchDepthwiseK7) }

func benchDepthwiseK7(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	s := 32
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(1, 32, s, s, s), gorgonia.WithValue(randF32(rng, 1, 32, s, s, s)), gorgonia.WithName("x"))
	w := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(32, 1, 7, 7, 7), gorgonia.WithValue(randF32(rng, 32, 1, 7, 7, 7)), gorgonia.WithName("w"))
	y, err := Conv3d(x, w, nil, &ConvOptions{Padding: [3]int{3, 3, 3}, Groups: 32})
	if err != nil {
		b.Fatal(err)
	}
	benchGrad(b, g, y, x, w)
	b.ReportMetric(3*2*float64(s*s*s*32*343)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkConvPaths times the forward and the weight gradient of a k3 p1
// convolution with C in and out channels on C x S^3, the levels of a
// U-net, on the direct kernels and on vol2col+GEMM: useDirect's size
// limits come from here.
func BenchmarkConvPaths(b *testing.B) {
	if directBest == nil {
		b.Skip("no direct convolution on this CPU")
	}
	for _, tc := range []struct{ c, s int }{{256, 4}, {128, 8}, {64, 16}, {32, 32}, {16, 64}} {
		p, err := (&ConvOptions{Padding: [3]int{1, 1, 1}}).params([3]int{3, 3, 3})
		if err != nil {
			b.Fatal(err)
		}
		size := [3]int{tc.s, tc.s, tc.s}
		g := newGeom(p, 1, tc.c, tc.c, size, size)
		r := rand.New(rand.NewSource(1))
		x := randSlice32(r, tc.c*g.bigN)
		dy := randSlice32(r, tc.c*g.smallN)
		w := randSlice32(r, tc.c*tc.c*27)
		out := make([]float32, len(w))
		y := make([]float32, tc.c*g.smallN)
		name := fmt.Sprintf("C%d_S%d", tc.c, tc.s)
		b.Run(name+"/fwd/direct", func(b *testing.B) {
			for range b.N {
				directForward(directBest, g, y, x, w)
			}
		})
		b.Run(name+"/wgrad/direct", func(b *testing.B) {
			for range b.N {
				directWeightGrad(directBest, g, out, dy, x)
			}
		})
		func() {
			defer func(off bool) { directOff = off }(directOff)
			directOff = true
			b.Run(name+"/fwd/gemm", func(b *testing.B) {
				for range b.N {
					smallFromBig(g, y, x, w)
				}
			})
			b.Run(name+"/wgrad/gemm", func(b *testing.B) {
				for range b.N {
					weightGrad(g, out, dy, x)
				}
			})
		}()
	}
}
