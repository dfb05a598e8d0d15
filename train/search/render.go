package search

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/viz"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// methodName is the method's name as tables and figures print it.
func (r *Result) methodName() string {
	switch r.Method {
	case TPE:
		return "TPE"
	case GP:
		return "GP (" + string(r.Kernel) + ")"
	case Random:
		return "random search"
	}
	return string(r.Method)
}

// Table returns the trials as a table, one row per trial: the rate, the
// value, the best value so far, how the rate was chosen, the objective's
// time and its error for failed trials. The best trial is in bold.
func (r *Result) Table() *viz.Table {
	t := &viz.Table{
		Title:       fmt.Sprintf("Learning-rate search: %s, %d trials, seed %d", r.methodName(), len(r.Trials), r.Seed),
		Header:      []string{"trial", "learning rate", "value", "best so far", "chosen by", "time", "error"},
		NumericFrom: 1,
	}
	best, ok := r.Best()
	runningBest, any := 0.0, false
	for _, tr := range r.Trials {
		value := strconv.FormatFloat(tr.Value, 'f', 4, 64)
		if tr.Failed() {
			value = "failed"
		} else if !any || tr.Value > runningBest {
			runningBest, any = tr.Value, true
		}
		sofar := "–"
		if any {
			sofar = strconv.FormatFloat(runningBest, 'f', 4, 64)
		}
		t.Rows = append(t.Rows, []string{
			strconv.Itoa(tr.Index), fmt.Sprintf("%.3e", tr.LR), value, sofar, tr.Source,
			fmt.Sprintf("%.1f s", tr.Duration.Seconds()), tr.Err,
		})
		isBest := ok && tr.Index == best.Index
		t.Bold = append(t.Bold, []bool{isBest, isBest, isBest})
	}
	if ok {
		t.Caption = fmt.Sprintf("Best: learning rate %.3e (trial %d), value %.4f. Range [%g, %g], log-uniform.",
			best.LR, best.Index, best.Value, r.Low, r.High)
	} else {
		t.Caption = fmt.Sprintf("No successful trial yet. Range [%g, %g], log-uniform.", r.Low, r.High)
	}
	return t
}

// Render shows the trials table (text/html and text/plain).
func (r *Result) Render() display.Bundle { return r.Table().Render() }

// String returns the trials table as plain text.
func (r *Result) String() string { return r.Table().String() }

// Plot draws the search: on the left the value of each successful trial
// against its learning rate on a log axis, the best one circled (and, for a
// GP search, the fitted posterior mean with a ±2 standard deviation band);
// on the right each trial's value and the best so far by trial number.
// The error wraps viz.ErrInput when no trial succeeded.
func (r *Result) Plot() (*viz.Figure, error) {
	var pts, order plotter.XYs
	var bestLine plotter.XYs
	running, any := 0.0, false
	var ok []Trial
	for _, t := range r.Trials {
		if t.Failed() {
			continue
		}
		ok = append(ok, t)
		pts = append(pts, plotter.XY{X: t.LR, Y: t.Value})
		order = append(order, plotter.XY{X: float64(t.Index), Y: t.Value})
		if !any || t.Value > running {
			running, any = t.Value, true
		}
		bestLine = append(bestLine, plotter.XY{X: float64(t.Index), Y: running})
	}
	if len(ok) == 0 {
		return nil, fmt.Errorf("%w: search: Plot: no successful trial", viz.ErrInput)
	}
	best, _ := r.Best()

	left := newPlot("Objective against learning rate", "learning rate (log scale)", "objective")
	left.X.Scale = plot.LogScale{}
	left.X.Tick.Marker = decadeTicks{}
	left.X.Min, left.X.Max = r.Low, r.High
	left.Add(newGrid())

	var legend []legendEntry
	if r.Method == GP && len(ok) >= 2 {
		s := &Searcher{opt: Options{Kernel: r.Kernel, Low: r.Low, High: r.High}, lo: math.Log10(r.Low), hi: math.Log10(r.High)}
		if g, fitted := s.fitTrials(ok); fitted {
			const n = 200
			mean := make(plotter.XYs, n)
			band := make(plotter.XYs, 2*n)
			for i := 0; i < n; i++ {
				u := float64(i) / (n - 1)
				lr := math.Pow(10, s.lo+u*(s.hi-s.lo))
				mu, sd := g.predict(u)
				mean[i] = plotter.XY{X: lr, Y: mu}
				band[i] = plotter.XY{X: lr, Y: mu + 2*sd}
				band[2*n-1-i] = plotter.XY{X: lr, Y: mu - 2*sd}
			}
			poly, err := plotter.NewPolygon(band)
			if err != nil {
				return nil, fmt.Errorf("%w: search: Plot: %v", viz.ErrDraw, err)
			}
			c := viz.Colour(1)
			poly.Color = color.NRGBA{R: c.R, G: c.G, B: c.B, A: 0x50}
			poly.LineStyle.Width = 0
			line, err := plotter.NewLine(mean)
			if err != nil {
				return nil, fmt.Errorf("%w: search: Plot: %v", viz.ErrDraw, err)
			}
			line.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(1.5)}
			left.Add(poly, line)
			legend = append(legend, legendEntry{"GP mean ± 2 sd", []plot.Thumbnailer{poly, line}})
		}
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, fmt.Errorf("%w: search: Plot: %v", viz.ErrInput, err)
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: viz.Colour(0), Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}}
	ring, err := plotter.NewScatter(plotter.XYs{{X: best.LR, Y: best.Value}})
	if err != nil {
		return nil, fmt.Errorf("%w: search: Plot: %v", viz.ErrInput, err)
	}
	ring.GlyphStyle = draw.GlyphStyle{Color: viz.Colour(3), Radius: vg.Points(7), Shape: draw.RingGlyph{}}
	left.Add(sc, ring)
	legend = append(legend,
		legendEntry{"trial", []plot.Thumbnailer{sc}},
		legendEntry{fmt.Sprintf("best: lr %.2e, %.4f", best.LR, best.Value), []plot.Thumbnailer{ring}})

	right := newPlot("Progress", "trial", "objective")
	right.Add(newGrid())
	sc2, err := plotter.NewScatter(order)
	if err != nil {
		return nil, fmt.Errorf("%w: search: Plot: %v", viz.ErrInput, err)
	}
	sc2.GlyphStyle = sc.GlyphStyle
	steps, err := plotter.NewLine(bestLine)
	if err != nil {
		return nil, fmt.Errorf("%w: search: Plot: %v", viz.ErrInput, err)
	}
	steps.StepStyle = plotter.PostStep
	steps.LineStyle = draw.LineStyle{Color: viz.Colour(3), Width: vg.Points(1.5)}
	right.Add(sc2, steps)
	right.X.Min = 0.5
	right.X.Max = math.Max(float64(len(r.Trials))+0.5, 1.5)
	legend = append(legend, legendEntry{"best so far", []plot.Thumbnailer{steps}})

	fig, err := viz.NewFigure(fmt.Sprintf("Learning-rate search (%s, seed %d)", r.methodName(), r.Seed),
		[][]*plot.Plot{{left, right}})
	if err != nil {
		return nil, err
	}
	for _, e := range legend {
		fig.AddLegend(e.name, e.thumbs...)
	}
	fig.Height = 4 * vg.Inch
	return fig, nil
}

type legendEntry struct {
	name   string
	thumbs []plot.Thumbnailer
}

// plotFont is the typeface of package viz's figures.
var plotFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

// newPlot returns a plot in package viz's style: its fonts and sizes.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(plotFont, 11.5)
	p.Title.Padding = vg.Points(4)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(plotFont, 11)
		a.Tick.Label.Font = font.From(plotFont, 9.5)
		a.Label.Padding = vg.Points(3)
	}
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	return p
}

// newGrid returns light grey grid lines, as package viz draws them.
func newGrid() *plotter.Grid {
	g := plotter.NewGrid()
	sty := draw.LineStyle{Color: color.RGBA{R: 0xDD, G: 0xDD, B: 0xDD, A: 0xFF}, Width: vg.Points(0.5)}
	g.Vertical, g.Horizontal = sty, sty
	return g
}

// decadeTicks marks a log axis with a labelled tick at each power of ten
// ("1e-05", "0.001") and unlabelled ones at 2 to 9 times it.
type decadeTicks struct{}

func (decadeTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max >= min) {
		return nil
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		for m := 1; m < 10; m++ {
			v := float64(m) * math.Pow(10, e)
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
