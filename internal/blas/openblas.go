//go:build cgo && !purego

package blas

/*
#cgo LDFLAGS: -lopenblas
extern void cblas_sgemm(int order, int transA, int transB, int m, int n, int k,
	float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
extern void cblas_dgemm(int order, int transA, int transB, int m, int n, int k,
	double alpha, const double *a, int lda, const double *b, int ldb, double beta, double *c, int ldc);
extern void openblas_set_num_threads(int n);
extern int openblas_get_num_threads(void);
*/
import "C"

const backend = "openblas"

const (
	rowMajor = 101
	noTrans  = 111
	trans    = 112
)

func tr(t bool) C.int {
	if t {
		return trans
	}
	return noTrans
}

func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	var pa, pb *C.float
	if len(a) > 0 {
		pa = (*C.float)(&a[0])
	}
	if len(b) > 0 {
		pb = (*C.float)(&b[0])
	}
	C.cblas_sgemm(rowMajor, tr(transA), tr(transB), C.int(m), C.int(n), C.int(k), C.float(alpha),
		pa, C.int(lda), pb, C.int(ldb), C.float(beta), (*C.float)(&c[0]), C.int(ldc))
}

func dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	var pa, pb *C.double
	if len(a) > 0 {
		pa = (*C.double)(&a[0])
	}
	if len(b) > 0 {
		pb = (*C.double)(&b[0])
	}
	C.cblas_dgemm(rowMajor, tr(transA), tr(transB), C.int(m), C.int(n), C.int(k), C.double(alpha),
		pa, C.int(lda), pb, C.int(ldb), C.double(beta), (*C.double)(&c[0]), C.int(ldc))
}

// SetThreads sets the number of threads OpenBLAS uses (no-op for gonum).
func SetThreads(n int) { C.openblas_set_num_threads(C.int(n)) }

// Threads returns the number of threads the backend uses.
func Threads() int { return int(C.openblas_get_num_threads()) }
