package phantom

import "math"

// The scenes. Coordinates are normalised: each axis of the grid spans
// [-1, 1]; X runs right to left of the patient, Y posterior to anterior,
// Z inferior to superior. CT intensities are Hounsfield units; MRI ones
// are relative (0..1, scaled by 1000 when rendered).

// abdomen paints a CT abdomen (fat, muscle, spine, aorta, kidneys,
// stomach) and returns the liver and spleen shapes, not yet painted, with
// the tissues to paint them.
type abdomenParts struct {
	body, liver, spleen shape
	tLiver, tSpleen     int
}

func abdomen(b *builder, liverLabel, spleenLabel uint8) abdomenParts {
	b.tissue(0, 0, -1000) // air
	fat := b.tissue(0, 12, -100)
	muscle := b.tissue(0, 10, 45)
	bone := b.tissue(0, 60, 550)
	kidney := b.tissue(0, 10, 165)
	vessel := b.tissue(0, 6, 160)
	fluid := b.tissue(0, 6, 15)
	gas := b.tissue(0, 20, -900)
	body := b.ell(vec{0, 0, 0}, 0.03, vec{0.92, 0.72, 3}, 0.05, 0.05, 0.03)
	b.paint(body, fat)
	inner := b.ell(vec{0, 0.0, 0}, 0.03, vec{0.8, 0.6, 3}, 0.05, 0.05, 0.04)
	b.paint(inner, muscle)
	spine := b.ell(vec{0, -0.5, 0}, 0.02, vec{0.11, 0.11, 3}, 0.1, 0.05, 0.01)
	b.paint(spine, bone)
	var aorta tubes
	aorta.path([]vec{{0.06, -0.32, -1.2}, {0.05, -0.3, 1.2}}, b.v(0.05, 0.15), b.v(0.05, 0.15))
	b.paint(&aorta, vessel)
	for _, sx := range []float64{-1, 1} {
		k := b.ell(vec{sx * 0.38, -0.38, -0.35}, 0.04, vec{0.1, 0.12, 0.22}, 0.15, 0.4, 0.02)
		b.paint(k, kidney)
	}
	stomach := b.ell(vec{0.32, 0.25, 0.35}, 0.05, vec{0.18, 0.18, 0.2}, 0.2, 0.5, 0.04)
	b.paint(stomach, fluid)
	b.paint(intersect{stomach, halfspace{vec{0, 0, 0.45}, vec{0, 0, 1}}}, gas)
	p := abdomenParts{body: inner}
	p.liver = intersect{b.ell(vec{-0.38, 0.02, 0.25}, 0.05, vec{0.42, 0.48, 0.5}, 0.12, 0.3, 0.06), inner}
	p.spleen = intersect{b.ell(vec{0.52, -0.22, 0.25}, 0.05, vec{0.13, 0.22, 0.22}, 0.25, 0.5, 0.05), inner}
	p.tLiver = b.tissue(liverLabel, 8, 105)
	p.tSpleen = b.tissue(spleenLabel, 8, 118)
	return p
}

// lesions paints n lesions of radius about r inside organ with tissue t.
func lesions(b *builder, organ shape, n int, r float64, t int) []vec {
	var centres []vec
	for k := 0; k < n; k++ {
		c := b.inside(organ, vec{-1, -1, -1}, vec{1, 1, 1})
		b.paint(intersect{b.ell(c, 0, vec{r, r, r}, 0.4, math.Pi, r*0.2), organ}, t)
		centres = append(centres, c)
	}
	return centres
}

func buildBrain(b *builder) {
	b.tissue(0, 0, 0, 0, 0, 0)
	gm := b.tissue(0, 0.04, 0.55, 0.45, 0.45, 0.55)
	wm := b.tissue(0, 0.03, 0.45, 0.62, 0.6, 0.4)
	csf := b.tissue(0, 0.02, 0.12, 0.18, 0.18, 0.95)
	edema := b.tissue(1, 0.05, 0.9, 0.4, 0.42, 0.82)
	necrotic := b.tissue(2, 0.06, 0.5, 0.25, 0.3, 0.72)
	enhancing := b.tissue(3, 0.05, 0.72, 0.5, 0.95, 0.62)
	brain := b.ell(vec{0, 0, -0.05}, 0.03, vec{0.78, 0.88, 0.8}, 0.06, 0.08, 0.04)
	b.paint(brain, gm)
	b.paint(b.ell(vec{0, 0, -0.05}, 0.03, vec{0.6, 0.7, 0.6}, 0.08, 0.08, 0.07), wm)
	for _, sx := range []float64{-1, 1} {
		b.paint(b.ell(vec{sx * 0.12, 0.05, 0.05}, 0.02, vec{0.06, 0.28, 0.1}, 0.2, 0.15, 0.02), csf)
	}
	c := b.inside(brain, vec{-0.5, -0.5, -0.35}, vec{0.5, 0.5, 0.35})
	re := b.v(0.3, 0.25)
	ed := newEllipsoid(b.r, c, b.vv(vec{re, re, re}, 0.25), math.Pi, re*0.25)
	b.paint(intersect{ed, brain}, edema)
	ce := c.add(jitter(b.r, re*0.15))
	rc := re * b.r.Uniform(0.45, 0.65)
	enh := newEllipsoid(b.r, ce, b.vv(vec{rc, rc, rc}, 0.2), math.Pi, rc*0.2)
	b.paint(intersect{enh, brain}, enhancing)
	if b.r.Bool(0.85) {
		rn := rc * b.r.Uniform(0.55, 0.75)
		b.paint(intersect{newEllipsoid(b.r, ce, b.vv(vec{rn, rn, rn}, 0.2), math.Pi, rn*0.2), enh}, necrotic)
	}
}

func buildHeart(b *builder) {
	b.tissue(0, 0, 0)
	fat := b.tissue(0, 0.05, 0.75)
	soft := b.tissue(0, 0.06, 0.35)
	lung := b.tissue(0, 0.02, 0.06)
	myo := b.tissue(0, 0.04, 0.3)
	blood := b.tissue(0, 0.05, 0.78)
	la := b.tissue(1, 0.05, 0.72)
	body := b.ell(vec{0, 0, 0}, 0.03, vec{0.95, 0.7, 3}, 0.05, 0.05, 0.03)
	b.paint(body, fat)
	b.paint(b.ell(vec{0, 0, 0}, 0.03, vec{0.86, 0.62, 3}, 0.05, 0.05, 0.04), soft)
	for _, sx := range []float64{-1, 1} {
		b.paint(b.ell(vec{sx * 0.45, 0, 0.1}, 0.04, vec{0.3, 0.45, 1.2}, 0.08, 0.1, 0.05), lung)
	}
	heart := b.ell(vec{0.05, 0.12, -0.1}, 0.05, vec{0.34, 0.34, 0.42}, 0.1, 0.4, 0.04)
	b.paint(heart, myo)
	b.paint(b.ell(vec{0.15, 0.18, -0.15}, 0.04, vec{0.14, 0.15, 0.2}, 0.15, 0.4, 0.03), blood) // left ventricle
	b.paint(b.ell(vec{-0.12, 0.28, -0.1}, 0.04, vec{0.1, 0.08, 0.18}, 0.15, 0.4, 0.03), blood) // right ventricle
	var aorta tubes
	aorta.w = newWarp(b.r, 0.02, 3)
	aorta.path([]vec{{0.02, 0.1, 0.05}, {0, 0.05, 0.45}, {0.05, -0.3, 0.55}, {0.08, -0.45, 0}, {0.08, -0.45, -1.2}}, b.v(0.07, 0.15), b.v(0.06, 0.15))
	b.paint(&aorta, blood)
	// The left atrium: posterior, large and smooth, with pulmonary vein stubs.
	atrium := b.ell(vec{0, -0.2, 0.15}, 0.05, vec{0.25, 0.17, 0.22}, 0.2, 0.3, 0.035)
	var veins tubes
	for _, sx := range []float64{-1, 1} {
		for _, dz := range []float64{-0.08, 0.08} {
			a := vec{sx * 0.1, -0.2, 0.15 + dz}
			veins.addSegment(a, a.add(vec{sx * b.v(0.22, 0.3), -0.05, dz}), 0.035, 0.03)
		}
	}
	b.paint(atrium, la)
	b.paint(minus{&veins, heart}, la)
}

func buildLiver(b *builder) {
	a := abdomen(b, 1, 0)
	b.paint(a.spleen, a.tSpleen)
	b.paint(a.liver, a.tLiver)
	lesion := b.tissue(2, 8, 48)
	lesions(b, a.liver, 1+b.r.Intn(3), b.v(0.09, 0.5), lesion)
}

func buildHippocampus(b *builder) {
	gm := b.tissue(0, 0.04, 0.48)
	wm := b.tissue(0, 0.03, 0.63)
	csf := b.tissue(0, 0.02, 0.15)
	ant := b.tissue(1, 0.04, 0.54)
	post := b.tissue(2, 0.04, 0.54)
	b.paint(halfspace{vec{0, 0, 0}, vec{0, 0, 1}}, gm)
	b.paint(halfspace{vec{0, 0, 0}, vec{0, 0, -1}}, gm)
	for k := 0; k < 3; k++ {
		b.paint(b.ell(vec{b.r.Uniform(-0.7, 0.7), b.r.Uniform(-0.8, 0.8), b.r.Uniform(0.3, 0.8)}, 0, vec{0.4, 0.35, 0.3}, 0.3, 1, 0.08), wm)
	}
	// The hippocampus: a curved tube along Y, thick head anterior (+Y).
	bend := b.r.Uniform(-0.2, 0.2)
	var pts []vec
	for k := 0; k <= 6; k++ {
		f := float64(k) / 6
		y := -0.75 + 1.45*f
		pts = append(pts, vec{0.1*math.Sin(3*f) + bend*f, y, -0.1 + 0.15*math.Sin(math.Pi*f)}.add(jitter(b.r, 0.03)))
	}
	var h tubes
	h.w = newWarp(b.r, 0.025, 4)
	h.path(pts, b.v(0.14, 0.2), b.v(0.3, 0.2))
	var horn tubes
	var hp []vec
	for _, p := range pts {
		hp = append(hp, p.add(vec{0.3, 0, 0.18}))
	}
	horn.path(hp, 0.06, 0.09)
	b.paint(&horn, csf)
	split := b.r.Uniform(-0.1, 0.15)
	b.paint(&h, post)
	b.paint(intersect{&h, halfspace{vec{0, split, 0}, vec{0, 1, 0.2}}}, ant)
}

func buildProstate(b *builder) {
	b.tissue(0, 0, 0, 0)
	fat := b.tissue(0, 0.05, 0.85, 0.15)
	muscle := b.tissue(0, 0.04, 0.32, 0.45)
	bone := b.tissue(0, 0.05, 0.2, 0.1)
	bladder := b.tissue(0, 0.02, 0.95, 0.95)
	wall := b.tissue(0, 0.03, 0.35, 0.4)
	gas := b.tissue(0, 0.01, 0.03, 0.03)
	pz := b.tissue(1, 0.05, 0.75, 0.72)
	tz := b.tissue(2, 0.05, 0.45, 0.5)
	b.paint(b.ell(vec{0, 0, 0}, 0.03, vec{0.95, 0.8, 3}, 0.05, 0.05, 0.03), fat)
	for _, sx := range []float64{-1, 1} {
		b.paint(b.ell(vec{sx * 0.45, 0, 0}, 0.03, vec{0.2, 0.4, 3}, 0.1, 0.1, 0.03), muscle)
		b.paint(b.ell(vec{sx * 0.68, 0.05, 0}, 0.03, vec{0.12, 0.3, 3}, 0.1, 0.1, 0.02), bone)
	}
	b.paint(b.ell(vec{0, 0.25, 0.75}, 0.05, vec{0.28, 0.25, 0.5}, 0.2, 0.2, 0.04), bladder)
	rectum := b.ell(vec{0, -0.42, 0}, 0.03, vec{0.15, 0.12, 3}, 0.15, 0.1, 0.03)
	b.paint(rectum, wall)
	b.paint(b.ell(vec{0, -0.42, 0}, 0.02, vec{0.07, 0.05, 3}, 0.3, 0.1, 0.02), gas)
	c := vec{0, -0.08, -0.05}.add(jitter(b.r, 0.05))
	prostate := newEllipsoid(b.r, c, b.vv(vec{0.24, 0.2, 0.5}, 0.2), 0.2, 0.03)
	b.paint(prostate, pz)
	b.paint(intersect{newEllipsoid(b.r, c.add(vec{0, 0.06, 0.04}), b.vv(vec{0.16, 0.12, 0.38}, 0.2), 0.2, 0.03), prostate}, tz)
}

func buildLung(b *builder) {
	b.tissue(0, 0, -1000)
	fat := b.tissue(0, 12, -100)
	muscle := b.tissue(0, 10, 40)
	bone := b.tissue(0, 60, 600)
	lungT := b.tissue(0, 25, -850)
	vessel := b.tissue(0, 10, 35)
	airway := b.tissue(0, 10, -950)
	medi := b.tissue(0, 10, 45)
	tumour := b.tissue(1, 12, 180)
	b.paint(b.ell(vec{0, 0, 0}, 0.03, vec{0.95, 0.72, 3}, 0.05, 0.05, 0.03), fat)
	b.paint(b.ell(vec{0, 0, 0}, 0.03, vec{0.86, 0.64, 3}, 0.05, 0.05, 0.04), muscle)
	b.paint(b.ell(vec{0, -0.52, 0}, 0.02, vec{0.1, 0.1, 3}, 0.1, 0.05, 0.01), bone)
	var lungs []shape
	for _, sx := range []float64{-1, 1} {
		l := b.ell(vec{sx * 0.42, 0, 0.05}, 0.04, vec{0.33, 0.47, 1.0}, 0.08, 0.1, 0.05)
		b.paint(l, lungT)
		lungs = append(lungs, l)
	}
	b.paint(b.ell(vec{0.08, 0.18, -0.45}, 0.05, vec{0.26, 0.24, 0.35}, 0.1, 0.3, 0.03), medi) // heart
	var tr tubes
	tr.path([]vec{{0, 0.0, 1.2}, {0, 0.0, 0.3}}, 0.05, 0.05)
	b.paint(&tr, airway)
	for i, sx := range []float64{-1, 1} {
		var v tubes
		v.w = newWarp(b.r, 0.01, 5)
		hilum := vec{sx * 0.22, 0, 0.05}
		for k := 0; k < 4; k++ {
			v.tree(b.r, hilum, vec{sx, 0, 0}.add(randUnit(b.r).scale(0.9)).unit(), 0.22, 0.028, 4, lungs[i])
		}
		b.paint(intersect{&v, lungs[i]}, vessel)
	}
	// One or two tumours of radius about 0.3 (of the half field of view),
	// denser than the vessels: real ones are often smaller and as dense as
	// vessels, but at the smoke scale (48x48x40 phantoms, a 24^3 input, 8
	// epochs) smaller ones span a voxel or two and the U-net learns
	// nothing (train's TestPhantomLungSmoke wants validation Dice > 0.1).
	n := 1 + b.r.Intn(2)
	for k := 0; k < n; k++ {
		l := lungs[b.r.Intn(2)]
		lesions(b, l, 1, b.v(0.3, 0.15), tumour)
	}
}

func buildPancreas(b *builder) {
	a := abdomen(b, 0, 0)
	b.paint(a.spleen, a.tSpleen)
	b.paint(a.liver, a.tLiver)
	bowel := b.tissue(0, 8, 35)
	vessel := b.tissue(0, 6, 165)
	panc := b.tissue(1, 10, 95)
	lesion := b.tissue(2, 8, 50)
	for k := 0; k < 3; k++ { // bowel loops of similar density
		var t tubes
		t.w = newWarp(b.r, 0.03, 4)
		c := vec{b.r.Uniform(-0.3, 0.4), b.r.Uniform(0.2, 0.45), b.r.Uniform(-0.6, 0)}
		t.path([]vec{c, c.add(jitter(b.r, 0.3)), c.add(jitter(b.r, 0.4))}, 0.06, 0.06)
		b.paint(&t, bowel)
	}
	// Pancreas: a thin curved tube from the head (right, +X is left) to the tail near the spleen.
	var p tubes
	p.w = newWarp(b.r, 0.02, 5)
	z := b.r.Uniform(-0.15, 0.1)
	pts := []vec{{-0.18, 0.02, z}, {0.02, -0.08, z + 0.05}, {0.22, -0.12, z + 0.1}, {0.4, -0.18, z + 0.15}}
	for i := range pts {
		pts[i] = pts[i].add(jitter(b.r, 0.04))
	}
	var sv tubes // splenic vein, behind the pancreas
	sv.path([]vec{pts[0].add(vec{0, -0.09, 0}), pts[3].add(vec{0, -0.09, 0})}, 0.025, 0.025)
	b.paint(&sv, vessel)
	p.path(pts, b.v(0.1, 0.2), b.v(0.055, 0.2))
	b.paint(&p, panc)
	seg := b.r.Intn(len(pts) - 1)
	c := pts[seg].add(pts[seg+1]).scale(0.5)
	r := b.v(0.08, 0.3)
	b.paint(intersect{newEllipsoid(b.r, c, vec{r, r, r}, math.Pi, r*0.2), dilate(&p, 1.5)}, lesion)
}

// dilate returns a copy of t with its radii scaled by f.
func dilate(t *tubes, f float64) *tubes {
	d := &tubes{w: t.w}
	for i := range t.a {
		d.addSegment(t.a[i], t.b[i], t.ra[i]*f, t.rb[i]*f)
	}
	return d
}

func buildHepaticVessel(b *builder) {
	a := abdomen(b, 0, 0)
	b.paint(a.spleen, a.tSpleen)
	b.paint(a.liver, a.tLiver)
	vessel := b.tissue(1, 8, 185)
	tumour := b.tissue(2, 8, 45)
	var v tubes
	v.w = newWarp(b.r, 0.01, 6)
	hilum := b.inside(a.liver, vec{-0.3, -0.1, 0.05}, vec{-0.15, 0.1, 0.25})
	for k := 0; k < 4; k++ {
		v.tree(b.r, hilum, randUnit(b.r), 0.28, 0.06, 4, a.liver)
	}
	b.paint(intersect{&v, a.liver}, vessel)
	lesions(b, a.liver, 1+b.r.Intn(2), b.v(0.11, 0.4), tumour)
}

func buildSpleen(b *builder) {
	a := abdomen(b, 0, 1)
	b.paint(a.liver, a.tLiver)
	b.paint(a.spleen, a.tSpleen)
}

func buildColon(b *builder) {
	a := abdomen(b, 0, 0)
	b.paint(a.spleen, a.tSpleen)
	b.paint(a.liver, a.tLiver)
	wall := b.tissue(0, 8, 40)
	gas := b.tissue(0, 20, -900)
	cancer := b.tissue(1, 8, 62)
	// Colon frame: ascending (patient right = -X), transverse, descending, sigmoid.
	pts := []vec{{-0.5, 0.1, -0.7}, {-0.52, 0.15, 0.0}, {-0.35, 0.4, 0.15}, {0.0, 0.45, 0.1}, {0.35, 0.4, 0.15}, {0.55, 0.1, 0.0}, {0.5, 0.05, -0.6}, {0.15, 0.1, -0.85}}
	for i := range pts {
		pts[i] = pts[i].add(jitter(b.r, 0.05))
	}
	var colon, lumen tubes
	colon.w = newWarp(b.r, 0.02, 4)
	lumen.w = colon.w
	rad := b.v(0.09, 0.15)
	colon.path(pts, rad, rad)
	lumen.path(pts, rad*0.65, rad*0.65)
	b.paint(intersect{&colon, a.body}, wall)
	b.paint(intersect{&lumen, a.body}, gas)
	// The lesion: a short wall thickening narrowing the lumen.
	seg := b.r.Intn(len(pts) - 1)
	f := b.r.Uniform(0.2, 0.8)
	c := pts[seg].add(pts[seg+1].sub(pts[seg]).scale(f))
	r := b.v(rad*1.1, 0.25)
	side := randUnit(b.r).scale(rad * 0.5)
	b.paint(intersect{newEllipsoid(b.r, c.add(side), vec{r, r, r}, math.Pi, r*0.2), dilate(&colon, 1.4), a.body}, cancer)
}
