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

// ComputeOptions configures [DiceCompute]. nil or the zero value gives
// the paper's Figure 8 labels.
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
//
// The compute axis of each panel holds log10(Compute) on a linear scale,
// its ticks labelled in compute units ("200 M", "1 G"): gonum/plot's log
// scale places a centred axis label off-centre when it lays out the axis,
// which squeezes the data area of narrow panels. Plotters added to
// [Figure.Panels] must use log10 of the compute as X. The tick labels are
// chosen when the figure is drawn, for the axis length it gets: 1, 2, 3,
// ..., 9 or 1, 2 and 5 times powers of ten, decades, or every k-th decade,
// the densest set whose labels do not overlap.
func DiceCompute(points []ComputePoint, opt *ComputeOptions) (*Figure, error) {
	o := valueOf(opt)
	opt = &o
	if err := checkSize("ComputeOptions", o.Width, o.Height); err != nil {
		return nil, err
	}
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
		p.X.Tick.Marker = &computeTicks{style: p.X.Tick.Label}
		// Room for labels right of the points: half a decade.
		p.X.Min, p.X.Max = math.Log10(clo)-0.1, math.Log10(chi)+0.45
		var dlo, dhi = math.Inf(1), math.Inf(-1)
		var lpts plotter.XYs
		var ltxt []string
		for _, pt := range points {
			if pt.Task != task {
				continue
			}
			xy := plotter.XYs{{X: math.Log10(pt.Compute), Y: pt.Dice}}
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

// computeTicks marks DiceCompute's axis of log10(compute): a tick at every
// 1..9 times a power of ten, labelled (with an SI prefix) on the densest of
// these sets whose labels, as wide as style draws them, keep apart on an
// axis of the length the figure last gave it (fitTo): every tick (when the
// axis spans less than a decade and a half), 1, 2 and 5 times each decade,
// each decade, every second, third, fifth or tenth decade. When none fits
// (or before fitTo), one tick near the middle is labelled.
type computeTicks struct {
	style  text.Style
	length vg.Length // the axis length in points; 0 until fitTo
}

func (t *computeTicks) fitTo(length vg.Length) { t.length = length }

// labelGap is the least blank between two tick labels.
const labelGap = vg.Length(6)

func (t *computeTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) || math.IsInf(min, 0) || math.IsInf(max, 0) {
		return nil
	}
	type mark struct {
		e, m int // value m * 10^e
		x    float64
	}
	var marks []mark
	for e := int(math.Floor(min)); e <= int(math.Ceil(max)); e++ {
		for m := 1; m < 10; m++ {
			x := float64(e) + math.Log10(float64(m))
			if x >= min-1e-9 && x <= max+1e-9 {
				marks = append(marks, mark{e, m, x})
			}
		}
	}
	label := func(k mark) string { return siFormat(float64(k.m) * math.Pow(10, float64(k.e))) }
	// fits reports whether the labels of the marks keep picks apart.
	fits := func(keep func(mark) bool) ([]bool, bool) {
		on := make([]bool, len(marks))
		n := 0
		prevX, prevW := 0.0, vg.Length(0)
		for i, k := range marks {
			if !keep(k) {
				continue
			}
			on[i] = true
			x := (k.x - min) / (max - min) * float64(t.length)
			w := t.style.Width(label(k))
			if n > 0 && vg.Length(x-prevX) < (w+prevW)/2+labelGap {
				return nil, false
			}
			prevX, prevW = x, w
			n++
		}
		return on, n > 0
	}
	sets := []func(mark) bool{
		func(k mark) bool { return k.m == 1 || k.m == 2 || k.m == 5 },
		func(k mark) bool { return k.m == 1 },
	}
	if max-min < 1.5 {
		sets = append([]func(mark) bool{func(mark) bool { return true }}, sets...)
	}
	for _, every := range []int{2, 3, 5, 10} {
		sets = append(sets, func(k mark) bool { return k.m == 1 && k.e%every == 0 })
	}
	var on []bool
	if t.length > 0 {
		for _, keep := range sets {
			if o, ok := fits(keep); ok {
				on = o
				break
			}
		}
	}
	if on == nil && len(marks) > 0 {
		// One label: the mark nearest the middle, preferring decades.
		on = make([]bool, len(marks))
		best, mid := -1, (min+max)/2
		for i, k := range marks {
			if best < 0 || (k.m == 1) != (marks[best].m == 1) && k.m == 1 ||
				(k.m == 1) == (marks[best].m == 1) && math.Abs(k.x-mid) < math.Abs(marks[best].x-mid) {
				best = i
			}
		}
		on[best] = true
	}
	ticks := make([]plot.Tick, len(marks))
	for i, k := range marks {
		ticks[i].Value = k.x
		if on[i] {
			ticks[i].Label = label(k)
		}
	}
	return ticks
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
