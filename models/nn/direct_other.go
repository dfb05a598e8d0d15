//go:build !amd64 || purego

package nn

// The direct convolution's micro-kernels are amd64 assembly: elsewhere, and
// with -tags purego, convolutions take the vol2col+GEMM path.
var directBest *directISA

func directAll() []*directISA { return nil }
