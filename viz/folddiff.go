package viz

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/unetlab/unetlab/internal/samplestat"
	"github.com/unetlab/unetlab/stats"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// FoldScores holds one model's foreground Dice per cross-validation fold:
// Train[f] and Val[f] belong to fold f. Either may be empty when not
// recorded; when both are set they have the same length.
type FoldScores struct {
	Model      string
	Train, Val []float64
}

// FoldDiffOptions configures [FoldDiff] and [FoldDifferences]. The zero
// value compares with the first model, using 10000 bootstrap resamples for
// a 95 % interval with seed 0.
type FoldDiffOptions struct {
	// Title is the figure title; "" means "Fold-wise difference with <baseline>".
	Title string
	// Baseline names the model subtracted fold by fold; "" means the first.
	Baseline string
	// Resamples is the number of bootstrap resamples of the mean; 0 means 10000.
	Resamples int
	// Level is the interval's coverage in (0, 1); 0 means 0.95.
	Level float64
	// Seed seeds the bootstrap; the same seed gives the same interval.
	Seed uint64
	// Width and Height override the figure size; zero means 8 in wide and
	// 1.2 in + 0.45 in per model high.
	Width, Height vg.Length
}

// Difference summarises the per-fold differences model - baseline.
type Difference struct {
	// Folds are the differences, fold by fold.
	Folds []float64
	// Mean and SD are their mean and sample standard deviation (n-1).
	Mean, SD float64
	// Lo and Hi bound the percentile bootstrap interval of the mean.
	Lo, Hi float64
}

// FoldDiffRow is one model's fold-wise difference with the baseline.
// Train or Val is nil when the model or the baseline lacks those scores.
type FoldDiffRow struct {
	Model      string
	Train, Val *Difference
}

func (o FoldDiffOptions) defaults() (FoldDiffOptions, error) {
	if o.Resamples == 0 {
		o.Resamples = 10000
	}
	if o.Level == 0 {
		o.Level = 0.95
	}
	if o.Resamples < 0 {
		return o, fmt.Errorf("%w: FoldDiffOptions.Resamples %d < 0", ErrInput, o.Resamples)
	}
	if !(o.Level > 0 && o.Level < 1) {
		return o, fmt.Errorf("%w: FoldDiffOptions.Level %v outside (0, 1)", ErrInput, o.Level)
	}
	return o, nil
}

// FoldDifferences subtracts the baseline's score of each fold from every
// other model's score of the same fold, for training and validation, and
// summarises each model's differences with their mean, standard deviation
// and a percentile bootstrap interval of the mean. Rows follow the order of
// models, without the baseline.
func FoldDifferences(models []FoldScores, opt FoldDiffOptions) ([]FoldDiffRow, error) {
	opt, err := opt.defaults()
	if err != nil {
		return nil, err
	}
	if len(models) < 2 {
		return nil, fmt.Errorf("%w: FoldDifferences: %d models, want a baseline and at least one other", ErrInput, len(models))
	}
	base := -1
	for i, m := range models {
		if (opt.Baseline == "" && i == 0) || (opt.Baseline != "" && m.Model == opt.Baseline) {
			base = i
			break
		}
	}
	if base < 0 {
		return nil, fmt.Errorf("%w: FoldDifferences: baseline %q not among the models", ErrInput, opt.Baseline)
	}
	for _, m := range models {
		for f, x := range append(append([]float64(nil), m.Train...), m.Val...) {
			if err := checkFinite(fmt.Sprintf("model %q score %d", m.Model, f), x); err != nil {
				return nil, err
			}
		}
	}
	b := models[base]
	var rows []FoldDiffRow
	for i, m := range models {
		if i == base {
			continue
		}
		row := FoldDiffRow{Model: m.Model}
		if row.Train, err = difference(m.Model, "Train", m.Train, b.Train, opt, uint64(i)); err != nil {
			return nil, err
		}
		if row.Val, err = difference(m.Model, "Val", m.Val, b.Val, opt, uint64(i)+1<<32); err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func difference(model, field string, xs, base []float64, opt FoldDiffOptions, stream uint64) (*Difference, error) {
	if len(xs) == 0 || len(base) == 0 {
		return nil, nil
	}
	if len(xs) != len(base) {
		return nil, fmt.Errorf("%w: model %q has %d %s folds, the baseline %d", ErrInput, model, len(xs), field, len(base))
	}
	folds, err := stats.FoldDifferences(xs, base)
	if err != nil {
		return nil, fmt.Errorf("%w: model %q %s: %w", ErrInput, model, field, err)
	}
	d := &Difference{Folds: folds}
	d.Mean, d.SD = meanSD(d.Folds)
	d.Lo, d.Hi = bootstrapMean(d.Folds, opt.Resamples, opt.Level, rand.New(rand.NewPCG(opt.Seed, stream)))
	return d, nil
}

// meanSD is stats.Summarize with the standard deviation of a single fold
// taken as 0 rather than NaN (the figure draws no spread for it). xs holds
// finite values.
func meanSD(xs []float64) (mean, sd float64) {
	s := stats.Summarize(xs)
	if s.N < 2 {
		return s.Mean, 0
	}
	return s.Mean, s.SD
}

// bootstrapMean returns the percentile interval of the mean of xs over
// resamples draws with replacement.
func bootstrapMean(xs []float64, resamples int, level float64, rng *rand.Rand) (lo, hi float64) {
	if resamples == 0 || len(xs) == 0 {
		m, _ := meanSD(xs)
		return m, m
	}
	means := samplestat.BootstrapMeans(xs, resamples, rng.IntN)
	sort.Float64s(means)
	return samplestat.Quantile(means, (1-level)/2), samplestat.Quantile(means, 1-(1-level)/2)
}

// FoldDiff draws the paper's Figure 5: for every model but the baseline,
// the per-fold differences of foreground Dice with the baseline as points
// (one colour per model), their mean as a black diamond with its bootstrap
// interval as a bar, and a dashed zero line; training and validation side
// by side on a common horizontal scale. Models are listed top to bottom in
// input order.
func FoldDiff(models []FoldScores, opt FoldDiffOptions) (*Figure, error) {
	rows, err := FoldDifferences(models, opt)
	if err != nil {
		return nil, err
	}
	opt, _ = opt.defaults()
	baseName := opt.Baseline
	if baseName == "" {
		baseName = models[0].Model
	}
	n := len(rows)
	names := make([]string, n)
	var all []float64
	for i, r := range rows {
		names[i] = r.Model
		for _, d := range []*Difference{r.Train, r.Val} {
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
	title := opt.Title
	if title == "" {
		title = "Fold-wise difference with " + baseName
	}
	fig, err := NewFigure(title, [][]*plot.Plot{panels})
	if err != nil {
		return nil, err
	}
	fold := draw.GlyphStyle{Color: zeroGrey, Radius: vg.Points(3), Shape: draw.CircleGlyph{}}
	fig.AddLegend("fold (model − baseline)", &plotter.Scatter{GlyphStyle: fold})
	fig.AddLegend(fmt.Sprintf("mean and %g%% bootstrap interval", 100*opt.Level),
		ciThumb{draw.LineStyle{Color: inkBlack, Width: vg.Points(1.5)}},
		&plotter.Scatter{GlyphStyle: draw.GlyphStyle{Color: inkBlack, Radius: vg.Points(4), Shape: diamondGlyph{}}})
	fig.Width, fig.Height = opt.Width, opt.Height
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
