package volume

import (
	"fmt"
	"math"
)

// Volume is a multi-channel 3D image with float32 voxels.
//
// Data holds Channels*Shape[0]*Shape[1]*Shape[2] values in the row-major
// order (C, Z, Y, X): X varies fastest, as NIfTI stores voxels.
type Volume struct {
	Data     []float32
	Shape    [3]int     // voxels along X, Y, Z (NIfTI dim[1..3])
	Channels int        // modalities, NIfTI dim[4] (1 for a 3D image)
	Spacing  [3]float64 // voxel size along X, Y, Z in mm
	Affine   Affine     // voxel (X, Y, Z) index to world mm
	// Header is the header the volume was read from, nil for a volume made
	// in memory. Write starts from it, so a prediction written with the
	// image's header keeps its description, units and transform codes.
	Header *Header
}

// New returns a zeroed volume of the given shape (X, Y, Z voxels) and
// channel count, spacing 1 mm and the identity affine.
func New(shape [3]int, channels int) *Volume {
	if channels < 1 {
		channels = 1
	}
	n := channels
	for _, s := range shape {
		if s < 0 {
			s = 0
		}
		n *= s
	}
	return &Volume{
		Data:     make([]float32, n),
		Shape:    shape,
		Channels: channels,
		Spacing:  [3]float64{1, 1, 1},
		Affine:   Identity(),
	}
}

// Len returns the number of voxels of one channel, X*Y*Z.
func (v *Volume) Len() int { return v.Shape[0] * v.Shape[1] * v.Shape[2] }

// Index returns the position in Data of voxel (x, y, z) of channel c.
func (v *Volume) Index(c, x, y, z int) int {
	return ((c*v.Shape[2]+z)*v.Shape[1]+y)*v.Shape[0] + x
}

// At returns voxel (x, y, z) of channel c.
func (v *Volume) At(c, x, y, z int) float32 { return v.Data[v.Index(c, x, y, z)] }

// Set sets voxel (x, y, z) of channel c.
func (v *Volume) Set(c, x, y, z int, f float32) { v.Data[v.Index(c, x, y, z)] = f }

// Channel returns channel c's voxels, (Z, Y, X) row-major, sharing Data.
func (v *Volume) Channel(c int) []float32 {
	n := v.Len()
	return v.Data[c*n : (c+1)*n : (c+1)*n]
}

// Clone returns a deep copy of v (the Header is shared: it is never
// modified in place).
func (v *Volume) Clone() *Volume {
	w := *v
	w.Data = append([]float32(nil), v.Data...)
	return &w
}

// Like returns a zeroed volume with v's geometry (shape, spacing, affine,
// header) and the given number of channels.
func (v *Volume) Like(channels int) *Volume {
	w := New(v.Shape, channels)
	w.Spacing, w.Affine, w.Header = v.Spacing, v.Affine, v.Header
	return w
}

// Check returns an ErrShape error when len(Data) does not match Shape and
// Channels.
func (v *Volume) Check() error {
	if v == nil {
		return fmt.Errorf("%w: nil volume", ErrShape)
	}
	for _, s := range v.Shape {
		if s < 1 {
			return fmt.Errorf("%w: shape %v has an empty axis", ErrShape, v.Shape)
		}
	}
	n, ok := count(v.Shape, v.Channels)
	if v.Channels < 1 || !ok || len(v.Data) != n {
		return fmt.Errorf("%w: %d voxels for shape %v with %d channels", ErrShape, len(v.Data), v.Shape, v.Channels)
	}
	return nil
}

// count returns channels*X*Y*Z for positive sizes, and false when the
// product overflows int.
func count(shape [3]int, channels int) (int, bool) {
	n := channels
	for _, s := range shape {
		if s > 0 && n > math.MaxInt/s {
			return 0, false
		}
		n *= s
	}
	return n, true
}

// String describes the volume's geometry, not its voxels.
func (v *Volume) String() string {
	return fmt.Sprintf("Volume(shape %dx%dx%d, %d channel(s), spacing %.3gx%.3gx%.3g mm)",
		v.Shape[0], v.Shape[1], v.Shape[2], v.Channels, v.Spacing[0], v.Spacing[1], v.Spacing[2])
}

// Axes chooses how CDHW maps the volume's X, Y, Z onto a tensor's D, H, W.
type Axes int

const (
	// AxesZYX puts D=Z, H=Y, W=X: the stored order, a plain copy.
	AxesZYX Axes = iota
	// AxesZXY puts D=Z, H=X, W=Y, as the authors' code transposes
	// nibabel's (X, Y, Z, C) array to (C, Z, X, Y).
	AxesZXY
)

// String names the axis order.
func (a Axes) String() string {
	switch a {
	case AxesZYX:
		return "ZYX"
	case AxesZXY:
		return "ZXY"
	}
	return fmt.Sprintf("Axes(%d)", int(a))
}

// TensorShape returns the (C, D, H, W) shape CDHW gives for v.
func (v *Volume) TensorShape(axes Axes) [4]int {
	if axes == AxesZXY {
		return [4]int{v.Channels, v.Shape[2], v.Shape[0], v.Shape[1]}
	}
	return [4]int{v.Channels, v.Shape[2], v.Shape[1], v.Shape[0]}
}

// CDHW copies the voxels into dst as a row-major (C, D, H, W) tensor in the
// given axis order and returns it with its shape; dst is grown when too
// short (pass nil to allocate).
func (v *Volume) CDHW(dst []float32, axes Axes) ([]float32, [4]int) {
	shape := v.TensorShape(axes)
	n := len(v.Data)
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	if axes != AxesZXY {
		copy(dst, v.Data)
		return dst, shape
	}
	X, Y, Z := v.Shape[0], v.Shape[1], v.Shape[2]
	for c := 0; c < v.Channels; c++ {
		for z := 0; z < Z; z++ {
			src := v.Data[(c*Z+z)*Y*X : (c*Z+z+1)*Y*X]
			out := dst[(c*Z+z)*X*Y : (c*Z+z+1)*X*Y]
			for y := 0; y < Y; y++ {
				row := src[y*X : (y+1)*X]
				for x, f := range row {
					out[x*Y+y] = f
				}
			}
		}
	}
	return dst, shape
}

// FromCDHW builds a volume from a row-major (C, D, H, W) tensor laid out in
// the given axis order, taking spacing, affine and header from like (which
// may be nil). It is the inverse of CDHW.
func FromCDHW(data []float32, shape [4]int, axes Axes, like *Volume) (*Volume, error) {
	for _, s := range shape {
		if s < 1 {
			return nil, fmt.Errorf("%w: tensor shape %v has an empty axis", ErrShape, shape)
		}
	}
	n, ok := count([3]int{shape[1], shape[2], shape[3]}, shape[0])
	if !ok || len(data) != n {
		return nil, fmt.Errorf("%w: %d values for tensor shape %v", ErrShape, len(data), shape)
	}
	var xyz [3]int
	if axes == AxesZXY {
		xyz = [3]int{shape[2], shape[3], shape[1]}
	} else {
		xyz = [3]int{shape[3], shape[2], shape[1]}
	}
	v := New(xyz, shape[0])
	if like != nil {
		v.Spacing, v.Affine, v.Header = like.Spacing, like.Affine, like.Header
	}
	if axes != AxesZXY {
		copy(v.Data, data)
		return v, nil
	}
	X, Y, Z := xyz[0], xyz[1], xyz[2]
	for c := 0; c < shape[0]; c++ {
		for z := 0; z < Z; z++ {
			src := data[(c*Z+z)*X*Y : (c*Z+z+1)*X*Y]
			out := v.Data[(c*Z+z)*Y*X : (c*Z+z+1)*Y*X]
			for x := 0; x < X; x++ {
				for y := 0; y < Y; y++ {
					out[y*X+x] = src[x*Y+y]
				}
			}
		}
	}
	return v, nil
}
