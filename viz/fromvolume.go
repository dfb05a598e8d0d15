package viz

import (
	"fmt"

	"github.com/unetlab/unetlab/volume"
)

// FromVolume returns channel c of v (a NIfTI image or label map read by
// package volume) as a Volume to view: the same voxels without a copy, the
// spacing in mm, and the axis codes read from v's affine so that every plane
// is drawn in radiological orientation whatever the file's voxel order
// (Decathlon CT is often LPS, MRI RAS).
func FromVolume(v *volume.Volume, c int) (Volume, error) {
	if v == nil {
		return Volume{}, fmt.Errorf("%w: FromVolume: nil volume", ErrInput)
	}
	if c < 0 || c >= v.Channels {
		return Volume{}, fmt.Errorf("%w: FromVolume: channel %d of a volume with %d channel(s)", ErrInput, c, v.Channels)
	}
	if len(v.Data) != v.Len()*v.Channels {
		return Volume{}, fmt.Errorf("%w: FromVolume: %d voxels for shape %v x %d channel(s)", ErrShape, len(v.Data), v.Shape, v.Channels)
	}
	return Volume{Data: v.Channel(c), Shape: v.Shape, Spacing: v.Spacing, Axes: v.Affine.AxisCodes()}, nil
}
