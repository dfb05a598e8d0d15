// Package blas is the matrix-multiply backend of models/nn: OpenBLAS,
// opened at run time through cgo and dlopen when libopenblas.so.0 is present
// (Debian: libopenblas0, pulled in by libopenblas-dev), gonum's pure-Go BLAS
// otherwise, and always with CGO_ENABLED=0 or the build tag purego. The
// build needs no OpenBLAS headers or link step. Where the user has not set
// OPENBLAS_CORETYPE, the kernel is chosen from the CPU's features
// (SkylakeX with AVX-512, Haswell with AVX2+FMA), because Debian's
// DYNAMIC_ARCH library falls back to its slowest generic kernel on CPUs it
// does not recognise (many virtual machines), a factor of 3 to 4.
//
// Matrices are row-major. Sgemm and Dgemm compute
// C = alpha*op(A)*op(B) + beta*C with op(A) of size m×k and op(B) k×n.
// Both use every core: large products are split into blocks computed by
// GOMAXPROCS goroutines, each calling single-threaded OpenBLAS (its own
// thread pool is switched off); gonum splits the work itself. Misuse (short slices, bad leading dimensions) panics.
package blas

import (
	"runtime"
	"sync"
)

// parallelism is the number of goroutines a large product is split over.
func parallelism() int {
	if selfThreaded() {
		return 1
	}
	return runtime.GOMAXPROCS(0)
}

// Backend names the implementation in use: "openblas (KERNEL)" when
// libopenblas.so.0 was loaded (cgo builds), "gonum" otherwise.
func Backend() string { return backend }

// Sgemm computes C = alpha*op(A)*op(B) + beta*C in float32, row-major;
// op(X) is X or its transpose when transX is true.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	split(transA, transB, m, n, k, lda, ldb, ldc, func(m0, m1, n0, n1, ao, bo, co int) {
		sgemm(transA, transB, m1-m0, n1-n0, k, alpha, a[ao:], lda, b[bo:], ldb, beta, c[co:], ldc)
	})
}

// Dgemm is Sgemm in float64.
func Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	split(transA, transB, m, n, k, lda, ldb, ldc, func(m0, m1, n0, n1, ao, bo, co int) {
		dgemm(transA, transB, m1-m0, n1-n0, k, alpha, a[ao:], lda, b[bo:], ldb, beta, c[co:], ldc)
	})
}

// split runs f on blocks of C, one goroutine each, when the product is
// large enough and the backend is single-threaded per call (OpenBLAS is set
// to one thread: its own pool spins and loses badly on a loaded machine).
// Blocks split the larger of m and n into chunks that are multiples of 16.
// f gets the block's row and column ranges and the offsets into a, b and c.
func split(transA, transB bool, m, n, k, lda, ldb, ldc int, f func(m0, m1, n0, n1, ao, bo, co int)) {
	workers := parallelism()
	if workers <= 1 || 2*float64(m)*float64(n)*float64(k) < 4e6 || (m < 32 && n < 32) {
		f(0, m, 0, n, 0, 0, 0)
		return
	}
	alongN := n >= m
	size := m
	if alongN {
		size = n
	}
	chunk := (size + workers - 1) / workers
	chunk = (chunk + 15) / 16 * 16
	var wg sync.WaitGroup
	for lo := 0; lo < size; lo += chunk {
		hi := min(lo+chunk, size)
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			if alongN {
				bo := lo
				if transB {
					bo = lo * ldb
				}
				f(0, m, lo, hi, 0, bo, lo)
				return
			}
			ao := lo * lda
			if transA {
				ao = lo
			}
			f(lo, hi, 0, n, ao, 0, lo*ldc)
		}(lo, hi)
	}
	wg.Wait()
}

// SgemmSerial is Sgemm on the calling goroutine only (for callers that
// parallelise over independent products themselves).
func SgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// DgemmSerial is Dgemm on the calling goroutine only.
func DgemmSerial(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
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
