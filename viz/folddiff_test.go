package viz

import (
	"testing"

	"github.com/unetlab/unetlab/stats"
)

// TestFoldDiffPublished draws published summaries (means ± sds, no folds,
// Level 0, as paper.Figure5 gives them): the legend names the bars "mean ±
// sd" and has no fold entry; with folds and a Level it keeps both.
func TestFoldDiffPublished(t *testing.T) {
	d := func(m, sd float64, folds ...float64) *stats.Difference {
		return &stats.Difference{Mean: m, SD: sd, Lo: m - sd, Hi: m + sd, Folds: folds}
	}
	for _, tc := range []struct {
		name string
		c    *stats.FoldComparison
		want []string
	}{
		{"published", &stats.FoldComparison{Baseline: "U-net", Rows: []stats.FoldDiffRow{
			{Model: "Conv-Skip", Train: d(-0.006, 0.017), Val: d(-0.0015, 0.022)},
			{Model: "Half-UNet", Train: d(-0.007, 0.036), Val: d(-0.072, 0.044)}}},
			[]string{"mean ± sd"}},
		{"folds", &stats.FoldComparison{Baseline: "U-net", Level: 0.95, Rows: []stats.FoldDiffRow{
			{Model: "Conv-Skip", Train: d(0.01, 0.01, 0, 0.02), Val: d(0.02, 0.01, 0.01, 0.03)}}},
			[]string{"fold (model − baseline)", "mean and 95% bootstrap interval"}},
	} {
		f, err := FoldDiff(tc.c, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, l := range f.legend {
			got = append(got, l.name)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%s: legend %q, want %q", tc.name, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: legend %q, want %q", tc.name, got, tc.want)
			}
		}
		if b, err := f.PNG(); err != nil || len(b) == 0 {
			t.Errorf("%s: PNG: %d bytes, %v", tc.name, len(b), err)
		}
	}
}
