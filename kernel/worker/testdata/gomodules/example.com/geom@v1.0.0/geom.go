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

// Clamp limits x to [lo, hi] with the builtins min and max (Go 1.21).
func Clamp(x, lo, hi float64) float64 { return max(lo, min(x, hi)) }

// Squares are the squares of 0 to n-1, ranging over an integer (Go 1.22).
func Squares(n int) []int {
	var out []int
	for i := range n {
		for range 1 {
			out = append(out, i*i)
		}
	}
	return out
}

// Count counts to n.
func Count(n int64) (c int64) {
	for range n {
		c++
	}
	return c
}
