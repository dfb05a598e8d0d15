package viz_test

import (
	"errors"
	"math"
	"testing"

	"github.com/unetlab/unetlab/stats"
	"github.com/unetlab/unetlab/train"
	"github.com/unetlab/unetlab/viz"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// TestEdgeCases draws degenerate but valid input without error or panic.
func TestEdgeCases(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		name string
		run  func() (interface{ PNG() ([]byte, error) }, error)
	}{
		{"one fold", func() (interface{ PNG() ([]byte, error) }, error) {
			return viz.FoldDiff(compare([]stats.FoldScores{{Model: "a", Val: []float64{0.5}}, {Model: "b", Val: []float64{0.6}}}, nil), nil)
		}},
		{"one fold box", func() (interface{ PNG() ([]byte, error) }, error) {
			return viz.FoldBoxes([]stats.FoldScores{{Model: "a", Val: []float64{0.5}}}, nil)
		}},
		{"missing epochs", func() (interface{ PNG() ([]byte, error) }, error) {
			return viz.LearningCurves([]*train.Run{{Name: "r", Epochs: []train.Epoch{
				{Epoch: 1, TrainLoss: 1, ValLoss: nan, TrainDice: 0.1, ValDice: nan},
				{Epoch: 2, TrainLoss: nan, ValLoss: nan, TrainDice: nan, ValDice: nan},
				{Epoch: 3, TrainLoss: 0.5, ValLoss: 0.6, TrainDice: 0.5, ValDice: 0.4}}}}, nil)
		}},
		{"all missing", func() (interface{ PNG() ([]byte, error) }, error) {
			return viz.LearningCurves([]*train.Run{{Name: "r", Epochs: []train.Epoch{{Epoch: 1, TrainLoss: nan, ValLoss: nan, TrainDice: nan, ValDice: nan}}}}, nil)
		}},
		{"one compute point", func() (interface{ PNG() ([]byte, error) }, error) {
			return viz.DiceCompute([]viz.ComputePoint{{Model: "a", Compute: 3e9, Dice: 1}}, nil)
		}},
		{"tiny bars", func() (interface{ PNG() ([]byte, error) }, error) {
			return viz.LabelBars(&stats.ScoreTable{Models: []string{"a"}, Rows: []stats.ScoreRow{{Task: "t", Label: "l", Scores: []float64{0}}}}, nil)
		}},
		{"1x1x1 volume", func() (interface{ PNG() ([]byte, error) }, error) {
			return viz.Orthogonal(vol([]float32{float32(nan)}, [3]int{1, 1, 1}, [3]float64{}, ""), [3]int{}, &viz.ViewOptions{Crosshair: true})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := c.run()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.PNG(); err != nil {
				t.Fatal(err)
			}
		})
	}
	// Too small a figure is an error, not a panic.
	_, err := viz.LabelBars(&stats.ScoreTable{Models: []string{"a"}, Rows: []stats.ScoreRow{{Scores: []float64{0.5}}}}, &viz.BarOptions{Height: 10})
	if err == nil {
		t.Error("LabelBars 10 points high succeeded")
	}
}

// TestBadVolumes: volumes and options that used to slip through the checks
// (a shape whose voxel count overflows, a pixel size so small the panel
// size overflows, a negative series index) give errors or colours, not
// panics or 1-pixel panels.
func TestBadVolumes(t *testing.T) {
	huge := vol(nil, [3]int{1 << 32, 1 << 32, 1}, [3]float64{}, "")
	if _, err := viz.Slice(huge, viz.Axial, 0, nil); err == nil {
		t.Error("Slice of an overflowing shape with no data succeeded")
	}
	if _, err := viz.AutoWindow(huge, 0, 1, 99); err == nil {
		t.Error("AutoWindow of an overflowing shape with no data succeeded")
	}
	v := vol(make([]float32, 8), [3]int{2, 2, 2}, [3]float64{}, "")
	if _, err := viz.Slice(v, viz.Axial, 0, &viz.ViewOptions{PixelSize: 1e-300}); err == nil {
		t.Error("Slice with PixelSize 1e-300 mm succeeded")
	}
	if c := viz.Colour(math.MinInt); c.A != 255 {
		t.Errorf("Colour(MinInt) = %v", c)
	}
}

// TestFigureTooLarge: a figure whose PNG would not fit in memory is an
// error (it was a fatal out-of-memory), and a zero Figure neither encodes
// nor panics when drawn.
func TestFigureTooLarge(t *testing.T) {
	f, err := viz.NewFigure("x", [][]*plot.Plot{{plot.New()}})
	if err != nil {
		t.Fatal(err)
	}
	f.Width = 1e9 * vg.Inch
	if _, err := f.PNG(); !errors.Is(err, viz.ErrInput) {
		t.Errorf("PNG 1e9 inches wide: err = %v, want ErrInput", err)
	}
	if _, err := f.SVG(); err != nil {
		t.Logf("SVG 1e9 inches wide: %v", err)
	}
	var z viz.Figure
	if _, err := z.PNG(); !errors.Is(err, viz.ErrInput) {
		t.Errorf("zero Figure: err = %v, want ErrInput", err)
	}
	c := vgimg.New(100, 100)
	z.Draw(draw.New(c))
}
