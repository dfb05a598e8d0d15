package viz_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/train"
	"github.com/unetlab/unetlab/viz"
	"github.com/unetlab/unetlab/volume"
)

// TestLearningCurvesRunRecord draws a run record as train writes it to
// record.json, read back: unnamed (labelled by its architecture) and with
// a validation score left null (NaN), which breaks the line.
func TestLearningCurvesRunRecord(t *testing.T) {
	rec := `{"ID": "r1", "Settings": {"Model": {"Arch": "ConvSkip"}}, "Epochs": [
		{"Epoch": 1, "TrainLoss": 1.2, "ValLoss": 1.3, "TrainDice": 0.2, "ValDice": null},
		{"Epoch": 2, "TrainLoss": 0.9, "ValLoss": 1.0, "TrainDice": 0.4, "ValDice": 0.35},
		{"Epoch": 3, "TrainLoss": 0.7, "ValLoss": 0.8, "TrainDice": 0.6, "ValDice": 0.5}]}`
	run := new(train.Run)
	if err := json.Unmarshal([]byte(rec), run); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(run.Epochs[0].ValDice) || run.Settings.Model.Arch != models.ConvSkip {
		t.Fatalf("record read as %+v", run)
	}
	fig, err := viz.LearningCurves([]*train.Run{run}, &viz.CurveOptions{Facet: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := fig.Panels()[0][0].Title.Text; got != "ConvSkip: loss" {
		t.Errorf("panel title %q, want the architecture", got)
	}
	if _, err := fig.PNG(); err != nil {
		t.Fatal(err)
	}
	if _, err := viz.LearningCurves([]*train.Run{run, nil}, nil); !errors.Is(err, viz.ErrInput) {
		t.Errorf("nil run: %v", err)
	}
}

// TestOptionErrorsNameTheField: an invalid option is ErrOptions and names
// the one field at fault.
func TestOptionErrorsNameTheField(t *testing.T) {
	img := marker([3]int{4, 4, 4}, "RAS", [3]int{1, 1, 1})
	runs := fixtureRuns()
	cases := []struct {
		field string
		run   func() error
	}{
		{"ViewOptions.Alpha 2", func() error { _, err := viz.Slice(img, viz.Axial, 0, &viz.ViewOptions{Alpha: 2}); return err }},
		{"ViewOptions.PixelSize -1", func() error { _, err := viz.Slice(img, viz.Axial, 0, &viz.ViewOptions{PixelSize: -1}); return err }},
		{"ViewOptions.Channel 3", func() error { _, err := viz.Slice(img, viz.Axial, 0, &viz.ViewOptions{Channel: 3}); return err }},
		{"ViewOptions.Columns -2", func() error { _, err := viz.Montage(img, viz.Axial, 2, &viz.ViewOptions{Columns: -2}); return err }},
		{"ScrollOptions.MaxFrames -1", func() error {
			_, err := viz.NewScroller(img, viz.Axial, &viz.ScrollOptions{MaxFrames: -1})
			return err
		}},
		{"CurveOptions.Height -1", func() error { _, err := viz.LearningCurves(runs, &viz.CurveOptions{Height: -1}); return err }},
		{"BarOptions.Width -3", func() error { _, err := viz.LabelBars(paperTable2(), &viz.BarOptions{Width: -3}); return err }},
		{"TableOptions.Digits -1", func() error { _, err := viz.Table2(paperTable2(), &viz.TableOptions{Digits: -1}); return err }},
		{"BoxOptions.Height -1", func() error { _, err := viz.FoldBoxes(heartFolds(), &viz.BoxOptions{Height: -1}); return err }},
		{"FoldDiffOptions.Width -1", func() error {
			_, err := viz.FoldDiff(compare(heartFolds(), nil), &viz.FoldDiffOptions{Width: -1})
			return err
		}},
		{"ComputeOptions.Width -1", func() error { _, err := viz.DiceCompute(fixtureCompute(), &viz.ComputeOptions{Width: -1}); return err }},
	}
	for _, c := range cases {
		t.Run(c.field, func(t *testing.T) {
			err := c.run()
			if !errors.Is(err, viz.ErrOptions) || !strings.Contains(err.Error(), c.field) {
				t.Errorf("err = %v, want ErrOptions naming %q", err, c.field)
			}
		})
	}
}

// TestChannel shows one channel of a two-channel volume: the marker of
// channel 1 only where ViewOptions.Channel asks for it.
func TestChannel(t *testing.T) {
	v := volume.New([3]int{3, 3, 1}, 2)
	v.Set(1, 0, 0, 0, 1000)
	for _, c := range []struct {
		channel int
		white   int
	}{{0, 0}, {1, 1}} {
		opt := *oneToOne
		opt.Channel = c.channel
		s, err := viz.Slice(v, viz.Axial, 0, &opt)
		if err != nil {
			t.Fatal(err)
		}
		img := decodeView(t, s)
		if got := whitePixels(img, s.PanelBounds(0)); len(got) != c.white {
			t.Errorf("channel %d: white pixels %v, want %d", c.channel, got, c.white)
		}
	}
}

// TestOrientationFromAffine: the same voxels stored LPS (the Decathlon's
// CT) and RAS show the marker on opposite sides: the affine, read by
// viz, decides, not the storage order.
func TestOrientationFromAffine(t *testing.T) {
	p := [3]int{0, 0, 0}
	ras := marker([3]int{4, 4, 1}, "RAS", p)
	lps := marker([3]int{4, 4, 1}, "LPS", p)
	got := map[string][]image2{}
	for name, v := range map[string]*volume.Volume{"RAS": ras, "LPS": lps} {
		s, err := viz.Slice(v, viz.Axial, 0, oneToOne)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range whitePixels(decodeView(t, s), s.PanelBounds(0)) {
			got[name] = append(got[name], image2{q.X, q.Y})
		}
	}
	// RAS: voxel x = 0 is the patient's leftmost, shown on the image's
	// right (radiological), and y = 0 the most posterior, shown at the
	// bottom. LPS: x = 0 is the rightmost (image left), y = 0 the most
	// anterior (top).
	if len(got["RAS"]) != 1 || len(got["LPS"]) != 1 || got["RAS"][0] != (image2{3, 3}) || got["LPS"][0] != (image2{0, 0}) {
		t.Errorf("marker at RAS %v, LPS %v; want (3, 3) and (0, 0)", got["RAS"], got["LPS"])
	}
}

type image2 struct{ x, y int }

func TestLabelCentre(t *testing.T) {
	lab := volume.New([3]int{5, 6, 7}, 1)
	if got := viz.LabelCentre(lab); got != [3]int{2, 3, 3} {
		t.Errorf("empty map: %v, want the central voxel", got)
	}
	lab.Set(0, 1, 2, 3, 1)
	lab.Set(0, 3, 2, 5, 2)
	if got := viz.LabelCentre(lab); got != [3]int{2, 2, 4} {
		t.Errorf("two voxels: %v, want (2, 2, 4)", got)
	}
	if got := viz.LabelCentre(nil); got != [3]int{} {
		t.Errorf("nil: %v", got)
	}
}
