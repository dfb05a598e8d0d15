package volume

import (
	"math"
	"testing"
)

// TestAxisCodes compares Affine.AxisCodes with nibabel 5.0's aff2axcodes
// (Debian python3-nibabel) on the matrices below; the expected codes were
// printed by nibabel for these exact 3x3 parts (the offset does not
// matter), except the last two rows: nibabel returns None for a degenerate
// axis, where AxisCodes writes '?'.
func TestAxisCodes(t *testing.T) {
	cases := []struct {
		name string
		want string
		m    [3][3]float64
	}{
		{"identity", "RAS", [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}},
		{"phantom LPS", "LPS", [3][3]float64{{-0.8, 0, 0}, {0, -0.8, 0}, {0, 0, 2.5}}},
		{"rot Z 90", "ALS", [3][3]float64{{0, -2, 0}, {1.5, 0, 0}, {0, 0, 2.5}}},
		{"permuted", "PIL", [3][3]float64{{0, 0, -3}, {-1, 0, 0}, {0, -2, 0}}},
		{"oblique 30 X", "RAS", [3][3]float64{{1, 0, 0}, {0, 0.8660254037844386, -0.9999999999999998}, {0, 0.4999999999999999, 1.7320508075688772}}},
		{"oblique 40 Y then 20 Z", "RAS", [3][3]float64{{0.503892417275068, -0.23941410032796812, -1.8120683206651609}, {0.1834018411605695, 0.6577848345501358, -0.6595389311788625}, {0.4499513267805774, 0, 2.2981333293569346}}},
		{"shear", "RAS", [3][3]float64{{1.5, 0.6, 0}, {0, 2, 0}, {0, 0, 2.5}}},
		{"flip x only", "LAS", [3][3]float64{{-1, 0, 0}, {0, 1, 0}, {0, 0, 1}}},
		{"rot Y 60", "SAL", [3][3]float64{{0.5000000000000001, 0.0, -0.8660254037844385}, {0.0, 1.0, 0.0}, {0.8660254037844385, 0.0, 0.5000000000000001}}},
		{"rot X -70 anisotropic", "RIA", [3][3]float64{{0.5, 0.0, 0.0}, {0.0, 0.17101007166283444, 3.7587704831436333}, {0.0, -0.46984631039295416, 1.3680805733026755}}},
		{"rot Z 130 then X 50", "LIP", [3][3]float64{{-0.6427876096865393, -1.5320888862379562, 0.0}, {0.4924038765061041, -0.8263518223330696, -2.2981333293569346}, {0.5868240888334653, -0.984807753012208, 1.9283628290596182}}},
		{"strong shear", "RAS", [3][3]float64{{1.0, 1.5, 0.0}, {0.0, 1.0, 0.0}, {0.0, 0.0, 1.0}}},
		{"zero column", "R?S", [3][3]float64{{1, 0, 0}, {0, 0, 0}, {0, 0, 1}}},
		{"NaN column", "?AS", [3][3]float64{{math.NaN(), 0, 0}, {0, 1, 0}, {0, 0, 1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := Identity()
			for i := range c.m {
				copy(a[i][:3], c.m[i][:])
				a[i][3] = float64(7 * (i - 1))
			}
			if got := a.AxisCodes(); got != c.want {
				t.Errorf("AxisCodes = %q, want %q (nibabel)", got, c.want)
			}
		})
	}
}
