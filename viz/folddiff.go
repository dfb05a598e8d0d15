package viz

import (
	"fmt"
	"math"

	"github.com/unetlab/unetlab/stats"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// FoldDiffOptions configures [FoldDiff]; nil or the zero value gives a
// default title and size.
type FoldDiffOptions struct {
	// Title is the figure title; "" means "Fold-wise difference with <baseline>".
	Title string
	// Width and Height override the figure size, >= 0; zero means 8 in
	// wide and 1.5 in + 0.45 in per model high.
	Width, Height vg.Length
}

// FoldDiff draws the paper's Figure 5 from a comparison made by
// stats.CompareFolds: for every model but the baseline, the per-fold
// differences of foreground Dice with the baseline as points (one colour
// per model), their mean as a black diamond with its bootstrap interval as
// a bar, and a dashed zero line; training and validation side by side on a
// common horizontal scale. Models are listed top to bottom in the
// comparison's order. A comparison without per-fold values and with Level 0
// (the paper's published means ± sds, paper.Figure5) draws each mean with a
// ± sd bar and says so in the legend.
func FoldDiff(c *stats.FoldComparison, opt *FoldDiffOptions) (*Figure, error) {
	o := valueOf(opt)
	if err := checkSize("FoldDiffOptions", o.Width, o.Height); err != nil {
		return nil, err
	}
	if c == nil || len(c.Rows) == 0 {
		return nil, fmt.Errorf("%w: FoldDiff: no models besides the baseline", ErrInput)
	}
	rows := c.Rows
	baseName := c.Baseline
	for _, r := range rows {
		for _, d := range []*stats.Difference{r.Train, r.Val} {
			if d == nil {
				continue
			}
			for f, x := range append([]float64{d.Mean, d.Lo, d.Hi}, d.Folds...) {
				if err := checkFinite(fmt.Sprintf("FoldDiff: model %q difference %d", r.Model, f), x); err != nil {
					return nil, err
				}
			}
		}
	}
	n := len(rows)
	names := make([]string, n)
	var all []float64
	for i, r := range rows {
		names[i] = r.Model
		for _, d := range []*stats.Difference{r.Train, r.Val} {
			if d != nil {
				all = append(all, d.Folds...)
				all = append(all, d.Lo, d.Hi)
			}
		}
	}
	lo, hi, ok := dataRange(all)
	if !ok {
		return nil, fmt.Errorf("%w: FoldDiff: no model has scores for both the model and baseline %q", ErrInput, baseName)
	}
	span := math.Max(hi, 0) - math.Min(lo, 0)
	if span == 0 {
		span = 0.01
	}
	xmin, xmax := math.Min(lo, 0)-0.05*span, math.Max(hi, 0)+0.05*span
	var panels []*plot.Plot
	for k, which := range []string{"Training", "Validation"} {
		p := newPlot(which, "Dice − "+baseName+" Dice (fold-wise)", "")
		addGrid(p, true, false)
		p.Add(zeroLine(true))
		p.X.Min, p.X.Max = xmin, xmax
		p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
		labels := names
		if k == 1 {
			labels = make([]string, n)
		}
		p.NominalY(reverse(labels)...)
		var means, meanCI plotter.XYs
		var errs plotter.XErrors
		for i, r := range rows {
			d := r.Train
			if k == 1 {
				d = r.Val
			}
			if d == nil {
				continue
			}
			y := float64(n - 1 - i)
			pts := make(plotter.XYs, len(d.Folds))
			for f, x := range d.Folds {
				// Spread the folds vertically so coincident points stay visible.
				off := 0.0
				if len(d.Folds) > 1 {
					off = 0.36 * (float64(f)/float64(len(d.Folds)-1) - 0.5)
				}
				pts[f] = plotter.XY{X: x, Y: y + off}
			}
			s, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, fmt.Errorf("%w: FoldDiff %q: %w", ErrInput, r.Model, err)
			}
			s.GlyphStyle = draw.GlyphStyle{Color: Colour(i), Radius: vg.Points(3), Shape: draw.CircleGlyph{}}
			p.Add(s)
			means = append(means, plotter.XY{X: d.Mean, Y: y})
			meanCI = append(meanCI, plotter.XY{X: d.Mean, Y: y})
			errs = append(errs, struct{ Low, High float64 }{d.Mean - d.Lo, d.Hi - d.Mean})
		}
		if len(means) > 0 {
			eb, err := plotter.NewXErrorBars(xyErrs{meanCI, errs})
			if err != nil {
				return nil, fmt.Errorf("%w: FoldDiff: %w", ErrInput, err)
			}
			eb.LineStyle = draw.LineStyle{Color: inkBlack, Width: vg.Points(1.5)}
			eb.CapWidth = vg.Points(7)
			ms, err := plotter.NewScatter(means)
			if err != nil {
				return nil, fmt.Errorf("%w: FoldDiff: %w", ErrInput, err)
			}
			ms.GlyphStyle = draw.GlyphStyle{Color: inkBlack, Radius: vg.Points(4), Shape: diamondGlyph{}}
			p.Add(eb, ms)
		}
		panels = append(panels, p)
	}
	title := o.Title
	if title == "" {
		title = "Fold-wise difference with " + baseName
	}
	fig, err := NewFigure(title, [][]*plot.Plot{panels})
	if err != nil {
		return nil, err
	}
	folds := false
	for _, r := range rows {
		folds = folds || r.Train != nil && len(r.Train.Folds) > 0 || r.Val != nil && len(r.Val.Folds) > 0
	}
	if folds {
		fold := draw.GlyphStyle{Color: zeroGrey, Radius: vg.Points(3), Shape: draw.CircleGlyph{}}
		fig.AddLegend("fold (model − baseline)", &plotter.Scatter{GlyphStyle: fold})
	}
	interval := fmt.Sprintf("mean and %g%% bootstrap interval", 100*c.Level)
	if c.Level == 0 {
		interval = "mean ± sd" // published summaries (paper.Figure5): no interval was computed
	}
	fig.AddLegend(interval,
		ciThumb{draw.LineStyle{Color: inkBlack, Width: vg.Points(1.5)}},
		&plotter.Scatter{GlyphStyle: draw.GlyphStyle{Color: inkBlack, Radius: vg.Points(4), Shape: diamondGlyph{}}})
	fig.Width, fig.Height = o.Width, o.Height
	if fig.Height == 0 {
		fig.Height = vg.Length(1.5+0.45*float64(n)) * vg.Inch
	}
	return fig, nil
}

type xyErrs struct {
	plotter.XYs
	plotter.XErrors
}

func reverse(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[len(s)-1-i] = x
	}
	return out
}

// diamondGlyph is a filled diamond.
type diamondGlyph struct{}

func (diamondGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius * 1.3
	c.FillPolygon(sty.Color, []vg.Point{
		{X: pt.X, Y: pt.Y + r}, {X: pt.X + r, Y: pt.Y}, {X: pt.X, Y: pt.Y - r}, {X: pt.X - r, Y: pt.Y},
	})
}

// ciThumb is a legend thumbnail for an interval bar: a line with end caps.
type ciThumb struct{ style draw.LineStyle }

func (t ciThumb) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	h := (c.Max.Y - c.Min.Y) / 3
	c.StrokeLine2(t.style, c.Min.X, y, c.Max.X, y)
	c.StrokeLine2(t.style, c.Min.X, y-h, c.Min.X, y+h)
	c.StrokeLine2(t.style, c.Max.X, y-h, c.Max.X, y+h)
}
