package viz_test

import (
	"testing"

	"github.com/unetlab/unetlab/viz"
)

func TestScratch(t *testing.T) {
	f, err := viz.LearningCurves(fixtureRuns(), viz.CurveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs("/tmp/viz/curves.png"); err != nil {
		t.Fatal(err)
	}
	f, err = viz.LearningCurves(fixtureRuns()[:2], viz.CurveOptions{Facet: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs("/tmp/viz/curves_facet.png"); err != nil {
		t.Fatal(err)
	}
	f, err = viz.FoldDiff(heartFolds(), viz.FoldDiffOptions{Title: "Heart: fold-wise difference with U-net"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs("/tmp/viz/folddiff.png"); err != nil {
		t.Fatal(err)
	}
}

func TestScratch2(t *testing.T) {
	f, err := viz.LabelBars(paperTable2(), viz.BarOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs("/tmp/viz/bars.png"); err != nil {
		t.Fatal(err)
	}
	f, err = viz.FoldBoxes(heartFolds(), viz.BoxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs("/tmp/viz/boxes.png"); err != nil {
		t.Fatal(err)
	}
	f, err = viz.DiceCompute(fixtureCompute(), viz.ComputeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs("/tmp/viz/compute.png"); err != nil {
		t.Fatal(err)
	}
	f, _ = viz.FoldDiff(heartFolds(), viz.FoldDiffOptions{Title: "Heart: fold-wise difference with U-net"})
	f.SaveAs("/tmp/viz/folddiff.png")
	tb, _ := viz.Table2(paperTable2(), viz.TableOptions{})
	t.Log("\n" + tb.String())
}
