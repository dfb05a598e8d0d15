package viz_test

import (
	"math"

	"github.com/unetlab/unetlab/volume"
)

// phantom returns a CT-like ellipsoid "body" (soft tissue, HU ~ 40) with
// two "lungs" (HU ~ -800) and a "tumour" label inside the right lung, on
// an anisotropic grid: shape (nx, ny, nz), spacing (0.8, 0.8, 2.5) mm,
// axes RAS.
func phantom(nx, ny, nz int) (img, lab *volume.Volume) {
	img = vol(make([]float32, nx*ny*nz), [3]int{nx, ny, nz}, [3]float64{0.8, 0.8, 2.5}, "")
	lab = vol(make([]float32, nx*ny*nz), img.Shape, img.Spacing, "")
	for z := range nz {
		for y := range ny {
			for x := range nx {
				i := x + nx*(y+ny*z)
				u := (float64(x)+0.5)/float64(nx)*2 - 1
				v := (float64(y)+0.5)/float64(ny)*2 - 1
				w := (float64(z)+0.5)/float64(nz)*2 - 1
				hu := -1000.0
				if u*u/0.81+v*v/0.5+w*w/1.2 < 1 {
					hu = 40 + 20*math.Sin(7*u+3*v)
				}
				// Lungs at u = ±0.45; the patient's right is +x (RAS).
				for _, cu := range []float64{-0.45, 0.45} {
					if (u-cu)*(u-cu)/0.09+v*v/0.16+w*w/0.6 < 1 {
						hu = -800
					}
				}
				// Tumour in the right lung; a vessel label in the left.
				if (u-0.45)*(u-0.45)+(v-0.1)*(v-0.1)+w*w/4 < 0.02 {
					hu = 30
					lab.Data[i] = 1
				}
				if (u+0.45)*(u+0.45)+v*v < 0.004 && math.Abs(w) < 0.5 {
					lab.Data[i] = 2
				}
				img.Data[i] = float32(hu)
			}
		}
	}
	return img, lab
}
