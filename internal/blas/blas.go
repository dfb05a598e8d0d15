// Package blas is the matrix-multiply backend of models/nn: OpenBLAS through
// cgo where cgo is on (the default build, needs Debian's libopenblas-dev),
// gonum's pure-Go BLAS otherwise (CGO_ENABLED=0 or the build tag purego).
//
// Matrices are row-major. Sgemm and Dgemm compute
// C = alpha*op(A)*op(B) + beta*C with op(A) of size m×k and op(B) k×n.
// Both use every core: OpenBLAS through its own threads, gonum through
// goroutines. Misuse (short slices, bad leading dimensions) panics.
package blas

// Backend names the implementation compiled in: "openblas" or "gonum".
const Backend = backend

// Sgemm computes C = alpha*op(A)*op(B) + beta*C in float32, row-major;
// op(X) is X or its transpose when transX is true.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm is Sgemm in float64.
func Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	dgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func checkGemm(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	ra, ca := m, k
	if transA {
		ra, ca = k, m
	}
	rb, cb := k, n
	if transB {
		rb, cb = n, k
	}
	if m < 0 || n < 0 || k < 0 || lda < max(1, ca) || ldb < max(1, cb) || ldc < max(1, n) {
		panic("blas: bad dimension or leading dimension")
	}
	if (ra > 0 && ca > 0 && la < (ra-1)*lda+ca) || (rb > 0 && cb > 0 && lb < (rb-1)*ldb+cb) || lc < (m-1)*ldc+n {
		panic("blas: slice too short")
	}
}
