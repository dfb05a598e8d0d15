//go:build !unetlab_stdonly

package stdlib

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"reflect"
	"testing"

	"github.com/traefik/yaegi/interp"

	"github.com/unetlab/unetlab/display"
)

// cellInterp returns an interpreter set up as the kernel's worker sets up
// one (kernel/worker/session.go: Unrestricted, these tables).
func cellInterp(t *testing.T) *interp.Interpreter {
	t.Helper()
	in := interp.New(interp.Options{Unrestricted: true})
	if err := in.Use(Symbols); err != nil {
		t.Fatal(err)
	}
	return in
}

// evalCells evaluates each cell in turn, as a notebook would, and returns
// the value of the last one.
func evalCells(t *testing.T, in *interp.Interpreter, cells ...string) reflect.Value {
	t.Helper()
	var v reflect.Value
	for i, c := range cells {
		var err error
		v, err = in.EvalWithContext(context.Background(), c)
		if err != nil {
			t.Fatalf("cell %d: %v\n%s", i, err, c)
		}
	}
	return v
}

// decodePNG decodes data and counts the pixels close to colour (r, g, b).
func decodePNG(t *testing.T, data []byte, r, g, b uint8) (img image.Image, n int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("PNG does not decode: %v (%d bytes)", err, len(data))
	}
	near := func(a uint32, b uint8) bool { d := int(a>>8) - int(b); return d > -40 && d < 40 }
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if near(pr, r) && near(pg, g) && near(pb, b) {
				n++
			}
		}
	}
	return img, n
}

// TestCellCustomPlot is what a notebook author does to draw a figure of
// their own: import gonum/plot in a cell, build a line plot (with a
// user-defined plot.Plotter, which goes through the interface wrapper of
// the table), and render it with viz to PNG bytes and a display bundle.
func TestCellCustomPlot(t *testing.T) {
	in := cellInterp(t)
	evalCells(t, in, `
import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/unetlab/unetlab/viz"
)`, `
// hline is a plotter defined in the cell: a horizontal line at Y.
type hline struct{ Y float64 }

func (h hline) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	sty := draw.LineStyle{Color: color.RGBA{B: 255, A: 255}, Width: vg.Points(3)}
	c.StrokeLine2(sty, trX(p.X.Min), trY(h.Y), trX(p.X.Max), trY(h.Y))
}
`, `
p := plot.New()
p.Title.Text = "sine"
p.X.Label.Text = "x (mm)"
pts := make(plotter.XYs, 50)
for i := range pts {
	pts[i].X = float64(i) / 5
	pts[i].Y = math.Sin(pts[i].X)
}
l, err := plotter.NewLine(pts)
if err != nil {
	panic(err)
}
l.Color = color.RGBA{R: 255, A: 255}
l.Width = vg.Points(3)
// yaegi v0.16.1 does not convert an interpreted value written directly in
// the variadic part of a compiled call (p.Add(hline{})): give it its
// interface type first.
var hl plot.Plotter = hline{Y: 0.5}
p.Add(l, hl, plotter.NewGrid())
p.Legend.Add("sin", l)
if err := plotutil.AddLinePoints(p, "again", pts); err != nil {
	panic(err)
}
fig, err := viz.NewFigure("custom", [][]*plot.Plot{{p}})
if err != nil {
	panic(err)
}
fig.Width, fig.Height = 4*vg.Inch, 3*vg.Inch
`, `pngData, pngErr := fig.PNG()`)
	if err, _ := evalCells(t, in, `pngErr`).Interface().(error); err != nil {
		t.Fatalf("fig.PNG(): %v", err)
	}
	data, ok := evalCells(t, in, `pngData`).Interface().([]byte)
	if !ok {
		t.Fatal("pngData is not a []byte")
	}
	img, red := decodePNG(t, data, 255, 0, 0)
	if b := img.Bounds(); b.Dx() != 384 || b.Dy() != 288 {
		t.Errorf("PNG is %v, want 384x288 (4x3 inches at 96 DPI)", b)
	}
	if red < 200 {
		t.Errorf("PNG has %d red pixels, want the 3-point red sine line (>= 200)", red)
	}
	if _, blue := decodePNG(t, data, 0, 0, 255); blue < 200 {
		t.Errorf("PNG has %d blue pixels, want the cell-defined hline (>= 200)", blue)
	}

	b := evalCells(t, in, `fig.Render()`).Interface().(display.Bundle)
	if _, ok := b[display.MIMEPNG].([]byte); !ok {
		t.Errorf("fig.Render() lacks %s: %v", display.MIMEPNG, b[display.MIMEText])
	}
	if _, ok := b[display.MIMESVG]; !ok {
		t.Errorf("fig.Render() lacks %s", display.MIMESVG)
	}
}

// TestCellPlotVgimg renders a plot without viz, through vgimg directly,
// into display.PNG: the tables of plot/vg/vgimg are enough for that.
func TestCellPlotVgimg(t *testing.T) {
	in := cellInterp(t)
	v := evalCells(t, in, `
import (
	"bytes"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/unetlab/unetlab/display"
)`, `
p := plot.New()
bars, err := plotter.NewBarChart(plotter.Values{1, 3, 2}, vg.Points(20))
if err != nil {
	panic(err)
}
p.Add(bars)
c := vgimg.New(3*vg.Inch, 2*vg.Inch)
p.Draw(draw.New(c))
var buf bytes.Buffer
if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
	panic(err)
}
display.PNG(buf.Bytes())
`)
	b, ok := v.Interface().(display.Bundle)
	if !ok {
		t.Fatalf("last value %T, want display.Bundle", v.Interface())
	}
	data, _ := b[display.MIMEPNG].([]byte)
	img, _ := decodePNG(t, data, 0, 0, 0)
	if bd := img.Bounds(); bd.Dx() != 288 || bd.Dy() != 192 {
		t.Errorf("PNG is %v, want 288x192 (3x2 inches at vgimg's 96 DPI)", bd)
	}
}
