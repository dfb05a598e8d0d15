package viz

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/unetlab/unetlab/internal/samplestat"
	"github.com/unetlab/unetlab/volume"
)

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

// String returns the plane's name: "axial", "coronal" or "sagittal"
// (Plane(N) for another value).
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
		return o, fmt.Errorf("%w: axis codes %q: want three letters such as \"RAS\"", ErrInput, code)
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
			return o, fmt.Errorf("%w: axis codes %q: letter %q is not one of RLAPSI (an affine without orientation?)", ErrInput, code, ch)
		}
		if seen[a] {
			return o, fmt.Errorf("%w: axis codes %q: two letters on one anatomical axis", ErrInput, code)
		}
		seen[a] = true
		o.axis[a], o.pos[a] = v, pos
	}
	return o, nil
}

// vox is one channel of a volume.Volume as the views read it: the voxels
// (X fastest), shape and spacing along X, Y, Z, and the axis codes of its
// affine.
type vox struct {
	data    []float32
	shape   [3]int
	spacing [3]float64 // mm; entries <= 0 read as 1
	axes    string
}

// voxOf returns channel c of v, named name in errors ("image", "labels").
// A volume whose affine is all zeros (made in memory without one) reads as
// "RAS".
func voxOf(name string, v *volume.Volume, c int) (vox, error) {
	if v == nil {
		return vox{}, fmt.Errorf("%w: %s is nil", ErrInput, name)
	}
	if err := v.Check(); err != nil {
		return vox{}, fmt.Errorf("%w: %s: %w", ErrShape, name, err)
	}
	if c < 0 || c >= v.Channels {
		return vox{}, fmt.Errorf("%w: %s: channel %d of a volume with %d channel(s)", ErrInput, name, c, v.Channels)
	}
	for i, s := range v.Spacing {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return vox{}, fmt.Errorf("%w: %s: spacing along %c is %v mm", ErrInput, name, "XYZ"[i], s)
		}
	}
	axes := "RAS"
	if v.Affine != (volume.Affine{}) {
		axes = v.Affine.AxisCodes()
	}
	if _, err := parseAxes(axes); err != nil {
		return vox{}, fmt.Errorf("%s: %w", name, err)
	}
	return vox{data: v.Channel(c), shape: v.Shape, spacing: v.Spacing, axes: axes}, nil
}

func (v vox) spacingOf(axis int) float64 {
	if s := v.spacing[axis]; s > 0 {
		return s
	}
	return 1
}

func (v vox) at(x, y, z int) float32 {
	return v.data[x+v.shape[0]*(y+v.shape[1]*z)]
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
// percentile (0..100) of the finite intensities of channel c of v. Volumes
// over 2^18 voxels are sampled with a regular odd stride (2^18 samples put
// the 0.5th percentile within about 0.03 percentile points of the exact
// one). A constant volume gets width 1.
func AutoWindow(v *volume.Volume, c int, lowPct, highPct float64) (Window, error) {
	img, err := voxOf("AutoWindow", v, c)
	if err != nil {
		return Window{}, err
	}
	return autoWindow(img, lowPct, highPct)
}

func autoWindow(v vox, lowPct, highPct float64) (Window, error) {
	if !(lowPct >= 0 && lowPct < highPct && highPct <= 100) {
		return Window{}, fmt.Errorf("%w: AutoWindow: percentiles %v..%v, want 0 <= low < high <= 100", ErrInput, lowPct, highPct)
	}
	stride := 1
	if n := len(v.data); n > 1<<18 {
		stride = n / (1 << 18)
		// An odd stride avoids locking onto a power-of-two row length.
		stride |= 1
	}
	vals := make([]float64, 0, len(v.data)/stride+1)
	for i := 0; i < len(v.data); i += stride {
		x := float64(v.data[i])
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

// NormalAxis returns the voxel axis of v (0 = X, 1 = Y, 2 = Z, as in
// volume.Volume.Shape) normal to plane: the axis whose index [Slice] takes
// and along which stats.SliceDice cuts. For "RAS" volumes it is Z for
// Axial, Y for Coronal and X for Sagittal.
func NormalAxis(v *volume.Volume, plane Plane) (int, error) {
	img, err := voxOf("image", v, 0)
	if err != nil {
		return 0, err
	}
	g, err := geometry(img, plane)
	if err != nil {
		return 0, err
	}
	return g.nAx, nil
}
