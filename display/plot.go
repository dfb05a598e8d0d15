package display

import (
	"bytes"
	"fmt"
	"image"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The size and resolution at which [Plot] draws a *plot.Plot: one notebook
// column, 8 x 4.5 inches (1 vg.Inch = 72 points) at 96 dots per inch, that
// is 768 x 432 pixels (the default size of package viz's figures).
const (
	PlotWidth  = 8 * vg.Inch
	PlotHeight = 4.5 * vg.Inch
	PlotDPI    = 96
)

// Plot returns a bundle showing the gonum plot p as a PNG image of
// PlotWidth x PlotHeight at PlotDPI, with the text form
// `<plot.Plot "title" 768x432>`. A *plot.Plot that is a cell's last
// expression is shown this way. A nil p, or a plot that cannot be drawn,
// gives a text-only bundle saying so.
func Plot(p *plot.Plot) (b Bundle) {
	if p == nil {
		return Text("<plot.Plot nil>")
	}
	defer func() {
		// gonum/plot panics on some unusable plots (a log scale over
		// non-positive data): the cell shows why rather than failing.
		if r := recover(); r != nil {
			b = Text(fmt.Sprintf("display: cannot draw plot %q: %v", p.Title.Text, r))
		}
	}()
	c := vgimg.NewWith(vgimg.UseWH(PlotWidth, PlotHeight), vgimg.UseDPI(PlotDPI))
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return Text(fmt.Sprintf("display: cannot encode plot %q: %v", p.Title.Text, err))
	}
	px := c.Image().Bounds()
	return Bundle{MIMEPNG: buf.Bytes(), MIMEText: fmt.Sprintf("<plot.Plot %q %dx%d>", p.Title.Text, px.Dx(), px.Dy())}
}

// Rich returns the bundle of a value that shows richly on its own, and
// whether it is one: a [Renderer] (its Render), an image.Image ([Image]) or
// a gonum *plot.Plot ([Plot]). The kernel shows a cell's last expression
// through it.
func Rich(x any) (Bundle, bool) {
	switch v := x.(type) {
	case Renderer:
		return v.Render(), true
	case image.Image:
		return Image(v), true
	case *plot.Plot:
		return Plot(v), true
	}
	return nil, false
}
