package display

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

func linePlot(t *testing.T, title string, pts plotter.XYs) *plot.Plot {
	t.Helper()
	p := plot.New()
	p.Title.Text = title
	l, err := plotter.NewLine(pts)
	if err != nil {
		t.Fatal(err)
	}
	p.Add(l)
	return p
}

// TestRich checks which values show richly on their own and what their
// bundles hold: a plot is a decodable PNG of PlotWidth x PlotHeight at
// PlotDPI, an unusable plot or a nil one is text saying so.
func TestRich(t *testing.T) {
	logPlot := linePlot(t, "log", plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 10}})
	logPlot.Y.Scale = plot.LogScale{}
	logPlot.Y.Tick.Marker = plot.LogTicks{}
	img := image.NewGray(image.Rect(0, 0, 3, 2))
	cases := []struct {
		name    string
		x       any
		rich    bool
		png     image.Point // expected PNG size; zero: no PNG
		textHas string
	}{
		{"plot", linePlot(t, "squares", plotter.XYs{{X: 0, Y: 0}, {X: 2, Y: 4}}), true, image.Pt(768, 432), `<plot.Plot "squares" 768x432>`},
		{"nil plot", (*plot.Plot)(nil), true, image.Point{}, "<plot.Plot nil>"},
		{"undrawable plot", logPlot, true, image.Point{}, `cannot draw plot "log"`},
		{"image", img, true, image.Pt(3, 2), "<PNG image 3x2>"},
		{"renderer", HTML("<b>x</b>"), true, image.Point{}, "<b>x</b>"},
		{"int", 3, false, image.Point{}, ""},
		{"nil", nil, false, image.Point{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, ok := Rich(c.x)
			if ok != c.rich {
				t.Fatalf("Rich(%T) ok = %v, want %v", c.x, ok, c.rich)
			}
			if !ok {
				return
			}
			if text := b.Text(); !strings.Contains(text, c.textHas) {
				t.Errorf("text/plain %q does not contain %q", text, c.textHas)
			}
			data, hasPNG := b[MIMEPNG].([]byte)
			if hasPNG != (c.png != image.Point{}) {
				t.Fatalf("PNG present = %v, want %v (bundle %v)", hasPNG, c.png != image.Point{}, b.Text())
			}
			if !hasPNG {
				return
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("PNG does not decode: %v", err)
			}
			if got := image.Pt(cfg.Width, cfg.Height); got != c.png {
				t.Errorf("PNG is %v, want %v", got, c.png)
			}
		})
	}
}
