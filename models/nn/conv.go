package nn

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/unetlab/unetlab/internal/invalid"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ConvOptions are the settings of a 3D (transposed) convolution. The zero
// value means stride 1, no padding, dilation 1, one group. Each triple is
// (D, H, W). Conv3d and ConvTranspose3d take it by pointer, nil meaning the
// zero value; field names are PyTorch's (stride, padding, dilation, groups,
// output_padding).
type ConvOptions struct {
	// Stride per axis; 0 means 1.
	Stride [3]int
	// Padding per axis in voxels, added on both sides (PyTorch's padding).
	Padding [3]int
	// Dilation per axis; 0 means 1.
	Dilation [3]int
	// Groups splits the channels into groups convolved separately
	// (depthwise: Groups = in channels = out channels); 0 means 1.
	Groups int
	// OutputPadding adds voxels to one side of a transposed convolution's
	// output (PyTorch's output_padding); must be smaller than the stride or
	// the dilation. Ignored by Conv3d.
	OutputPadding [3]int
}

// convParams is ConvOptions with defaults filled in plus the kernel size.
type convParams struct {
	k, stride, pad, dil, outPad [3]int
	groups                      int
}

// params fills in the defaults of o (nil: the zero value) for kernel k;
// errors name the one field at fault.
func (o *ConvOptions) params(k [3]int) (convParams, error) {
	if o == nil {
		o = &ConvOptions{}
	}
	p := convParams{k: k, pad: o.Padding, outPad: o.OutputPadding, groups: o.Groups}
	if p.groups == 0 {
		p.groups = 1
	}
	if k[0] < 1 || k[1] < 1 || k[2] < 1 {
		return p, fmt.Errorf("%w: kernel size %v: each must be >= 1", ErrConfig, k)
	}
	for _, f := range []struct {
		name string
		v    [3]int
	}{{"Stride", o.Stride}, {"Padding", o.Padding}, {"Dilation", o.Dilation}, {"OutputPadding", o.OutputPadding}} {
		if f.v[0] < 0 || f.v[1] < 0 || f.v[2] < 0 {
			return p, invalid.Field(ErrConfig, "ConvOptions."+f.name, f.v, "each must be >= 0")
		}
	}
	if p.groups < 0 {
		return p, invalid.Field(ErrConfig, "ConvOptions.Groups", o.Groups, "must be >= 0 (0: 1)")
	}
	for i := 0; i < 3; i++ {
		p.stride[i], p.dil[i] = o.Stride[i], o.Dilation[i]
		if p.stride[i] == 0 {
			p.stride[i] = 1
		}
		if p.dil[i] == 0 {
			p.dil[i] = 1
		}
		if p.outPad[i] > 0 && p.outPad[i] >= p.stride[i] && p.outPad[i] >= p.dil[i] {
			return p, invalid.Field(ErrConfig, "ConvOptions.OutputPadding", o.OutputPadding, fmt.Sprintf("must be smaller than stride %v or dilation %v", p.stride, p.dil))
		}
	}
	return p, nil
}

func (p convParams) String() string {
	return fmt.Sprintf("k=%v s=%v p=%v d=%v op=%v g=%d", p.k, p.stride, p.pad, p.dil, p.outPad, p.groups)
}

// convGeom is one convolution's full geometry. The "big" side is the
// convolution's input (the transposed convolution's output), the "small"
// side the convolution's output. The weight is (cs, cb/groups, kD, kH, kW)
// for both, as in PyTorch.
type convGeom struct {
	convParams
	n, cb, cs    int
	big, small   [3]int
	bigN, smallN int // spatial sizes
	kvol         int
	m, kk        int // per group: rows (cs/groups) and columns (cb/groups*kvol) of the weight
	pointwise    bool
}

func newGeom(p convParams, n, cb, cs int, big, small [3]int) *convGeom {
	g := &convGeom{convParams: p, n: n, cb: cb, cs: cs, big: big, small: small}
	g.bigN = big[0] * big[1] * big[2]
	g.smallN = small[0] * small[1] * small[2]
	g.kvol = p.k[0] * p.k[1] * p.k[2]
	g.m = cs / p.groups
	g.kk = cb / p.groups * g.kvol
	g.pointwise = p.k == [3]int{1, 1, 1} && p.stride == [3]int{1, 1, 1} && p.pad == [3]int{} && big == small
	return g
}

// tile returns how many output positions one vol2col block holds.
func (g *convGeom) tile() int {
	const target = 1 << 21 // elements of the column buffer
	t := target / g.kk
	t = max(t, 256)
	return min(t, g.smallN)
}

// convOutSize returns the convolution output size along each axis.
func convOutSize(in [3]int, p convParams) [3]int {
	var o [3]int
	for i := 0; i < 3; i++ {
		num := in[i] + 2*p.pad[i] - p.dil[i]*(p.k[i]-1) - 1
		if num < 0 {
			o[i] = 0 // the dilated kernel does not fit: an empty output (Go's / truncates toward 0)
			continue
		}
		o[i] = num/p.stride[i] + 1
	}
	return o
}

// convTOutSize returns the transposed convolution output size along each axis.
func convTOutSize(in [3]int, p convParams) [3]int {
	var o [3]int
	for i := 0; i < 3; i++ {
		o[i] = (in[i]-1)*p.stride[i] - 2*p.pad[i] + p.dil[i]*(p.k[i]-1) + p.outPad[i] + 1
	}
	return o
}

// padBig copies the big side (n, cb, big...) into a zero-padded volume
// (n, cb, big+2*pad...) taken from the scratch pool (the caller returns it).
// vol2colPadded then needs no bounds tests.
func padBig[T float](g *convGeom, big []T) (padded []T, dims [3]int) {
	for i := range dims {
		dims[i] = g.big[i] + 2*g.pad[i]
	}
	pn := dims[0] * dims[1] * dims[2]
	padded = getScratch[T](g.n * g.cb * pn)
	parallelFor(g.n*g.cb, 1, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			dst := padded[pl*pn : (pl+1)*pn]
			src := big[pl*g.bigN : (pl+1)*g.bigN]
			clear(dst)
			for d := 0; d < g.big[0]; d++ {
				for h := 0; h < g.big[1]; h++ {
					o := ((d+g.pad[0])*dims[1]+h+g.pad[1])*dims[2] + g.pad[2]
					copy(dst[o:o+g.big[2]], src[(d*g.big[1]+h)*g.big[2]:][:g.big[2]])
				}
			}
		}
	})
	return padded, dims
}

// vol2colPadded is vol2colSerial reading from a padded volume (one group's
// channels of one sample, dims from padBig).
func vol2colPadded[T float](g *convGeom, col, vol []T, dims [3]int, p0, p1 int) {
	t := p1 - p0
	pn := dims[0] * dims[1] * dims[2]
	s1, s2 := g.small[1], g.small[2]
	st2, dl2 := g.stride[2], g.dil[2]
	for r := 0; r < g.kk; r++ {
		c := r / g.kvol
		rem := r % g.kvol
		kd := rem / (g.k[1] * g.k[2])
		kh := rem / g.k[2] % g.k[1]
		kw := rem % g.k[2]
		src := vol[c*pn : (c+1)*pn]
		row := col[r*t : (r+1)*t]
		od := p0 / (s1 * s2)
		oh := p0 / s2 % s1
		ow := p0 % s2
		for p := p0; p < p1; {
			run := min(s2-ow, p1-p)
			out := row[p-p0 : p-p0+run]
			base := ((od*g.stride[0]+kd*g.dil[0])*dims[1]+oh*g.stride[1]+kh*g.dil[1])*dims[2] + ow*st2 + kw*dl2
			if st2 == 1 {
				copy(out, src[base:base+run])
			} else {
				for j := range out {
					out[j] = src[base+j*st2]
				}
			}
			p += run
			ow = 0
			if oh++; oh == s1 {
				oh = 0
				od++
			}
		}
	}
}

// tileItems lists the (sample, group, first position) work items of a
// convolution cut into tiles of at most tile output positions.
func tileItems(g *convGeom, tile int) [][3]int {
	var items [][3]int
	for n := 0; n < g.n; n++ {
		for gr := 0; gr < g.groups; gr++ {
			for p0 := 0; p0 < g.smallN; p0 += tile {
				items = append(items, [3]int{n, gr, p0})
			}
		}
	}
	return items
}

// parTile is the tile width of the tile-parallel kernels: about 2 MiB of
// float32 columns per worker, near a core's L2 cache, and at least 256
// output positions so the GEMM's N stays wide (OpenBLAS single-thread sgemm
// reaches 75-88 GFLOP/s at M=32, K=864, N=600-1200 here, half that at 300).
func (g *convGeom) parTile() int {
	t := (1 << 19) / g.kk
	t = max(t, 256)
	return min(t, g.smallN)
}

// colRow copies between one kernel offset's row of a column buffer and the
// volume: gather (vol -> row) when scatter is false, accumulate
// (row added into vol) when scatter is true.
func colRow[T float](g *convGeom, row, vol []T, p0, p1, kd, kh, kw int, scatter bool) {
	s1, s2 := g.small[1], g.small[2]
	B0, B1, B2 := g.big[0], g.big[1], g.big[2]
	st2 := g.stride[2]
	od := p0 / (s1 * s2)
	oh := p0 / s2 % s1
	ow := p0 % s2
	for p := p0; p < p1; {
		run := min(s2-ow, p1-p)
		out := row[p-p0 : p-p0+run]
		id := od*g.stride[0] - g.pad[0] + kd*g.dil[0]
		ih := oh*g.stride[1] - g.pad[1] + kh*g.dil[1]
		owStart := ow
		// advance to the next output row
		p += run
		ow = 0
		if oh++; oh == s1 {
			oh = 0
			od++
		}
		if id < 0 || id >= B0 || ih < 0 || ih >= B1 {
			if !scatter {
				clear(out)
			}
			continue
		}
		base := vol[(id*B1+ih)*B2 : (id*B1+ih+1)*B2]
		iw0 := owStart*st2 - g.pad[2] + kw*g.dil[2]
		// valid j: 0 <= iw0 + j*st2 < B2
		var lo, hi int
		if st2 == 1 {
			lo = min(run, max(0, -iw0))
			hi = max(lo, min(run, B2-iw0))
		} else {
			if iw0 < 0 {
				lo = min(run, (-iw0+st2-1)/st2)
			}
			if r := B2 - 1 - iw0; r >= 0 {
				hi = min(run, r/st2+1)
			}
			hi = max(hi, lo)
		}
		if scatter {
			if st2 == 1 && lo < hi {
				b := base[iw0+lo : iw0+hi]
				for j, v := range out[lo:hi] {
					b[j] += v
				}
			} else {
				for j := lo; j < hi; j++ {
					base[iw0+j*st2] += out[j]
				}
			}
			continue
		}
		clear(out[:lo])
		if st2 == 1 {
			if lo < hi { // else the whole run is padding (lo may then pass the left edge)
				copy(out[lo:hi], base[iw0+lo:iw0+hi])
			}
		} else {
			for j := lo; j < hi; j++ {
				out[j] = base[iw0+j*st2]
			}
		}
		clear(out[hi:])
	}
}

// col2vol adds the column buffer (kk × (p1-p0)) of output positions
// [p0, p1) into vol, one group of one sample. Channels are split across
// goroutines (each channel's rows only touch that channel); with a single
// channel, kernel depth offsets are processed in turn.
func col2vol[T float](g *convGeom, col, vol []T, p0, p1 int) {
	t := p1 - p0
	cbg := g.cb / g.groups
	parallelFor(cbg, 1, func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			dst := vol[c*g.bigN : (c+1)*g.bigN]
			for rem := 0; rem < g.kvol; rem++ {
				kd := rem / (g.k[1] * g.k[2])
				kh := rem / g.k[2] % g.k[1]
				kw := rem % g.k[2]
				r := c*g.kvol + rem
				colRow(g, col[r*t:(r+1)*t], dst, p0, p1, kd, kh, kw, true)
			}
		}
	})
}

// smallFromBig computes the convolution small = W * big (no bias):
// small is (n, cs, small...), big is (n, cb, big...), w is (cs, cb/groups, k...).
func smallFromBig[T float](g *convGeom, small, big, w []T) {
	if s, ok := any(small).([]float32); ok && useDirect(g) {
		directForward(directKernels(), g, s, any(big).([]float32), any(w).([]float32))
		return
	}
	cbg := g.cb / g.groups
	if g.pointwise {
		for n := 0; n < g.n; n++ {
			for gr := 0; gr < g.groups; gr++ {
				wg := w[gr*g.m*g.kk:]
				b := big[(n*g.cb+gr*cbg)*g.bigN:]
				c := small[(n*g.cs+gr*g.m)*g.smallN:]
				gemm(false, false, g.m, g.smallN, g.kk, wg, g.kk, b, g.bigN, 0, c, g.smallN)
			}
		}
		return
	}
	tile := g.parTile()
	items := tileItems(g, tile)
	// With fewer tiles than cores (deep, small levels) each GEMM is split
	// over the cores instead.
	few := len(items) < runtime.GOMAXPROCS(0)
	padded, dims := padBig(g, big)
	defer putScratch(padded)
	pn := dims[0] * dims[1] * dims[2]
	parallelFor(len(items), 1, func(lo, hi int) {
		col := getScratch[T](g.kk * tile)
		defer putScratch(col)
		for _, it := range items[lo:hi] {
			n, gr, p0 := it[0], it[1], it[2]
			p1 := min(p0+tile, g.smallN)
			t := p1 - p0
			vol := padded[(n*g.cb+gr*cbg)*pn : (n*g.cb+(gr+1)*cbg)*pn]
			vol2colPadded(g, col[:g.kk*t], vol, dims, p0, p1)
			c := small[(n*g.cs+gr*g.m)*g.smallN+p0:]
			if few {
				gemm(false, false, g.m, t, g.kk, w[gr*g.m*g.kk:], g.kk, col, t, 0, c, g.smallN)
			} else {
				gemmSerial(false, false, g.m, t, g.kk, w[gr*g.m*g.kk:], g.kk, col, t, 0, c, g.smallN)
			}
		}
	})
}

// bigFromSmall computes the adjoint big = W^T * small (the transposed
// convolution, or the convolution's input gradient), overwriting big.
func bigFromSmall[T float](g *convGeom, big, small, w []T) {
	cbg := g.cb / g.groups
	if g.pointwise {
		for n := 0; n < g.n; n++ {
			for gr := 0; gr < g.groups; gr++ {
				wg := w[gr*g.m*g.kk:]
				s := small[(n*g.cs+gr*g.m)*g.smallN:]
				b := big[(n*g.cb+gr*cbg)*g.bigN:]
				gemm(true, false, g.kk, g.smallN, g.m, wg, g.kk, s, g.smallN, 0, b, g.bigN)
			}
		}
		return
	}
	clear(big)
	tile := g.tile()
	col := getScratch[T](g.kk * tile)
	defer putScratch(col)
	for n := 0; n < g.n; n++ {
		for gr := 0; gr < g.groups; gr++ {
			wg := w[gr*g.m*g.kk:]
			vol := big[(n*g.cb+gr*cbg)*g.bigN : (n*g.cb+(gr+1)*cbg)*g.bigN]
			for p0 := 0; p0 < g.smallN; p0 += tile {
				p1 := min(p0+tile, g.smallN)
				t := p1 - p0
				s := small[(n*g.cs+gr*g.m)*g.smallN+p0:]
				gemm(true, false, g.kk, t, g.m, wg, g.kk, s, g.smallN, 0, col, t)
				col2vol(g, col[:g.kk*t], vol, p0, p1)
			}
		}
	}
}

// weightGrad computes dw = sum over samples of small * col(big)^T,
// overwriting dw (cs, cb/groups, k...).
func weightGrad[T float](g *convGeom, dw, small, big []T) {
	if d, ok := any(dw).([]float32); ok && useDirect(g) {
		directWeightGrad(directKernels(), g, d, any(small).([]float32), any(big).([]float32))
		return
	}
	cbg := g.cb / g.groups
	if g.pointwise {
		for gr := 0; gr < g.groups; gr++ {
			for n := 0; n < g.n; n++ {
				s := small[(n*g.cs+gr*g.m)*g.smallN:]
				b := big[(n*g.cb+gr*cbg)*g.bigN:]
				beta := T(1)
				if n == 0 {
					beta = 0
				}
				gemm(false, true, g.m, g.kk, g.smallN, s, g.smallN, b, g.bigN, beta, dw[gr*g.m*g.kk:], g.kk)
			}
		}
		return
	}
	tile := g.parTile()
	items := tileItems(g, tile)
	var mu sync.Mutex
	first := true
	few := len(items) < runtime.GOMAXPROCS(0)
	padded, dims := padBig(g, big)
	defer putScratch(padded)
	pn := dims[0] * dims[1] * dims[2]
	parallelFor(len(items), 1, func(lo, hi int) {
		col := getScratch[T](g.kk * tile)
		acc := getScratch[T](len(dw))
		defer putScratch(col)
		defer putScratch(acc)
		clear(acc)
		for _, it := range items[lo:hi] {
			n, gr, p0 := it[0], it[1], it[2]
			p1 := min(p0+tile, g.smallN)
			t := p1 - p0
			vol := padded[(n*g.cb+gr*cbg)*pn : (n*g.cb+(gr+1)*cbg)*pn]
			vol2colPadded(g, col[:g.kk*t], vol, dims, p0, p1)
			s := small[(n*g.cs+gr*g.m)*g.smallN+p0:]
			if few {
				gemm(false, true, g.m, g.kk, t, s, g.smallN, col, t, 1, acc[gr*g.m*g.kk:], g.kk)
			} else {
				gemmSerial(false, true, g.m, g.kk, t, s, g.smallN, col, t, 1, acc[gr*g.m*g.kk:], g.kk)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if first {
			copy(dw, acc)
			first = false
			return
		}
		for i, v := range acc {
			dw[i] += v
		}
	})
}

// addBias adds b[c] to every voxel of channel c of x (n, c, spatial).
func addBias[T float](x, b []T, n, c, sp int) {
	parallelFor(n*c, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			bv := b[i%c]
			row := x[i*sp : (i+1)*sp]
			for j := range row {
				row[j] += bv
			}
		}
	})
}

// sumPerChannel writes into db[c] the sum of x over the batch and space.
func sumPerChannel[T float](db, x []T, n, c, sp int) {
	parallelFor(c, 1, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			var s float64
			for i := 0; i < n; i++ {
				var t T
				for _, v := range x[(i*c+ch)*sp : (i*c+ch+1)*sp] {
					t += v
				}
				s += float64(t)
			}
			db[ch] = T(s)
		}
	})
}

// Conv3d returns the 3D convolution of x (N, Cin, D, H, W) with weight w
// (Cout, Cin/Groups, kD, kH, kW), plus bias b (Cout) unless b is nil. The
// output is (N, Cout, D', H', W') with D' = (D + 2*pad - dil*(kD-1) - 1)/stride + 1,
// as torch.nn.functional.conv3d. opt may be nil: the defaults (stride 1, no
// padding, dilation 1, one group).
func Conv3d(x, w, b *gorgonia.Node, opt *ConvOptions) (*gorgonia.Node, error) {
	return conv3d(x, w, b, opt, false)
}

// ConvTranspose3d returns the 3D transposed convolution of x (N, Cin, D, H, W)
// with weight w (Cin, Cout/Groups, kD, kH, kW), plus bias b (Cout) unless b is
// nil. The output is (N, Cout, D', H', W') with
// D' = (D-1)*stride - 2*pad + dil*(kD-1) + outputPadding + 1, as
// torch.nn.functional.conv_transpose3d. opt may be nil: the defaults, as for
// Conv3d.
func ConvTranspose3d(x, w, b *gorgonia.Node, opt *ConvOptions) (*gorgonia.Node, error) {
	return conv3d(x, w, b, opt, true)
}

func conv3d(x, w, b *gorgonia.Node, opt *ConvOptions, transposed bool) (*gorgonia.Node, error) {
	name := "Conv3d"
	if transposed {
		name = "ConvTranspose3d"
	}
	if x == nil || w == nil {
		return nil, fmt.Errorf("%w: %s: nil input or weight", ErrConfig, name)
	}
	ws := w.Shape()
	if ws.Dims() != 5 {
		return nil, fmt.Errorf("%w: %s: weight shape %v, want (Cout, Cin/groups, kD, kH, kW)", ErrShape, name, ws)
	}
	p, err := opt.params([3]int{ws[2], ws[3], ws[4]})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	k := &convKernel{p: p, transposed: transposed, bias: b != nil}
	if b != nil {
		return apply(k, x, w, b)
	}
	return apply(k, x, w)
}

// convKernel is the forward convolution or transposed convolution; inputs
// (x, w) or (x, w, b).
type convKernel struct {
	p          convParams
	transposed bool
	bias       bool
}

func (k *convKernel) String() string {
	if k.transposed {
		return fmt.Sprintf("ConvTranspose3d(%v, bias=%v)", k.p, k.bias)
	}
	return fmt.Sprintf("Conv3d(%v, bias=%v)", k.p, k.bias)
}

// geom checks x and w shapes and returns the geometry.
func (k *convKernel) geom(xs, ws tensor.Shape) (*convGeom, error) {
	name := "Conv3d"
	if k.transposed {
		name = "ConvTranspose3d"
	}
	if xs.Dims() != 5 {
		return nil, shapeErr(name, xs, "(N, C, D, H, W)")
	}
	if ws.Dims() != 5 || ws[2] != k.p.k[0] || ws[3] != k.p.k[1] || ws[4] != k.p.k[2] {
		return nil, fmt.Errorf("%w: %s: weight shape %v, kernel %v", ErrShape, name, ws, k.p.k)
	}
	gr := k.p.groups
	in := [3]int{xs[2], xs[3], xs[4]}
	if !k.transposed {
		cin, cout := xs[1], ws[0]
		if cin%gr != 0 || cout%gr != 0 {
			return nil, fmt.Errorf("%w: %s: groups %d must divide in channels %d and out channels %d", ErrConfig, name, gr, cin, cout)
		}
		if ws[1]*gr != cin {
			return nil, fmt.Errorf("%w: %s: input %v has %d channels, weight %v expects %d", ErrShape, name, xs, cin, ws, ws[1]*gr)
		}
		out := convOutSize(in, k.p)
		for _, o := range out {
			if o < 1 {
				return nil, fmt.Errorf("%w: %s: input %v too small for kernel %v (padding %v, dilation %v)", ErrShape, name, xs, k.p.k, k.p.pad, k.p.dil)
			}
		}
		return newGeom(k.p, xs[0], cin, cout, in, out), nil
	}
	cin, cout := xs[1], ws[1]*gr
	if cin != ws[0] {
		return nil, fmt.Errorf("%w: %s: input %v has %d channels, weight %v expects %d", ErrShape, name, xs, cin, ws, ws[0])
	}
	if cin%gr != 0 {
		return nil, fmt.Errorf("%w: %s: groups %d must divide in channels %d", ErrConfig, name, gr, cin)
	}
	out := convTOutSize(in, k.p)
	for _, o := range out {
		if o < 1 {
			return nil, fmt.Errorf("%w: %s: input %v gives an empty output", ErrShape, name, xs)
		}
	}
	// Consistency: the convolution of the output must give back the input size.
	if back := convOutSize(out, k.p); back != in {
		return nil, fmt.Errorf("%w: %s: input %v does not fit the geometry %v", ErrShape, name, xs, k.p)
	}
	return newGeom(k.p, xs[0], cout, cin, out, in), nil
}

func (k *convKernel) outShape(g *convGeom) tensor.Shape {
	if k.transposed {
		return tensor.Shape{g.n, g.cb, g.big[0], g.big[1], g.big[2]}
	}
	return tensor.Shape{g.n, g.cs, g.small[0], g.small[1], g.small[2]}
}

func (k *convKernel) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	want := 2
	if k.bias {
		want = 3
	}
	if len(in) != want {
		return nil, fmt.Errorf("%w: %s: %d inputs, want %d", ErrConfig, k, len(in), want)
	}
	g, err := k.geom(in[0], in[1])
	if err != nil {
		return nil, err
	}
	out := k.outShape(g)
	if k.bias && (in[2].Dims() != 1 || in[2][0] != out[1]) {
		return nil, fmt.Errorf("%w: %s: bias shape %v, want (%d)", ErrShape, k, in[2], out[1])
	}
	return out, nil
}

func (k *convKernel) forward(out *tensor.Dense, in []*tensor.Dense) error {
	g, err := k.geom(in[0].Shape(), in[1].Shape())
	if err != nil {
		return err
	}
	return byDtype(out,
		func() error { convForward[float32](k, g, out, in); return nil },
		func() error { convForward[float64](k, g, out, in); return nil })
}

func convForward[T float](k *convKernel, g *convGeom, out *tensor.Dense, in []*tensor.Dense) {
	y, x, w := data[T](out), data[T](in[0]), data[T](in[1])
	if k.transposed {
		bigFromSmall(g, y, x, w)
	} else {
		smallFromBig(g, y, x, w)
	}
	if k.bias {
		s := out.Shape()
		addBias(y, data[T](in[2]), s[0], s[1], s[2]*s[3]*s[4])
	}
}

func (k *convKernel) grad(i int) kernel {
	switch i {
	case 0, 1:
		return &convGradKernel{fwd: k, wrt: i}
	case 2:
		if k.bias {
			return &convGradKernel{fwd: k, wrt: 2}
		}
	}
	return nil
}

// convGradKernel computes the gradient of a convolution for input wrt
// (0 x, 1 w, 2 b) from (x, w, [b], y, dy).
type convGradKernel struct {
	fwd *convKernel
	wrt int
}

func (k *convGradKernel) String() string {
	return fmt.Sprintf("%sGrad%d", k.fwd, k.wrt)
}

func (k *convGradKernel) inferShape(in []tensor.Shape) (tensor.Shape, error) {
	if len(in) < 4 { // x, w, (b,) y, dy
		return nil, fmt.Errorf("%w: %s: %d inputs", ErrConfig, k, len(in))
	}
	return gradShape(k, k.fwd, in, len(in)-2, k.wrt)
}

func (k *convGradKernel) forward(out *tensor.Dense, in []*tensor.Dense) error {
	g, err := k.fwd.geom(in[0].Shape(), in[1].Shape())
	if err != nil {
		return err
	}
	dy := in[len(in)-1]
	return byDtype(out,
		func() error { convBackward[float32](k, g, out, in[0], in[1], dy); return nil },
		func() error { convBackward[float64](k, g, out, in[0], in[1], dy); return nil })
}

func convBackward[T float](k *convGradKernel, g *convGeom, out, xt, wt, dyt *tensor.Dense) {
	o, x, w, dy := data[T](out), data[T](xt), data[T](wt), data[T](dyt)
	switch {
	case k.wrt == 2:
		s := dyt.Shape()
		sumPerChannel(o, dy, s[0], s[1], s[2]*s[3]*s[4])
	case !k.fwd.transposed && k.wrt == 0:
		if fg, ok := flippedGeom(g); ok {
			// Stride 1: dx is the convolution of dy with the flipped,
			// transposed weight, one GEMM with K = Cout*kvol instead of a
			// K = Cout GEMM plus a col2vol scatter.
			wf := getScratch[T](len(w))
			flipWeight(g, wf, w)
			smallFromBig(fg, o, dy, wf)
			putScratch(wf)
			return
		}
		bigFromSmall(g, o, dy, w)
	case !k.fwd.transposed && k.wrt == 1:
		weightGrad(g, o, dy, x)
	case k.fwd.transposed && k.wrt == 0:
		smallFromBig(g, o, dy, w)
	case k.fwd.transposed && k.wrt == 1:
		weightGrad(g, o, x, dy)
	}
}

func (k *convGradKernel) grad(int) kernel { return nil }

// flippedGeom returns the geometry of the input gradient of a stride-1
// convolution as a convolution of dy (big side, Cout channels) giving dx
// (small side, Cin channels) with padding dil*(k-1)-pad, when that padding
// is not negative.
func flippedGeom(g *convGeom) (*convGeom, bool) {
	if g.stride != [3]int{1, 1, 1} || g.pointwise {
		return nil, false
	}
	p := g.convParams
	for i := 0; i < 3; i++ {
		p.pad[i] = g.dil[i]*(g.k[i]-1) - g.pad[i]
		if p.pad[i] < 0 {
			return nil, false
		}
	}
	p.outPad = [3]int{}
	fg := newGeom(p, g.n, g.cs, g.cb, g.small, g.big)
	if convOutSize(g.small, p) != g.big {
		return nil, false
	}
	return fg, true
}

// flipWeight writes into wf (Cin, Cout/groups, k) the weight w
// (Cout, Cin/groups, k) with its kernel reversed along every axis.
func flipWeight[T float](g *convGeom, wf, w []T) {
	cog, cig := g.cs/g.groups, g.cb/g.groups
	kv := g.kvol
	for gr := 0; gr < g.groups; gr++ {
		for co := 0; co < cog; co++ {
			for ci := 0; ci < cig; ci++ {
				src := w[((gr*cog+co)*cig+ci)*kv:][:kv]
				dst := wf[((gr*cig+ci)*cog+co)*kv:][:kv]
				for i, v := range src {
					dst[kv-1-i] = v
				}
			}
		}
	}
}
