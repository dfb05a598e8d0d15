// Package geom is a test fixture: points in the plane.
package geom

import "math"

// Point is a point of the plane.
type Point struct{ X, Y float64 }

// Dist is the distance from p to q.
func (p Point) Dist(q Point) float64 { return math.Hypot(q.X-p.X, q.Y-p.Y) }

// Sum adds xs.
func Sum[T int | float64](xs []T) T {
	var s T
	for _, x := range xs {
		s += x
	}
	return s
}

// Build says which file of the package was built.
func Build() string { return impl() }
