package viz

import (
	"testing"

	"github.com/unetlab/unetlab/volume"
)

func TestNormalAxis(t *testing.T) {
	v := volume.New([3]int{4, 5, 6}, 1) // no affine: read as RAS
	for _, tt := range []struct {
		plane Plane
		want  int
	}{{Axial, 2}, {Coronal, 1}, {Sagittal, 0}} {
		got, err := NormalAxis(v, tt.plane)
		if err != nil || got != tt.want {
			t.Errorf("%v: axis %d, %v; want %d", tt.plane, got, err, tt.want)
		}
	}
	if _, err := NormalAxis(v, Plane(7)); err == nil {
		t.Error("plane 7 accepted")
	}
	if _, err := NormalAxis(nil, Axial); err == nil {
		t.Error("nil volume accepted")
	}
}
