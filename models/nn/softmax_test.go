package nn

import (
	"math"
	"math/rand"
	"testing"
)

// TestExpVec holds each vectorised exp the CPU runs to math.Exp over the
// float32 range softmax meets, including values flushed to 0 and -Inf; a
// NaN gives NaN.
func TestExpVec(t *testing.T) {
	if expVec == nil {
		t.Skip("no AVX2 or AVX-512")
	}
	for _, k := range expKernels() {
		t.Run(k.name, func(t *testing.T) { testExpVec(t, k.f) })
	}
}

func testExpVec(t *testing.T, expSubSum16 func(*float32, int, float32) float32) {
	var z []float32
	for x := -110.0; x <= 0; x += 0.0137 {
		z = append(z, float32(x))
	}
	z = append(z, float32(math.Inf(-1)), -86.8, -86.2, 0, 0)
	for len(z)%16 != 0 { // a multiple of both granules
		z = append(z, -1)
	}
	const mx = 0.25
	got := append([]float32(nil), z...)
	sum := expSubSum16(&got[0], len(got), mx)
	var want float64
	for i, v := range z {
		x := v - mx // rounded to float32, as the kernel does
		e := math.Exp(float64(x))
		if x < -86.5 {
			e = 0
		}
		want += e
		if d := math.Abs(float64(got[i]) - e); d > 3e-7*e || (e == 0 && got[i] != 0) {
			t.Fatalf("exp(%g - %g) = %g, want %g", v, mx, got[i], e)
		}
	}
	if math.Abs(float64(sum)-want) > 1e-6*want {
		t.Errorf("sum %g, want %g", sum, want)
	}
	nan := make([]float32, 16)
	nan[3] = float32(math.NaN())
	if sum := expSubSum16(&nan[0], 16, 0); !math.IsNaN(float64(sum)) || !math.IsNaN(float64(nan[3])) || nan[4] != 1 {
		t.Errorf("with a NaN: sum %g, values %v", sum, nan)
	}
}

// TestAttnSoftmaxFloat32 (each vectorised exp the CPU runs, and scalar Go)
// compares the float32 softmax (vectorised exp where
// the CPU has AVX-512) with the float64 one on rows longer than a vector,
// with a bias, region labels, a dense mask with -Inf entries, and a row
// masked everywhere.
func TestAttnSoftmaxFloat32(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	const b, heads, l, nw = 4, 2, 37, 2
	shape := []int{b, heads, l, l}
	n := b * heads * l * l
	x64, b64 := make([]float64, n), make([]float64, heads*l*l)
	for i := range x64 {
		x64[i] = 4 * r.NormFloat64()
	}
	for i := range b64 {
		b64[i] = r.NormFloat64()
	}
	regions := make([]int32, nw*l)
	for i := range regions {
		regions[i] = int32(r.Intn(3))
	}
	mask := make([]float64, nw*l*l)
	for i := range mask {
		switch r.Intn(10) {
		case 0:
			mask[i] = math.Inf(-1)
		case 1:
			mask[i] = -100
		}
	}
	for j := 0; j < l; j++ {
		mask[5*l+j] = math.Inf(-1) // window 0, row 5: nothing left
	}
	x64[7*l+3] = math.NaN() // row 7 is NaN throughout
	for j := 0; j < l; j++ {
		x64[9*l+j] = 420 - 20*float64(j) // row 9 spans ±100 after scaling: only the true max keeps exp finite
	}
	defer func(f func(*float32, int, float32) float32, n int) { expVec, expLanes = f, n }(expVec, expLanes)
	for _, k := range append(expKernels(), expKernel{name: "scalar"}) {
		expVec, expLanes = k.f, k.lanes
		testAttnSoftmax32(t, k.name, shape, x64, b64, regions, mask)
	}
}

func testAttnSoftmax32(t *testing.T, name string, shape []int, x64, b64 []float64, regions []int32, mask []float64) {
	const nw = 2
	n := len(x64)
	for _, op := range []*attnSoftmaxOp{
		{xShape: shape, scale: 0.35},
		{xShape: shape, scale: 0.35, regions: regions, nw: nw},
		{xShape: shape, scale: 1, mask: mask, nw: nw},
	} {
		x32, b32 := make([]float32, n), make([]float32, len(b64))
		for i, v := range x64 {
			x32[i] = float32(v)
			x64[i] = float64(x32[i])
		}
		for i, v := range b64 {
			b32[i] = float32(v)
			b64[i] = float64(b32[i])
		}
		d64, d32 := make([]float64, n), make([]float32, n)
		attnSoftmaxKernel(op, d64, x64, b64)
		attnSoftmaxKernel(op, d32, x32, b32)
		for i := range d64 {
			if math.IsNaN(d64[i]) != math.IsNaN(float64(d32[i])) {
				t.Fatalf("%s %v: element %d: %g, want %g", name, op, i, d32[i], d64[i])
			}
			tol := 2e-6
			if i/shape[3] == 9 {
				tol = 4e-5 // logits near ±50 carry float32 rounding of 4e-6 each into exp
			}
			if d := math.Abs(float64(d32[i]) - d64[i]); d > tol*d64[i]+1e-12 {
				t.Fatalf("%s %v: element %d: %g, want %g", name, op, i, d32[i], d64[i])
			}
		}
	}
}

// BenchmarkAttnSoftmax is the softmax of Swin-UNETR's first stage at 64^3
// input (rows of 343 = 7^3 window positions, shifted-window regions), on
// the vectorised path and the scalar one.
func BenchmarkAttnSoftmax(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	const bw, heads, l, nw = 125, 3, 343, 125
	shape := []int{bw, heads, l, l}
	x := make([]float32, bw*heads*l*l)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	bias := make([]float32, heads*l*l)
	regions := make([]int32, nw*l)
	for i := range regions {
		regions[i] = int32(i % 3)
	}
	dst := make([]float32, len(x))
	op := &attnSoftmaxOp{xShape: shape, scale: 0.18, regions: regions, nw: nw}
	defer func(f func(*float32, int, float32) float32, n int) { expVec, expLanes = f, n }(expVec, expLanes)
	for _, k := range append(expKernels(), expKernel{name: "scalar"}) {
		expVec, expLanes = k.f, k.lanes
		b.Run("exp="+k.name, func(b *testing.B) {
			b.SetBytes(int64(4 * len(x)))
			for i := 0; i < b.N; i++ {
				attnSoftmaxKernel(op, dst, x, bias)
			}
		})
	}
}

// TestAttnSoftmaxBackFloat32 compares the float32 softmax gradient (the
// AVX-512 helpers where the CPU has them) with the float64 one on rows of
// 37 (two vectors and a tail).
func TestAttnSoftmaxBackFloat32(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	const m, rows = 37, 24
	y64, dy64 := make([]float64, m*rows), make([]float64, m*rows)
	y32, dy32 := make([]float32, m*rows), make([]float32, m*rows)
	for i := range y64 {
		y32[i], dy32[i] = float32(r.Float64()/m), float32(r.NormFloat64())
		y64[i], dy64[i] = float64(y32[i]), float64(dy32[i])
	}
	d64, d32 := make([]float64, len(y64)), make([]float32, len(y64))
	attnSoftmaxBack(d64, y64, dy64, m, 0.3)
	attnSoftmaxBack(d32, y32, dy32, m, 0.3)
	for i := range d64 {
		if d := math.Abs(float64(d32[i]) - d64[i]); d > 1e-6*(math.Abs(d64[i])+1e-3) {
			t.Fatalf("element %d: %g, want %g", i, d32[i], d64[i])
		}
	}
}
