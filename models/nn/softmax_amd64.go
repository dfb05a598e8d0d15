//go:build amd64 && !purego

package nn

import "golang.org/x/sys/cpu"

// expVec is the vectorised exp of the attention softmax: expSubSum16 with
// AVX-512, expSubSum8 with AVX2+FMA, nil without; expLanes is its
// granule.
var expVec, expLanes = func() (func(z *float32, n int, mx float32) float32, int) {
	switch {
	case cpu.X86.HasAVX512F:
		return expSubSum16, 16
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return expSubSum8, 8
	}
	return nil, 0
}()

// expSubSum16 sets z[i] = exp(z[i] - mx) for i < n, n a positive multiple
// of 16, and returns their sum (AVX-512; relative error below 2e-7;
// exp(x) under 3e-38, x < -86.5, is 0).
//
//go:noescape
func expSubSum16(z *float32, n int, mx float32) float32

// expSubSum8 is expSubSum16 with AVX2+FMA, n a positive multiple of 8.
//
//go:noescape
func expSubSum8(z *float32, n int, mx float32) float32

// expKernels lists every vectorised exp this CPU runs, for the tests.
func expKernels() []expKernel {
	var ks []expKernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, expKernel{"avx512", expSubSum16, 16})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, expKernel{"avx2", expSubSum8, 8})
	}
	return ks
}

// haveSoftmax16 is true where the AVX-512 helpers below run.
var haveSoftmax16 = cpu.X86.HasAVX512F

// scaleAddMax16 sets z[i] = scale*x[i] + b[i] (no b when b is nil) for
// i < n, a positive multiple of 16, and returns the largest z (NaN
// ignored).
//
//go:noescape
func scaleAddMax16(z, x, b *float32, n int, scale float32) float32

// scale16 sets d[i] = s*z[i] for i < n, a positive multiple of 16.
//
//go:noescape
func scale16(d, z *float32, n int, s float32)

// dot16 returns the sum of x[i]*y[i] for i < n, a positive multiple of 16.
//
//go:noescape
func dot16(x, y *float32, n int) float32

// softmaxGrad16 sets d[i] = mul*y[i]*(dy[i]-s) for i < n, a positive
// multiple of 16.
//
//go:noescape
func softmaxGrad16(d, y, dy *float32, n int, mul, s float32)
