package viz

import (
	"fmt"
	"image/color"

	"github.com/unetlab/unetlab/stats"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// BarOptions configures [LabelBars]. nil or the zero value draws
// horizontal bars sized to the number of rows.
type BarOptions struct {
	// Title is the figure title; "" means the table's title, or
	// "Dice per task and label".
	Title string
	// Width and Height override the figure size; zero means 8 in wide and
	// 1.2 in + 0.3 in per row high.
	Width, Height vg.Length
}

// LabelBars draws a stats.ScoreTable (the paper's Table 2) as grouped
// horizontal bars: one group per task and label, top to bottom in row
// order, one bar per model in a fixed colour, Dice on [0, 1].
func LabelBars(st *stats.ScoreTable, opt *BarOptions) (*Figure, error) {
	o := valueOf(opt)
	opt = &o
	if err := checkSize("BarOptions", o.Width, o.Height); err != nil {
		return nil, err
	}
	if err := st.Check(); err != nil {
		return nil, fmt.Errorf("%w: LabelBars: %w", ErrInput, err)
	}
	title := opt.Title
	if title == "" {
		title = st.Title
	}
	if title == "" {
		title = "Dice per task and label"
	}
	n, nm := len(st.Rows), len(st.Models)
	p := newPlot("", "Dice", "")
	addGrid(p, true, false)
	names := make([]string, n)
	for i, r := range st.Rows {
		names[n-1-i] = r.Task + " " + r.Label
	}
	p.NominalY(names...)
	group := vg.Points(0) // set after the figure's size is known
	height := opt.Height
	if height == 0 {
		height = vg.Length(1.2+0.3*float64(n)) * vg.Inch
	}
	// Bars fill 80 % of each row; the data height is about the figure's
	// height less 1.2 inch of title, legend and axis.
	group = (height - 1.2*vg.Inch) / vg.Length(n) * 0.8
	barW := group / vg.Length(nm)
	for m, model := range st.Models {
		vals := make(plotter.Values, n)
		for i, r := range st.Rows {
			vals[n-1-i] = r.Scores[m]
		}
		bc, err := plotter.NewBarChart(vals, barW)
		if err != nil {
			return nil, fmt.Errorf("%w: LabelBars %q: %w", ErrInput, model, err)
		}
		bc.Horizontal = true
		bc.Color = Colour(m)
		bc.LineStyle = draw.LineStyle{}
		// Models top to bottom within a group, in column order.
		bc.Offset = group/2 - barW/2 - vg.Length(m)*barW
		p.Add(bc)
	}
	p.X.Min, p.X.Max = 0, 1
	p.X.Tick.Marker = diceTicks{}
	p.Y.Padding = 0
	fig, err := NewFigure(title, [][]*plot.Plot{{p}})
	if err != nil {
		return nil, err
	}
	for m, model := range st.Models {
		fig.AddLegend(model, swatch(Colour(m)))
	}
	fig.Width, fig.Height = opt.Width, height
	return fig, nil
}

// BoxOptions configures [FoldBoxes]. nil or the zero value draws training
// and validation side by side.
type BoxOptions struct {
	// Title is the figure title; "" means "Dice across folds".
	Title string
	// ValOnly draws the validation panel only.
	ValOnly bool
	// Width and Height override the figure size; zero means 8 in wide and
	// 1.2 in + 0.45 in per model high.
	Width, Height vg.Length
}

// FoldBoxes draws one box plot per model of its per-fold foreground Dice
// (median, quartiles, Tukey whiskers) with the folds as points on top;
// training and validation side by side, models top to bottom in input
// order.
func FoldBoxes(models []stats.FoldScores, opt *BoxOptions) (*Figure, error) {
	o := valueOf(opt)
	opt = &o
	if err := checkSize("BoxOptions", o.Width, o.Height); err != nil {
		return nil, err
	}
	if len(models) == 0 {
		return nil, fmt.Errorf("%w: FoldBoxes: no models", ErrInput)
	}
	n := len(models)
	names := make([]string, n)
	for i, m := range models {
		names[i] = m.Model
		for f, x := range append(append([]float64(nil), m.Train...), m.Val...) {
			if err := checkFinite(fmt.Sprintf("FoldBoxes: model %q score %d", m.Model, f), x); err != nil {
				return nil, err
			}
		}
	}
	kinds := []string{"Training", "Validation"}
	if opt.ValOnly {
		kinds = kinds[1:]
	}
	var row []*plot.Plot
	drawn := 0
	for k, kind := range kinds {
		p := newPlot(kind, "foreground Dice", "")
		addGrid(p, true, false)
		labels := names
		if k > 0 {
			labels = make([]string, n)
		}
		p.NominalY(reverse(labels)...)
		p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
		for i, m := range models {
			xs := m.Train
			if kind == "Validation" {
				xs = m.Val
			}
			if len(xs) == 0 {
				continue
			}
			drawn++
			y := float64(n - 1 - i)
			b, err := plotter.NewBoxPlot(vg.Points(16), y, plotter.Values(xs))
			if err != nil {
				return nil, fmt.Errorf("%w: FoldBoxes %q: %w", ErrInput, m.Model, err)
			}
			b.Horizontal = true
			c := Colour(i)
			light := c
			light.A = 0x55
			b.FillColor = premultiplied(light)
			b.BoxStyle.Color, b.MedianStyle.Color, b.WhiskerStyle.Color = c, inkBlack, c
			b.MedianStyle.Width = vg.Points(1.5)
			b.GlyphStyle.Radius = 0 // the points below show every fold
			pts := make(plotter.XYs, len(xs))
			for f, x := range xs {
				pts[f] = plotter.XY{X: x, Y: y}
			}
			s, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, fmt.Errorf("%w: FoldBoxes %q: %w", ErrInput, m.Model, err)
			}
			s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(2.5), Shape: draw.RingGlyph{}}
			p.Add(b, s)
		}
		row = append(row, p)
	}
	if drawn == 0 {
		return nil, fmt.Errorf("%w: FoldBoxes: no model has fold scores", ErrInput)
	}
	title := opt.Title
	if title == "" {
		title = "Dice across folds"
	}
	fig, err := NewFigure(title, [][]*plot.Plot{row})
	if err != nil {
		return nil, err
	}
	fig.Width, fig.Height = opt.Width, opt.Height
	if fig.Height == 0 {
		fig.Height = vg.Length(1.2+0.45*float64(n)) * vg.Inch
	}
	return fig, nil
}

// swatch is a legend thumbnail: a filled rectangle.
type swatch color.RGBA

func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(color.RGBA(s), []vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y},
	})
}
