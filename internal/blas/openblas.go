//go:build cgo && !purego

package blas

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
typedef void (*dgemm_fn)(int, int, int, int, int, int, double, const double *, int, const double *, int, double, double *, int);
typedef void (*setthreads_fn)(int);
typedef char *(*corename_fn)(void);

static sgemm_fn ub_sgemm;
static dgemm_fn ub_dgemm;
static corename_fn ub_corename;

// ub_load picks OpenBLAS's kernel from the CPU's features when the user has
// not (OPENBLAS_CORETYPE; Debian's DYNAMIC_ARCH build falls back to the slow
// generic "Prescott" kernel on CPUs it does not recognise, such as many
// virtual machines), then loads the library. It returns NULL on success or
// the loader's message.
static const char *ub_load(void) {
#if defined(__x86_64__)
	if (getenv("OPENBLAS_CORETYPE") == NULL) {
		__builtin_cpu_init();
		if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		    __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
			setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
		} else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
			setenv("OPENBLAS_CORETYPE", "Haswell", 0);
		}
	}
#endif
	void *h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) h = dlopen("libopenblas.so", RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) return dlerror();
	ub_sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
	ub_dgemm = (dgemm_fn)dlsym(h, "cblas_dgemm");
	ub_corename = (corename_fn)dlsym(h, "openblas_get_corename");
	setthreads_fn st = (setthreads_fn)dlsym(h, "openblas_set_num_threads");
	if (ub_sgemm == NULL || ub_dgemm == NULL || st == NULL) return "libopenblas lacks cblas_sgemm, cblas_dgemm or openblas_set_num_threads";
	st(1);
	return NULL;
}

static void ub_call_sgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
	const float *b, int ldb, float beta, float *c, int ldc) {
	ub_sgemm(101, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static void ub_call_dgemm(int ta, int tb, int m, int n, int k, double alpha, const double *a, int lda,
	const double *b, int ldb, double beta, double *c, int ldc) {
	ub_dgemm(101, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static const char *ub_core(void) { return ub_corename ? ub_corename() : "unknown"; }
*/
import "C"

import "os"

// OpenBLAS is opened at run time (dlopen) unless UNETLAB_BLAS=gonum, so a cgo build needs neither
// OpenBLAS's headers nor its library to link, and falls back to gonum when
// libopenblas.so.0 is missing. OpenBLAS runs one thread per call; Sgemm
// splits large products over goroutines itself.
var (
	haveOpenBLAS bool
	loadErr      string
	backend      = "gonum"
)

func init() {
	if os.Getenv("UNETLAB_BLAS") == "gonum" {
		loadErr = "UNETLAB_BLAS=gonum"
		return
	}
	if msg := C.ub_load(); msg != nil {
		loadErr = C.GoString(msg)
		return
	}
	haveOpenBLAS = true
	backend = "openblas (" + C.GoString(C.ub_core()) + ")"
}

func selfThreaded() bool { return !haveOpenBLAS }

func tr(t bool) C.int {
	if t {
		return 112
	}
	return 111
}

func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !haveOpenBLAS {
		gonumSgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	var pa, pb *C.float
	if len(a) > 0 {
		pa = (*C.float)(&a[0])
	}
	if len(b) > 0 {
		pb = (*C.float)(&b[0])
	}
	C.ub_call_sgemm(tr(transA), tr(transB), C.int(m), C.int(n), C.int(k), C.float(alpha),
		pa, C.int(lda), pb, C.int(ldb), C.float(beta), (*C.float)(&c[0]), C.int(ldc))
}

func dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if !haveOpenBLAS {
		gonumDgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	var pa, pb *C.double
	if len(a) > 0 {
		pa = (*C.double)(&a[0])
	}
	if len(b) > 0 {
		pb = (*C.double)(&b[0])
	}
	C.ub_call_dgemm(tr(transA), tr(transB), C.int(m), C.int(n), C.int(k), C.double(alpha),
		pa, C.int(lda), pb, C.int(ldb), C.double(beta), (*C.double)(&c[0]), C.int(ldc))
}
