package viz

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ComputePoint is one model's score and compute cost on one task.
type ComputePoint struct {
	// Model labels the point; a model keeps its colour across panels.
	Model string
	// Task names the panel the point goes to ("Heart", "Lung"); points
	// with the same Task share a panel, panels follow first appearance.
	Task string
	// Compute is the cost, > 0, in the unit named by ComputeOptions.XLabel
	// (by default FLOPs, as the paper counts them).
	Compute float64
	// Dice is the validation foreground Dice in [0, 1].
	Dice float64
	// DiceSD, when > 0, draws a ±DiceSD bar (standard deviation over folds).
	DiceSD float64
}

// ComputeOptions configures [DiceCompute]. The zero value gives the
// paper's Figure 8 labels.
type ComputeOptions struct {
	// Title is the figure title; "" means "Dice against compute".
	Title string
	// XLabel is the compute axis label; "" means "compute (FLOPs, log scale)".
	XLabel string
	// Width and Height override the figure size; zero means 8 in by 4.5 in.
	Width, Height vg.Length
}

// DiceCompute draws the paper's Figure 8: validation Dice against compute
// cost on a log axis, one labelled point per model, one panel per task.
func DiceCompute(points []ComputePoint, opt ComputeOptions) (*Figure, error) {
	if len(points) == 0 {
		return nil, fmt.Errorf("%w: DiceCompute: no points", ErrInput)
	}
	var tasks, models []string
	taskIdx, modelIdx := map[string]int{}, map[string]int{}
	for i, pt := range points {
		if !(pt.Compute > 0) || math.IsInf(pt.Compute, 0) {
			return nil, fmt.Errorf("%w: DiceCompute: point %d (%q): Compute %v, want a finite value > 0 (log axis)",
				ErrInput, i, pt.Model, pt.Compute)
		}
		if err := checkFinite(fmt.Sprintf("point %d (%q) Dice", i, pt.Model), pt.Dice); err != nil {
			return nil, err
		}
		if err := checkFinite(fmt.Sprintf("point %d (%q) DiceSD", i, pt.Model), pt.DiceSD); err != nil {
			return nil, err
		}
		if _, ok := taskIdx[pt.Task]; !ok {
			taskIdx[pt.Task] = len(tasks)
			tasks = append(tasks, pt.Task)
		}
		if _, ok := modelIdx[pt.Model]; !ok {
			modelIdx[pt.Model] = len(models)
			models = append(models, pt.Model)
		}
	}
	xlabel := opt.XLabel
	if xlabel == "" {
		xlabel = "compute (FLOPs, log scale)"
	}
	// A common compute range so that panels compare at a glance.
	var cs []float64
	for _, pt := range points {
		cs = append(cs, pt.Compute)
	}
	clo, chi, _ := dataRange(cs)
	row := make([]*plot.Plot, len(tasks))
	for ti, task := range tasks {
		title := task
		if title == "" {
			title = "validation"
		} else {
			title += " validation"
		}
		p := newPlot(title, xlabel, "foreground Dice")
		addGrid(p, true, true)
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{si: true}
		// Room for labels right of the points: half a decade.
		p.X.Min, p.X.Max = clo/math.Pow(10, 0.1), chi*math.Pow(10, 0.45)
		var dlo, dhi = math.Inf(1), math.Inf(-1)
		var lpts plotter.XYs
		var ltxt []string
		for _, pt := range points {
			if pt.Task != task {
				continue
			}
			xy := plotter.XYs{{X: pt.Compute, Y: pt.Dice}}
			s, err := plotter.NewScatter(xy)
			if err != nil {
				return nil, fmt.Errorf("%w: DiceCompute %q: %w", ErrInput, pt.Model, err)
			}
			c := Colour(modelIdx[pt.Model])
			s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(4), Shape: draw.CircleGlyph{}}
			if pt.DiceSD > 0 {
				eb, err := plotter.NewYErrorBars(yErrs{xy, plotter.YErrors{{Low: pt.DiceSD, High: pt.DiceSD}}})
				if err != nil {
					return nil, fmt.Errorf("%w: DiceCompute %q: %w", ErrInput, pt.Model, err)
				}
				eb.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(1.2)}
				eb.CapWidth = vg.Points(5)
				p.Add(eb)
			}
			// A dark rim keeps light colours (yellow) visible on white.
			rim, _ := plotter.NewScatter(xy)
			rim.GlyphStyle = draw.GlyphStyle{Color: zeroGrey, Radius: vg.Points(4), Shape: draw.RingGlyph{}}
			p.Add(s, rim)
			lpts = append(lpts, xy[0])
			ltxt = append(ltxt, pt.Model)
			dlo, dhi = math.Min(dlo, pt.Dice-pt.DiceSD), math.Max(dhi, pt.Dice+pt.DiceSD)
		}
		p.Add(&pointLabels{pts: lpts, texts: ltxt, style: textStyle(legendSize), radius: vg.Points(4)})
		pad := math.Max(0.02, 0.08*(dhi-dlo))
		p.Y.Min, p.Y.Max = math.Max(0, dlo-pad), math.Min(1, dhi+pad)
		if p.Y.Max <= p.Y.Min {
			p.Y.Min, p.Y.Max = 0, 1
		}
		row[ti] = p
	}
	title := opt.Title
	if title == "" {
		title = "Dice against compute"
	}
	fig, err := NewFigure(title, [][]*plot.Plot{row})
	if err != nil {
		return nil, err
	}
	fig.Width, fig.Height = opt.Width, opt.Height
	return fig, nil
}

type yErrs struct {
	plotter.XYs
	plotter.YErrors
}

// pointLabels writes a label beside each point, trying right, left, above,
// below and the diagonals in turn and taking the first place that overlaps
// neither an earlier label nor a point nor the canvas edge.
type pointLabels struct {
	pts    plotter.XYs
	texts  []string
	style  text.Style
	radius vg.Length // glyph radius of the points
}

func (l *pointLabels) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	at := make([]vg.Point, len(l.pts))
	var taken []vg.Rectangle
	for i, pt := range l.pts {
		at[i] = vg.Point{X: trX(pt.X), Y: trY(pt.Y)}
		r := l.radius
		taken = append(taken, vg.Rectangle{Min: vg.Point{X: at[i].X - r, Y: at[i].Y - r}, Max: vg.Point{X: at[i].X + r, Y: at[i].Y + r}})
	}
	gap := l.radius + vg.Points(3)
	for i, txt := range l.texts {
		w, h := l.style.Width(txt), l.style.Height(txt)
		x, y := at[i].X, at[i].Y
		// Lower-left corners of the candidate boxes.
		cands := []vg.Point{
			{X: x + gap, Y: y - h/2}, {X: x - gap - w, Y: y - h/2},
			{X: x - w/2, Y: y + gap}, {X: x - w/2, Y: y - gap - h},
			{X: x + gap*0.7, Y: y + gap*0.7}, {X: x + gap*0.7, Y: y - gap*0.7 - h},
			{X: x - gap*0.7 - w, Y: y + gap*0.7}, {X: x - gap*0.7 - w, Y: y - gap*0.7 - h},
		}
		best := cands[0]
		for _, cand := range cands {
			box := vg.Rectangle{Min: cand, Max: vg.Point{X: cand.X + w, Y: cand.Y + h}}
			if box.Min.X < c.Min.X || box.Max.X > c.Max.X || box.Min.Y < c.Min.Y || box.Max.Y > c.Max.Y {
				continue
			}
			free := true
			for _, t := range taken {
				if overlaps(box, t) {
					free = false
					break
				}
			}
			if free {
				best = cand
				break
			}
		}
		taken = append(taken, vg.Rectangle{Min: best, Max: vg.Point{X: best.X + w, Y: best.Y + h}})
		sty := l.style
		sty.XAlign, sty.YAlign = draw.XLeft, draw.YBottom
		c.FillText(sty, best, txt)
	}
}

func overlaps(a, b vg.Rectangle) bool {
	return a.Min.X < b.Max.X && b.Min.X < a.Max.X && a.Min.Y < b.Max.Y && b.Min.Y < a.Max.Y
}
