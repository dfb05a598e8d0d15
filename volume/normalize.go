package volume

import (
	"fmt"
	"math"
)

// Intensity selects an intensity normalisation (MONAI's NormalizeIntensity
// and ScaleIntensity). It is not called Norm: nn.NormKind is the module's
// normalisation-layer kind, and one name should mean one thing.
type Intensity int

const (
	// ZScoreMinMax, the paper's: per channel, z-score ((v - mean) /
	// std, population std) then min-max to [0, 1]. (The min-max step alone
	// gives the same result up to rounding; both are done as the authors'
	// code does.)
	ZScoreMinMax Intensity = iota
	// ZScore: per channel (v - mean) / std only.
	ZScore
	// MinMax: per channel (v - min) / (max - min) only.
	MinMax
)

// String names the normalisation.
func (n Intensity) String() string {
	switch n {
	case ZScoreMinMax:
		return "zscore+minmax"
	case ZScore:
		return "zscore"
	case MinMax:
		return "minmax"
	}
	return fmt.Sprintf("Intensity(%d)", int(n))
}

// Normalize returns a copy of v with each channel normalised by mode. A
// constant channel (std or range 0) becomes all zeros rather than NaN.
// Statistics are accumulated in float64; NaN voxels are left NaN and
// ignored by the statistics.
func Normalize(v *Volume, mode Intensity) (*Volume, error) {
	if err := v.Check(); err != nil {
		return nil, fmt.Errorf("volume: Normalize: %w", err)
	}
	if mode < ZScoreMinMax || mode > MinMax {
		return nil, fmt.Errorf("volume: Normalize: mode %v: must be %v, %v or %v", mode, ZScoreMinMax, ZScore, MinMax)
	}
	w := v.Clone()
	for c := 0; c < w.Channels; c++ {
		ch := w.Channel(c)
		if mode == ZScoreMinMax || mode == ZScore {
			zscore(ch)
		}
		if mode == ZScoreMinMax || mode == MinMax {
			minmax(ch)
		}
	}
	return w, nil
}

// zscore maps x to (x - mean) / std in place (population std).
func zscore(x []float32) {
	var sum, sq float64
	n := 0
	for _, f := range x {
		if f == f {
			sum += float64(f)
			n++
		}
	}
	if n == 0 {
		return
	}
	mean := sum / float64(n)
	for _, f := range x {
		if f == f {
			d := float64(f) - mean
			sq += d * d
		}
	}
	std := math.Sqrt(sq / float64(n))
	if std == 0 {
		for i, f := range x {
			if f == f {
				x[i] = 0
			}
		}
		return
	}
	for i, f := range x {
		x[i] = float32((float64(f) - mean) / std)
	}
}

// minmax maps x to (x - min) / (max - min) in place.
func minmax(x []float32) {
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, f := range x {
		if f < lo {
			lo = f
		}
		if f > hi {
			hi = f
		}
	}
	if !(hi > lo) {
		for i, f := range x {
			if f == f {
				x[i] = 0
			}
		}
		return
	}
	r := float64(hi) - float64(lo)
	for i, f := range x {
		x[i] = float32((float64(f) - float64(lo)) / r)
	}
}
