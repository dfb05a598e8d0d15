package viz_test

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/unetlab/unetlab/viz"
)

// Example_readme is the figure block of README.md, which
// kernel/testdata/test_readme.py checks against it line by line.
func Example_readme() {
	p := plot.New()
	line, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 2}, {X: 2, Y: 1}})
	p.Add(line)
	fig, _ := viz.NewFigure("my figure", [][]*plot.Plot{{p}})
	b := fig.Render()
	fmt.Println(b["text/plain"], len(b["image/png"].([]byte)) > 0)
	// Output:
	// <viz.Figure "my figure" 768x432> true
}
