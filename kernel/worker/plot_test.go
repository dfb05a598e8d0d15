package worker

import "testing"

// TestPlotCell runs the README's custom-figure cell: gonum.org/v1/plot
// imported by a cell, a line plot wrapped by viz.NewFigure as the result
// (image/png), and a plotter type declared in a cell added through its
// interface type (yaegi 0.16.1 does not convert it inside a variadic call).
func TestPlotCell(t *testing.T) {
	if testing.Short() {
		t.Skip("imports the plotting packages")
	}
	runSteps(t, []step{
		{code: `import (
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"github.com/unetlab/unetlab/viz"
)

p := plot.New()
line, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 2}, {X: 2, Y: 1}})
p.Add(line)
fig, _ := viz.NewFigure("my figure", [][]*plot.Plot{{p}})
fig`, result: `<viz.Figure "my figure" 768x432>`, mime: "image/png"},
		{code: `import (
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg/draw"
)

type hline struct{ Y float64 }

func (h hline) Plot(c draw.Canvas, p *plot.Plot) {
	tr, _ := p.Transforms(&c)
	y := tr(h.Y)
	_ = y
}

var h plot.Plotter = hline{Y: 1}
p.Add(h)
len(p.Title.Text)`, result: "0"},
	})
}

// TestPlotResultInline: a gonum *plot.Plot as a cell's last expression is
// shown inline (display.Plot: a PNG of one notebook column), also when the
// cell imports nothing (plot and plotter are imported on first use).
func TestPlotResultInline(t *testing.T) {
	if testing.Short() {
		t.Skip("imports the plotting packages")
	}
	runSteps(t, []step{
		{code: `p := plot.New()
p.Title.Text = "inline"
s, _ := plotter.NewScatter(plotter.XYs{{X: 1, Y: 1}, {X: 2, Y: 4}})
p.Add(s)
p`, result: `<plot.Plot "inline" 768x432>`, mime: "image/png"},
		{code: `var q *plot.Plot
q`, result: "<plot.Plot nil>"},
	})
}
