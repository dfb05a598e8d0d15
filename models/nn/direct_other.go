//go:build !amd64 || purego

package nn

// haveDirect is false: the direct convolution's micro-kernels are AVX-512
// assembly, and convolutions take the vol2col+GEMM path.
const haveDirect = false

func sconvFwd8x48(out *float32, ostride int, in *float32, offs *int, ntaps int, w *float32, nblk int) {
	panic("nn: direct convolution without its micro-kernels")
}

func sconvWGrad8x3(part *float32, dy *float32, dystride int, in *float32, offs *int, ntrip int, nvec int) {
	panic("nn: direct convolution without its micro-kernels")
}
