package stats

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestCompareFolds(t *testing.T) {
	models := []FoldScores{
		{Model: "a", Train: []float64{0.9, 0.8, 0.85}, Val: []float64{0.7, 0.75, 0.72}},
		{Model: "b", Train: []float64{0.92, 0.83, 0.85}, Val: []float64{0.71, 0.70, 0.72}},
		{Model: "c", Val: []float64{0.6, 0.65, 0.62}},
	}
	c, err := CompareFolds(models, &CompareOptions{Baseline: "a", Resamples: 2000, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if c.Baseline != "a" || c.Level != 0.95 || len(c.Rows) != 2 || c.Rows[0].Model != "b" || c.Rows[1].Model != "c" {
		t.Fatalf("comparison %+v", c)
	}
	b := c.Rows[0]
	want := []float64{0.02, 0.03, 0}
	for f := range want {
		if math.Abs(b.Train.Folds[f]-want[f]) > 1e-12 {
			t.Errorf("train folds %v, want %v", b.Train.Folds, want)
		}
	}
	if math.Abs(b.Train.Mean-0.05/3) > 1e-12 || !(b.Train.Lo <= b.Train.Mean && b.Train.Mean <= b.Train.Hi) {
		t.Errorf("train difference %+v", b.Train)
	}
	if c.Rows[1].Train != nil || c.Rows[1].Val == nil {
		t.Errorf("c has no training scores: %+v", c.Rows[1])
	}
	again, _ := CompareFolds(models, &CompareOptions{Baseline: "a", Resamples: 2000, Seed: 4})
	if again.Rows[0].Val.Lo != b.Val.Lo || again.Rows[0].Val.Hi != b.Val.Hi {
		t.Error("same seed, different interval")
	}
	one, err := CompareFolds([]FoldScores{{Model: "a", Val: []float64{0.5}}, {Model: "b", Val: []float64{0.6}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := one.Rows[0].Val; d.SD != 0 || math.Abs(d.Lo-0.1) > 1e-12 || math.Abs(d.Hi-0.1) > 1e-12 {
		t.Errorf("one fold: %+v, want SD 0 and the interval at the difference", d)
	}
}

func TestCompareFoldsIllCases(t *testing.T) {
	ok := []FoldScores{{Model: "a", Val: []float64{1, 2}}, {Model: "b", Val: []float64{1, 3}}}
	cases := []struct {
		name   string
		models []FoldScores
		opt    *CompareOptions
		want   error
		field  string
	}{
		{"negative resamples", ok, &CompareOptions{Resamples: -1}, ErrOptions, "CompareOptions.Resamples -1"},
		{"level", ok, &CompareOptions{Level: 1.5}, ErrOptions, "CompareOptions.Level 1.5"},
		{"unknown baseline", ok, &CompareOptions{Baseline: "z"}, ErrOptions, `CompareOptions.Baseline "z"`},
		{"one model", ok[:1], nil, ErrInput, "1 models"},
		{"NaN", []FoldScores{ok[0], {Model: "b", Val: []float64{1, math.NaN()}}}, nil, ErrInput, `"b" Val[1]`},
		{"fold counts", []FoldScores{ok[0], {Model: "b", Val: []float64{1}}}, nil, ErrShape, `"b" validation`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := CompareFolds(c.models, c.opt)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.field) {
				t.Errorf("err = %v, want %v naming %q", err, c.want, c.field)
			}
		})
	}
	if _, err := Bootstrap([]float64{1, 2}, &BootstrapOptions{Resamples: -5}); !errors.Is(err, ErrOptions) ||
		!strings.Contains(err.Error(), "BootstrapOptions.Resamples -5") {
		t.Errorf("Bootstrap with Resamples -5: %v", err)
	}
}

func TestTable1Rows(t *testing.T) {
	models := []FoldScores{
		{Model: "U-net", Train: []float64{0.9, 0.8, 0.85, 0.9, 0.8}, Val: []float64{0.7, 0.75, 0.72, 0.7, 0.71}},
		{Model: "b", Train: []float64{0.92, 0.83, 0.85, 0.9, 0.8}, Val: []float64{0.71, 0.70, 0.72, 0.69, 0.7}},
	}
	rows, err := Table1Rows("Heart", models, 0, &BootstrapOptions{Resamples: 500})
	if err != nil {
		t.Fatal(err)
	}
	if !rows[0].Baseline || rows[1].Baseline || rows[1].Folds != 5 || rows[0].Dataset != "Heart" {
		t.Errorf("rows %+v", rows)
	}
	d, _ := FoldDifferences(models[1].Val, models[0].Val)
	p, _ := BootstrapTest(d, &BootstrapOptions{Resamples: 500})
	if math.Abs(rows[1].ValFWDMean-Summarize(d).Mean) > 1e-12 || rows[1].ValP != p ||
		math.Abs(rows[0].ValMean-Summarize(models[0].Val).Mean) > 1e-12 {
		t.Errorf("row %+v, want FWD %v p %v", rows[1], Summarize(d).Mean, p)
	}
	if _, err := Table1Rows("Heart", models, 2, nil); !errors.Is(err, ErrInput) {
		t.Errorf("baseline 2 of 2: %v", err)
	}
	short := []FoldScores{models[0], {Model: "c", Val: []float64{1}}}
	if _, err := Table1Rows("Heart", short, 0, nil); !errors.Is(err, ErrShape) {
		t.Errorf("fold counts differ: %v", err)
	}
}

func TestScoreTableCheck(t *testing.T) {
	cases := []struct {
		name string
		st   *ScoreTable
		want error
	}{
		{"nil", nil, ErrInput},
		{"no rows", &ScoreTable{Models: []string{"a"}}, ErrInput},
		{"short row", &ScoreTable{Models: []string{"a", "b"}, Rows: []ScoreRow{{Task: "Heart", Scores: []float64{1}}}}, ErrShape},
		{"NaN", &ScoreTable{Models: []string{"a"}, Rows: []ScoreRow{{Task: "Heart", Scores: []float64{math.NaN()}}}}, ErrInput},
	}
	for _, c := range cases {
		if _, err := c.st.AverageRanks(); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

// TestCompareFoldsKnownAnswer: intervals whose bootstrap distribution is
// known in closed form.
func TestCompareFoldsKnownAnswer(t *testing.T) {
	models := []FoldScores{
		{Model: "base", Train: []float64{0.5, 0.5, 0.5, 0.5, 0.5}, Val: []float64{0.4, 0.5, 0.6, 0.7, 0.8}},
		{Model: "m", Train: []float64{0.5, 0.5, 0.5, 0.5, 1.5}, Val: []float64{0.5, 0.6, 0.7, 0.8, 0.9}},
	}
	c, err := CompareFolds(models, &CompareOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	rows := c.Rows
	if len(rows) != 1 || rows[0].Model != "m" {
		t.Fatalf("rows %+v", rows)
	}
	// Train differences 0,0,0,0,1: mean 0.2, sd sqrt(0.2). A bootstrap
	// mean is k/5 with k ~ Binomial(5, 0.2): P(k=0) = 0.328 > 2.5 %, and
	// P(k<=2) = 0.942 < 97.5 % <= P(k<=3) = 0.993, so the 95 % interval
	// is [0, 0.6].
	tr := rows[0].Train
	if math.Abs(tr.Mean-0.2) > 1e-12 || math.Abs(tr.SD-math.Sqrt(0.2)) > 1e-12 {
		t.Errorf("train mean %v sd %v", tr.Mean, tr.SD)
	}
	if tr.Lo != 0 || math.Abs(tr.Hi-0.6) > 1e-12 {
		t.Errorf("train interval [%v, %v], want [0, 0.6]", tr.Lo, tr.Hi)
	}
	// Validation differences are all 0.1: a degenerate interval.
	va := rows[0].Val
	if math.Abs(va.Mean-0.1) > 1e-12 || va.SD > 1e-12 || math.Abs(va.Lo-0.1) > 1e-12 || math.Abs(va.Hi-0.1) > 1e-12 {
		t.Errorf("val %+v", va)
	}
	// The same seed gives the same interval; Baseline picks by name.
	again, _ := CompareFolds([]FoldScores{models[1], models[0]}, &CompareOptions{Seed: 1, Baseline: "base"})
	if again.Rows[0].Model != "m" || again.Rows[0].Train.Hi != tr.Hi {
		t.Errorf("baseline by name: %+v", again.Rows[0])
	}
}
