package viz_test

import (
	"github.com/unetlab/unetlab/stats"
	"github.com/unetlab/unetlab/volume"
)

// vol returns a one-channel volume holding data (X fastest; nil leaves Data
// empty) with the given shape, spacing in mm (0 reads as 1 for the affine)
// and an affine whose axis codes are axes ("" means "RAS"), as volume.Read
// would give for a NIfTI file stored in that orientation.
func vol(data []float32, shape [3]int, spacing [3]float64, axes string) *volume.Volume {
	if axes == "" {
		axes = "RAS"
	}
	var a volume.Affine
	a[3][3] = 1
	for j, ch := range axes {
		s := spacing[j]
		if s <= 0 {
			s = 1
		}
		switch ch {
		case 'R':
			a[0][j] = s
		case 'L':
			a[0][j] = -s
		case 'A':
			a[1][j] = s
		case 'P':
			a[1][j] = -s
		case 'S':
			a[2][j] = s
		case 'I':
			a[2][j] = -s
		}
	}
	return &volume.Volume{Data: data, Shape: shape, Channels: 1, Spacing: spacing, Affine: a}
}

// compare is stats.CompareFolds for tests whose input is valid.
func compare(models []stats.FoldScores, opt *stats.CompareOptions) *stats.FoldComparison {
	c, err := stats.CompareFolds(models, opt)
	if err != nil {
		panic(err)
	}
	return c
}
