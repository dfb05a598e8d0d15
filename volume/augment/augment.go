// Package augment holds seeded data augmentation for 3D segmentation:
// random flips, 90-degree rotations, small affine transforms, intensity
// scale and shift, and random crops balanced between foreground and
// background. (The paper trained without augmentation; these are the
// project's addition.)
//
// A Pipeline applies its transforms with a random stream derived from
// (seed, epoch, sample index), so a sample's augmentation does not depend
// on the order or the goroutine in which samples are prepared.
//
// Transforms work in voxel space on the (C, Z, Y, X) grid of a
// volume.Volume: images are interpolated trilinearly, label maps by
// nearest neighbour, so labels stay class values. The geometry fields
// (Spacing, Affine) of augmented volumes are left as they were: augmented
// samples are for training, not for writing back to the scanner's space.
package augment

import (
	"errors"
	"fmt"
	"math"

	"github.com/unetlab/unetlab/rng"
	"github.com/unetlab/unetlab/volume"
)

// ErrAugment reports a transform that cannot apply to its input.
var ErrAugment = errors.New("augment: invalid input")

// Transform is one random augmentation. Apply draws its randomness from r
// and returns the transformed image and label (label may be nil); it may
// modify and return its arguments.
type Transform interface {
	Apply(r *rng.Rand, image, label *volume.Volume) (*volume.Volume, *volume.Volume, error)
}

// Pipeline applies transforms in order with a seeded stream per sample.
type Pipeline struct {
	Seed       uint64
	Transforms []Transform
}

// New returns a pipeline of the given transforms.
func New(seed uint64, transforms ...Transform) *Pipeline {
	return &Pipeline{Seed: seed, Transforms: transforms}
}

// Default returns flips, 90-degree rotations, small affine transforms and
// intensity changes with their default settings (no crop).
func Default(seed uint64) *Pipeline {
	return New(seed, Flip{}, Rot90{}, Affine{}, Intensity{})
}

// Apply augments copies of image and label (label may be nil) for sample
// index of the given epoch. Safe for concurrent use.
func (p *Pipeline) Apply(image, label *volume.Volume, epoch, index int) (*volume.Volume, *volume.Volume, error) {
	if err := checkInputs(image, label); err != nil {
		return nil, nil, err
	}
	image = image.Clone()
	if label != nil {
		label = label.Clone()
	}
	r := rng.Derive(p.Seed, uint64(epoch), uint64(index))
	var err error
	for _, t := range p.Transforms {
		if image, label, err = t.Apply(r, image, label); err != nil {
			return nil, nil, err
		}
	}
	return image, label, nil
}

// checkInputs verifies what every Transform needs: an image whose Data
// match its shape and, when present, a label of the same grid. Each Apply
// calls it, since transforms are also used on their own.
func checkInputs(image, label *volume.Volume) error {
	if err := image.Check(); err != nil {
		return fmt.Errorf("augment: image: %w", err)
	}
	if label != nil {
		if err := label.Check(); err != nil {
			return fmt.Errorf("augment: label: %w", err)
		}
		if label.Shape != image.Shape {
			return fmt.Errorf("%w: label shape %v, image shape %v", ErrAugment, label.Shape, image.Shape)
		}
	}
	return nil
}

func prob(p, def float64) float64 {
	if p == 0 {
		return def
	}
	return math.Max(0, p)
}

// Flip mirrors the volume along each axis with probability Prob (0 means
// 0.5; negative means never).
type Flip struct{ Prob float64 }

// Apply implements Transform.
func (f Flip) Apply(r *rng.Rand, image, label *volume.Volume) (*volume.Volume, *volume.Volume, error) {
	if err := checkInputs(image, label); err != nil {
		return nil, nil, err
	}
	p := prob(f.Prob, 0.5)
	for axis := 0; axis < 3; axis++ {
		if r.Bool(p) {
			flip(image, axis)
			if label != nil {
				flip(label, axis)
			}
		}
	}
	return image, label, nil
}

// flip mirrors v in place along axis (0 X, 1 Y, 2 Z).
func flip(v *volume.Volume, axis int) {
	X, Y, Z := v.Shape[0], v.Shape[1], v.Shape[2]
	for c := 0; c < v.Channels; c++ {
		d := v.Channel(c)
		switch axis {
		case 0:
			for row := 0; row < Y*Z; row++ {
				s := d[row*X : (row+1)*X]
				for i, j := 0, X-1; i < j; i, j = i+1, j-1 {
					s[i], s[j] = s[j], s[i]
				}
			}
		case 1:
			for z := 0; z < Z; z++ {
				for i, j := 0, Y-1; i < j; i, j = i+1, j-1 {
					a, b := d[(z*Y+i)*X:(z*Y+i+1)*X], d[(z*Y+j)*X:(z*Y+j+1)*X]
					for k := range a {
						a[k], b[k] = b[k], a[k]
					}
				}
			}
		case 2:
			P := X * Y
			for i, j := 0, Z-1; i < j; i, j = i+1, j-1 {
				a, b := d[i*P:(i+1)*P], d[j*P:(j+1)*P]
				for k := range a {
					a[k], b[k] = b[k], a[k]
				}
			}
		}
	}
}

// Rot90 rotates by 90, 180 or 270 degrees, with probability Prob (0 means
// 0.5; negative means never), in a plane chosen among those whose two
// axes have the same length, so that the shape is kept (a 128^3 cube
// allows all three planes). A volume without such a plane is left alone.
type Rot90 struct{ Prob float64 }

// Apply implements Transform.
func (t Rot90) Apply(r *rng.Rand, image, label *volume.Volume) (*volume.Volume, *volume.Volume, error) {
	if err := checkInputs(image, label); err != nil {
		return nil, nil, err
	}
	if !r.Bool(prob(t.Prob, 0.5)) {
		return image, label, nil
	}
	var planes [][2]int
	for _, pl := range [][2]int{{0, 1}, {0, 2}, {1, 2}} {
		if image.Shape[pl[0]] == image.Shape[pl[1]] {
			planes = append(planes, pl)
		}
	}
	if len(planes) == 0 {
		return image, label, nil
	}
	pl := planes[r.Intn(len(planes))]
	k := 1 + r.Intn(3)
	image = rot90(image, pl, k)
	if label != nil {
		label = rot90(label, pl, k)
	}
	return image, label, nil
}

// rot90 returns v rotated k quarter turns in the plane of axes pl (equal
// lengths): out(a, b) = in(b, n-1-a) per turn.
func rot90(v *volume.Volume, pl [2]int, k int) *volume.Volume {
	n := v.Shape[pl[0]]
	w := v.Clone()
	X, Y, Z := v.Shape[0], v.Shape[1], v.Shape[2]
	for ; k > 0; k-- {
		src := append([]float32(nil), w.Data...)
		for c := 0; c < v.Channels; c++ {
			for z := 0; z < Z; z++ {
				for y := 0; y < Y; y++ {
					for x := 0; x < X; x++ {
						p := [3]int{x, y, z}
						a, b := p[pl[0]], p[pl[1]]
						p[pl[0]], p[pl[1]] = b, n-1-a
						w.Data[((c*Z+z)*Y+y)*X+x] = src[((c*Z+p[2])*Y+p[1])*X+p[0]]
					}
				}
			}
		}
	}
	return w
}

// Affine applies, with probability Prob (0 means 0.3; negative never), a
// rotation about each axis by up to MaxRotate degrees (0 means 10), an
// isotropic scaling by a factor in [1-MaxScale, 1+MaxScale] (0 means 0.1)
// and a shift of up to MaxShift of each axis length (0 means 0.05), all
// about the grid's centre. Samples outside the grid take the nearest edge
// value.
type Affine struct {
	Prob      float64
	MaxRotate float64 // degrees
	MaxScale  float64
	MaxShift  float64 // fraction of each axis
}

// Apply implements Transform.
func (t Affine) Apply(r *rng.Rand, image, label *volume.Volume) (*volume.Volume, *volume.Volume, error) {
	if err := checkInputs(image, label); err != nil {
		return nil, nil, err
	}
	if !r.Bool(prob(t.Prob, 0.3)) {
		return image, label, nil
	}
	maxRot := prob(t.MaxRotate, 10) * math.Pi / 180
	s := 1 + r.Uniform(-prob(t.MaxScale, 0.1), prob(t.MaxScale, 0.1))
	a, b, g := r.Uniform(-maxRot, maxRot), r.Uniform(-maxRot, maxRot), r.Uniform(-maxRot, maxRot)
	var shift [3]float64
	for i := range shift {
		m := prob(t.MaxShift, 0.05) * float64(image.Shape[i])
		shift[i] = r.Uniform(-m, m)
	}
	ca, sa, cb, sb, cg, sg := math.Cos(a), math.Sin(a), math.Cos(b), math.Sin(b), math.Cos(g), math.Sin(g)
	rot := [3][3]float64{
		{cg * cb, cg*sb*sa - sg*ca, cg*sb*ca + sg*sa},
		{sg * cb, sg*sb*sa + cg*ca, sg*sb*ca - cg*sa},
		{-sb, cb * sa, cb * ca},
	}
	// output o -> input p = R^T (o - c - shift) / s + c
	var m [3][4]float64
	var c [3]float64
	for i := range c {
		c[i] = float64(image.Shape[i]-1) / 2
	}
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			m[i][j] = rot[j][i] / s
		}
		m[i][3] = c[i]
		for j := 0; j < 3; j++ {
			m[i][3] -= m[i][j] * (c[j] + shift[j])
		}
	}
	image = resample(image, m, false)
	if label != nil {
		label = resample(label, m, true)
	}
	return image, label, nil
}

// resample returns v sampled at p = m·(x, y, z, 1) for every output voxel,
// trilinearly or by nearest neighbour, coordinates clamped to the grid.
func resample(v *volume.Volume, m [3][4]float64, nearest bool) *volume.Volume {
	w := v.Like(v.Channels)
	w.Spacing, w.Affine = v.Spacing, v.Affine
	X, Y, Z := v.Shape[0], v.Shape[1], v.Shape[2]
	clamp := func(f float64, n int) float64 { return math.Min(math.Max(f, 0), float64(n-1)) }
	i := 0
	n := v.Len()
	for z := 0; z < Z; z++ {
		for y := 0; y < Y; y++ {
			for x := 0; x < X; x++ {
				fx, fy, fz := float64(x), float64(y), float64(z)
				px := clamp(m[0][0]*fx+m[0][1]*fy+m[0][2]*fz+m[0][3], X)
				py := clamp(m[1][0]*fx+m[1][1]*fy+m[1][2]*fz+m[1][3], Y)
				pz := clamp(m[2][0]*fx+m[2][1]*fy+m[2][2]*fz+m[2][3], Z)
				if nearest {
					src := (int(math.Round(pz))*Y+int(math.Round(py)))*X + int(math.Round(px))
					for c := 0; c < v.Channels; c++ {
						w.Data[c*n+i] = v.Data[c*n+src]
					}
				} else {
					x0, y0, z0 := int(px), int(py), int(pz)
					x1, y1, z1 := min(x0+1, X-1), min(y0+1, Y-1), min(z0+1, Z-1)
					dx, dy, dz := float32(px-float64(x0)), float32(py-float64(y0)), float32(pz-float64(z0))
					for c := 0; c < v.Channels; c++ {
						d := v.Data[c*n : (c+1)*n]
						at := func(x, y, z int) float32 { return d[(z*Y+y)*X+x] }
						c00 := at(x0, y0, z0)*(1-dx) + at(x1, y0, z0)*dx
						c10 := at(x0, y1, z0)*(1-dx) + at(x1, y1, z0)*dx
						c01 := at(x0, y0, z1)*(1-dx) + at(x1, y0, z1)*dx
						c11 := at(x0, y1, z1)*(1-dx) + at(x1, y1, z1)*dx
						w.Data[c*n+i] = (c00*(1-dy)+c10*dy)*(1-dz) + (c01*(1-dy)+c11*dy)*dz
					}
				}
				i++
			}
		}
	}
	return w
}

// Intensity multiplies each image channel, with probability Prob (0 means
// 0.5; negative never), by a factor in [1-Scale, 1+Scale] (0 means 0.1)
// and adds an offset in [-Shift, Shift] (0 means 0.1, in the image's units:
// meant for intensities normalised to [0, 1]). Labels are untouched.
type Intensity struct {
	Prob  float64
	Scale float64
	Shift float64
}

// Apply implements Transform.
func (t Intensity) Apply(r *rng.Rand, image, label *volume.Volume) (*volume.Volume, *volume.Volume, error) {
	if err := checkInputs(image, label); err != nil {
		return nil, nil, err
	}
	for c := 0; c < image.Channels; c++ {
		if !r.Bool(prob(t.Prob, 0.5)) {
			continue
		}
		a := float32(1 + r.Uniform(-prob(t.Scale, 0.1), prob(t.Scale, 0.1)))
		b := float32(r.Uniform(-prob(t.Shift, 0.1), prob(t.Shift, 0.1)))
		ch := image.Channel(c)
		for i, f := range ch {
			ch[i] = f*a + b
		}
	}
	return image, label, nil
}

// Crop cuts a window of Size (X, Y, Z voxels) centred, with probability
// Foreground (0 means 0.5; negative never), on a random foreground voxel
// (label > 0) and otherwise on a random voxel, shifted to lie inside the
// volume. Axes shorter than Size are padded with zeros (background). It
// needs Size set; without a label every crop is a background crop.
type Crop struct {
	Size       [3]int
	Foreground float64
}

// Apply implements Transform.
func (t Crop) Apply(r *rng.Rand, image, label *volume.Volume) (*volume.Volume, *volume.Volume, error) {
	if err := checkInputs(image, label); err != nil {
		return nil, nil, err
	}
	n := int64(image.Channels)
	for i, s := range t.Size {
		if s < 1 {
			return nil, nil, fmt.Errorf("%w: crop size %v: axis %d must be >= 1", ErrAugment, t.Size, i)
		}
		if n *= int64(min(s, volume.MaxVoxels)); n > volume.MaxVoxels {
			return nil, nil, fmt.Errorf("%w: crop size %v of %d channel(s): more than volume.MaxVoxels (%d) voxels", ErrAugment, t.Size, image.Channels, int64(volume.MaxVoxels))
		}
	}
	var centre [3]int
	fg := -1
	if label != nil && r.Bool(prob(t.Foreground, 0.5)) {
		// pick the k-th foreground voxel uniformly
		count := 0
		for _, f := range label.Data {
			if f > 0 {
				count++
			}
		}
		if count > 0 {
			k := r.Intn(count)
			for i, f := range label.Data {
				if f > 0 {
					if k == 0 {
						fg = i
						break
					}
					k--
				}
			}
		}
	}
	X, Y := image.Shape[0], image.Shape[1]
	if fg >= 0 {
		centre = [3]int{fg % X, fg / X % Y, fg / (X * Y)}
	} else {
		for i := range centre {
			centre[i] = r.Intn(image.Shape[i])
		}
	}
	var start [3]int
	for i := range start {
		n, s := image.Shape[i], t.Size[i]
		if n <= s {
			start[i] = -(s - n) / 2 // pad evenly
			continue
		}
		start[i] = min(max(centre[i]-s/2, 0), n-s)
	}
	image = crop(image, start, t.Size)
	if label != nil {
		label = crop(label, start, t.Size)
	}
	return image, label, nil
}

// crop returns the window of size at start (may be negative or run past
// the end: zeros there).
func crop(v *volume.Volume, start, size [3]int) *volume.Volume {
	w := volume.New(size, v.Channels)
	w.Spacing, w.Affine, w.Header = v.Spacing, v.Affine, v.Header
	X, Y, Z := v.Shape[0], v.Shape[1], v.Shape[2]
	for c := 0; c < v.Channels; c++ {
		for z := 0; z < size[2]; z++ {
			sz := start[2] + z
			if sz < 0 || sz >= Z {
				continue
			}
			for y := 0; y < size[1]; y++ {
				sy := start[1] + y
				if sy < 0 || sy >= Y {
					continue
				}
				for x := 0; x < size[0]; x++ {
					sx := start[0] + x
					if sx < 0 || sx >= X {
						continue
					}
					w.Data[((c*size[2]+z)*size[1]+y)*size[0]+x] = v.Data[((c*Z+sz)*Y+sy)*X+sx]
				}
			}
		}
	}
	return w
}
