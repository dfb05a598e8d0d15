package phantom

import (
	"math"

	"github.com/unetlab/unetlab/rng"
)

// vec is a point in normalised coordinates: each axis of the grid spans
// [-1, 1] (X left-right, Y posterior-anterior, Z inferior-superior).
type vec [3]float64

func (a vec) add(b vec) vec       { return vec{a[0] + b[0], a[1] + b[1], a[2] + b[2]} }
func (a vec) sub(b vec) vec       { return vec{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func (a vec) scale(s float64) vec { return vec{a[0] * s, a[1] * s, a[2] * s} }
func (a vec) dot(b vec) float64   { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func (a vec) norm() float64       { return math.Sqrt(a.dot(a)) }
func (a vec) unit() vec           { return a.scale(1 / math.Max(a.norm(), 1e-12)) }
func randUnit(r *rng.Rand) vec    { return vec{r.Norm(), r.Norm(), r.Norm()}.unit() }
func jitter(r *rng.Rand, s float64) vec {
	return vec{r.Uniform(-s, s), r.Uniform(-s, s), r.Uniform(-s, s)}
}

// shape is a region of space.
type shape interface {
	contains(p vec) bool
}

// warp is a smooth random displacement: a sum of three plane waves. It
// makes every structure's outline irregular and different in each case.
type warp struct {
	amp  float64
	freq [3]vec
	dir  [3]vec
	ph   [3]float64
}

func newWarp(r *rng.Rand, amp, freq float64) warp {
	w := warp{amp: amp}
	for k := range w.freq {
		w.freq[k] = randUnit(r).scale(freq * r.Uniform(0.7, 1.3))
		w.dir[k] = randUnit(r)
		w.ph[k] = r.Uniform(0, 2*math.Pi)
	}
	return w
}

func (w *warp) apply(p vec) vec {
	if w.amp == 0 {
		return p
	}
	for k := range w.freq {
		p = p.add(w.dir[k].scale(w.amp * math.Sin(w.freq[k].dot(p)+w.ph[k])))
	}
	return p
}

// ellipsoid is a warped, rotated ellipsoid.
type ellipsoid struct {
	c   vec
	r   vec
	rot [3]vec // rows: the ellipsoid's axes in world coordinates
	w   warp
	// reach bounds the distance from c of any point inside: the largest
	// radius plus the largest warp displacement.
	reach float64
}

// newEllipsoid returns an ellipsoid at c with radii r, rotated at random by
// up to maxRot radians about each axis, outline warped by amp.
func newEllipsoid(rn *rng.Rand, c, r vec, maxRot, amp float64) *ellipsoid {
	e := &ellipsoid{c: c, r: r, w: newWarp(rn, amp, 3)}
	e.reach = math.Max(r[0], math.Max(r[1], r[2])) + 3*amp
	a, b, g := rn.Uniform(-maxRot, maxRot), rn.Uniform(-maxRot, maxRot), rn.Uniform(-maxRot, maxRot)
	ca, sa, cb, sb, cg, sg := math.Cos(a), math.Sin(a), math.Cos(b), math.Sin(b), math.Cos(g), math.Sin(g)
	// R = Rz(g) Ry(b) Rx(a), rows are the body axes.
	e.rot = [3]vec{
		{cg * cb, cg*sb*sa - sg*ca, cg*sb*ca + sg*sa},
		{sg * cb, sg*sb*sa + cg*ca, sg*sb*ca - cg*sa},
		{-sb, cb * sa, cb * ca},
	}
	return e
}

func (e *ellipsoid) value(p vec) float64 {
	q := e.w.apply(p).sub(e.c)
	var s float64
	for i := 0; i < 3; i++ {
		// body coordinate i = column i of rot dotted with q
		x := e.rot[0][i]*q[0] + e.rot[1][i]*q[1] + e.rot[2][i]*q[2]
		x /= e.r[i]
		s += x * x
	}
	return s
}

func (e *ellipsoid) contains(p vec) bool {
	if math.Abs(p[0]-e.c[0]) > e.reach || math.Abs(p[1]-e.c[1]) > e.reach || math.Abs(p[2]-e.c[2]) > e.reach {
		return false
	}
	return e.value(p) < 1
}

// tubes is a set of capsules (segments with radii): vessels, airways, a
// colon, a hippocampus.
type tubes struct {
	a, b   []vec
	ra, rb []float64
	w      warp
	lo, hi vec // bounding box
}

func (t *tubes) addSegment(a, b vec, ra, rb float64) {
	t.a, t.b, t.ra, t.rb = append(t.a, a), append(t.b, b), append(t.ra, ra), append(t.rb, rb)
	for i := 0; i < 3; i++ {
		r := math.Max(ra, rb) + t.w.amp*3
		if len(t.a) == 1 {
			t.lo[i], t.hi[i] = math.Inf(1), math.Inf(-1)
		}
		t.lo[i] = math.Min(t.lo[i], math.Min(a[i], b[i])-r)
		t.hi[i] = math.Max(t.hi[i], math.Max(a[i], b[i])+r)
	}
}

// path adds a chain of segments through the points with radii tapering
// from r0 to r1.
func (t *tubes) path(pts []vec, r0, r1 float64) {
	for i := 0; i+1 < len(pts); i++ {
		f0, f1 := float64(i)/float64(len(pts)-1), float64(i+1)/float64(len(pts)-1)
		t.addSegment(pts[i], pts[i+1], r0+(r1-r0)*f0, r0+(r1-r0)*f1)
	}
}

// position returns, for p inside, the index of the nearest segment and the
// position along it (0..1); ok is false outside.
func (t *tubes) position(p vec) (seg int, along float64, ok bool) {
	p = t.w.apply(p)
	for i := 0; i < 3; i++ {
		if p[i] < t.lo[i] || p[i] > t.hi[i] {
			return 0, 0, false
		}
	}
	best := math.Inf(1)
	for k := range t.a {
		ab := t.b[k].sub(t.a[k])
		l2 := ab.dot(ab)
		s := 0.0
		if l2 > 0 {
			s = math.Min(1, math.Max(0, p.sub(t.a[k]).dot(ab)/l2))
		}
		d := p.sub(t.a[k].add(ab.scale(s))).norm()
		r := t.ra[k] + (t.rb[k]-t.ra[k])*s
		if d < r && d/r < best {
			best, seg, along, ok = d/r, k, s, true
		}
	}
	return
}

func (t *tubes) contains(p vec) bool {
	_, _, ok := t.position(p)
	return ok
}

// tree grows a random branching tree of tubes from root along dir.
func (t *tubes) tree(r *rng.Rand, root, dir vec, length, radius float64, depth int, inside shape) {
	if depth == 0 || radius < 0.006 {
		return
	}
	end := root.add(dir.scale(length))
	for try := 0; inside != nil && !inside.contains(end); try++ {
		// bend back into the region, shorter, a few times; then stop
		if try == 4 {
			return
		}
		dir = dir.add(randUnit(r).scale(0.9)).unit()
		end = root.add(dir.scale(length * 0.7))
	}
	t.addSegment(root, end, radius, radius*0.85)
	for k := 0; k < 2; k++ {
		nd := dir.add(randUnit(r).scale(0.8)).unit()
		t.tree(r, end, nd, length*r.Uniform(0.6, 0.85), radius*r.Uniform(0.7, 0.85), depth-1, inside)
	}
}

// intersect is the region inside all of its shapes.
type intersect []shape

func (s intersect) contains(p vec) bool {
	for _, x := range s {
		if !x.contains(p) {
			return false
		}
	}
	return true
}

// minus is the region inside a and not inside b.
type minus struct{ a, b shape }

func (m minus) contains(p vec) bool { return m.a.contains(p) && !m.b.contains(p) }

// halfspace is the region where (p - o)·n > 0.
type halfspace struct{ o, n vec }

func (h halfspace) contains(p vec) bool { return p.sub(h.o).dot(h.n) > 0 }
