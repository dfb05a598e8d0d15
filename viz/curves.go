package viz

import (
	"fmt"
	"math"

	"image/color"

	"github.com/unetlab/unetlab/train"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// CurveOptions configures [LearningCurves]. nil or the zero value
// overlays every run in one loss panel and one Dice panel.
type CurveOptions struct {
	// Title is the figure title; "" means "Learning curves".
	Title string
	// Facet draws one row (loss | Dice) per run instead of overlaying runs.
	Facet bool
	// LogLoss puts the loss axis on a log scale (all losses must be > 0).
	LogLoss bool
	// LossLabel is the loss axis label; "" means "loss (Dice + CE)".
	LossLabel string
	// Width and Height override the figure size, >= 0; zero means 8 in
	// wide and 4.5 in high (overlay) or 2.4 in per run (facets).
	Width, Height vg.Length
}

// checkSize checks the Width and Height fields of an options struct.
func checkSize(options string, w, h vg.Length) error {
	for _, f := range []struct {
		name string
		v    vg.Length
	}{{"Width", w}, {"Height", h}} {
		if !(f.v >= 0) || math.IsInf(float64(f.v), 0) {
			return fmt.Errorf("%w: %s.%s %v, want a finite size >= 0 (0 means the default)", ErrOptions, options, f.name, f.v)
		}
	}
	return nil
}

var (
	solid  []vg.Length
	dashed = []vg.Length{vg.Points(5), vg.Points(3)}
)

// LearningCurves draws loss and Dice per epoch for training (solid lines)
// and validation (dashed lines) of each run record (what train.Fit,
// train.Resume and train.ReadRun return; train.CVResult.Runs gives a
// cross-validation's): overlaid with a colour per run, or faceted with one
// row per run. A run is named by its Name, else its architecture. Scores
// that were not recorded (NaN) break the line. Dice axes span [0, 1].
func LearningCurves(runs []*train.Run, opt *CurveOptions) (*Figure, error) {
	o := valueOf(opt)
	if err := checkSize("CurveOptions", o.Width, o.Height); err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("%w: LearningCurves: no runs", ErrInput)
	}
	for i, r := range runs {
		if r == nil {
			return nil, fmt.Errorf("%w: LearningCurves: run %d is nil", ErrInput, i)
		}
		if len(r.Epochs) == 0 {
			return nil, fmt.Errorf("%w: LearningCurves: run %d (%q) has no epochs", ErrInput, i, runName(r))
		}
		for _, e := range r.Epochs {
			if o.LogLoss && (e.TrainLoss <= 0 || e.ValLoss <= 0) {
				return nil, fmt.Errorf("%w: LearningCurves: run %q epoch %d: loss <= 0 on a log axis",
					ErrInput, runName(r), e.Epoch)
			}
		}
	}
	opt = &o
	title := opt.Title
	if title == "" {
		title = "Learning curves"
	}
	lossLabel := opt.LossLabel
	if lossLabel == "" {
		lossLabel = "loss (Dice + CE)"
	}
	newPanels := func(name string) (loss, dice *plot.Plot) {
		lt, dt := "Loss", "Dice"
		if name != "" {
			lt, dt = name+": loss", name+": Dice"
		}
		loss = newPlot(lt, "epoch", lossLabel)
		dice = newPlot(dt, "epoch", "foreground Dice")
		addGrid(loss, true, true)
		addGrid(dice, true, true)
		if opt.LogLoss {
			loss.Y.Scale = plot.LogScale{}
			loss.Y.Tick.Marker = logTicks{}
		}
		dice.Y.Min, dice.Y.Max = 0, 1
		dice.Y.Tick.Marker = diceTicks{}
		return loss, dice
	}
	var panels [][]*plot.Plot
	var legend []legendItem
	if !opt.Facet {
		loss, dice := newPanels("")
		for i, r := range runs {
			c := Colour(i)
			if err := addCurves(loss, dice, r, c, c); err != nil {
				return nil, err
			}
			sw := draw.LineStyle{Color: c, Width: vg.Points(2)}
			legend = append(legend, legendItem{runName(r), []plot.Thumbnailer{legendLine(sw)}})
		}
		grey := draw.LineStyle{Color: zeroGrey, Width: vg.Points(1.5)}
		legend = append(legend, legendItem{"train", []plot.Thumbnailer{legendLine(grey)}})
		grey.Dashes = dashed
		legend = append(legend, legendItem{"validation", []plot.Thumbnailer{legendLine(grey)}})
		panels = [][]*plot.Plot{{loss, dice}}
	} else {
		for _, r := range runs {
			loss, dice := newPanels(runName(r))
			if err := addCurves(loss, dice, r, Colour(0), Colour(1)); err != nil {
				return nil, err
			}
			panels = append(panels, []*plot.Plot{loss, dice})
		}
		legend = []legendItem{
			{"train", []plot.Thumbnailer{legendLine(draw.LineStyle{Color: Colour(0), Width: vg.Points(1.5)})}},
			{"validation", []plot.Thumbnailer{legendLine(draw.LineStyle{Color: Colour(1), Width: vg.Points(1.5), Dashes: dashed})}},
		}
	}
	fig, err := NewFigure(title, panels)
	if err != nil {
		return nil, err
	}
	fig.legend = legend
	fig.Width, fig.Height = opt.Width, opt.Height
	if fig.Height == 0 && opt.Facet {
		fig.Height = vg.Length(math.Max(4.5, 0.6+2.4*float64(len(runs)))) * vg.Inch
	}
	return fig, nil
}

// addCurves adds run r's four series, train in trainC (solid) and
// validation in valC (dashed).
func addCurves(loss, dice *plot.Plot, r *train.Run, trainC, valC color.Color) error {
	n := len(r.Epochs)
	xs := make([]float64, n)
	tl, vl, td, vd := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, e := range r.Epochs {
		xs[i] = float64(e.Epoch)
		tl[i], vl[i], td[i], vd[i] = e.TrainLoss, e.ValLoss, e.TrainDice, e.ValDice
	}
	series := []struct {
		p    *plot.Plot
		ys   []float64
		c    color.Color
		dash []vg.Length
	}{
		{loss, tl, trainC, solid},
		{loss, vl, valC, dashed},
		{dice, td, trainC, solid},
		{dice, vd, valC, dashed},
	}
	for _, s := range series {
		sty := draw.LineStyle{Color: s.c, Width: vg.Points(1.5), Dashes: s.dash}
		for _, seg := range finiteSegments(xs, s.ys) {
			l, err := plotter.NewLine(seg)
			if err != nil {
				return fmt.Errorf("%w: run %q: %w", ErrInput, runName(r), err)
			}
			l.LineStyle = sty
			s.p.Add(l)
		}
	}
	return nil
}

// runName labels a run: its Name, else its architecture.
func runName(r *train.Run) string {
	if r.Name != "" {
		return r.Name
	}
	return string(r.Settings.Model.Arch)
}

func legendLine(sty draw.LineStyle) plot.Thumbnailer {
	return &plotter.Line{LineStyle: sty}
}
