package viz

import (
	"errors"
	"testing"

	"github.com/unetlab/unetlab/volume"
)

func TestFromVolume(t *testing.T) {
	v := &volume.Volume{
		Data:     make([]float32, 2*3*4*2),
		Shape:    [3]int{2, 3, 4},
		Channels: 2,
		Spacing:  [3]float64{0.8, 0.8, 2.5},
		// LPS: x toward the left, y toward posterior, as DICOM-derived CT.
		Affine: volume.Affine{{-0.8, 0, 0, 0}, {0, -0.8, 0, 0}, {0, 0, 2.5, 0}, {0, 0, 0, 1}},
	}
	v.Data[24] = 7 // first voxel of channel 1
	got, err := FromVolume(v, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Axes != "LPS" || got.Shape != v.Shape || got.Spacing != v.Spacing || len(got.Data) != 24 || got.Data[0] != 7 {
		t.Errorf("FromVolume = axes %q shape %v spacing %v, %d voxels, first %v", got.Axes, got.Shape, got.Spacing, len(got.Data), got.Data[0])
	}
	for _, c := range []int{-1, 2} {
		if _, err := FromVolume(v, c); !errors.Is(err, ErrInput) {
			t.Errorf("channel %d: err %v, want ErrInput", c, err)
		}
	}
	if _, err := FromVolume(nil, 0); !errors.Is(err, ErrInput) {
		t.Errorf("nil volume: err %v, want ErrInput", err)
	}
	short := *v
	short.Data = short.Data[:5]
	if _, err := FromVolume(&short, 0); !errors.Is(err, ErrShape) {
		t.Errorf("short data: err %v, want ErrShape", err)
	}
}
