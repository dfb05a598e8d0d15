package viz

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/unetlab/unetlab/internal/samplestat"
)

// Volume is a 3D scalar image or label map as viz reads it.
//
// Data holds NX*NY*NZ voxels with x fastest: the voxel (x, y, z) is
// Data[x + NX*(y + NY*z)] for Shape = [NX, NY, NZ], the order NIfTI files
// store; read as a row-major array it is (D, H, W) = (NZ, NY, NX). A label
// map holds class numbers (0 = background) as float32; they are rounded.
type Volume struct {
	Data  []float32
	Shape [3]int
	// Spacing is the voxel size in mm along x, y and z; entries <= 0 mean 1.
	Spacing [3]float64
	// Axes gives, for x, y and z in turn, the anatomical direction in which
	// the voxel index increases: one of R/L, A/P, S/I each, every pair once
	// ("RAS", "LPS", "LAS", "PRS", ...). "" means "RAS".
	Axes string
}

// Plane is a slicing plane named anatomically; see the package doc for
// which way is up and left in each.
type Plane int

// The three orthogonal planes.
const (
	Axial    Plane = iota // constant superior-inferior position
	Coronal               // constant anterior-posterior position
	Sagittal              // constant left-right position
)

// hint says where the patient's sides are in the plane's display:
// "(R left, A up)" for axial views.
func (p Plane) hint() string {
	switch p {
	case Axial:
		return "(R left, A up)"
	case Coronal:
		return "(R left, S up)"
	case Sagittal:
		return "(A left, S up)"
	}
	return ""
}

func (p Plane) String() string {
	switch p {
	case Axial:
		return "axial"
	case Coronal:
		return "coronal"
	case Sagittal:
		return "sagittal"
	}
	return fmt.Sprintf("Plane(%d)", int(p))
}

// Anatomical axes and their positive letters.
const (
	lr = iota // positive toward R
	ap        // positive toward A
	si        // positive toward S
)

// orientation maps each anatomical axis to a voxel axis and says whether
// the voxel index grows toward the axis's positive letter (R, A, S).
type orientation struct {
	axis [3]int  // axis[lr] is the voxel axis (0, 1, 2) along left-right
	pos  [3]bool // pos[lr]: index grows toward R
}

func parseAxes(code string) (orientation, error) {
	if code == "" {
		code = "RAS"
	}
	var o orientation
	seen := [3]bool{}
	if len(code) != 3 {
		return o, fmt.Errorf("%w: Volume.Axes %q: want three letters such as \"RAS\"", ErrInput, code)
	}
	for v, ch := range strings.ToUpper(code) {
		var a int
		var pos bool
		switch ch {
		case 'R', 'L':
			a, pos = lr, ch == 'R'
		case 'A', 'P':
			a, pos = ap, ch == 'A'
		case 'S', 'I':
			a, pos = si, ch == 'S'
		default:
			return o, fmt.Errorf("%w: Volume.Axes %q: letter %q is not one of RLAPSI", ErrInput, code, ch)
		}
		if seen[a] {
			return o, fmt.Errorf("%w: Volume.Axes %q: two letters on one anatomical axis", ErrInput, code)
		}
		seen[a] = true
		o.axis[a], o.pos[a] = v, pos
	}
	return o, nil
}

func (v Volume) check(name string) error {
	for i, n := range v.Shape {
		if n <= 0 {
			return fmt.Errorf("%w: %s: Shape %v: axis %d is %d, want > 0", ErrShape, name, v.Shape, i, n)
		}
	}
	// Shapes are positive here; a product that would overflow int cannot
	// match any Data, and a wrapped one could (0 for 2^32 x 2^32 x 1).
	if v.Shape[1] > math.MaxInt/v.Shape[0] || v.Shape[2] > math.MaxInt/(v.Shape[0]*v.Shape[1]) {
		return fmt.Errorf("%w: %s: Shape %v holds more voxels than an int counts", ErrShape, name, v.Shape)
	}
	if want := v.Shape[0] * v.Shape[1] * v.Shape[2]; len(v.Data) != want {
		return fmt.Errorf("%w: %s: %d voxels for Shape %v (want %d)", ErrShape, name, len(v.Data), v.Shape, want)
	}
	for i, s := range v.Spacing {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return fmt.Errorf("%w: %s: Spacing[%d] is %v", ErrInput, name, i, s)
		}
	}
	_, err := parseAxes(v.Axes)
	return err
}

func (v Volume) spacing(axis int) float64 {
	if s := v.Spacing[axis]; s > 0 {
		return s
	}
	return 1
}

func (v Volume) at(x, y, z int) float32 {
	return v.Data[x+v.Shape[0]*(y+v.Shape[1]*z)]
}

// Window maps intensities to grey: Center-Width/2 is black, Center+Width/2
// white, linearly between (units of the image, Hounsfield units for CT).
// A Width <= 0 asks for an automatic window (see ViewOptions).
type Window struct {
	Center, Width float64
}

// CT window presets in Hounsfield units (level, width).
var (
	WindowLung       = Window{Center: -600, Width: 1500}
	WindowSoftTissue = Window{Center: 40, Width: 400}
	WindowBone       = Window{Center: 400, Width: 1800}
)

// AutoWindow returns the window from the lowPct-th to the highPct-th
// percentile (0..100) of v's finite intensities. Volumes over 2^18 voxels
// are sampled with a regular odd stride (2^18 samples put the 0.5th
// percentile within about 0.03 percentile points of the exact one). A constant volume gets width 1.
func AutoWindow(v Volume, lowPct, highPct float64) (Window, error) {
	if err := v.check("AutoWindow"); err != nil {
		return Window{}, err
	}
	if !(lowPct >= 0 && lowPct < highPct && highPct <= 100) {
		return Window{}, fmt.Errorf("%w: AutoWindow: percentiles %v..%v, want 0 <= low < high <= 100", ErrInput, lowPct, highPct)
	}
	stride := 1
	if n := len(v.Data); n > 1<<18 {
		stride = n / (1 << 18)
		// An odd stride avoids locking onto a power-of-two row length.
		stride |= 1
	}
	vals := make([]float64, 0, len(v.Data)/stride+1)
	for i := 0; i < len(v.Data); i += stride {
		x := float64(v.Data[i])
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			vals = append(vals, x)
		}
	}
	if len(vals) == 0 {
		return Window{Center: 0, Width: 1}, nil
	}
	slices.Sort(vals)
	lo, hi := samplestat.Quantile(vals, lowPct/100), samplestat.Quantile(vals, highPct/100)
	if hi <= lo {
		return Window{Center: lo, Width: 1}, nil
	}
	return Window{Center: (lo + hi) / 2, Width: hi - lo}, nil
}

// grey maps x through the window to 0..255.
func (w Window) grey(x float32) uint8 {
	t := (float64(x) - (w.Center - w.Width/2)) / w.Width
	switch {
	case math.IsNaN(t) || t <= 0:
		return 0
	case t >= 1:
		return 255
	}
	return uint8(t*255 + 0.5)
}
