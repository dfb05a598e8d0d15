package cuda

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"
)

// testDevice opens the emulated device and closes it at the test's end,
// failing if the test leaked device memory.
func testDevice(t *testing.T) (Device, *Kernels) {
	t.Helper()
	d, err := OpenEmulated()
	if err != nil {
		t.Skipf("no emulated device: %v", err)
	}
	k, err := NewKernels(d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := k.Close(); err != nil {
			t.Error(err)
		}
		if n := LiveBytes(d); n != 0 {
			t.Errorf("%d bytes of device memory leaked", n)
		}
		d.Close()
	})
	return d, k
}

// upload copies v to new device memory.
func upload(t *testing.T, d Device, v []float32) Ptr {
	t.Helper()
	p, err := d.Alloc(4 * len(v))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Free(p) })
	if len(v) > 0 {
		if err := d.CopyHtoD(p, unsafe.Pointer(&v[0]), 4*len(v)); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func download(t *testing.T, d Device, p Ptr, n int) []float32 {
	t.Helper()
	v := make([]float32, n)
	if n > 0 {
		if err := d.CopyDtoH(unsafe.Pointer(&v[0]), p, 4*n); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

func randVec(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func TestEmulatorBarrier(t *testing.T) {
	d, k := testDevice(t)
	const bs, blocks = 64, 3
	x := make([]float32, bs*blocks)
	for i := range x {
		x[i] = float32(i)
	}
	px, py := upload(t, d, x), upload(t, d, make([]float32, len(x)))
	run := func(barrier int32) []float32 {
		if err := d.Launch(k.fn[kSelftestReverse], Dim3{X: blocks}, Dim3{X: bs}, 0, barrier, px, py); err != nil {
			t.Fatal(err)
		}
		return download(t, d, py, len(x))
	}
	y := run(1)
	for i := range y {
		b, j := i/bs, i%bs
		if want := x[b*bs+bs-1-j]; y[i] != want {
			t.Fatalf("with the barrier: y[%d] = %v, want %v", i, y[i], want)
		}
	}
	y = run(0)
	wrong := 0
	for i := range y {
		b, j := i/bs, i%bs
		if y[i] != x[b*bs+bs-1-j] {
			wrong++
		}
	}
	if wrong == 0 {
		t.Error("without the barrier the emulator gave the right answer: it would not catch a missing __syncthreads")
	}
}

func TestEmulatorDivergentBarrier(t *testing.T) {
	d, k := testDevice(t)
	p := upload(t, d, make([]float32, 32))
	err := d.Launch(k.fn[kSelftestEarlyExit], Dim3{X: 1}, Dim3{X: 32}, 0, p)
	if !errors.Is(err, ErrLaunch) || !strings.Contains(err.Error(), "__syncthreads") {
		t.Fatalf("err = %v, want ErrLaunch naming __syncthreads", err)
	}
}

func TestEmulatorMisuse(t *testing.T) {
	d, k := testDevice(t)
	p := upload(t, d, make([]float32, 4))
	var buf [8]float32
	tests := []struct {
		name string
		err  error
	}{
		{"copy past the end", d.CopyDtoH(unsafe.Pointer(&buf[0]), p, 32)},
		{"free twice", func() error { q, _ := d.Alloc(4); d.Free(q); return d.Free(q) }()},
		{"too few arguments", d.Launch(k.fn[kFill], Dim3{X: 1}, Dim3{X: 32}, 0, int32(4))},
		{"int argument", d.Launch(k.fn[kFill], Dim3{X: 1}, Dim3{X: 32}, 0, 4, float32(1), p)},
		{"wrong size", d.Launch(k.fn[kFill], Dim3{X: 1}, Dim3{X: 32}, 0, int64(4), float32(1), p)},
		{"block too big", d.Launch(k.fn[kFill], Dim3{X: 1}, Dim3{X: 2048}, 0, int32(4), float32(1), p)},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	if _, err := d.Function("no_such_kernel"); err == nil {
		t.Error("Function(no_such_kernel): no error")
	}
}

func TestElementwise(t *testing.T) {
	d, k := testDevice(t)
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 255, 257, 1000} {
		x, y := randVec(r, n), randVec(r, n)
		px, py := upload(t, d, x), upload(t, d, y)
		if err := k.Axpby(n, 2, px, -0.5, py); err != nil {
			t.Fatal(err)
		}
		got := download(t, d, py, n)
		for i := range got {
			if want := 2*x[i] - 0.5*y[i]; got[i] != want {
				t.Fatalf("n=%d: axpby[%d] = %v, want %v", n, i, got[i], want)
			}
		}
		if err := k.Mul(n, px, px, py); err != nil {
			t.Fatal(err)
		}
		got = download(t, d, py, n)
		for i := range got {
			if want := x[i] * x[i]; got[i] != want {
				t.Fatalf("n=%d: mul[%d] = %v, want %v", n, i, got[i], want)
			}
		}
		if err := k.Fill(n, 3, py); err != nil {
			t.Fatal(err)
		}
		for i, v := range download(t, d, py, n) {
			if v != 3 {
				t.Fatalf("n=%d: fill[%d] = %v", n, i, v)
			}
		}
	}
}

func TestSum(t *testing.T) {
	d, k := testDevice(t)
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 7, 256, 1000, 300000} {
		x := randVec(r, n)
		var want float64
		for _, v := range x {
			want += float64(v)
		}
		px, out := upload(t, d, x), upload(t, d, make([]float32, 1))
		if err := k.Sum(n, px, 1/float64(n), out); err != nil {
			t.Fatal(err)
		}
		got := download(t, d, out, 1)[0]
		if w := float32(want / float64(n)); math.Abs(float64(got-w)) > 1e-6*math.Max(1, math.Abs(float64(w))) {
			t.Errorf("mean of %d: %v, want %v", n, got, w)
		}
	}
}

// refGemm is the plain triple loop.
func refGemm(g Gemm, a, b, c []float32) {
	for z := 0; z < max(g.Batch, 1); z++ {
		for i := 0; i < g.M; i++ {
			for j := 0; j < g.N; j++ {
				var s float64
				for l := 0; l < g.K; l++ {
					var av, bv float32
					if g.TransA {
						av = a[z*g.SA+l*g.LDA+i]
					} else {
						av = a[z*g.SA+i*g.LDA+l]
					}
					if g.TransB {
						bv = b[z*g.SB+j*g.LDB+l]
					} else {
						bv = b[z*g.SB+l*g.LDB+j]
					}
					s += float64(av) * float64(bv)
				}
				p := &c[z*g.SC+i*g.LDC+j]
				*p = g.Alpha*float32(s) + g.Beta**p
			}
		}
	}
}

func TestSgemm(t *testing.T) {
	d, k := testDevice(t)
	r := rand.New(rand.NewPCG(5, 6))
	tests := []struct {
		m, n, kk, batch int
		ta, tb          bool
		beta            float32
	}{
		{1, 1, 1, 1, false, false, 0},
		{65, 70, 17, 1, false, false, 0},
		{65, 70, 17, 1, true, false, 0.5},
		{33, 129, 40, 1, false, true, 0},
		{31, 5, 130, 2, true, true, 1},
		{64, 64, 16, 3, false, false, 0},
	}
	for _, tt := range tests {
		g := Gemm{TransA: tt.ta, TransB: tt.tb, M: tt.m, N: tt.n, K: tt.kk, Alpha: 1.5, Beta: tt.beta, Batch: tt.batch}
		g.LDA, g.LDB, g.LDC = tt.kk+1, tt.n+2, tt.n+3 // padded rows
		if tt.ta {
			g.LDA = tt.m + 1
		}
		if tt.tb {
			g.LDB = tt.kk + 2
		}
		rowsA, rowsB := tt.m, tt.kk
		if tt.ta {
			rowsA = tt.kk
		}
		if tt.tb {
			rowsB = tt.n
		}
		g.SA, g.SB, g.SC = rowsA*g.LDA, rowsB*g.LDB, tt.m*g.LDC
		a, b, c := randVec(r, g.SA*tt.batch), randVec(r, g.SB*tt.batch), randVec(r, g.SC*tt.batch)
		want := append([]float32(nil), c...)
		refGemm(g, a, b, want)
		g.A, g.B, g.C = upload(t, d, a), upload(t, d, b), upload(t, d, c)
		if err := k.Sgemm(g); err != nil {
			t.Fatal(err)
		}
		got := download(t, d, g.C, len(c))
		for i := range got {
			if math.Abs(float64(got[i]-want[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%+v: c[%d] = %v, want %v", tt, i, got[i], want[i])
			}
		}
	}
}

func TestStrided(t *testing.T) {
	d, k := testDevice(t)
	// A (2, 3, 4) tensor viewed with its last two axes swapped, from offset
	// 1 over a (2, 2, 3) block: element (a, b, c) is src[1 + a*12 + b*1 + c*4].
	iter, strides, off := []int{2, 2, 3}, []int{12, 1, 4}, 1
	src := make([]float32, 24)
	for i := range src {
		src[i] = float32(i)
	}
	var want []float32
	for a := 0; a < 2; a++ {
		for b := 0; b < 2; b++ {
			for c := 0; c < 3; c++ {
				want = append(want, src[off+a*12+b+c*4])
			}
		}
	}
	s, err := NewStrided(iter, strides, off)
	if err != nil {
		t.Fatal(err)
	}
	ps, pv := upload(t, d, src), upload(t, d, make([]float32, len(want)))
	if err := k.StridedGather(s, ps, pv); err != nil {
		t.Fatal(err)
	}
	got := download(t, d, pv, len(want))
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("gather [%d] = %v, want %v", i, got[i], want[i])
		}
	}
	back := upload(t, d, make([]float32, 24))
	if err := k.StridedScatter(s, pv, back, 24); err != nil {
		t.Fatal(err)
	}
	b := download(t, d, back, 24)
	n := 0
	for i, v := range b {
		switch {
		case v == src[i] && v != 0:
			n++
		case v != 0:
			t.Fatalf("scatter [%d] = %v, want %v or 0", i, v, src[i])
		}
	}
	if n != len(want)-btoi(want[0] == 0) {
		t.Errorf("scatter wrote %d of the %d viewed elements", n, len(want))
	}
	if _, err := NewStrided(make([]int, 9), make([]int, 9), 0); err == nil {
		t.Error("a 9-axis view: no error")
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestBNRunning: the running statistics update, bit for bit the formula of
// models/nn's BatchNormStats.update (each product rounded), and eval
// mode's rstd from the running variance, with and without an update.
func TestBNRunning(t *testing.T) {
	d, k := testDevice(t)
	r := rand.New(rand.NewPCG(3, 4))
	up64 := func(v []float64) Ptr {
		t.Helper()
		p, err := d.Alloc(8 * max(len(v), 1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Free(p) })
		if len(v) > 0 {
			if err := d.CopyHtoD(p, unsafe.Pointer(&v[0]), 8*len(v)); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	down64 := func(p Ptr, n int) []float64 {
		t.Helper()
		v := make([]float64, n)
		if n > 0 {
			if err := d.CopyDtoH(unsafe.Pointer(&v[0]), p, 8*n); err != nil {
				t.Fatal(err)
			}
		}
		return v
	}
	vec := func(n int, lo float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = lo + r.Float64()
		}
		return v
	}
	for _, c := range []struct {
		n                     int
		momentum, unbias, eps float64
		update                bool
	}{
		{1, 0.1, 1, 1e-5, true},
		{3, 0.1, 60.0 / 59, 1e-5, true},
		{300, 0.37, 2, 1e-3, true},
		{5, 0.1, 0, 1e-5, false},
	} {
		mean, variance, bmean, bvar := vec(c.n, -0.5), vec(c.n, 0.1), vec(c.n, -0.5), vec(c.n, 0.1)
		pm, pv, prstd := up64(mean), up64(variance), up64(make([]float64, c.n))
		var pbm, pbv Ptr
		if c.update {
			pbm, pbv = up64(bmean), up64(bvar)
		}
		if err := k.BNRunning(c.n, c.momentum, c.unbias, c.eps, pbm, pbv, pm, pv, prstd); err != nil {
			t.Fatal(err)
		}
		gm, gv, grstd := down64(pm, c.n), down64(pv, c.n), down64(prstd, c.n)
		for i := range gm {
			wm, wv := mean[i], variance[i]
			if c.update {
				wm = float64((1-c.momentum)*mean[i]) + float64(c.momentum*bmean[i])
				wv = float64((1-c.momentum)*variance[i]) + float64(c.momentum*bvar[i]*c.unbias)
			}
			wr := 1 / math.Sqrt(wv+c.eps)
			if gm[i] != wm || gv[i] != wv || grstd[i] != wr {
				t.Fatalf("%+v: [%d] mean %v var %v rstd %v, want %v %v %v", c, i, gm[i], gv[i], grstd[i], wm, wv, wr)
			}
		}
	}
}
