package viz_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/stats"
	"github.com/unetlab/unetlab/viz"
)

// paperTable1 returns the Heart and Lung rows of the paper's Table 1 that
// Figure 5 shows (the terminated Resblock-1 and ConvNext omitted).
func paperTable1() []stats.Table1Row {
	return []stats.Table1Row{
		{Dataset: "Heart", Folds: 5, Model: "U-net", Baseline: true, ValMean: 0.81, ValSD: 0.03, TrainMean: 0.84, TrainSD: 0.009},
		{Dataset: "Heart", Folds: 5, Model: "Swin-UNETR", ValMean: 0.8, ValSD: 0.05, ValFWDMean: -0.0026, ValFWDSD: 0.032, ValP: 0.0,
			TrainMean: 0.89, TrainSD: 0.01, TrainFWDMean: 0.046, TrainFWDSD: 0.018, TrainP: 0.0},
		{Dataset: "Heart", Folds: 5, Model: "Conv-Skip", ValMean: 0.81, ValSD: 0.03, ValFWDMean: -0.0015, ValFWDSD: 0.022, ValP: 0.18,
			TrainMean: 0.84, TrainSD: 0.01, TrainFWDMean: -0.006, TrainFWDSD: 0.017, TrainP: 0.93},
		{Dataset: "Heart", Folds: 5, Model: "Conv-Skip-Resblock-2", ValMean: 0.82, ValSD: 0.02, ValFWDMean: 0.01, ValFWDSD: 0.01, ValP: 0.22,
			TrainMean: 0.85, TrainSD: 0.01, TrainFWDMean: 0.0074, TrainFWDSD: 0.0073, TrainP: 0.89},
		{Dataset: "Lung", Folds: 5, Model: "U-net", Baseline: true, ValMean: 0.34, ValSD: 0.07, TrainMean: 0.45, TrainSD: 0.03},
		{Dataset: "Lung", Folds: 5, Model: "Conv-Skip", ValMean: 0.35, ValSD: 0.09, ValFWDMean: 0.0093, ValFWDSD: 0.052, ValP: 0.82,
			TrainMean: 0.5, TrainSD: 0.02, TrainFWDMean: 0.054, TrainFWDSD: 0.02, TrainP: 0.0002},
	}
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestTables(t *testing.T) {
	t1, err := viz.Table1(paperTable1(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t2, err := viz.Table2(paperTable2(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, tb := range map[string]*viz.Table{"table1": t1, "table2": t2} {
		t.Run(name, func(t *testing.T) {
			b := tb.Render()
			html, _ := b[display.MIMEHTML].(string)
			text, _ := b[display.MIMEText].(string)
			parseXML(t, []byte(html))
			golden(t, name+".html", html)
			golden(t, name+".txt", text)
			golden(t, name+".csv", tb.CSV())
		})
	}
	// Spot checks that do not depend on the golden files.
	if !regexp.MustCompile(`Average rank +1\.647 +2\.765 +1\.588\*`).MatchString(t2.String()) {
		t.Errorf("Table 2 average ranks:\n%s", t2)
	}
	if !regexp.MustCompile(`U-net +0\.810 ± 0\.030 +NA\. +0\.840 ± 0\.009 +NA\.`).MatchString(t1.String()) {
		t.Errorf("Table 1 baseline row:\n%s", t1)
	}
	if !strings.Contains(t1.HTML(), "<b>0.820 ± 0.020</b>") {
		t.Error("Table 1: best Heart validation Dice not bold")
	}
	if !strings.Contains(t1.String(), "< 0.001") {
		t.Error("Table 1: p = 0.0002 not shown as < 0.001")
	}
}

// TestTable1Title checks that the default title states the rows' fold
// count, whatever it is.
func TestTable1Title(t *testing.T) {
	rows := func(folds ...int) []stats.Table1Row {
		var out []stats.Table1Row
		for i, k := range folds {
			out = append(out, stats.Table1Row{Dataset: fmt.Sprint("D", i), Model: "U-net", Baseline: true, Folds: k})
		}
		return out
	}
	epochs := func(es ...stats.ScoredEpoch) []stats.Table1Row {
		out := rows(make([]int, len(es))...)
		for i, e := range es {
			out[i].Folds, out[i].Epoch = 5, e
		}
		return out
	}
	cases := []struct {
		name  string
		rows  []stats.Table1Row
		title string // "" for an error
	}{
		{"five", rows(5, 5), "Table 1: 5-fold cross-validation, foreground Dice at an epoch not stated"},
		{"three", rows(3, 3, 3), "Table 1: 3-fold cross-validation, foreground Dice at an epoch not stated"},
		{"ten", rows(10), "Table 1: 10-fold cross-validation, foreground Dice at an epoch not stated"},
		{"mixed", rows(5, 3, 4), "Table 1: cross-validation (3 to 5 folds), foreground Dice at an epoch not stated"},
		{"not stated", rows(0, 0), "Table 1: cross-validation, foreground Dice at an epoch not stated"},
		{"partly stated", rows(5, 0), "Table 1: cross-validation, foreground Dice at an epoch not stated"},
		{"best", epochs(stats.EpochBest, stats.EpochBest), "Table 1: 5-fold cross-validation, foreground Dice at the best validation epoch"},
		{"last", epochs(stats.EpochLast), "Table 1: 5-fold cross-validation, foreground Dice at the last epoch"},
		{"best and last", epochs(stats.EpochBest, stats.EpochLast),
			"Table 1: 5-fold cross-validation, foreground Dice at different epochs (the best validation epoch, the last epoch)"},
		{"one fold", rows(5, 1), ""},
		{"negative", rows(-3), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb, err := viz.Table1(c.rows, nil)
			if c.title == "" {
				if !errors.Is(err, viz.ErrInput) {
					t.Fatalf("Table1: error %v, want ErrInput", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tb.Title != c.title {
				t.Errorf("title %q, want %q", tb.Title, c.title)
			}
		})
	}
	// Fewer than 5 folds: the caption says why p is at least 2/2^k.
	few := []stats.Table1Row{{Dataset: "Heart", Model: "U-net", Baseline: true, Folds: 3},
		{Dataset: "Heart", Model: "Conv-Skip", Folds: 3, ValP: 0.25, TrainP: 0.25}}
	tb, err := viz.Table1(few, nil)
	if err != nil || !strings.Contains(tb.Caption, "at least 2/2^k (0.25 for 3 folds)") {
		t.Errorf("3 folds: caption %q, %v", tb.Caption, err)
	}
	if tb, _ := viz.Table1(rows(5, 5), nil); strings.Contains(tb.Caption, "2/2^k") {
		t.Errorf("5 folds: caption %q has the few-folds note", tb.Caption)
	}
	tb, err = viz.Table1(rows(3), &viz.TableOptions{Title: "mine"})
	if err != nil || tb.Title != "mine" {
		t.Errorf("Title option: %v, %v", tb, err)
	}
}

func TestTableSaveAs(t *testing.T) {
	tb, err := viz.Table2(paperTable2(), &viz.TableOptions{Digits: 2, Title: "-", Caption: "-"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tb.String(), "Table 2") || !strings.Contains(tb.String(), "0.64") {
		t.Errorf("options ignored:\n%s", tb)
	}
	dir := t.TempDir()
	for _, n := range []string{"t.html", "t.txt", "t.csv"} {
		if err := tb.SaveAs(filepath.Join(dir, n)); err != nil {
			t.Error(err)
		}
	}
	if err := tb.SaveAs(filepath.Join(dir, "t.xlsx")); err == nil {
		t.Error("SaveAs .xlsx succeeded")
	}
	assertOnlyFiles(t, dir, "t.html", "t.txt", "t.csv")
	data, _ := os.ReadFile(filepath.Join(dir, "t.csv"))
	if !strings.HasPrefix(string(data), "Dataset,Region,U-net,Swin-UNETR,Conv-Skip\nBrainTumour,L1,0.64,0.63,0.65\n") {
		t.Errorf("CSV:\n%s", data)
	}
}
