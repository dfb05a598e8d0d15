package nn

import "sync"

// Scratch buffers (vol2col columns and the like) are taken from and returned
// to a free list, so a training loop reuses the same few slices every step
// instead of allocating new ones. The tape machine runs one op at a time;
// concurrent users simply get distinct buffers.
var scratch struct {
	mu  sync.Mutex
	f32 [][]float32
	f64 [][]float64
}

// getScratch returns a slice of length n (contents undefined).
func getScratch[T float](n int) []T {
	scratch.mu.Lock()
	defer scratch.mu.Unlock()
	var zero T
	switch any(zero).(type) {
	case float32:
		if s, ok := takeFit(&scratch.f32, n); ok {
			return any(s).([]T)
		}
	case float64:
		if s, ok := takeFit(&scratch.f64, n); ok {
			return any(s).([]T)
		}
	}
	return make([]T, n)
}

// takeFit removes and returns the smallest free slice with capacity >= n.
func takeFit[T float](list *[][]T, n int) ([]T, bool) {
	best := -1
	for i, s := range *list {
		if cap(s) >= n && (best < 0 || cap(s) < cap((*list)[best])) {
			best = i
		}
	}
	if best < 0 {
		return nil, false
	}
	s := (*list)[best]
	last := len(*list) - 1
	(*list)[best] = (*list)[last]
	*list = (*list)[:last]
	return s[:n], true
}

// putScratch returns s to the free list. At most 16 slices are kept; when
// the list is full the smallest one is dropped.
func putScratch[T float](s []T) {
	scratch.mu.Lock()
	defer scratch.mu.Unlock()
	switch v := any(s).(type) {
	case []float32:
		scratch.f32 = keep(scratch.f32, v)
	case []float64:
		scratch.f64 = keep(scratch.f64, v)
	}
}

func keep[T float](list [][]T, s []T) [][]T {
	if len(list) < 16 {
		return append(list, s[:cap(s)])
	}
	small := 0
	for i := range list {
		if cap(list[i]) < cap(list[small]) {
			small = i
		}
	}
	if cap(s) > cap(list[small]) {
		list[small] = s[:cap(s)]
	}
	return list
}

// gemm dispatches to internal/blas by element type.
func gemm[T float](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch av := any(a).(type) {
	case []float32:
		blasSgemm(transA, transB, m, n, k, 1, av, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		blasDgemm(transA, transB, m, n, k, 1, av, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// gemmSerial is gemm on the calling goroutine only.
func gemmSerial[T float](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch av := any(a).(type) {
	case []float32:
		blasSgemmSerial(transA, transB, m, n, k, 1, av, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		blasDgemmSerial(transA, transB, m, n, k, 1, av, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}
