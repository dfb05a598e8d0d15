package volume

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// ErrLabel reports a label map with a value that is not a class index.
var ErrLabel = errors.New("volume: invalid label")

// LabelInterp chooses how ResizeLabels resamples a label map.
type LabelInterp int

const (
	// LabelLinear, the default and the paper's: each class's one-hot
	// channel is resized trilinearly and each voxel takes the class of
	// largest interpolated value (the lowest class on ties). The authors'
	// code rounds each channel instead (ResizeOneHot), which can leave a
	// voxel with no class or two; the argmax is the label map that rounding
	// approximates.
	LabelLinear LabelInterp = iota
	// LabelNearest takes PyTorch's mode="nearest" source voxel.
	LabelNearest
	// LabelRound is the authors' preparation (PROTOCOL.md): each class's
	// one-hot channel is resized trilinearly and rounded half to even
	// (torch.round), as ResizeOneHot does, and the voxel takes the class
	// whose channel rounded to 1. Where no channel reaches 1 (an exact
	// 0.5 tie, or a corner where three or more classes meet and none has
	// half the weight) the authors' target is all zeros, which a label map
	// cannot hold: such a voxel becomes background 0, where LabelLinear
	// would give the class of largest weight. With two classes the two
	// differ only on exact ties.
	LabelRound
)

// String names the interpolation.
func (l LabelInterp) String() string {
	switch l {
	case LabelLinear:
		return "linear"
	case LabelNearest:
		return "nearest"
	case LabelRound:
		return "round"
	}
	return fmt.Sprintf("LabelInterp(%d)", int(l))
}

// checkLabels verifies that lab is a one-channel map of integer classes in
// [0, classes).
func checkLabels(lab *Volume, classes int) error {
	if err := lab.Check(); err != nil {
		return err
	}
	if lab.Channels != 1 {
		return fmt.Errorf("%w: label map has %d channels, want 1", ErrShape, lab.Channels)
	}
	if classes < 1 {
		return fmt.Errorf("%w: %d classes", ErrLabel, classes)
	}
	for i, f := range lab.Data {
		// Compare as floats: int(f) of a huge or infinite f is
		// implementation-defined (negative on amd64) and would pass.
		if !(f >= 0 && float64(f) < float64(classes) && f == float32(math.Trunc(float64(f)))) {
			return fmt.Errorf("%w: voxel %d has value %g, want a class in 0..%d", ErrLabel, i, f, classes-1)
		}
	}
	return nil
}

// OneHot returns the one-hot encoding of the label map lab (one channel of
// class indices 0..classes-1): a volume with classes channels of 0 and 1.
func OneHot(lab *Volume, classes int) (*Volume, error) {
	if err := checkLabels(lab, classes); err != nil {
		return nil, fmt.Errorf("volume: OneHot: %w", err)
	}
	if n, ok := count(lab.Shape, classes); !ok || n > MaxVoxels {
		return nil, fmt.Errorf("volume: OneHot: %w: %d classes of shape %v: more than MaxVoxels (%d) voxels", ErrTooLarge, classes, lab.Shape, int64(MaxVoxels))
	}
	w := lab.Like(classes)
	n := lab.Len()
	for i, f := range lab.Data {
		w.Data[int(f)*n+i] = 1
	}
	return w, nil
}

// ResizeLabels resizes the label map lab (one channel of class indices
// 0..classes-1) to shape (X, Y, Z voxels) by interp; see LabelLinear,
// LabelNearest and LabelRound. The result has one channel of class indices, with spacing
// and affine adjusted as Resize does.
func ResizeLabels(ctx context.Context, lab *Volume, shape [3]int, classes int, interp LabelInterp) (*Volume, error) {
	if err := checkTarget(lab, shape); err != nil {
		return nil, fmt.Errorf("volume: ResizeLabels: %w", err)
	}
	if err := checkLabels(lab, classes); err != nil {
		return nil, fmt.Errorf("volume: ResizeLabels: %w", err)
	}
	switch interp {
	case LabelNearest:
		return ResizeNearest(ctx, lab, shape)
	case LabelLinear, LabelRound:
	default:
		return nil, fmt.Errorf("volume: ResizeLabels: unknown interpolation %v", interp)
	}
	out := resampled(lab, shape, 1)
	best := make([]float32, out.Len())
	for i := range best {
		best[i] = -1
	}
	ind := make([]float32, lab.Len())
	res := make([]float32, out.Len())
	for c := 0; c < classes; c++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("volume: ResizeLabels: %w", err)
		}
		any := false
		for i, f := range lab.Data {
			if int(f) == c {
				ind[i] = 1
				any = true
			} else {
				ind[i] = 0
			}
		}
		if !any {
			continue // an absent class interpolates to 0 and never wins: the classes sum to 1
		}
		resizeLinear(res, ind, lab.Shape, shape)
		if interp == LabelRound {
			// Round as ResizeOneHot: the channel is 1 where its weight
			// rounds (half to even) to 1; at most one channel can, as
			// the weights sum to 1. best is unused.
			for i, r := range res {
				if math.RoundToEven(float64(r)) >= 1 {
					out.Data[i] = float32(c)
				}
			}
			continue
		}
		for i, r := range res {
			if r > best[i] {
				best[i] = r
				out.Data[i] = float32(c)
			}
		}
	}
	return out, nil
}

// ResizeOneHot does what the authors' code does with labels: one-hot encode
// lab, resize each class channel trilinearly to shape, and round each
// value to 0 or 1. The result has classes channels; a voxel may end with
// no class or with two.
func ResizeOneHot(ctx context.Context, lab *Volume, shape [3]int, classes int) (*Volume, error) {
	oh, err := OneHot(lab, classes)
	if err != nil {
		return nil, fmt.Errorf("volume: ResizeOneHot: %w", err)
	}
	w, err := Resize(ctx, oh, shape)
	if err != nil {
		return nil, fmt.Errorf("volume: ResizeOneHot: %w", err)
	}
	for i, f := range w.Data {
		w.Data[i] = float32(math.RoundToEven(float64(f)))
	}
	return w, nil
}

// Argmax returns the one-channel map of the channel index with the largest
// value at each voxel of v (the lowest index on ties): class scores or
// probabilities to a label map.
func Argmax(v *Volume) (*Volume, error) {
	if err := v.Check(); err != nil {
		return nil, fmt.Errorf("volume: Argmax: %w", err)
	}
	w := v.Like(1)
	best := append([]float32(nil), v.Channel(0)...)
	for c := 1; c < v.Channels; c++ {
		ch := v.Channel(c)
		for i, f := range ch {
			if f > best[i] {
				best[i] = f
				w.Data[i] = float32(c)
			}
		}
	}
	return w, nil
}

// RestoreLabels resizes a predicted label map back onto the grid of like
// (typically the original image it was predicted from): shape, spacing,
// affine and header all come from like, so that Write stores it in the
// original space. interp is usually LabelNearest for a prediction made at
// a lower resolution, or LabelLinear as the paper's labels.
func RestoreLabels(ctx context.Context, pred *Volume, like *Volume, classes int, interp LabelInterp) (*Volume, error) {
	if err := like.Check(); err != nil {
		return nil, fmt.Errorf("volume: RestoreLabels: like: %w", err)
	}
	w, err := ResizeLabels(ctx, pred, like.Shape, classes, interp)
	if err != nil {
		return nil, fmt.Errorf("volume: RestoreLabels: %w", err)
	}
	w.Spacing, w.Affine, w.Header = like.Spacing, like.Affine, like.Header
	return w, nil
}
