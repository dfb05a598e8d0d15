package nn

import "github.com/unetlab/unetlab/internal/blas"

var (
	blasSgemm = blas.Sgemm
	blasDgemm = blas.Dgemm
)

// BLASBackend names the matrix-multiply library the kernels run on:
// "openblas" (cgo builds, the default) or "gonum" (pure Go: CGO_ENABLED=0 or
// -tags purego).
func BLASBackend() string { return blas.Backend }
