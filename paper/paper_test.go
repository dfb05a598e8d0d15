package paper

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/stats"
)

// paperText is the paper's text beside the repository (../shared from the
// module's root), absent from a clean clone (CI).
const paperText = "../../shared/paper/paper.txt"

// TestTestdataIsThePaper checks that the tables' lines in testdata are the
// paper's text, verbatim. It needs the paper beside the repository; without
// it (a clean clone, CI) the transcription is still checked against the
// testdata copy by the other tests.
func TestTestdataIsThePaper(t *testing.T) {
	b, err := os.ReadFile(paperText)
	if err != nil {
		t.Skipf("MISSING PAPER: %v: the testdata copies of Tables 1 and 2 are not compared with the paper's text", err)
	}
	text := string(b)
	for _, name := range []string{"table1.txt", "table2.txt"} {
		c, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, string(c)) {
			t.Errorf("testdata/%s is not a verbatim run of lines of %s", name, paperText)
		}
	}
}

// lines returns the tab-separated fields of testdata/name's lines.
func lines(t *testing.T, name string) [][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		out = append(out, strings.Split(l, "\t"))
	}
	return out
}

// number parses a printed value; "NA." and "" are NaN.
func number(t *testing.T, s string) float64 {
	t.Helper()
	if s == "" || s == "NA." {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("printed value %q: %v", s, err)
	}
	return v
}

// meanSD parses "0.81 ± 0.03" (or the LaTeX left in two cells,
// "$0.82 {\pm} 0.02$"); "NA." gives two NaNs.
func meanSD(t *testing.T, s string) (float64, float64) {
	t.Helper()
	s = strings.Trim(s, "$")
	s = strings.ReplaceAll(s, `{\pm}`, "±")
	if s == "NA." {
		return math.NaN(), math.NaN()
	}
	m, sd, ok := strings.Cut(s, "±")
	if !ok {
		t.Fatalf("printed %q: want mean ± sd", s)
	}
	return number(t, strings.TrimSpace(m)), number(t, strings.TrimSpace(sd))
}

// same reports whether two printed values are equal (NaN equal to NaN).
func same(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// printedNames maps the names the paper's Table 1 prints to designs.
var printedNames = map[string]models.Arch{
	"U-net": models.UNet, "Unet": models.UNet, "Swin-UNETR": models.SwinUNETR,
	"Half-UNet": models.HalfUNet, "Half-Unet": models.HalfUNet, "Resblock-1": models.ResBlock1,
	"Resblock-2": models.ResBlock2, "ConvNext": models.ConvNeXt, "Trans-Unet": models.TransUNet,
	"Conv-Skip": models.ConvSkip, "Conv-Skip-Resblock-2": models.ConvSkipResBlock2,
}

func TestTable1Transcription(t *testing.T) {
	ls := lines(t, "table1.txt")
	if got := strings.Join(ls[0], "|"); !strings.HasPrefix(got, "Dataset|Model|Val. Dice") {
		t.Fatalf("testdata/table1.txt header %q", got)
	}
	var printed []stats.Table1Row
	dataset := ""
	for _, f := range ls[2:] {
		if len(f) != 8 {
			t.Fatalf("Table 1 line %q: %d fields, want 8", strings.Join(f, "\t"), len(f))
		}
		if f[0] != "" {
			dataset = f[0]
		}
		a, ok := printedNames[f[1]]
		if !ok {
			t.Fatalf("Table 1 names %q, not a design", f[1])
		}
		r := stats.Table1Row{Dataset: dataset, Model: a.PaperName(), Folds: Folds, Baseline: a == models.UNet}
		r.ValMean, r.ValSD = meanSD(t, f[2])
		r.ValFWDMean, r.ValFWDSD = meanSD(t, f[3])
		r.ValP = number(t, f[4])
		r.TrainMean, r.TrainSD = meanSD(t, f[5])
		r.TrainFWDMean, r.TrainFWDSD = meanSD(t, f[6])
		r.TrainP = number(t, f[7])
		printed = append(printed, r)
	}
	got := Table1()
	if len(got) != len(printed) {
		t.Fatalf("Table1 has %d rows, the paper %d", len(got), len(printed))
	}
	for i, w := range printed {
		g := got[i]
		if g.Dataset != w.Dataset || g.Model != w.Model || g.Folds != w.Folds || g.Baseline != w.Baseline {
			t.Errorf("row %d: %s %s (folds %d, baseline %v), the paper %s %s (folds %d, baseline %v)", i,
				g.Dataset, g.Model, g.Folds, g.Baseline, w.Dataset, w.Model, w.Folds, w.Baseline)
		}
		gv := []float64{g.ValMean, g.ValSD, g.ValFWDMean, g.ValFWDSD, g.ValP, g.TrainMean, g.TrainSD, g.TrainFWDMean, g.TrainFWDSD, g.TrainP}
		wv := []float64{w.ValMean, w.ValSD, w.ValFWDMean, w.ValFWDSD, w.ValP, w.TrainMean, w.TrainSD, w.TrainFWDMean, w.TrainFWDSD, w.TrainP}
		for k := range gv {
			if w.Baseline && math.IsNaN(wv[k]) {
				wv[k] = 0 // "NA.": undefined for the baseline, 0 as stats.Table1Rows leaves it
			}
			if !same(gv[k], wv[k]) {
				t.Errorf("%s %s value %d: transcribed %g, printed %g", w.Dataset, w.Model, k, gv[k], wv[k])
			}
		}
		if r, ok := Table1Row(w.Dataset, w.Model); !ok || !same(r.ValMean, w.ValMean) {
			t.Errorf("Table1Row(%q, %q) = %v, %v", w.Dataset, w.Model, r, ok)
		}
	}
	if _, ok := Table1Row("Lung", models.ResBlock1.PaperName()); ok {
		t.Error("Table1Row finds Resblock-1 on Lung, which the paper stopped after Heart")
	}
	// A copy: changing it leaves the transcription alone.
	got[0].ValMean = -1
	if Table1()[0].ValMean != 0.81 {
		t.Error("Table1 returns the package's own slice")
	}
}

// ocr maps the task names the paper's text garbles in Table 2 (two lines per
// two-label task, read from the typeset table) to the tasks.
var ocr = map[string]string{
	"Livon": "Liver", "Hippocompus": "Hippocampus", "mppocampus": "Hippocampus",
	"Prostato": "Prostate", "1 lostate": "Prostate", "Pananona": "Pancreas", "rancreas": "Pancreas",
	"HenetieVessel": "HepaticVessel", "nepaticvessei": "HepaticVessel",
}

func TestTable2Transcription(t *testing.T) {
	ls := lines(t, "table2.txt")
	if got := strings.Join(ls[0], "|"); got != "Dataset|Region|U-net|Swin-UNETR|Conv-Skip" {
		t.Fatalf("testdata/table2.txt header %q", got)
	}
	tab := Table2()
	if got := strings.Join(tab.Models, "|"); got != "U-net|Swin-UNETR|Conv-Skip" {
		t.Errorf("Table2 models %s", got)
	}
	body, last := ls[1:len(ls)-1], ls[len(ls)-1]
	if len(body) != len(tab.Rows) || len(tab.Rows) != 17 {
		t.Fatalf("Table2 has %d rows, the paper %d, want 17", len(tab.Rows), len(body))
	}
	for i, f := range body {
		r := tab.Rows[i]
		if len(f) != 5 {
			t.Fatalf("Table 2 line %q: %d fields", strings.Join(f, "\t"), len(f))
		}
		task := f[0]
		if m, ok := ocr[task]; ok {
			task = m
		}
		if task != "" && task != r.Task || f[1] != r.Label {
			t.Errorf("row %d: transcribed %s %s, printed %q %q", i, r.Task, r.Label, f[0], f[1])
		}
		for m := range 3 {
			if w := number(t, f[2+m]); r.Scores[m] != w {
				t.Errorf("%s %s %s: transcribed %g, printed %g", r.Task, r.Label, tab.Models[m], r.Scores[m], w)
			}
			label, _ := strconv.Atoi(strings.TrimPrefix(r.Label, "L"))
			if v, ok := Table2Score(r.Task, label, tab.Models[m]); !ok || v != r.Scores[m] {
				t.Errorf("Table2Score(%s, %d, %s) = %g, %v", r.Task, label, tab.Models[m], v, ok)
			}
		}
	}
	if last[0] != "Average Rank" {
		t.Fatalf("last line %q", strings.Join(last, "\t"))
	}
	for m := range 3 {
		if w := number(t, last[2+m]); Table2AverageRanks[m] != w {
			t.Errorf("%s average rank: transcribed %g, printed %g", tab.Models[m], Table2AverageRanks[m], w)
		}
	}
}

// TestTable2Ranks recomputes the paper's average ranks from its Table 2:
// rank sums 28, 47 and 27 over the 17 label rows (not the 10 tasks), which
// round to the printed 1.647, 2.765 and 1.588.
func TestTable2Ranks(t *testing.T) {
	avg, err := Table2().AverageRanks()
	if err != nil {
		t.Fatal(err)
	}
	for m, want := range []float64{28, 47, 27} {
		if got := avg[m] * 17; math.Abs(got-want) > 1e-9 {
			t.Errorf("%s rank sum %g, want %g", Table2Models[m], got, want)
		}
		if got := math.Round(avg[m]*1000) / 1000; got != Table2AverageRanks[m] {
			t.Errorf("%s average rank %.3f, the paper prints %g", Table2Models[m], got, Table2AverageRanks[m])
		}
	}
}

func TestFigure5(t *testing.T) {
	c := Figure5("Lung")
	if c == nil || c.Baseline != "U-net" || c.Level != 0 {
		t.Fatalf("Figure5(Lung) = %+v", c)
	}
	// Lung has no Resblock-1 and no ConvNext: six designs besides U-net.
	if len(c.Rows) != 6 {
		t.Fatalf("%d rows, want 6", len(c.Rows))
	}
	cs := c.Rows[4] // Conv-Skip
	if cs.Model != "Conv-Skip" || cs.Val.Mean != 0.0093 || math.Abs(cs.Val.Lo-(0.0093-0.052)) > 1e-12 || math.Abs(cs.Val.Hi-(0.0093+0.052)) > 1e-12 ||
		len(cs.Val.Folds) != 0 || cs.Train.Mean != 0.054 || cs.Train.SD != 0.02 {
		t.Errorf("Conv-Skip row %+v %+v", cs.Val, cs.Train)
	}
	if Figure5("Spleen") != nil {
		t.Error("Figure5 of a task without Table 1 rows is not nil")
	}
}
