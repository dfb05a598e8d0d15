// Package stats scores segmentations and compares models: Dice and surface
// metrics per label, fold-wise differences with bootstrap p-values, summaries
// and ranks, as the paper reports them.
//
// Label maps are flat []uint8 slices of one volume, one class index per voxel
// (0 is background), laid out with the last axis fastest; metrics that need
// geometry take the volume's Shape (D, H, W) and Spacing in millimetres along
// the same axes.
package stats

import (
	"errors"
	"fmt"
	"math"
)

// ErrShape reports label maps or score tables whose sizes disagree.
var ErrShape = errors.New("stats: shape mismatch")

// ErrInput reports arguments outside their domain: a class count, a label,
// a spacing or tolerance in mm, too few differences to bootstrap.
var ErrInput = errors.New("stats: invalid input")

// Dice returns the Dice similarity coefficient 2|P∩T| / (|P|+|T|) of the
// voxels labelled label in pred and truth. When the label is absent from
// both, the score is undefined and Dice returns NaN (use [NanMean] to average
// such scores). pred and truth must have the same length.
func Dice(pred, truth []uint8, label uint8) (float64, error) {
	if len(pred) != len(truth) {
		return 0, fmt.Errorf("%w: Dice: prediction has %d voxels, truth %d", ErrShape, len(pred), len(truth))
	}
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
	if np+nt == 0 {
		return math.NaN(), nil
	}
	return 2 * float64(inter) / float64(np+nt), nil
}

// DicePerLabel returns the Dice score of every foreground label 1..classes-1
// (index 0 of the result is label 1), NaN where a label is absent from both
// maps, in one pass over the voxels. Voxels with a class >= classes are an
// error.
func DicePerLabel(pred, truth []uint8, classes int) ([]float64, error) {
	if len(pred) != len(truth) {
		return nil, fmt.Errorf("%w: DicePerLabel: prediction has %d voxels, truth %d", ErrShape, len(pred), len(truth))
	}
	if classes < 2 || classes > 256 {
		return nil, fmt.Errorf("%w: DicePerLabel: classes = %d, want 2..256", ErrInput, classes)
	}
	inter := make([]int, classes)
	np := make([]int, classes)
	nt := make([]int, classes)
	for i, p := range pred {
		t := truth[i]
		if int(p) >= classes || int(t) >= classes {
			return nil, fmt.Errorf("%w: DicePerLabel: voxel %d has label %d/%d (prediction/truth), want < %d classes", ErrInput, i, p, t, classes)
		}
		np[p]++
		nt[t]++
		if p == t {
			inter[p]++
		}
	}
	out := make([]float64, classes-1)
	for c := 1; c < classes; c++ {
		if np[c]+nt[c] == 0 {
			out[c-1] = math.NaN()
			continue
		}
		out[c-1] = 2 * float64(inter[c]) / float64(np[c]+nt[c])
	}
	return out, nil
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
