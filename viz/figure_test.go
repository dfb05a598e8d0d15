package viz_test

import (
	"bytes"
	"errors"
	"flag"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/stats"
	"github.com/unetlab/unetlab/train"
	"github.com/unetlab/unetlab/viz"
	"gonum.org/v1/plot"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// assertOnlyFiles fails unless dir holds exactly names (no temporary
// files left behind by an atomic write).
func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	sort.Strings(got)
	sort.Strings(names)
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("directory holds %v, want %v", got, names)
	}
}

// paperFigures builds every figure from the fixture data.
func paperFigures(t *testing.T) map[string]*viz.Figure {
	t.Helper()
	figs := map[string]*viz.Figure{}
	var err error
	must := func(name string, f *viz.Figure, err error) {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		figs[name] = f
	}
	f, err := viz.LearningCurves(fixtureRuns(), nil)
	must("curves", f, err)
	f, err = viz.LearningCurves(fixtureRuns()[:2], &viz.CurveOptions{Facet: true, LogLoss: true})
	must("curves_facet", f, err)
	f, err = viz.FoldDiff(compare(heartFolds(), nil), &viz.FoldDiffOptions{Title: "Figure 5 (Heart): fold-wise difference with U-net"})
	must("fig5_folddiff", f, err)
	f, err = viz.DiceCompute(fixtureCompute(), &viz.ComputeOptions{Title: "Figure 8: Dice against compute (illustrative costs)"})
	must("fig8_compute", f, err)
	f, err = viz.LabelBars(paperTable2(), &viz.BarOptions{Title: "Table 2 as a chart: test Dice per task and label"})
	must("table2_bars", f, err)
	f, err = viz.FoldBoxes(heartFolds(), &viz.BoxOptions{Title: "Heart: Dice across folds"})
	must("boxes", f, err)
	return figs
}

func TestFigureFormats(t *testing.T) {
	for name, f := range paperFigures(t) {
		t.Run(name, func(t *testing.T) {
			b := f.Render()
			data, ok := b[display.MIMEPNG].([]byte)
			if !ok {
				t.Fatalf("no PNG in bundle: %s", b.Text())
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			w, h := f.PixelSize()
			if img.Bounds().Dx() != w || img.Bounds().Dy() != h {
				t.Errorf("PNG %v, PixelSize %dx%d", img.Bounds(), w, h)
			}
			if w < 500 || w > 1000 {
				t.Errorf("width %d px does not fit a notebook column", w)
			}
			svg, ok := b[display.MIMESVG].(string)
			if !ok {
				t.Fatal("no SVG in bundle")
			}
			parseXML(t, []byte(svg))
			if !strings.Contains(b.Text(), "viz.Figure") {
				t.Errorf("text/plain %q", b.Text())
			}
			pdf, err := f.PDF()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
				t.Errorf("PDF starts %q", pdf[:8])
			}
		})
	}
}

// Golden image tolerance: a pixel differs when a channel differs by more
// than goldenTol (anti-aliasing and font hinting shift edges by a shade);
// at most goldenMaxFrac of the pixels may differ. Moving one model's five
// folds in Figure 5 changes about 0.25 % of the pixels.
const (
	goldenTol     = 64
	goldenMaxFrac = 0.0005
)

// TestGolden compares each paper figure's PNG with testdata/<name>.png
// within the golden tolerance.
// Run with -update to rewrite the files after a deliberate change, and
// look at them.
func TestGolden(t *testing.T) {
	for name, f := range paperFigures(t) {
		t.Run(name, func(t *testing.T) {
			data, err := f.PNG()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", name+".png")
			if *update {
				if err := f.SaveAs(path); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			compareImages(t, data, want, goldenTol, goldenMaxFrac)
		})
	}
}

func compareImages(t *testing.T, got, want []byte, tol int, maxFrac float64) {
	t.Helper()
	frac := diffFraction(t, got, want, tol)
	if frac > maxFrac {
		t.Errorf("%.2f%% of pixels differ from the golden image by more than %d, allowed %.2f%%", 100*frac, tol, 100*maxFrac)
	}
}

// diffFraction returns the fraction of pixels of two same-size PNGs whose
// channels differ by more than tol.
func diffFraction(t *testing.T, got, want []byte, tol int) float64 {
	t.Helper()
	g, err := png.Decode(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	w, err := png.Decode(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	if g.Bounds() != w.Bounds() {
		t.Fatalf("size %v, golden %v", g.Bounds(), w.Bounds())
	}
	n := 0
	b := g.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if pixelDiff(g, w, x, y) > tol {
				n++
			}
		}
	}
	return float64(n) / float64(b.Dx()*b.Dy())
}

func pixelDiff(a, b image.Image, x, y int) int {
	ar, ag, ab, aa := a.At(x, y).RGBA()
	br, bg, bb, ba := b.At(x, y).RGBA()
	d := 0
	for _, p := range [][2]uint32{{ar, br}, {ag, bg}, {ab, bb}, {aa, ba}} {
		d = max(d, int(math.Abs(float64(p[0]>>8)-float64(p[1]>>8))))
	}
	return d
}

// TestGoldenDetectsChange makes sure the comparison can fail: the same
// figure drawn from other data must differ from the golden one by more
// than the tolerance.
func TestGoldenDetectsChange(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "fig5_folddiff.png"))
	if err != nil {
		t.Skip("no golden file yet")
	}
	folds := heartFolds()
	for i := range folds[3].Val {
		folds[3].Val[i] -= 0.05
	}
	f, err := viz.FoldDiff(compare(folds, nil), &viz.FoldDiffOptions{Title: "Figure 5 (Heart): fold-wise difference with U-net"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.PNG()
	if err != nil {
		t.Fatal(err)
	}
	frac := diffFraction(t, got, want, goldenTol)
	t.Logf("changed data: %.3f%% of pixels differ", 100*frac)
	if frac <= goldenMaxFrac {
		t.Errorf("changed data differs in only %.3f%% of pixels", 100*frac)
	}
}

func TestSaveAs(t *testing.T) {
	f := paperFigures(t)["fig8_compute"]
	dir := t.TempDir()
	for _, name := range []string{"a.png", "b.svg", "c.PDF"} {
		if err := f.SaveAs(filepath.Join(dir, name)); err != nil {
			t.Fatalf("SaveAs(%s): %v", name, err)
		}
	}
	assertOnlyFiles(t, dir, "a.png", "b.svg", "c.PDF")
	data, _ := os.ReadFile(filepath.Join(dir, "a.png"))
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		t.Errorf("saved PNG: %v", err)
	}
	data, _ = os.ReadFile(filepath.Join(dir, "b.svg"))
	parseXML(t, data)
	if err := f.SaveAs(filepath.Join(dir, "d.jpg")); !errors.Is(err, viz.ErrFormat) {
		t.Errorf("SaveAs .jpg: %v, want ErrFormat", err)
	}
	if err := f.SaveAs(filepath.Join(dir, "missing", "e.png")); err == nil {
		t.Error("SaveAs into a missing directory succeeded")
	}
	assertOnlyFiles(t, dir, "a.png", "b.svg", "c.PDF")
	if err := f.Encode(&bytes.Buffer{}, "gif"); !errors.Is(err, viz.ErrFormat) {
		t.Errorf("Encode gif: %v, want ErrFormat", err)
	}
}

func TestFigureErrors(t *testing.T) {
	nan := math.NaN()
	twoModels := func() []stats.FoldScores {
		return []stats.FoldScores{{Model: "a", Val: []float64{0.5, 0.6}}, {Model: "b", Val: []float64{0.4, 0.7}}}
	}
	cases := []struct {
		name string
		run  func() error
	}{
		{"curves no runs", func() error { _, err := viz.LearningCurves(nil, nil); return err }},
		{"curves no epochs", func() error { _, err := viz.LearningCurves([]*train.Run{{Name: "x"}}, nil); return err }},
		{"curves log of zero", func() error {
			_, err := viz.LearningCurves([]*train.Run{{Name: "x", Epochs: []train.Epoch{{Epoch: 1}}}}, &viz.CurveOptions{LogLoss: true})
			return err
		}},
		{"folddiff nothing", func() error {
			m := twoModels()
			m[0].Val = nil
			_, err := viz.FoldDiff(compare(m, nil), nil)
			return err
		}},
		{"compute none", func() error { _, err := viz.DiceCompute(nil, nil); return err }},
		{"compute zero", func() error {
			_, err := viz.DiceCompute([]viz.ComputePoint{{Model: "a", Compute: 0, Dice: 0.5}}, nil)
			return err
		}},
		{"compute nan", func() error {
			_, err := viz.DiceCompute([]viz.ComputePoint{{Model: "a", Compute: 1, Dice: nan}}, nil)
			return err
		}},
		{"bars scores", func() error {
			st := paperTable2()
			st.Rows[3].Scores = st.Rows[3].Scores[:2]
			_, err := viz.LabelBars(st, nil)
			return err
		}},
		{"bars empty", func() error { _, err := viz.LabelBars(&stats.ScoreTable{}, nil); return err }},
		{"boxes none", func() error { _, err := viz.FoldBoxes(nil, nil); return err }},
		{"boxes empty", func() error { _, err := viz.FoldBoxes([]stats.FoldScores{{Model: "a"}}, nil); return err }},
		{"folddiff nil", func() error { _, err := viz.FoldDiff(nil, nil); return err }},
		{"figure empty", func() error { _, err := viz.NewFigure("x", nil); return err }},
		{"figure ragged", func() error { _, err := viz.NewFigure("x", [][]*plot.Plot{{nil, nil}, {nil}}); return err }},
		{"table1 none", func() error { _, err := viz.Table1(nil, nil); return err }},
		{"table1 nan", func() error {
			_, err := viz.Table1([]stats.Table1Row{{Model: "a", ValSD: nan}}, nil)
			return err
		}},
		{"table2 nan", func() error {
			st := paperTable2()
			st.Rows[0].Scores[1] = nan
			_, err := viz.Table2(st, nil)
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.run(); !errors.Is(err, viz.ErrInput) {
				t.Errorf("error %v, want ErrInput", err)
			}
		})
	}
}

// TestPaperAverageRanks: the paper's Table 2 scores give its average
// ranks.
func TestPaperAverageRanks(t *testing.T) {
	ranks, err := paperTable2().AverageRanks()
	if err != nil {
		t.Fatal(err)
	}
	// The paper: 1.647, 2.765, 1.588 (rank sums 28, 47, 27 over 17 rows).
	want := []float64{28.0 / 17, 47.0 / 17, 27.0 / 17}
	for i := range want {
		if math.Abs(ranks[i]-want[i]) > 1e-12 {
			t.Errorf("model %d: average rank %v, want %v", i, ranks[i], want[i])
		}
	}
	ties := &stats.ScoreTable{Models: []string{"a", "b", "c"}, Rows: []stats.ScoreRow{{Scores: []float64{0.5, 0.5, 0.2}}}}
	ranks, err = ties.AverageRanks()
	if err != nil || ranks[0] != 1.5 || ranks[1] != 1.5 || ranks[2] != 3 {
		t.Errorf("ties: %v %v, want [1.5 1.5 3]", ranks, err)
	}
}
