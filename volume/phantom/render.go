package phantom

import (
	"context"
	"math"
	"runtime"
	"sync"

	"github.com/unetlab/unetlab/rng"
	"github.com/unetlab/unetlab/volume"
)

// tissue is a class of voxels with its label and its intensity per
// modality (HU for CT, 0..1 for MRI).
type tissue struct {
	label uint8
	mean  []float64
	tex   float64 // texture amplitude, in the intensity's unit
}

type layer struct {
	s shape
	t int
}

// builder collects a case's tissues and the shapes painted with them, in
// order (later layers cover earlier ones); tissue 0 is the background.
type builder struct {
	r       *rng.Rand
	mods    int
	ct      bool
	tissues []tissue
	layers  []layer
}

// tissue adds a tissue and returns its index; mean has one value per
// modality (a single value is used for all).
func (b *builder) tissue(label uint8, tex float64, mean ...float64) int {
	m := make([]float64, b.mods)
	for i := range m {
		m[i] = mean[min(i, len(mean)-1)]
	}
	b.tissues = append(b.tissues, tissue{label: label, mean: m, tex: tex})
	return len(b.tissues) - 1
}

func (b *builder) paint(s shape, t int) { b.layers = append(b.layers, layer{s, t}) }

// v returns x scaled by a random factor in [1-f, 1+f].
func (b *builder) v(x, f float64) float64 { return x * b.r.Uniform(1-f, 1+f) }

// vv scales each component of x by its own random factor in [1-f, 1+f].
func (b *builder) vv(x vec, f float64) vec {
	return vec{b.v(x[0], f), b.v(x[1], f), b.v(x[2], f)}
}

// ell adds nothing: it returns a warped ellipsoid with jittered centre
// (+-jc) and radii (+-rf relative).
func (b *builder) ell(c vec, jc float64, r vec, rf, maxRot, warpAmp float64) *ellipsoid {
	return newEllipsoid(b.r, c.add(jitter(b.r, jc)), b.vv(r, rf), maxRot, warpAmp)
}

// inside returns a random point inside s (rejection sampling within the
// box [lo, hi]); the centre of the box if none is found.
func (b *builder) inside(s shape, lo, hi vec) vec {
	for k := 0; k < 2000; k++ {
		p := vec{b.r.Uniform(lo[0], hi[0]), b.r.Uniform(lo[1], hi[1]), b.r.Uniform(lo[2], hi[2])}
		if s.contains(p) {
			return p
		}
	}
	return lo.add(hi).scale(0.5)
}

// smoothField returns a smooth random field of the given shape with unit
// standard deviation at the grid nodes: a coarse grid of normal deviates
// resized trilinearly.
func smoothField(r *rng.Rand, shape [3]int, nodes int) []float32 {
	g := volume.New([3]int{nodes, nodes, nodes}, 1)
	for i := range g.Data {
		g.Data[i] = float32(r.Norm())
	}
	f, err := volume.Resize(context.Background(), g, shape)
	if err != nil {
		panic("phantom: smoothField: " + err.Error()) // shapes are checked by Generate
	}
	return f.Data
}

// render paints the layers onto a grid of the given shape and synthesises
// the image: per-case contrast, texture, inhomogeneity, partial-volume
// blur, noise.
func (b *builder) render(shape [3]int) (image, label *volume.Volume) {
	X, Y, Z := shape[0], shape[1], shape[2]
	n := X * Y * Z
	tmap := make([]uint8, n)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for z := w; z < Z; z += workers {
				for y := 0; y < Y; y++ {
					for x := 0; x < X; x++ {
						p := vec{2*(float64(x)+0.5)/float64(X) - 1, 2*(float64(y)+0.5)/float64(Y) - 1, 2*(float64(z)+0.5)/float64(Z) - 1}
						t := 0
						for _, l := range b.layers {
							if l.s.contains(p) {
								t = l.t
							}
						}
						tmap[(z*Y+y)*X+x] = uint8(t)
					}
				}
			}
		}(w)
	}
	wg.Wait()

	label = volume.New(shape, 1)
	for i, t := range tmap {
		label.Data[i] = float32(b.tissues[t].label)
	}
	// Per-case contrast: each tissue's mean moves a little.
	means := make([][]float64, len(b.tissues))
	for t, ts := range b.tissues {
		means[t] = make([]float64, b.mods)
		for m, mu := range ts.mean {
			if b.ct {
				means[t][m] = mu + 8*b.r.Norm()
			} else {
				means[t][m] = mu * (1 + 0.06*b.r.Norm())
			}
		}
	}
	image = volume.New(shape, b.mods)
	texture := smoothField(b.r, shape, max(4, min(X, Y, Z)/4))
	for m := 0; m < b.mods; m++ {
		bias := smoothField(b.r, shape, 3)
		biasAmp := 0.0
		if !b.ct {
			biasAmp = b.r.Uniform(0.12, 0.3) // MRI: multiplicative, exp(+-0.3)
		}
		shift := b.r.Uniform(8, 20) // CT: additive drift in HU
		ch := image.Channel(m)
		for i, t := range tmap {
			f := means[t][m] + b.tissues[t].tex*float64(texture[i])
			if b.ct {
				if t != 0 {
					f += shift * float64(bias[i])
				}
			} else {
				f *= math.Exp(biasAmp * float64(bias[i]))
			}
			ch[i] = float32(f)
		}
		blur3(ch, shape)
		sd := b.r.Uniform(0.03, 0.06)
		if b.ct {
			sd = b.r.Uniform(10, 22)
		}
		for i := range ch {
			f := float64(ch[i]) + sd*b.r.Norm()
			if b.ct {
				f = math.Round(math.Min(3071, math.Max(-1024, f)))
			} else {
				f = math.Max(0, f) * 1000
			}
			ch[i] = float32(f)
		}
	}
	return image, label
}

// blur3 smooths a (Z, Y, X) channel with the kernel (1/4, 1/2, 1/4) along
// each axis (edges replicated): partial volume.
func blur3(ch []float32, shape [3]int) {
	X, Y, Z := shape[0], shape[1], shape[2]
	stride := [3]int{1, X, X * Y}
	tmp := make([]float32, len(ch))
	for a := 0; a < 3; a++ {
		s, size := stride[a], shape[a]
		copy(tmp, ch)
		for z := 0; z < Z; z++ {
			for y := 0; y < Y; y++ {
				for x := 0; x < X; x++ {
					i := (z*Y+y)*X + x
					pos := [3]int{x, y, z}[a]
					lo, hi := i, i
					if pos > 0 {
						lo = i - s
					}
					if pos < size-1 {
						hi = i + s
					}
					ch[i] = 0.25*tmp[lo] + 0.5*tmp[i] + 0.25*tmp[hi]
				}
			}
		}
	}
}
