package display_test

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/unetlab/unetlab/display"
)

// Outside a kernel, display falls back to plain text on standard output.
func ExampleShow() {
	display.Show(display.HTML("<b>Dice 0.91</b>"))
	// Output: <b>Dice 0.91</b>
}

// A live output is shown once and updated in place; in a notebook the
// front end redraws it, elsewhere each update prints a line.
func ExampleShowLive() {
	h := display.ShowLive(display.Text("epoch 1/2"))
	h.Update(display.Text("epoch 2/2"))
	fmt.Println(display.Interactive())
	// Output:
	// epoch 1/2
	// epoch 2/2
	// false
}

// A gonum plot shows as a PNG of one notebook column; outside a kernel its
// text form is printed.
func ExamplePlot() {
	p := plot.New()
	p.Title.Text = "squares"
	line, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}, {X: 2, Y: 4}})
	if err != nil {
		fmt.Println(err)
		return
	}
	p.Add(line)
	b := display.Plot(p)
	fmt.Println(len(b[display.MIMEPNG].([]byte)) > 0)
	display.Show(b)
	// Output:
	// true
	// <plot.Plot "squares" 768x432>
}
