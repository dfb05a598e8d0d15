package viz

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

var (
	gridGrey = color.RGBA{R: 0xDD, G: 0xDD, B: 0xDD, A: 0xFF}
	zeroGrey = color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xFF}
	inkBlack = color.RGBA{A: 0xFF}
)

// addGrid adds light grid lines behind the data: vertical ones at the x
// ticks, horizontal ones at the y ticks.
func addGrid(p *plot.Plot, vertical, horizontal bool) {
	g := plotter.NewGrid()
	sty := draw.LineStyle{Color: gridGrey, Width: vg.Points(0.5)}
	g.Vertical, g.Horizontal = draw.LineStyle{}, draw.LineStyle{}
	if vertical {
		g.Vertical = sty
	}
	if horizontal {
		g.Horizontal = sty
	}
	p.Add(g)
}

// refLine draws a straight reference line across the data area: vertical
// at x = v when vertical, else horizontal at y = v. It widens the axis range
// to include v.
type refLine struct {
	vertical bool
	v        float64
	style    draw.LineStyle
}

func (r refLine) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	if r.vertical {
		x := trX(r.v)
		c.StrokeLine2(r.style, x, c.Min.Y, x, c.Max.Y)
		return
	}
	y := trY(r.v)
	c.StrokeLine2(r.style, c.Min.X, y, c.Max.X, y)
}

func (r refLine) DataRange() (xmin, xmax, ymin, ymax float64) {
	if r.vertical {
		return r.v, r.v, math.Inf(1), math.Inf(-1)
	}
	return math.Inf(1), math.Inf(-1), r.v, r.v
}

func zeroLine(vertical bool) refLine {
	return refLine{vertical: vertical, v: 0, style: draw.LineStyle{
		Color: zeroGrey, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}}
}

// finiteSegments splits the points whose Y is finite into runs of
// consecutive points, so that a missing value breaks a line instead of
// failing it.
func finiteSegments(xs, ys []float64) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	for i := range ys {
		if math.IsNaN(ys[i]) || math.IsInf(ys[i], 0) || math.IsNaN(xs[i]) || math.IsInf(xs[i], 0) {
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, plotter.XY{X: xs[i], Y: ys[i]})
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// logTicks marks a log axis with decades (and 2 and 5 times them when
// the range spans less than two decades), labelled with SI prefixes
// ("2 G") when si is set, else as plain numbers ("0.2").
type logTicks struct{ si bool }

func (t logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max > 0) || max < min {
		return nil
	}
	lo := math.Floor(math.Log10(min))
	hi := math.Ceil(math.Log10(max))
	mults := []float64{1}
	if hi-lo <= 2 {
		mults = []float64{1, 2, 5}
	}
	var ticks []plot.Tick
	for e := lo; e <= hi; e++ {
		dec := math.Pow(10, e)
		for m := 1; m < 10; m++ {
			v := dec * float64(m)
			if v < min*0.999 || v > max*1.001 {
				continue
			}
			label := ""
			for _, mm := range mults {
				if float64(m) == mm {
					label = strconv.FormatFloat(v, 'g', 3, 64)
					if t.si {
						label = siFormat(v)
					}
				}
			}
			ticks = append(ticks, plot.Tick{Value: v, Label: label})
		}
	}
	return ticks
}

// siFormat writes v with an SI prefix: 2.5e9 -> "2.5 G".
func siFormat(v float64) string {
	prefixes := []struct {
		p string
		f float64
	}{{"P", 1e15}, {"T", 1e12}, {"G", 1e9}, {"M", 1e6}, {"k", 1e3}, {"", 1}, {"m", 1e-3}, {"µ", 1e-6}}
	av := math.Abs(v)
	for _, p := range prefixes {
		if av >= p.f*0.9995 {
			s := strconv.FormatFloat(v/p.f, 'g', 3, 64)
			if p.p == "" {
				return s
			}
			return s + " " + p.p
		}
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// checkFinite returns an ErrInput error naming field when x is NaN or ±Inf.
func checkFinite(field string, x float64) error {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return fmt.Errorf("%w: %s is %v", ErrInput, field, x)
	}
	return nil
}

// dataRange returns the smallest and largest finite values of xs.
func dataRange(xs ...[]float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range xs {
		for _, x := range s {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	return lo, hi, lo <= hi
}

// diceTicks marks a [0, 1] score axis every 0.1, labelled every 0.2.
type diceTicks struct{}

func (diceTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for i := int(math.Ceil(min*10 - 1e-9)); float64(i) <= max*10+1e-9; i++ {
		t := plot.Tick{Value: float64(i) / 10}
		if i%2 == 0 {
			t.Label = strconv.FormatFloat(t.Value, 'f', 1, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}
