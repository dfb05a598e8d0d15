package blas

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

func naive(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for p := 0; p < k; p++ {
				var av, bv float64
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
}

func TestGemm(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, tc := range []struct{ m, n, k int }{{1, 1, 1}, {3, 5, 7}, {33, 17, 65}, {64, 130, 9}} {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				t.Run(fmt.Sprintf("%dx%dx%d/%v%v", tc.m, tc.n, tc.k, ta, tb), func(t *testing.T) {
					lda, ldb := tc.k, tc.n
					if ta {
						lda = tc.m
					}
					if tb {
						ldb = tc.k
					}
					a := make([]float64, tc.m*tc.k)
					b := make([]float64, tc.k*tc.n)
					c := make([]float64, tc.m*tc.n)
					for i := range a {
						a[i] = rng.NormFloat64()
					}
					for i := range b {
						b[i] = rng.NormFloat64()
					}
					for i := range c {
						c[i] = rng.NormFloat64()
					}
					want := append([]float64(nil), c...)
					naive(ta, tb, tc.m, tc.n, tc.k, 0.5, a, lda, b, ldb, 2, want, tc.n)
					got := append([]float64(nil), c...)
					Dgemm(ta, tb, tc.m, tc.n, tc.k, 0.5, a, lda, b, ldb, 2, got, tc.n)
					a32, b32, c32 := f32(a), f32(b), f32(c)
					Sgemm(ta, tb, tc.m, tc.n, tc.k, 0.5, a32, lda, b32, ldb, 2, c32, tc.n)
					for i := range want {
						if math.Abs(got[i]-want[i]) > 1e-9*(1+math.Abs(want[i])) {
							t.Fatalf("Dgemm[%d] = %v, want %v", i, got[i], want[i])
						}
						if math.Abs(float64(c32[i])-want[i]) > 1e-4*(1+math.Abs(want[i])) {
							t.Fatalf("Sgemm[%d] = %v, want %v", i, c32[i], want[i])
						}
					}
				})
			}
		}
	}
}

func f32(x []float64) []float32 {
	r := make([]float32, len(x))
	for i, v := range x {
		r[i] = float32(v)
	}
	return r
}

func benchSgemm(b *testing.B, n int) {
	a := make([]float32, n*n)
	bb := make([]float32, n*n)
	c := make([]float32, n*n)
	for i := range a {
		a[i] = float32(i%7) * 0.1
		bb[i] = float32(i%5) * 0.1
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Sgemm(false, false, n, n, n, 1, a, n, bb, n, 0, c, n)
	}
	b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkSgemm256(b *testing.B)  { benchSgemm(b, 256) }
func BenchmarkSgemm1024(b *testing.B) { benchSgemm(b, 1024) }

func TestBackend(t *testing.T) {
	t.Logf("backend %s", Backend())
	if Backend() == "" {
		t.Fatal("empty backend name")
	}
}
