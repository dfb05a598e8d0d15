// Package shapes is a test fixture: polygons of example.com/geom points.
package shapes

import "example.com/geom"

// Name is the package's name.
const Name = "shapes"

var registry []string

func init() { registry = append(registry, "polygon") }

// Polygon is a closed path through its points.
type Polygon []geom.Point

// Perimeter is the length of the closed path.
func (p Polygon) Perimeter() float64 {
	total := 0.0
	for i := range p {
		total += p[i].Dist(p[(i+1)%len(p)])
	}
	return total
}

// Registered lists what init registered.
func Registered() []string { return registry }
