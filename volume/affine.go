package volume

import "math"

// Affine maps voxel indices (i, j, k) along X, Y, Z to world coordinates in
// millimetres (NIfTI's RAS+ space): world = A[:3,:3]·(i,j,k) + A[:3,3]. The
// last row is (0, 0, 0, 1).
type Affine [4][4]float64

// Identity returns the identity affine.
func Identity() Affine {
	return Affine{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}
}

// Diag returns the affine scaling voxel indices by spacing (mm) with the
// origin at world (0, 0, 0).
func Diag(spacing [3]float64) Affine {
	a := Identity()
	for i := range spacing {
		a[i][i] = spacing[i]
	}
	return a
}

// Mul returns a·b.
func (a Affine) Mul(b Affine) Affine {
	var c Affine
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			var s float64
			for k := 0; k < 4; k++ {
				s += a[i][k] * b[k][j]
			}
			c[i][j] = s
		}
	}
	return c
}

// Apply maps the voxel position p (X, Y, Z indices, may be fractional) to
// world millimetres.
func (a Affine) Apply(p [3]float64) [3]float64 {
	var w [3]float64
	for i := range w {
		w[i] = a[i][0]*p[0] + a[i][1]*p[1] + a[i][2]*p[2] + a[i][3]
	}
	return w
}

// Zooms returns the column norms of the 3x3 part: the voxel sizes in mm.
func (a Affine) Zooms() [3]float64 {
	var z [3]float64
	for j := range z {
		z[j] = math.Sqrt(a[0][j]*a[0][j] + a[1][j]*a[1][j] + a[2][j]*a[2][j])
	}
	return z
}

// Affine returns the voxel-to-world transform chosen by the NIfTI rules:
// the sform when SformCode > 0, else the qform (quaternion, qfac and
// offsets) when QformCode > 0, else "method 1", the diagonal of Pixdim
// with the origin at voxel 0. (nibabel uses a centred, X-flipped Analyze
// affine in that last case; both are arbitrary by the standard.) The
// result is in millimetres whatever XYZTUnits says.
func (h *Header) Affine() Affine {
	var a Affine
	switch {
	case h.SformCode > 0:
		a = h.Sform()
	case h.QformCode > 0:
		a = h.Qform()
	default:
		s := [3]float64{1, 1, 1}
		for i := range s {
			if p := h.Pixdim[i+1]; p != 0 && !math.IsNaN(p) && !math.IsInf(p, 0) {
				s[i] = p
			}
		}
		a = Diag(s)
	}
	if f := h.unitToMM(); f != 1 {
		for i := 0; i < 3; i++ {
			for j := 0; j < 4; j++ {
				a[i][j] *= f
			}
		}
	}
	return a
}

// Sform returns the affine held in SrowX, SrowY, SrowZ, in the header's
// units, whatever SformCode says.
func (h *Header) Sform() Affine {
	return Affine{h.SrowX, h.SrowY, h.SrowZ, {0, 0, 0, 1}}
}

// Qform returns the affine built from the quaternion (QuaternB, C, D),
// Pixdim[1..3], qfac (Pixdim[0]; -1 flips the third axis, any other value
// is +1) and the offsets, in the header's units, whatever QformCode says.
func (h *Header) Qform() Affine {
	b, c, d := h.QuaternB, h.QuaternC, h.QuaternD
	var a float64
	if w := 1 - (b*b + c*c + d*d); w < 1e-7 {
		// Not a unit quaternion: normalise (b, c, d) and take a = 0,
		// as nifti1_io does.
		n := math.Sqrt(b*b + c*c + d*d)
		if n > 0 {
			b, c, d = b/n, c/n, d/n
		}
	} else {
		a = math.Sqrt(w)
	}
	var z [3]float64
	for i := range z {
		z[i] = math.Abs(h.Pixdim[i+1])
		if z[i] == 0 || math.IsNaN(z[i]) || math.IsInf(z[i], 0) {
			z[i] = 1
		}
	}
	if h.Pixdim[0] < 0 {
		z[2] = -z[2]
	}
	r := [3][3]float64{
		{a*a + b*b - c*c - d*d, 2 * (b*c - a*d), 2 * (b*d + a*c)},
		{2 * (b*c + a*d), a*a + c*c - b*b - d*d, 2 * (c*d - a*b)},
		{2 * (b*d - a*c), 2 * (c*d + a*b), a*a + d*d - c*c - b*b},
	}
	off := [3]float64{h.QoffsetX, h.QoffsetY, h.QoffsetZ}
	m := Identity()
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			m[i][j] = r[i][j] * z[j]
		}
		m[i][3] = off[i]
	}
	return m
}

// SetQform stores a in the quaternion fields, Pixdim[0..3] and the offsets
// with the given code. The 3x3 part is made orthogonal first (polar
// decomposition), as a qform cannot hold shear; SetSform keeps it exactly.
func (h *Header) SetQform(a Affine, code int32) {
	var r [3][3]float64
	zoom := a.Zooms()
	for j := 0; j < 3; j++ {
		if zoom[j] == 0 {
			zoom[j] = 1
			r[j][j] = 1
			continue
		}
		for i := 0; i < 3; i++ {
			r[i][j] = a[i][j] / zoom[j]
		}
	}
	r = polar(r)
	qfac := 1.0
	if det3(r) < 0 {
		qfac = -1
		for i := 0; i < 3; i++ {
			r[i][2] = -r[i][2]
		}
	}
	qa, qb, qc, qd := quaternion(r)
	h.QuaternB, h.QuaternC, h.QuaternD = qb, qc, qd
	_ = qa
	h.QoffsetX, h.QoffsetY, h.QoffsetZ = a[0][3], a[1][3], a[2][3]
	h.Pixdim[0] = qfac
	for i := range zoom {
		h.Pixdim[i+1] = zoom[i]
	}
	h.QformCode = code
}

// SetSform stores a in SrowX, SrowY, SrowZ with the given code.
func (h *Header) SetSform(a Affine, code int32) {
	h.SrowX, h.SrowY, h.SrowZ = a[0], a[1], a[2]
	h.SformCode = code
}

func det3(r [3][3]float64) float64 {
	return r[0][0]*(r[1][1]*r[2][2]-r[1][2]*r[2][1]) -
		r[0][1]*(r[1][0]*r[2][2]-r[1][2]*r[2][0]) +
		r[0][2]*(r[1][0]*r[2][1]-r[1][1]*r[2][0])
}

// polar returns the orthogonal factor of r by Newton's iteration
// Q <- (Q + Q^-T)/2, which converges quadratically for non-singular r.
func polar(r [3][3]float64) [3][3]float64 {
	q := r
	for it := 0; it < 30; it++ {
		det := det3(q)
		if det == 0 || math.IsNaN(det) {
			return [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}
		}
		// inverse transpose = cofactor matrix / det
		var n [3][3]float64
		var diff float64
		for i := 0; i < 3; i++ {
			for j := 0; j < 3; j++ {
				i1, i2 := (i+1)%3, (i+2)%3
				j1, j2 := (j+1)%3, (j+2)%3
				cof := q[i1][j1]*q[i2][j2] - q[i1][j2]*q[i2][j1]
				n[i][j] = 0.5 * (q[i][j] + cof/det)
				diff += math.Abs(n[i][j] - q[i][j])
			}
		}
		q = n
		if diff < 1e-15 {
			break
		}
	}
	return q
}

// quaternion returns the unit quaternion (a >= 0) of the proper rotation r,
// by the method of nifti_mat44_to_quatern.
func quaternion(r [3][3]float64) (a, b, c, d float64) {
	tr := r[0][0] + r[1][1] + r[2][2] + 1
	if tr > 0.5 {
		a = 0.5 * math.Sqrt(tr)
		b = 0.25 * (r[2][1] - r[1][2]) / a
		c = 0.25 * (r[0][2] - r[2][0]) / a
		d = 0.25 * (r[1][0] - r[0][1]) / a
		return
	}
	xd := 1 + r[0][0] - (r[1][1] + r[2][2])
	yd := 1 + r[1][1] - (r[0][0] + r[2][2])
	zd := 1 + r[2][2] - (r[0][0] + r[1][1])
	switch {
	case xd > 1:
		b = 0.5 * math.Sqrt(xd)
		c = 0.25 * (r[0][1] + r[1][0]) / b
		d = 0.25 * (r[0][2] + r[2][0]) / b
		a = 0.25 * (r[2][1] - r[1][2]) / b
	case yd > 1:
		c = 0.5 * math.Sqrt(yd)
		b = 0.25 * (r[0][1] + r[1][0]) / c
		d = 0.25 * (r[1][2] + r[2][1]) / c
		a = 0.25 * (r[0][2] - r[2][0]) / c
	default:
		d = 0.5 * math.Sqrt(zd)
		b = 0.25 * (r[0][2] + r[2][0]) / d
		c = 0.25 * (r[1][2] + r[2][1]) / d
		a = 0.25 * (r[1][0] - r[0][1]) / d
	}
	if a < 0 {
		a, b, c, d = -a, -b, -c, -d
	}
	return
}

// AxisCodes returns, for the voxel axes X, Y and Z in turn, the anatomical
// direction toward which the index increases in world (RAS+) space: R or L,
// A or P, S or I, as nibabel's aff2axcodes gives them ("RAS", "LPS",
// "LAS", ...). Like nibabel's io_orientation it divides the columns by the
// voxel sizes, takes the nearest rotation (polar decomposition, so shears
// and oblique slices are judged by their closest orthogonal frame), and
// gives each voxel axis in turn the world axis of its largest component,
// each world axis used once. An axis whose column is zero or not finite
// gets '?'. viz reads it to orient its views of a Volume.
func (a Affine) AxisCodes() string {
	var r [3][3]float64
	zoom := a.Zooms()
	ok := [3]bool{}
	for j := 0; j < 3; j++ {
		ok[j] = zoom[j] > 0 && !math.IsInf(zoom[j], 0) && !math.IsNaN(zoom[j])
		for i := 0; i < 3 && ok[j]; i++ {
			r[i][j] = a[i][j] / zoom[j]
		}
	}
	if ok[0] && ok[1] && ok[2] && math.Abs(det3(r)) > 1e-12 {
		r = polar(r)
	}
	letters := [3][2]byte{{'L', 'R'}, {'P', 'A'}, {'I', 'S'}}
	code := []byte("???")
	for j := 0; j < 3; j++ {
		if !ok[j] {
			continue
		}
		best, out := 0.0, -1
		for i := 0; i < 3; i++ {
			if v := math.Abs(r[i][j]); v > best {
				best, out = v, i
			}
		}
		if out < 0 {
			continue
		}
		if r[out][j] > 0 {
			code[j] = letters[out][1]
		} else {
			code[j] = letters[out][0]
		}
		r[out] = [3]float64{} // each world axis once
	}
	return string(code)
}
