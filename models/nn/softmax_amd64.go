//go:build amd64 && !purego

package nn

import "golang.org/x/sys/cpu"

// haveExpAVX512 is true where expSubSum16 runs.
var haveExpAVX512 = cpu.X86.HasAVX512F

// expSubSum16 sets z[i] = exp(z[i] - mx) for i < n, n a positive multiple
// of 16, and returns their sum (AVX-512; relative error below 2e-7;
// exp(x) under 3e-38, x < -86.5, is 0).
//
//go:noescape
func expSubSum16(z *float32, n int, mx float32) float32
