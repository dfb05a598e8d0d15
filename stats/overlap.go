// Package stats scores segmentations and compares models: Dice and surface
// metrics per label, fold-wise differences with bootstrap p-values and
// intervals, summaries, ranks and the score tables of the paper, as the
// paper reports them.
//
// Metrics take label maps as package volume holds them: one-channel
// *volume.Volume values of class numbers (0 is background), prediction and
// truth on the same grid (shape and spacing). Distances are in millimetres,
// from the volumes' Spacing along X, Y and Z; no axis order has to be
// remembered or reversed by the caller. [DicePerLabelFlat] is the one
// slice form, for label maps already flattened the same way (a training
// batch): Dice counts voxels and so does not depend on their order.
//
// Option structs go by pointer and nil means the defaults; an invalid
// option is an [ErrOptions] error naming the field.
package stats

import (
	"errors"
	"fmt"
	"math"

	"github.com/unetlab/unetlab/volume"
)

// ErrShape reports label maps or score tables whose sizes disagree: shapes,
// spacings or channel counts of prediction and truth, folds or models.
var ErrShape = errors.New("stats: shape mismatch")

// ErrInput reports arguments outside their domain: a class count, a label,
// a voxel that is not a class number, a tolerance in mm, too few
// differences to bootstrap.
var ErrInput = errors.New("stats: invalid input")

// ErrOptions reports an invalid field of an options struct; the message
// names the field and its value.
var ErrOptions = errors.New("stats: invalid options")

// spacingTol is the relative difference at which two spacings count as
// different grids (NIfTI stores pixdim as float32; label and image files
// written by different tools differ in the last bits).
const spacingTol = 1e-4

// checkPair checks that pred and truth are one-channel label volumes on the
// same grid, for function fn.
func checkPair(fn string, pred, truth *volume.Volume) error {
	for _, v := range []struct {
		name string
		v    *volume.Volume
	}{{"prediction", pred}, {"truth", truth}} {
		if v.v == nil {
			return fmt.Errorf("%w: %s: %s is nil", ErrInput, fn, v.name)
		}
		if err := v.v.Check(); err != nil {
			return fmt.Errorf("%w: %s: %s: %w", ErrShape, fn, v.name, err)
		}
		if v.v.Channels != 1 {
			return fmt.Errorf("%w: %s: %s has %d channels (shape %s), want a one-channel label map",
				ErrShape, fn, v.name, v.v.Channels, shapeText(v.v.Shape))
		}
	}
	if pred.Shape != truth.Shape {
		return fmt.Errorf("%w: %s: prediction shape %s, truth %s (X, Y, Z voxels)",
			ErrShape, fn, shapeText(pred.Shape), shapeText(truth.Shape))
	}
	for i := range 3 {
		a, b := pred.Spacing[i], truth.Spacing[i]
		if math.Abs(a-b) > spacingTol*math.Max(math.Abs(a), math.Abs(b)) || math.IsNaN(a) != math.IsNaN(b) {
			return fmt.Errorf("%w: %s: prediction spacing %s mm, truth %s mm (shape %s): not the same grid",
				ErrShape, fn, spacingText(pred.Spacing), spacingText(truth.Spacing), shapeText(pred.Shape))
		}
	}
	return nil
}

func shapeText(s [3]int) string { return fmt.Sprintf("%dx%dx%d", s[0], s[1], s[2]) }

func spacingText(s [3]float64) string { return fmt.Sprintf("%gx%gx%g", s[0], s[1], s[2]) }

// labelMap returns v's class numbers as bytes in v's voxel order (X
// fastest). classes bounds them (labels 0..classes-1); a voxel that is not
// a whole number within 1e-3, is negative or is out of range is an ErrInput
// error naming its (x, y, z).
func labelMap(fn, name string, v *volume.Volume, classes int) ([]uint8, error) {
	out := make([]uint8, len(v.Data))
	for i, x := range v.Data {
		c, ok := class(x, classes)
		if !ok {
			nx, ny := v.Shape[0], v.Shape[1]
			return nil, voxelError(fn, name, x, classes, i%nx, i/nx%ny, i/(nx*ny))
		}
		out[i] = c
	}
	return out, nil
}

// class returns the class number x holds, false when x is not a whole
// number within 1e-3 in 0..classes-1.
func class(x float32, classes int) (uint8, bool) {
	r := math.Round(float64(x))
	if !(math.Abs(float64(x)-r) <= 1e-3) || r < 0 || r >= float64(classes) {
		return 0, false
	}
	return uint8(r), true
}

func voxelError(fn, name string, x float32, classes, vx, vy, vz int) error {
	return fmt.Errorf("%w: %s: %s voxel (%d, %d, %d) holds %v, want a class number 0..%d",
		ErrInput, fn, name, vx, vy, vz, x, classes-1)
}

// labelPair checks pred and truth and returns their class numbers.
func labelPair(fn string, pred, truth *volume.Volume, classes int) (p, t []uint8, err error) {
	if err := checkPair(fn, pred, truth); err != nil {
		return nil, nil, err
	}
	if p, err = labelMap(fn, "prediction", pred, classes); err != nil {
		return nil, nil, err
	}
	if t, err = labelMap(fn, "truth", truth, classes); err != nil {
		return nil, nil, err
	}
	return p, t, nil
}

// checkLabel checks a foreground label number.
func checkLabel(fn string, label int) error {
	if label < 1 || label > 255 {
		return fmt.Errorf("%w: %s: label %d, want a foreground class 1..255", ErrInput, fn, label)
	}
	return nil
}

// Dice returns the Dice similarity coefficient 2|P∩T| / (|P|+|T|) of the
// voxels labelled label in the label maps pred and truth (one channel each,
// same shape and spacing; class numbers 0..255). When the label is absent
// from both, the score is undefined and Dice returns NaN (use [NanMean] to
// average such scores).
func Dice(pred, truth *volume.Volume, label int) (float64, error) {
	if err := checkLabel("Dice", label); err != nil {
		return 0, err
	}
	p, t, err := labelPair("Dice", pred, truth, 256)
	if err != nil {
		return 0, err
	}
	return dice(p, t, uint8(label)), nil
}

// dice is Dice on flat label maps of equal length.
func dice(pred, truth []uint8, label uint8) float64 {
	var inter, np, nt int
	for i, p := range pred {
		t := truth[i]
		if p == label {
			np++
			if t == label {
				inter++
			}
		}
		if t == label {
			nt++
		}
	}
	return ratio(inter, np, nt)
}

// DicePerLabel returns the Dice score of every foreground label
// 1..classes-1 of the label maps pred and truth (one channel each, same
// shape and spacing): index 0 of the result is label 1, NaN where a label
// is absent from both. A voxel outside 0..classes-1 is an ErrInput error
// naming its (x, y, z).
func DicePerLabel(pred, truth *volume.Volume, classes int) ([]float64, error) {
	if err := checkClasses("DicePerLabel", classes); err != nil {
		return nil, err
	}
	p, t, err := labelPair("DicePerLabel", pred, truth, classes)
	if err != nil {
		return nil, err
	}
	return dicePerLabel(p, t, classes), nil
}

func checkClasses(fn string, classes int) error {
	if classes < 2 || classes > 256 {
		return fmt.Errorf("%w: %s: classes = %d, want 2..256", ErrInput, fn, classes)
	}
	return nil
}

// DicePerLabelFlat is [DicePerLabel] on label maps already flattened to one
// class number per byte, for callers that hold batches rather than volumes
// (the training loop). pred and truth must list the same voxels in the same
// order, whatever that order is (Dice counts voxels, it measures no
// distance). A class >= classes is an ErrInput error naming the voxel's
// index.
func DicePerLabelFlat(pred, truth []uint8, classes int) ([]float64, error) {
	if len(pred) != len(truth) {
		return nil, fmt.Errorf("%w: DicePerLabelFlat: prediction has %d voxels, truth %d", ErrShape, len(pred), len(truth))
	}
	if err := checkClasses("DicePerLabelFlat", classes); err != nil {
		return nil, err
	}
	for i, p := range pred {
		if t := truth[i]; int(p) >= classes || int(t) >= classes {
			return nil, fmt.Errorf("%w: DicePerLabelFlat: voxel %d has label %d/%d (prediction/truth), want < %d classes",
				ErrInput, i, p, t, classes)
		}
	}
	return dicePerLabel(pred, truth, classes), nil
}

// dicePerLabel counts in one pass; every class is below classes.
func dicePerLabel(pred, truth []uint8, classes int) []float64 {
	inter := make([]int, classes)
	np := make([]int, classes)
	nt := make([]int, classes)
	for i, p := range pred {
		t := truth[i]
		np[p]++
		nt[t]++
		if p == t {
			inter[p]++
		}
	}
	out := make([]float64, classes-1)
	for c := 1; c < classes; c++ {
		out[c-1] = ratio(inter[c], np[c], nt[c])
	}
	return out
}

// ratio is 2·inter / (np+nt), NaN when both are empty.
func ratio(inter, np, nt int) float64 {
	if np+nt == 0 {
		return math.NaN()
	}
	return 2 * float64(inter) / float64(np+nt)
}

// SliceDice returns the Dice of each foreground class on one slice of the
// label maps pred and truth (one channel each, same shape and spacing): the
// voxels whose index along voxel axis (0 = X, 1 = Y, 2 = Z, as in
// volume.Volume.Shape) equals index. labels lists the classes present in
// either map on that slice, ascending, and dice[i] is the Dice of
// labels[i]; both are empty when the slice has no foreground. Classes
// absent from the slice are left out, not NaN, so the mean of dice is the
// slice's mean foreground Dice.
func SliceDice(pred, truth *volume.Volume, axis, index int) (labels []int, dice []float64, err error) {
	if err := checkPair("SliceDice", pred, truth); err != nil {
		return nil, nil, err
	}
	if axis < 0 || axis > 2 {
		return nil, nil, fmt.Errorf("%w: SliceDice: axis %d, want 0 (X), 1 (Y) or 2 (Z)", ErrInput, axis)
	}
	if index < 0 || index >= pred.Shape[axis] {
		return nil, nil, fmt.Errorf("%w: SliceDice: slice %d out of range [0, %d) along axis %c of shape %s",
			ErrInput, index, pred.Shape[axis], "XYZ"[axis], shapeText(pred.Shape))
	}
	var inter, np, nt [256]int
	lo, hi := [3]int{}, pred.Shape
	lo[axis], hi[axis] = index, index+1
	for z := lo[2]; z < hi[2]; z++ {
		for y := lo[1]; y < hi[1]; y++ {
			for x := lo[0]; x < hi[0]; x++ {
				i := pred.Index(0, x, y, z)
				p, ok := class(pred.Data[i], 256)
				if !ok {
					return nil, nil, voxelError("SliceDice", "prediction", pred.Data[i], 256, x, y, z)
				}
				t, ok := class(truth.Data[i], 256)
				if !ok {
					return nil, nil, voxelError("SliceDice", "truth", truth.Data[i], 256, x, y, z)
				}
				np[p]++
				nt[t]++
				if p == t {
					inter[p]++
				}
			}
		}
	}
	for c := 1; c < 256; c++ {
		if np[c]+nt[c] > 0 {
			labels = append(labels, c)
			dice = append(dice, ratio(inter[c], np[c], nt[c]))
		}
	}
	return labels, dice, nil
}

// NanMean returns the mean of the values of x that are not NaN, and NaN when
// there are none.
func NanMean(x []float64) float64 {
	var s float64
	var n int
	for _, v := range x {
		if !math.IsNaN(v) {
			s += v
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}
