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
