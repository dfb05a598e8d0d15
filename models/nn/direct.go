package nn

import (
	"fmt"
	"os"
	"runtime"
	"sync"
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
// (direct_amd64.s, AVX-512) stream 16-wide vectors along it and broadcast
// weights, holding an 8-channel by 48-position tile of outputs (forward and
// input gradient) or 8 channels by 3 taps of per-lane weight-gradient sums
// in registers. Flat positions that are padding (w >= W' or h >= H') are
// computed and dropped; they cost (Hp*Wp)/(H'*W') - 1 of the work, 6% at
// 64^3 with padding 1.
//
// This replaces vol2col (a copy of the input per kernel tap, 27x its size
// for k=3) and the GEMM's own packing of it; bench/engine/README.md has the
// numbers. Other convolutions (strided, float64, grouped with fewer than 8
// output channels per group, pointwise) keep the vol2col+GEMM path, as
// does every convolution when the CPU lacks AVX-512 or UNETLAB_CONV=gemm.

const (
	directCo    = 8    // output channels per tile
	directBlock = 48   // flat positions per forward block (3 vectors)
	directVec   = 16   // float32 lanes per vector
	directSlack = 64   // zeroed float32s after a padded input, for reads past the last block
	directChunk = 1024 // flat positions per weight-gradient chunk (its dy tile stays in L1)
)

// directOff is true when UNETLAB_CONV=gemm turns the direct path off (to
// compare the two paths).
var directOff = os.Getenv("UNETLAB_CONV") == "gemm"

// useDirect reports whether the direct path computes this float32
// convolution.
func useDirect(g *convGeom) bool {
	if !haveDirect || directOff || g.pointwise || g.stride != [3]int{1, 1, 1} {
		return false
	}
	return g.groups == 1 || (g.cs/g.groups)%directCo == 0
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

// packWeights writes the weights of group gr in tiles of 8 output channels:
// wp[(ct*ntaps + t)*8 + c] = w[gr*cog + 8ct + c][t], zero past cog.
func (dg *directGeom) packWeights(wp, w []float32, gr int) {
	ncot := (dg.cog + directCo - 1) / directCo
	for ct := 0; ct < ncot; ct++ {
		tile := wp[ct*dg.ntaps*directCo : (ct+1)*dg.ntaps*directCo]
		for c := 0; c < directCo; c++ {
			co := ct*directCo + c
			if co >= dg.cog {
				for t := 0; t < dg.ntaps; t++ {
					tile[t*directCo+c] = 0
				}
				continue
			}
			src := w[(gr*dg.cog+co)*dg.ntaps:][:dg.ntaps]
			for t, v := range src {
				tile[t*directCo+c] = v
			}
		}
	}
}

// directForward computes small = W * big (no bias) for a stride-1 float32
// convolution: small (n, cs, small...), big (n, cb, big...), w (cs, cb/groups, k...).
func directForward(g *convGeom, small, big, w []float32) {
	dg := newDirectGeom(g)
	ncot := (dg.cog + directCo - 1) / directCo
	wp := getScratch[float32](ncot * dg.ntaps * directCo)
	in := getScratch[float32](dg.cig*dg.pn + directSlack)
	defer putScratch(wp)
	defer putScratch(in)
	nblk := (dg.q + directBlock - 1) / directBlock
	// Chunks of 16 blocks (768 positions): a chunk's input rows are reused
	// from L2 by every channel tile.
	const chunkBlk = 16
	nchunk := (nblk + chunkBlk - 1) / chunkBlk
	for gr := 0; gr < g.groups; gr++ {
		dg.packWeights(wp, w, gr)
		for n := 0; n < g.n; n++ {
			dg.padGroup(in, big[(n*g.cb+gr*dg.cig)*g.bigN:][:dg.cig*g.bigN])
			out := small[(n*g.cs+gr*dg.cog)*g.smallN:][:dg.cog*g.smallN]
			parallelFor(nchunk, 1, func(lo, hi int) {
				const ys = chunkBlk * directBlock
				y := getScratch[float32](directCo * ys)
				defer putScratch(y)
				for ch := lo; ch < hi; ch++ {
					b0 := ch * chunkBlk
					nb := min(chunkBlk, nblk-b0)
					q0 := b0 * directBlock
					q1 := min(q0+nb*directBlock, dg.q)
					if need := q0 + nb*directBlock + dg.offs[len(dg.offs)-1]/4; need > len(in) {
						panic(fmt.Sprintf("nn: direct conv reads to %d of %d", need, len(in)))
					}
					for ct := 0; ct < ncot; ct++ {
						sconvFwd8x48(&y[0], ys, &in[q0], &dg.offs[0], dg.ntaps, &wp[ct*dg.ntaps*directCo], nb)
						nc := min(directCo, dg.cog-ct*directCo)
						dg.runs(q0, q1, func(q, at, k int) {
							for c := 0; c < nc; c++ {
								copy(out[(ct*directCo+c)*g.smallN+at:][:k], y[c*ys+q-q0:][:k])
							}
						})
					}
				}
			})
		}
	}
}

// directWeightGrad computes dw = sum over samples of dy ⋆ big for a
// stride-1 float32 convolution, overwriting dw (cs, cb/groups, k...):
// dy is the small side (n, cs, small...).
func directWeightGrad(g *convGeom, dw, dy, big []float32) {
	dg := newDirectGeom(g)
	ncot := (dg.cog + directCo - 1) / directCo
	ntrip := (dg.ntaps + 2) / 3
	offs := dg.offs
	for len(offs) < 3*ntrip {
		offs = append(offs, 0) // dummy taps: their sums are dropped
	}
	in := getScratch[float32](dg.cig*dg.pn + directSlack)
	defer putScratch(in)
	nchunk := (dg.q + directChunk - 1) / directChunk
	// Work items: a channel tile and a share of the chunks. With fewer
	// tiles than cores the chunks are split too, and shares are added
	// into dw under a lock.
	workers := runtime.GOMAXPROCS(0)
	shares := 1
	if ncot < workers {
		shares = min(nchunk, (workers+ncot-1)/ncot)
	}
	partLen := ntrip * 3 * directCo * directVec
	var mu sync.Mutex
	clear(dw)
	for gr := 0; gr < g.groups; gr++ {
		dwg := dw[gr*dg.cog*dg.ntaps : (gr+1)*dg.cog*dg.ntaps]
		for n := 0; n < g.n; n++ {
			dg.padGroup(in, big[(n*g.cb+gr*dg.cig)*g.bigN:][:dg.cig*g.bigN])
			dyg := dy[(n*g.cs+gr*dg.cog)*g.smallN:][:dg.cog*g.smallN]
			parallelFor(ncot*shares, 1, func(lo, hi int) {
				part := getScratch[float32](partLen)
				tile := getScratch[float32](directCo * directChunk)
				defer putScratch(part)
				defer putScratch(tile)
				for it := lo; it < hi; it++ {
					ct, sh := it/shares, it%shares
					c0, c1 := sh*nchunk/shares, (sh+1)*nchunk/shares
					nc := min(directCo, dg.cog-ct*directCo)
					clear(part)
					for ch := c0; ch < c1; ch++ {
						q0 := ch * directChunk
						q1 := min(q0+directChunk, dg.q)
						nv := (q1 - q0 + directVec - 1) / directVec
						clear(tile)
						dg.runs(q0, q1, func(q, at, k int) {
							for c := 0; c < nc; c++ {
								copy(tile[c*directChunk+q-q0:][:k], dyg[(ct*directCo+c)*g.smallN+at:][:k])
							}
						})
						if need := q0 + nv*directVec + dg.offs[len(dg.offs)-1]/4; need > len(in) {
							panic(fmt.Sprintf("nn: direct conv reads to %d of %d", need, len(in)))
						}
						sconvWGrad8x3(&part[0], &tile[0], directChunk, &in[q0], &offs[0], ntrip, nv)
					}
					mu.Lock()
					for c := 0; c < nc; c++ {
						row := dwg[(ct*directCo+c)*dg.ntaps:][:dg.ntaps]
						for t := range row {
							j, s := t/3, t%3
							lanes := part[((j*directCo+c)*3+s)*directVec:][:directVec]
							var sum float32
							for _, v := range lanes {
								sum += v
							}
							row[t] += sum
						}
					}
					mu.Unlock()
				}
			})
		}
	}
}

// sconvFwd8x48Go is the portable statement of sconvFwd8x48 (the tests hold
// the assembly to it): for each block b < nblk and channel c < 8,
// out[c*ostride + 48b + l] = sum over t of w[8t+c] * in[offs[t]/4 + 48b + l].
func sconvFwd8x48Go(out []float32, ostride int, in []float32, offs []int, ntaps int, w []float32, nblk int) {
	for b := 0; b < nblk; b++ {
		for c := 0; c < directCo; c++ {
			for l := 0; l < directBlock; l++ {
				var s float32
				for t := 0; t < ntaps; t++ {
					s += w[directCo*t+c] * in[offs[t]/4+directBlock*b+l]
				}
				out[c*ostride+directBlock*b+l] = s
			}
		}
	}
}

// sconvWGrad8x3Go is the portable statement of sconvWGrad8x3: for triple
// j < ntrip, channel c < 8, tap s < 3 and lane l < 16,
// part[16(24j+3c+s)+l] += sum over v < nvec of dy[c*dystride+16v+l] * in[offs[3j+s]/4+16v+l].
func sconvWGrad8x3Go(part, dy []float32, dystride int, in []float32, offs []int, ntrip, nvec int) {
	for j := 0; j < ntrip; j++ {
		for c := 0; c < directCo; c++ {
			for s := 0; s < 3; s++ {
				for l := 0; l < directVec; l++ {
					acc := part[16*(24*j+3*c+s)+l]
					for v := 0; v < nvec; v++ {
						acc += dy[c*dystride+16*v+l] * in[offs[3*j+s]/4+16*v+l]
					}
					part[16*(24*j+3*c+s)+l] = acc
				}
			}
		}
	}
}
