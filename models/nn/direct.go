package nn

import (
	"fmt"
	"os"
)

// The direct convolution: float32, stride 1, without a column matrix.
//
// The input of one sample and group is copied once into a zero-padded
// volume, and outputs are computed on the padded grid: output (d, h, w) sits
// at the flat position q = (d*Hp + h)*Wp + w of that grid (Hp, Wp the padded
// sizes) and reads input tap (kd, kh, kw) at q + off, with
// off = kd*dilD*Hp*Wp + kh*dilH*Wp + kw*dilW the same for every output. A
// run of consecutive flat positions is therefore a run of consecutive
// input values for every tap, whatever the row breaks: the micro-kernels
// (direct_amd64.s) stream vectors along it and broadcast weights, holding a
// tile of outputs in registers: 8 channels by 48 positions with AVX-512, 4
// by 24 with AVX2+FMA (forward and input gradient), or 8 (4) channels by 3
// taps of per-lane weight-gradient sums. Flat positions that are padding
// (w >= W' or h >= H') are computed and dropped; they cost
// (Hp*Wp)/(H'*W') - 1 of the work, 6% at 64^3 with padding 1.
//
// This replaces vol2col (a copy of the input per kernel tap, 27x its size
// for k=3) and the GEMM's own packing of it; bench/engine/README.md has the
// numbers. Depthwise convolutions (one channel per group) have kernels of
// their own: 12 vectors of one channel's outputs per block, and 8 taps of
// per-lane sums for the weight gradient. Other convolutions (strided,
// float64, pointwise, grouped with a per-group output channel count that
// is not a multiple of the tile, small volumes: see useDirect) keep the
// vol2col+GEMM path, as does every convolution on CPUs without AVX2+FMA or
// with UNETLAB_CONV=gemm (UNETLAB_CONV=avx2 picks the AVX2 kernels on an
// AVX-512 CPU, to measure them).

const (
	directSlack = 64   // zeroed float32s after a padded input, for reads past the last block
	directChunk = 1024 // flat positions per weight-gradient chunk (its dy tile stays in L1)
)

// directISA is one instruction set's pair of micro-kernels and their tile.
type directISA struct {
	name  string
	co    int // output channels per tile
	vec   int // float32 lanes per vector
	block int // flat positions per forward block: 3 vectors
	// fwd: for block b < nblk and channel c < co,
	// out[c*ostride + block*b + l] = sum over t < ntaps of w[co*t+c] * in[offs[t]/4 + block*b + l].
	fwd func(out *float32, ostride int, in *float32, offs *int, ntaps int, w *float32, nblk int)
	// wgrad: for triple j < ntrip, channel c < co, tap s < 3 and lane l < vec,
	// part[vec*(3co*j+3c+s)+l] += sum over v < nvec of dy[c*dystride+vec*v+l] * in[offs[3j+s]/4+vec*v+l].
	wgrad func(part *float32, dy *float32, dystride int, in *float32, offs *int, ntrip int, nvec int)
	// dwBlock is the depthwise forward block: 12 vectors.
	dwBlock int
	// dwFwd (depthwise, one channel): for block b < nblk,
	// out[dwBlock*b + l] = sum over t < ntaps of w[t] * in[offs[t]/4 + dwBlock*b + l].
	dwFwd func(out *float32, in *float32, offs *int, ntaps int, w *float32, nblk int)
	// dwWGrad (depthwise, one channel): for octet j < noct, tap s < 8, lane l < vec,
	// part[vec*(8j+s)+l] += sum over v < nvec of dy[vec*v+l] * in[offs[8j+s]/4+vec*v+l].
	dwWGrad func(part *float32, dy *float32, in *float32, offs *int, noct int, nvec int)
}

// directOff is true when UNETLAB_CONV=gemm turns the direct path off (to
// compare the two paths).
var directOff = os.Getenv("UNETLAB_CONV") == "gemm"

// directKernels returns the micro-kernels in use, nil when there are none.
func directKernels() *directISA {
	if directOff {
		return nil
	}
	return directBest
}

// useDirect reports whether the direct path computes this float32
// convolution: stride 1, and either depthwise or a group size that fills
// whole tiles and a volume large enough. Small volumes go to vol2col+GEMM,
// which is faster there for dense convolutions:
// the padded grid's dropped positions grow (a 4^3 output spans 130 flat
// positions) and the weight gradient's per-lane sums cost as much as the
// products (at 8^3 with 128 channels GEMM took 0.65x the time, at 4^3
// with 256 channels 0.14x; at 16^3 with 64 channels the direct path
// took 0.7x GEMM's, at 32^3 0.3x: BenchmarkConvPaths).
func useDirect(g *convGeom) bool {
	dk := directKernels()
	if dk == nil || g.pointwise || g.stride != [3]int{1, 1, 1} {
		return false
	}
	if g.depthwise() {
		// Its GEMMs have one row: the direct kernels took 0.1-0.4x their
		// time at every size tried, 4^3 to 32^3, k3 and k7.
		return true
	}
	if g.groups != 1 && (g.cs/g.groups)%dk.co != 0 {
		return false
	}
	return directWorthIt(g)
}

// depthwise reports one input and one output channel per group (ConvNeXt's
// depthwise convolution), which has kernels of its own.
func (g *convGeom) depthwise() bool {
	return g.groups > 1 && g.groups == g.cb && g.groups == g.cs
}

// directMinPositions is the output volume (voxels per channel) under which
// a convolution stays on vol2col+GEMM; directMaxWaste the largest ratio of
// flat positions computed to outputs kept.
const (
	directMinPositions = 2048
	directMaxWaste     = 1.4
)

// directWorthIt applies the size and waste limits.
func directWorthIt(g *convGeom) bool {
	if g.smallN < directMinPositions {
		return false
	}
	hp, wp := g.big[1]+2*g.pad[1], g.big[2]+2*g.pad[2]
	q := (g.small[0]-1)*hp*wp + (g.small[1]-1)*wp + g.small[2]
	return float64(q) <= directMaxWaste*float64(g.smallN)
}

// directGeom is the padded-grid geometry of one group of a stride-1
// convolution (the big side padded, the small side on the padded grid).
type directGeom struct {
	*convGeom
	dims       [3]int // padded big sizes
	pn         int    // elements per padded channel
	row, plane int    // flat strides of h and d
	q          int    // flat positions that cover every output
	cig, cog   int    // channels per group, big and small side
	ntaps      int    // cig * kvol
	offs       []int  // byte offset of each tap (ci, kd, kh, kw), ci slowest
}

func newDirectGeom(g *convGeom) *directGeom {
	dg := &directGeom{convGeom: g, cig: g.cb / g.groups, cog: g.cs / g.groups}
	for i := range dg.dims {
		dg.dims[i] = g.big[i] + 2*g.pad[i]
	}
	dg.row = dg.dims[2]
	dg.plane = dg.dims[1] * dg.dims[2]
	dg.pn = dg.dims[0] * dg.plane
	dg.q = (g.small[0]-1)*dg.plane + (g.small[1]-1)*dg.row + g.small[2]
	dg.ntaps = dg.cig * g.kvol
	dg.offs = make([]int, 0, dg.ntaps+2)
	for ci := 0; ci < dg.cig; ci++ {
		for kd := 0; kd < g.k[0]; kd++ {
			for kh := 0; kh < g.k[1]; kh++ {
				for kw := 0; kw < g.k[2]; kw++ {
					off := ci*dg.pn + kd*g.dil[0]*dg.plane + kh*g.dil[1]*dg.row + kw*g.dil[2]
					dg.offs = append(dg.offs, 4*off)
				}
			}
		}
	}
	return dg
}

// checkReads panics unless a micro-kernel call that reads n positions
// from in[base:] at every tap offset stays inside in: the assembly has no
// bounds checks, so a geometry slip must stop here, not read past memory.
func (dg *directGeom) checkReads(in []float32, base, n int) {
	if need := base + n + dg.offs[len(dg.offs)-1]/4; need > len(in) {
		panic(fmt.Sprintf("nn: direct conv reads to %d of %d", need, len(in)))
	}
}

// padGroup copies the cig channels of src (one sample's group, unpadded)
// into dst (cig*pn + directSlack), zero-padded.
func (dg *directGeom) padGroup(dst, src []float32) {
	b0, b1, b2 := dg.big[0], dg.big[1], dg.big[2]
	p0, p1, p2 := dg.pad[0], dg.pad[1], dg.pad[2]
	clear(dst[dg.cig*dg.pn:])
	parallelFor(dg.cig, 1, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			out := dst[c*dg.pn : (c+1)*dg.pn]
			in := src[c*dg.bigN : (c+1)*dg.bigN]
			clear(out[:p0*dg.plane])
			clear(out[(p0+b0)*dg.plane:])
			for d := 0; d < b0; d++ {
				pl := out[(d+p0)*dg.plane : (d+p0+1)*dg.plane]
				clear(pl[:p1*dg.row])
				clear(pl[(p1+b1)*dg.row:])
				for h := 0; h < b1; h++ {
					r := pl[(h+p1)*dg.row : (h+p1+1)*dg.row]
					clear(r[:p2])
					copy(r[p2:p2+b2], in[(d*b1+h)*b2:][:b2])
					clear(r[p2+b2:])
				}
			}
		}
	})
}

// runs calls f for every run of outputs inside the flat range [q0, q1):
// flat position q, compact position (index into one channel of the small
// side) and length.
func (dg *directGeom) runs(q0, q1 int, f func(q, at, n int)) {
	s0, s1, s2 := dg.small[0], dg.small[1], dg.small[2]
	hp := dg.dims[1]
	for r := q0 / dg.row; r*dg.row < q1; r++ {
		d, h := r/hp, r%hp
		if d >= s0 {
			return
		}
		if h >= s1 {
			continue
		}
		lo, hi := max(r*dg.row, q0), min(r*dg.row+s2, q1)
		if lo < hi {
			w := lo - r*dg.row
			f(lo, (d*s1+h)*s2+w, hi-lo)
		}
	}
}

// packWeights writes the weights of group gr in tiles of co output
// channels: wp[(ct*ntaps + t)*co + c] = w[gr*cog + co*ct + c][t], zero past cog.
func (dg *directGeom) packWeights(wp, w []float32, gr, tco int) {
	ncot := (dg.cog + tco - 1) / tco
	for ct := 0; ct < ncot; ct++ {
		tile := wp[ct*dg.ntaps*tco : (ct+1)*dg.ntaps*tco]
		for c := 0; c < tco; c++ {
			co := ct*tco + c
			if co >= dg.cog {
				for t := 0; t < dg.ntaps; t++ {
					tile[t*tco+c] = 0
				}
				continue
			}
			src := w[(gr*dg.cog+co)*dg.ntaps:][:dg.ntaps]
			for t, v := range src {
				tile[t*tco+c] = v
			}
		}
	}
}

// directForward computes small = W * big (no bias) for a stride-1 float32
// convolution: small (n, cs, small...), big (n, cb, big...), w (cs, cb/groups, k...).
func directForward(dk *directISA, g *convGeom, small, big, w []float32) {
	if g.depthwise() {
		directDepthwiseForward(dk, g, small, big, w)
		return
	}
	tco, blk := dk.co, dk.block
	dg := newDirectGeom(g)
	ncot := (dg.cog + tco - 1) / tco
	wp := getScratch[float32](ncot * dg.ntaps * tco)
	in := getScratch[float32](dg.cig*dg.pn + directSlack)
	defer putScratch(wp)
	defer putScratch(in)
	nblk := (dg.q + blk - 1) / blk
	// Chunks of about 768 positions: a chunk's input rows are reused from
	// L2 by every channel tile.
	chunkBlk := 768 / blk
	nchunk := (nblk + chunkBlk - 1) / chunkBlk
	for gr := 0; gr < g.groups; gr++ {
		dg.packWeights(wp, w, gr, tco)
		for n := 0; n < g.n; n++ {
			dg.padGroup(in, big[(n*g.cb+gr*dg.cig)*g.bigN:][:dg.cig*g.bigN])
			out := small[(n*g.cs+gr*dg.cog)*g.smallN:][:dg.cog*g.smallN]
			// Work items are (chunk, channel tile) pairs, chunk-major: a
			// worker's consecutive items share a chunk's input, and small
			// volumes (one chunk) still spread their tiles over the cores.
			parallelFor(nchunk*ncot, 1, func(lo, hi int) {
				ys := chunkBlk * blk
				y := getScratch[float32](tco * ys)
				defer putScratch(y)
				for it := lo; it < hi; it++ {
					ch, ct := it/ncot, it%ncot
					b0 := ch * chunkBlk
					nb := min(chunkBlk, nblk-b0)
					q0 := b0 * blk
					q1 := min(q0+nb*blk, dg.q)
					dg.checkReads(in, q0, nb*blk)
					dk.fwd(&y[0], ys, &in[q0], &dg.offs[0], dg.ntaps, &wp[ct*dg.ntaps*tco], nb)
					nc := min(tco, dg.cog-ct*tco)
					dg.runs(q0, q1, func(q, at, k int) {
						for c := 0; c < nc; c++ {
							copy(out[(ct*tco+c)*g.smallN+at:][:k], y[c*ys+q-q0:][:k])
						}
					})
				}
			})
		}
	}
}

// directWeightGrad computes dw = sum over samples of dy ⋆ big for a
// stride-1 float32 convolution, overwriting dw (cs, cb/groups, k...):
// dy is the small side (n, cs, small...).
func directWeightGrad(dk *directISA, g *convGeom, dw, dy, big []float32) {
	if g.depthwise() {
		directDepthwiseWeightGrad(dk, g, dw, dy, big)
		return
	}
	tco, lanes := dk.co, dk.vec
	dg := newDirectGeom(g)
	ncot := (dg.cog + tco - 1) / tco
	ntrip := (dg.ntaps + 2) / 3
	offs := dg.offs
	for len(offs) < 3*ntrip {
		offs = append(offs, 0) // dummy taps: their sums are dropped
	}
	in := getScratch[float32](dg.cig*dg.pn + directSlack)
	defer putScratch(in)
	nchunk := (dg.q + directChunk - 1) / directChunk
	// Work items: a channel tile and a share of the chunks; with fewer
	// than 8 tiles the chunks are split into shares too. Each item writes
	// its own sums and the shares are added in order afterwards, so the
	// result does not depend on scheduling or on the number of cores.
	shares := 1
	if ncot < 8 {
		shares = min(nchunk, (8+ncot-1)/ncot)
	}
	rowsLen := dg.cog * dg.ntaps
	res := getScratch[float32](shares * rowsLen)
	defer putScratch(res)
	partLen := ntrip * 3 * tco * lanes
	clear(dw)
	for gr := 0; gr < g.groups; gr++ {
		dwg := dw[gr*rowsLen : (gr+1)*rowsLen]
		for n := 0; n < g.n; n++ {
			dg.padGroup(in, big[(n*g.cb+gr*dg.cig)*g.bigN:][:dg.cig*g.bigN])
			dyg := dy[(n*g.cs+gr*dg.cog)*g.smallN:][:dg.cog*g.smallN]
			parallelFor(ncot*shares, 1, func(lo, hi int) {
				part := getScratch[float32](partLen)
				tile := getScratch[float32](tco * directChunk)
				defer putScratch(part)
				defer putScratch(tile)
				for it := lo; it < hi; it++ {
					ct, sh := it/shares, it%shares
					c0, c1 := sh*nchunk/shares, (sh+1)*nchunk/shares
					nc := min(tco, dg.cog-ct*tco)
					clear(part)
					for ch := c0; ch < c1; ch++ {
						q0 := ch * directChunk
						q1 := min(q0+directChunk, dg.q)
						nv := (q1 - q0 + lanes - 1) / lanes
						clear(tile)
						dg.runs(q0, q1, func(q, at, k int) {
							for c := 0; c < nc; c++ {
								copy(tile[c*directChunk+q-q0:][:k], dyg[(ct*tco+c)*g.smallN+at:][:k])
							}
						})
						dg.checkReads(in, q0, nv*lanes)
						dk.wgrad(&part[0], &tile[0], directChunk, &in[q0], &offs[0], ntrip, nv)
					}
					for c := 0; c < nc; c++ {
						row := res[sh*rowsLen+(ct*tco+c)*dg.ntaps:][:dg.ntaps]
						for t := range row {
							j, s := t/3, t%3
							var sum float32
							for _, v := range part[((j*tco+c)*3+s)*lanes:][:lanes] {
								sum += v
							}
							row[t] = sum
						}
					}
				}
			})
			for sh := 0; sh < shares; sh++ {
				for i, v := range res[sh*rowsLen : (sh+1)*rowsLen] {
					dwg[i] += v
				}
			}
		}
	}
}

// padAll copies every channel of one sample (cb channels, unpadded) into
// dst (cb*pn + directSlack), zero-padded: the depthwise kernels read one
// channel each.
func (dg *directGeom) padAll(dst, src []float32) {
	all := *dg
	all.cig = dg.cb
	all.padGroup(dst, src)
}

// directDepthwiseForward is directForward for depthwise convolutions: each
// channel convolved with its own kernel (w is (C, 1, k...)).
func directDepthwiseForward(dk *directISA, g *convGeom, small, big, w []float32) {
	dg := newDirectGeom(g) // cig = cog = 1: offs are one channel's taps
	blk := dk.dwBlock
	c := g.cb
	// The last block of the last channel reads up to blk-1 past the grid.
	in := getScratch[float32](c*dg.pn + blk + directSlack)
	defer putScratch(in)
	nblk := (dg.q + blk - 1) / blk
	chunkBlk := max(1, 1536/blk)
	nchunk := (nblk + chunkBlk - 1) / chunkBlk
	for n := 0; n < g.n; n++ {
		dg.padAll(in, big[n*c*g.bigN:][:c*g.bigN])
		out := small[n*c*g.smallN:][:c*g.smallN]
		parallelFor(c*nchunk, 1, func(lo, hi int) {
			ys := chunkBlk * blk
			y := getScratch[float32](ys)
			defer putScratch(y)
			for it := lo; it < hi; it++ {
				ch, k := it/nchunk, it%nchunk
				b0 := k * chunkBlk
				nb := min(chunkBlk, nblk-b0)
				q0 := b0 * blk
				q1 := min(q0+nb*blk, dg.q)
				base := ch*dg.pn + q0
				dg.checkReads(in, base, nb*blk)
				dk.dwFwd(&y[0], &in[base], &dg.offs[0], dg.ntaps, &w[ch*dg.ntaps], nb)
				o := out[ch*g.smallN : (ch+1)*g.smallN]
				dg.runs(q0, q1, func(q, at, k int) {
					copy(o[at:at+k], y[q-q0:][:k])
				})
			}
		})
	}
}

// directDepthwiseWeightGrad is directWeightGrad for depthwise
// convolutions: dw (C, 1, k...) = sum over samples of dy[c] ⋆ big[c].
func directDepthwiseWeightGrad(dk *directISA, g *convGeom, dw, dy, big []float32) {
	dg := newDirectGeom(g)
	lanes := dk.vec
	c := g.cb
	noct := (dg.ntaps + 7) / 8
	offs := dg.offs
	for len(offs) < 8*noct {
		offs = append(offs, 0) // dummy taps: their sums are dropped
	}
	in := getScratch[float32](c*dg.pn + directSlack)
	defer putScratch(in)
	nchunk := (dg.q + directChunk - 1) / directChunk
	partLen := 8 * noct * lanes
	clear(dw)
	for n := 0; n < g.n; n++ {
		dg.padAll(in, big[n*c*g.bigN:][:c*g.bigN])
		dyn := dy[n*c*g.smallN:][:c*g.smallN]
		// Each channel is one work item: its sums go to its own row of dw,
		// in a fixed order of chunks.
		parallelFor(c, 1, func(lo, hi int) {
			part := getScratch[float32](partLen)
			tile := getScratch[float32](directChunk)
			defer putScratch(part)
			defer putScratch(tile)
			for ch := lo; ch < hi; ch++ {
				clear(part)
				dyc := dyn[ch*g.smallN : (ch+1)*g.smallN]
				for k := 0; k < nchunk; k++ {
					q0 := k * directChunk
					q1 := min(q0+directChunk, dg.q)
					nv := (q1 - q0 + lanes - 1) / lanes
					clear(tile)
					dg.runs(q0, q1, func(q, at, k int) {
						copy(tile[q-q0:][:k], dyc[at:at+k])
					})
					base := ch*dg.pn + q0
					dg.checkReads(in, base, nv*lanes)
					dk.dwWGrad(&part[0], &tile[0], &in[base], &offs[0], noct, nv)
				}
				row := dw[ch*dg.ntaps : (ch+1)*dg.ntaps]
				for t := range row {
					var sum float32
					for _, v := range part[t*lanes : (t+1)*lanes] {
						sum += v
					}
					row[t] += sum
				}
			}
		})
	}
}

// directDwFwdGo is the portable statement of a depthwise forward kernel
// with blocks of block positions.
func directDwFwdGo(block int, out, in []float32, offs []int, ntaps int, w []float32, nblk int) {
	for b := 0; b < nblk; b++ {
		for l := 0; l < block; l++ {
			var s float32
			for t := 0; t < ntaps; t++ {
				s += w[t] * in[offs[t]/4+block*b+l]
			}
			out[block*b+l] = s
		}
	}
}

// directDwWGradGo is the portable statement of a depthwise weight-gradient
// kernel with vec lanes.
func directDwWGradGo(vec int, part, dy, in []float32, offs []int, noct, nvec int) {
	for t := 0; t < 8*noct; t++ {
		for l := 0; l < vec; l++ {
			acc := part[vec*t+l]
			for v := 0; v < nvec; v++ {
				acc += dy[vec*v+l] * in[offs[t]/4+vec*v+l]
			}
			part[vec*t+l] = acc
		}
	}
}

// directFwdGo is the portable statement of a forward micro-kernel with
// tile co x block (the tests hold the assembly to it).
func directFwdGo(co, block int, out []float32, ostride int, in []float32, offs []int, ntaps int, w []float32, nblk int) {
	for b := 0; b < nblk; b++ {
		for c := 0; c < co; c++ {
			for l := 0; l < block; l++ {
				var s float32
				for t := 0; t < ntaps; t++ {
					s += w[co*t+c] * in[offs[t]/4+block*b+l]
				}
				out[c*ostride+block*b+l] = s
			}
		}
	}
}

// directWGradGo is the portable statement of a weight-gradient
// micro-kernel with co channels and vec lanes.
func directWGradGo(co, vec int, part, dy []float32, dystride int, in []float32, offs []int, ntrip, nvec int) {
	for j := 0; j < ntrip; j++ {
		for c := 0; c < co; c++ {
			for s := 0; s < 3; s++ {
				for l := 0; l < vec; l++ {
					i := vec*(3*co*j+3*c+s) + l
					acc := part[i]
					for v := 0; v < nvec; v++ {
						acc += dy[c*dystride+vec*v+l] * in[offs[3*j+s]/4+vec*v+l]
					}
					part[i] = acc
				}
			}
		}
	}
}
