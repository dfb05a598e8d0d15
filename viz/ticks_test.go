package viz_test

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/viz"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/recorder"
)

// textBox is one string the figure drew and the rectangle it covers.
type textBox struct {
	s   string
	box vg.Rectangle
}

// drawnTexts draws f on a recording canvas and returns every string drawn
// with its box (baseline start to width, descent to ascent).
func drawnTexts(t *testing.T, f *viz.Figure) []textBox {
	t.Helper()
	w, h := f.Width, f.Height
	if w == 0 {
		w = viz.DefaultWidth
	}
	if h == 0 {
		h = viz.DefaultHeight
	}
	rec := &recorder.Canvas{}
	c := draw.Canvas{Canvas: rec, Rectangle: vg.Rectangle{Max: vg.Point{X: w, Y: h}}}
	f.Draw(c)
	// m is the current transform (x' = m[0]x + m[1]y + m[2], y' = m[3]x +
	// m[4]y + m[5]), as the canvas's Translate, Rotate, Scale, Push and Pop
	// left it.
	m := [6]float64{1, 0, 0, 0, 1, 0}
	var stack [][6]float64
	mul := func(n [6]float64) {
		m = [6]float64{
			m[0]*n[0] + m[1]*n[3], m[0]*n[1] + m[1]*n[4], m[0]*n[2] + m[1]*n[5] + m[2],
			m[3]*n[0] + m[4]*n[3], m[3]*n[1] + m[4]*n[4], m[3]*n[2] + m[4]*n[5] + m[5],
		}
	}
	apply := func(p vg.Point) (float64, float64) {
		x, y := float64(p.X), float64(p.Y)
		return m[0]*x + m[1]*y + m[2], m[3]*x + m[4]*y + m[5]
	}
	var out []textBox
	for _, a := range rec.Actions {
		switch a := a.(type) {
		case *recorder.Push:
			stack = append(stack, m)
		case *recorder.Pop:
			m, stack = stack[len(stack)-1], stack[:len(stack)-1]
		case *recorder.Translate:
			mul([6]float64{1, 0, float64(a.Point.X), 0, 1, float64(a.Point.Y)})
		case *recorder.Rotate:
			sin, cos := math.Sincos(a.Angle)
			mul([6]float64{cos, -sin, 0, sin, cos, 0})
		case *recorder.Scale:
			mul([6]float64{a.X, 0, 0, 0, a.Y, 0})
		case *recorder.FillString:
			face := font.DefaultCache.Lookup(a.Font, a.Size)
			ext := face.Extents()
			x0, x1 := a.Point.X, a.Point.X+face.Width(a.String)
			y0, y1 := a.Point.Y-ext.Descent, a.Point.Y+ext.Ascent
			box := vg.Rectangle{Min: vg.Point{X: vg.Length(math.Inf(1)), Y: vg.Length(math.Inf(1))},
				Max: vg.Point{X: vg.Length(math.Inf(-1)), Y: vg.Length(math.Inf(-1))}}
			for _, p := range []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}} {
				x, y := apply(p)
				box.Min.X, box.Min.Y = min(box.Min.X, vg.Length(x)), min(box.Min.Y, vg.Length(y))
				box.Max.X, box.Max.Y = max(box.Max.X, vg.Length(x)), max(box.Max.Y, vg.Length(y))
			}
			out = append(out, textBox{a.String, box})
		}
	}
	return out
}

// tickLabel matches the labels of numeric ticks: "0.56", "200 M", "1.5 G".
var tickLabel = regexp.MustCompile(`^-?[0-9.]+( [kMGTPmµ])?$`)

// TestDiceComputeTickLabels draws Figure 8 over compute ranges from a
// single value to four decades, with one to three panels and two figure
// widths, and checks that no tick label overlaps another text of the
// figure and that every compute axis keeps a label (two when the axis has
// room for them).
func TestDiceComputeTickLabels(t *testing.T) {
	type layout struct {
		panels int
		width  vg.Length
	}
	layouts := []layout{{1, 0}, {2, 0}, {3, 0}, {1, 5 * vg.Inch}, {2, 5 * vg.Inch}}
	for _, lo := range []float64{1e8, 1.13e8, 3e9, 7.7e11} {
		for _, ratio := range []float64{1, 1.05, 1.3, 2.2, 3.8, 10, 31, 100, 1e4} {
			for _, l := range layouts {
				name := fmt.Sprintf("%.3g x%.3g %d panels %v pt", lo, ratio, l.panels, l.width)
				var pts []viz.ComputePoint
				for p := 0; p < l.panels; p++ {
					for i, c := range []float64{lo, lo * math.Sqrt(ratio), lo * ratio} {
						pts = append(pts, viz.ComputePoint{Model: fmt.Sprint("model ", i), Task: fmt.Sprint("T", p),
							Compute: c, Dice: 0.5 + 0.1*float64(i), DiceSD: 0.02})
					}
				}
				f, err := viz.DiceCompute(pts, &viz.ComputeOptions{Width: l.width})
				if err != nil {
					t.Fatal(err)
				}
				texts := drawnTexts(t, f)
				for i, a := range texts {
					if !tickLabel.MatchString(a.s) {
						continue
					}
					for j, b := range texts {
						if i != j && overlap(a.box, b.box) {
							t.Errorf("%s: tick label %q at %v overlaps %q at %v", name, a.s, a.box, b.s, b.box)
						}
					}
				}
				// The compute labels sit on the row of the lowest tick labels.
				rows := map[float64][]string{}
				for _, tb := range texts {
					if tickLabel.MatchString(tb.s) && strings.ContainsAny(tb.s, "kMGTP") {
						rows[math.Round(float64(tb.box.Min.Y))] = append(rows[math.Round(float64(tb.box.Min.Y))], tb.s)
					}
				}
				n := 0
				for _, r := range rows {
					n += len(r)
				}
				want := l.panels
				if l.width == 0 && l.panels <= 2 {
					want = 2 * l.panels
				}
				if n < want {
					t.Errorf("%s: %d compute tick labels %v, want at least %d", name, n, rows, want)
				}
			}
		}
	}
}

func overlap(a, b vg.Rectangle) bool {
	return a.Min.X < b.Max.X && b.Min.X < a.Max.X && a.Min.Y < b.Max.Y && b.Min.Y < a.Max.Y
}

// TestDiceComputeAxis checks that the compute axis holds log10 of the
// compute and that its labels read in compute units.
func TestDiceComputeAxis(t *testing.T) {
	f, err := viz.DiceCompute([]viz.ComputePoint{
		{Model: "a", Task: "Heart", Compute: 1.5e12, Dice: 0.8},
		{Model: "b", Task: "Heart", Compute: 2e12, Dice: 0.81},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := f.Panels()[0][0]
	if !(p.X.Min < math.Log10(1.5e12) && p.X.Max > math.Log10(2e12) && p.X.Max < 13) {
		t.Errorf("X range [%g, %g], want log10 of the compute around [12.18, 12.30]", p.X.Min, p.X.Max)
	}
	var labels []string
	for _, tb := range drawnTexts(t, f) {
		if strings.HasSuffix(tb.s, " T") {
			labels = append(labels, tb.s)
		}
	}
	if strings.Join(labels, ",") != "2 T,3 T,4 T,5 T" {
		t.Errorf("compute labels %v, want 2 T to 5 T (every tick on a range under a decade)", labels)
	}
}
