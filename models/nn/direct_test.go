package nn

import (
	"bytes"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

func randSlice32(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func to64(s []float32) []float64 {
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = float64(v)
	}
	return d
}

// TestDirectMicroKernels holds each micro-kernel set the CPU runs to its
// portable statement on random data with scattered tap offsets.
func TestDirectMicroKernels(t *testing.T) {
	if len(directAll()) == 0 {
		t.Skip("no AVX2+FMA: the direct convolution is not used on this CPU")
	}
	r := rand.New(rand.NewSource(1))
	for _, dk := range directAll() {
		for _, tc := range []struct{ ntaps, nblk int }{{1, 1}, {3, 2}, {27, 5}, {100, 16}} {
			in := randSlice32(r, 4096)
			offs := make([]int, tc.ntaps)
			for i := range offs {
				offs[i] = 4 * r.Intn(4096-dk.block*tc.nblk)
			}
			w := randSlice32(r, dk.co*tc.ntaps)
			ostride := dk.block*tc.nblk + 5
			got := make([]float32, dk.co*ostride)
			want := make([]float32, dk.co*ostride)
			dk.fwd(&got[0], ostride, &in[0], &offs[0], tc.ntaps, &w[0], tc.nblk)
			directFwdGo(dk.co, dk.block, want, ostride, in, offs, tc.ntaps, w, tc.nblk)
			if err := closeTo(got, want, 1e-5); err != nil {
				t.Errorf("%s forward ntaps=%d nblk=%d: %v", dk.name, tc.ntaps, tc.nblk, err)
			}
		}
		for _, tc := range []struct{ ntrip, nvec int }{{1, 1}, {2, 3}, {9, 64}} {
			in := randSlice32(r, 4096)
			offs := make([]int, 3*tc.ntrip)
			for i := range offs {
				offs[i] = 4 * r.Intn(4096-dk.vec*tc.nvec)
			}
			dystride := dk.vec*tc.nvec + 16
			dy := randSlice32(r, dk.co*dystride)
			got := randSlice32(r, tc.ntrip*3*dk.co*dk.vec)
			want := append([]float32(nil), got...)
			dk.wgrad(&got[0], &dy[0], dystride, &in[0], &offs[0], tc.ntrip, tc.nvec)
			directWGradGo(dk.co, dk.vec, want, dy, dystride, in, offs, tc.ntrip, tc.nvec)
			if err := closeTo(got, want, 1e-5); err != nil {
				t.Errorf("%s weight gradient ntrip=%d nvec=%d: %v", dk.name, tc.ntrip, tc.nvec, err)
			}
		}
	}
}

// closeTo compares with a tolerance relative to the largest magnitude.
func closeTo(got, want []float32, tol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("length %d, want %d", len(got), len(want))
	}
	scale := 1.0
	for _, v := range want {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - float64(want[i])); d > tol*scale || math.IsNaN(float64(got[i])) {
			return fmt.Errorf("element %d: %g, want %g", i, got[i], want[i])
		}
	}
	return nil
}

func close32to64(got []float32, want []float64, tol float64) error {
	w := make([]float32, len(want))
	for i, v := range want {
		w[i] = float32(v)
	}
	return closeTo(got, w, tol)
}

// TestDirectConv checks the direct path's forward, input gradient and
// weight gradient against the float64 vol2col+GEMM path (which never takes
// the direct path) on geometries with odd sizes, asymmetric kernels,
// dilation, groups and channel counts that do not fill a tile.
func TestDirectConv(t *testing.T) {
	if len(directAll()) == 0 {
		t.Skip("no AVX2+FMA: the direct convolution is not used on this CPU")
	}
	cases := []struct {
		n, cin, cout int
		size, k      [3]int
		opt          ConvOptions
	}{
		{1, 1, 16, [3]int{8, 8, 8}, [3]int{3, 3, 3}, ConvOptions{Padding: [3]int{1, 1, 1}}},
		{2, 3, 5, [3]int{5, 7, 6}, [3]int{3, 3, 3}, ConvOptions{Padding: [3]int{1, 1, 1}}},
		{1, 4, 8, [3]int{9, 6, 11}, [3]int{3, 2, 1}, ConvOptions{Padding: [3]int{1, 0, 0}}},
		{1, 6, 10, [3]int{7, 7, 7}, [3]int{3, 3, 3}, ConvOptions{Padding: [3]int{2, 2, 2}, Dilation: [3]int{2, 2, 2}}},
		{1, 5, 9, [3]int{6, 5, 4}, [3]int{3, 3, 3}, ConvOptions{}},
		{1, 8, 16, [3]int{4, 4, 4}, [3]int{7, 7, 7}, ConvOptions{Padding: [3]int{3, 3, 3}}},
		{2, 4, 16, [3]int{5, 5, 5}, [3]int{3, 3, 3}, ConvOptions{Padding: [3]int{1, 1, 1}, Groups: 2}},
		{1, 32, 32, [3]int{16, 16, 16}, [3]int{3, 3, 3}, ConvOptions{Padding: [3]int{1, 1, 1}}},
		{1, 2, 3, [3]int{3, 3, 3}, [3]int{2, 2, 2}, ConvOptions{Padding: [3]int{1, 1, 1}}},
		{1, 3, 9, [3]int{10, 17, 13}, [3]int{3, 3, 3}, ConvOptions{Padding: [3]int{1, 1, 1}}},
	}
	r := rand.New(rand.NewSource(2))
	for _, tc := range cases {
		p, err := tc.opt.params(tc.k)
		if err != nil {
			t.Fatal(err)
		}
		out := convOutSize(tc.size, p)
		g := newGeom(p, tc.n, tc.cin, tc.cout, tc.size, out)
		x := randSlice32(r, tc.n*tc.cin*g.bigN)
		w := randSlice32(r, tc.cout*tc.cin/p.groups*g.kvol)
		dy := randSlice32(r, tc.n*tc.cout*g.smallN)
		checkDirect(t, fmt.Sprintf("n%d_%d->%d_%v_%v", tc.n, tc.cin, tc.cout, tc.size, p), g, x, w, dy, 2e-6)
		// Conv3d's float32 path takes the direct path where it is worth it
		// (unless UNETLAB_CONV=gemm turned it off).
		if dk := directKernels(); dk != nil {
			want := (tc.opt.Groups <= 1 || (tc.cout/tc.opt.Groups)%dk.co == 0) && directWorthIt(g)
			if useDirect(g) != want {
				t.Errorf("n%d_%d->%d_%v_%v: direct path taken %v, want %v", tc.n, tc.cin, tc.cout, tc.size, p, useDirect(g), want)
			}
		}
	}
}

// TestDirectAsmUpToDate regenerates the micro-kernels and compares them
// with the committed direct_amd64.s.
func TestDirectAsmUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	tmp := filepath.Join(t.TempDir(), "direct_amd64.s")
	cmd := exec.Command("go", "run", "./internal/asmgen", "-o", tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("asmgen: %v\n%s", err, out)
	}
	fresh, err := os.ReadFile(tmp)
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("direct_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, have) {
		t.Error("direct_amd64.s is stale: run go generate ./models/nn")
	}
}

// TestDirectWeightGradDeterministic: the weight gradient is the same to the
// bit whatever the number of cores and the scheduling (shares are added in
// a fixed order), so runs with one seed repeat exactly.
func TestDirectWeightGradDeterministic(t *testing.T) {
	if directBest == nil {
		t.Skip("no direct convolution on this CPU")
	}
	p, err := (&ConvOptions{Padding: [3]int{1, 1, 1}}).params([3]int{3, 3, 3})
	if err != nil {
		t.Fatal(err)
	}
	size := [3]int{20, 19, 18}
	g := newGeom(p, 2, 3, 5, size, convOutSize(size, p))
	r := rand.New(rand.NewSource(4))
	x := randSlice32(r, 2*3*g.bigN)
	dy := randSlice32(r, 2*5*g.smallN)
	var first []float32
	for _, procs := range []int{1, 2, 3, 1, 2} {
		prev := runtime.GOMAXPROCS(procs)
		dw := make([]float32, 5*3*27)
		directWeightGrad(directBest, g, dw, dy, x)
		runtime.GOMAXPROCS(prev)
		if first == nil {
			first = dw
			continue
		}
		for i := range dw {
			if math.Float32bits(dw[i]) != math.Float32bits(first[i]) {
				t.Fatalf("GOMAXPROCS %d: element %d is %g, was %g", procs, i, dw[i], first[i])
			}
		}
	}
}

// TestDirectWorthIt pins which volumes take the direct path.
func TestDirectWorthIt(t *testing.T) {
	p, err := (&ConvOptions{Padding: [3]int{1, 1, 1}}).params([3]int{3, 3, 3})
	if err != nil {
		t.Fatal(err)
	}
	pd, err := (&ConvOptions{Padding: [3]int{4, 4, 4}, Dilation: [3]int{4, 4, 4}}).params([3]int{3, 3, 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		p    convParams
		size [3]int
		want bool
	}{
		{p, [3]int{4, 4, 4}, false},
		{p, [3]int{8, 8, 8}, false},
		{p, [3]int{16, 16, 16}, true},
		{p, [3]int{64, 64, 64}, true},
		{p, [3]int{64, 64, 1}, false},   // a flat volume: two of every three rows dropped
		{pd, [3]int{16, 16, 16}, false}, // dilation 4: the padded grid is 24^2 per 16^2 kept
		{pd, [3]int{64, 64, 64}, true},
	} {
		g := newGeom(tc.p, 1, 8, 8, tc.size, convOutSize(tc.size, tc.p))
		if got := directWorthIt(g); got != tc.want {
			t.Errorf("%v %v: %v, want %v", tc.p, tc.size, got, tc.want)
		}
	}
}

// TestDirectConvRandom runs the direct kernels on random stride-1
// geometries (sizes 1-12 per axis, kernels 1-5, dilation 1-3, padding up
// to what keeps the output non-empty, 1-12 channels, one or two groups,
// batch 1-2) against the float64 vol2col+GEMM path.
func TestDirectConvRandom(t *testing.T) {
	if len(directAll()) == 0 {
		t.Skip("no direct convolution on this CPU")
	}
	r := rand.New(rand.NewSource(11))
	trials := 150
	if testing.Short() {
		trials = 30
	}
	for trial := 0; trial < trials; trial++ {
		var opt ConvOptions
		var k, size [3]int
		for i := 0; i < 3; i++ {
			k[i] = 1 + r.Intn(5)
			opt.Dilation[i] = 1 + r.Intn(3)
			size[i] = 1 + r.Intn(12)
			opt.Padding[i] = r.Intn(opt.Dilation[i]*(k[i]-1) + 2)
		}
		groups := 1 + r.Intn(2)
		opt.Groups = groups
		cin := groups * (1 + r.Intn(6))
		cout := groups * (1 + r.Intn(6))
		n := 1 + r.Intn(2)
		p, err := opt.params(k)
		if err != nil {
			t.Fatal(err)
		}
		out := convOutSize(size, p)
		if out[0] < 1 || out[1] < 1 || out[2] < 1 {
			continue
		}
		g := newGeom(p, n, cin, cout, size, out)
		x := randSlice32(r, n*cin*g.bigN)
		w := randSlice32(r, cout*cin/groups*g.kvol)
		dy := randSlice32(r, n*cout*g.smallN)
		if !checkDirect(t, fmt.Sprintf("trial %d: n%d %d->%d %v %v", trial, n, cin, cout, size, p), g, x, w, dy, 3e-6) {
			t.FailNow()
		}
	}
}

// TestDirectDepthwise holds the depthwise kernels to their portable
// statements, and the depthwise forward, input gradient and weight
// gradient to the float64 GEMM path, for kernels 3 and 7, dilation and odd
// sizes.
func TestDirectDepthwise(t *testing.T) {
	if len(directAll()) == 0 {
		t.Skip("no direct convolution on this CPU")
	}
	r := rand.New(rand.NewSource(21))
	for _, dk := range directAll() {
		in := randSlice32(r, 8192)
		offs := make([]int, 16)
		for i := range offs {
			offs[i] = 4 * r.Intn(8192-3*dk.dwBlock)
		}
		w := randSlice32(r, 16)
		got := make([]float32, 3*dk.dwBlock)
		want := make([]float32, 3*dk.dwBlock)
		dk.dwFwd(&got[0], &in[0], &offs[0], 13, &w[0], 3)
		directDwFwdGo(dk.dwBlock, want, in, offs, 13, w, 3)
		if err := closeTo(got, want, 1e-5); err != nil {
			t.Errorf("%s depthwise forward kernel: %v", dk.name, err)
		}
		dy := randSlice32(r, 20*dk.vec)
		part := randSlice32(r, 16*dk.vec)
		wantPart := append([]float32(nil), part...)
		dk.dwWGrad(&part[0], &dy[0], &in[0], &offs[0], 2, 20)
		directDwWGradGo(dk.vec, wantPart, dy, in, offs, 2, 20)
		if err := closeTo(part, wantPart, 1e-5); err != nil {
			t.Errorf("%s depthwise weight-gradient kernel: %v", dk.name, err)
		}
	}
	for _, tc := range []struct {
		n, c int
		size [3]int
		k    int
		opt  ConvOptions
	}{
		{1, 4, [3]int{9, 8, 7}, 3, ConvOptions{Padding: [3]int{1, 1, 1}}},
		{2, 3, [3]int{10, 11, 12}, 7, ConvOptions{Padding: [3]int{3, 3, 3}}},
		{1, 2, [3]int{13, 9, 10}, 3, ConvOptions{Padding: [3]int{2, 2, 2}, Dilation: [3]int{2, 2, 2}}},
		{1, 5, [3]int{16, 16, 16}, 7, ConvOptions{Padding: [3]int{3, 3, 3}}},
	} {
		tc.opt.Groups = tc.c
		p, err := tc.opt.params([3]int{tc.k, tc.k, tc.k})
		if err != nil {
			t.Fatal(err)
		}
		g := newGeom(p, tc.n, tc.c, tc.c, tc.size, convOutSize(tc.size, p))
		if !g.depthwise() {
			t.Fatal("not depthwise")
		}
		x := randSlice32(r, tc.n*tc.c*g.bigN)
		w := randSlice32(r, tc.c*g.kvol)
		dy := randSlice32(r, tc.n*tc.c*g.smallN)
		checkDirect(t, fmt.Sprintf("depthwise n%d c%d %v %v", tc.n, tc.c, tc.size, p), g, x, w, dy, 2e-6)
		if directKernels() != nil && !useDirect(g) {
			t.Errorf("depthwise %v: the direct path is not taken", tc.size)
		}
	}
}

// checkDirect compares the forward pass, input gradient and weight
// gradient of every direct kernel set the CPU runs that takes g with the
// float64 vol2col+GEMM path (which never takes the direct path), and says
// whether all agree. Tolerances are relative to the largest value: rel
// times the square root of the products summed (in*kvol for outputs,
// n*D*H*W for weight gradients), the growth of float32 rounding.
func checkDirect(t *testing.T, name string, g *convGeom, x, w, dy []float32, rel float64) bool {
	t.Helper()
	y64 := make([]float64, len(dy))
	smallFromBig(g, y64, to64(x), to64(w))
	dx64 := make([]float64, len(x))
	bigFromSmall(g, dx64, to64(dy), to64(w))
	dw64 := make([]float64, len(w))
	weightGrad(g, dw64, to64(dy), to64(x))
	tol := rel * math.Sqrt(float64(g.kk))
	wtol := rel * math.Sqrt(float64(g.n*g.smallN))
	ok := true
	fail := func(what string, err error) {
		t.Errorf("%s %s: %v", name, what, err)
		ok = false
	}
	for _, dk := range directAll() {
		if g.groups > 1 && (g.cs/g.groups)%dk.co != 0 && !g.depthwise() {
			continue
		}
		y := make([]float32, len(y64))
		directForward(dk, g, y, x, w)
		if err := close32to64(y, y64, tol); err != nil {
			fail(dk.name+" forward", err)
		}
		if fg, fok := flippedGeom(g); fok {
			wf := make([]float32, len(w))
			flipWeight(g, wf, w)
			dx := make([]float32, len(x))
			directForward(dk, fg, dx, dy, wf)
			if err := close32to64(dx, dx64, tol); err != nil {
				fail(dk.name+" input gradient", err)
			}
		}
		dw := make([]float32, len(w))
		for i := range dw {
			dw[i] = float32(i) // overwritten
		}
		directWeightGrad(dk, g, dw, dy, x)
		if err := close32to64(dw, dw64, wtol); err != nil {
			fail(dk.name+" weight gradient", err)
		}
	}
	return ok
}
