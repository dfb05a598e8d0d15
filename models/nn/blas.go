package nn

import "github.com/unetlab/unetlab/internal/blas"

var (
	blasSgemm       = blas.Sgemm
	blasDgemm       = blas.Dgemm
	blasSgemmSerial = blas.SgemmSerial
	blasDgemmSerial = blas.DgemmSerial
)

// BLASBackend names the matrix-multiply library the kernels run on:
// "openblas (KERNEL)" when libopenblas.so.0 is present in a cgo build, or
// "gonum" (pure Go: no OpenBLAS, CGO_ENABLED=0 or -tags purego).
func BLASBackend() string { return blas.Backend() }

// ConvBackend names how float32 stride-1 convolutions run: "direct
// (avx512)" or "direct (avx2)" with the assembly micro-kernels, or
// "vol2col+gemm" (no AVX2+FMA, -tags purego, or UNETLAB_CONV=gemm). Other
// convolutions always take vol2col+gemm.
func ConvBackend() string {
	if dk := directKernels(); dk != nil {
		return "direct (" + dk.name + ")"
	}
	return "vol2col+gemm"
}
