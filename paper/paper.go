// Package paper holds the numbers the rebuilt paper printed: Table 1 (the
// 5-fold cross-validation on Heart and Lung) and Table 2 (the test Dice of
// U-net, Swin-UNETR and Conv-Skip on the ten Decathlon tasks), transcribed
// from its text (Boschet, Detry, Gagné: "U-net Design Comparison on Medical
// Image Segmentation Tasks", MAIS 2023), so that the notebooks can show
// them beside the rebuilt ones.
//
// The transcription is tested against a copy of the tables' lines as the
// paper's text gives them (testdata/table1.txt, testdata/table2.txt), and
// that copy against the paper's text itself where it is at hand
// (../shared/paper/paper.txt beside the repository).
//
// What the paper did not publish is not here: its per-fold Dice values
// (Figure 5 plots them; only their means and sds are printed), the exact
// bootstrap behind its p-values, the Dice values of its Figure 8 (which
// differ from Table 1's).
package paper

import (
	"fmt"
	"slices"

	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/stats"
)

// Folds is the k of the paper's k-fold cross-validation (Table 1).
const Folds = 5

// na marks a value the paper leaves blank or prints as "NA." (the
// baseline's fold-wise difference and p-value): 0 with Baseline set, as
// stats.Table1Rows leaves them.
const na = 0.0

// row builds one Table 1 row: validation Dice, FWD and p, then the same on
// the training folds, as the paper prints them (mean, sd pairs).
func row(dataset string, a models.Arch, v, vsd, vf, vfsd, vp, t, tsd, tf, tfsd, tp float64) stats.Table1Row {
	return stats.Table1Row{Dataset: dataset, Model: a.PaperName(), Folds: Folds, Baseline: a == models.UNet,
		ValMean: v, ValSD: vsd, ValFWDMean: vf, ValFWDSD: vfsd, ValP: vp,
		TrainMean: t, TrainSD: tsd, TrainFWDMean: tf, TrainFWDSD: tfsd, TrainP: tp}
}

// table1 is the paper's Table 1 in its order. Model names are the designs'
// PaperName (the paper writes U-net "Unet" and Half-UNet "Half-Unet" in its
// Lung rows). Resblock-1 and ConvNext have Heart rows only: the authors
// stopped them after Heart.
var table1 = []stats.Table1Row{
	row("Heart", models.UNet, 0.81, 0.03, na, na, na, 0.84, 0.009, na, na, na),
	row("Heart", models.SwinUNETR, 0.8, 0.05, -0.0026, 0.032, 0.0, 0.89, 0.01, 0.046, 0.018, 0.0),
	row("Heart", models.HalfUNet, 0.74, 0.06, -0.072, 0.044, 0.0, 0.84, 0.04, -0.007, 0.036, 0.0),
	row("Heart", models.ResBlock1, 0.51, 0.5, -0.3, 0.43, 0.1, 0.53, 0.5, -0.32, 0.48, 0.16),
	row("Heart", models.ResBlock2, 0.79, 0.04, -0.012, 0.044, 0.35, 0.83, 0.03, -0.011, 0.039, 0.0),
	row("Heart", models.ConvNeXt, 0.46, 0.08, -0.35, 0.075, 0.0, 0.53, 0.05, -0.32, 0.05, 0.0),
	row("Heart", models.TransUNet, 0.77, 0.05, -0.034, 0.037, 0.0, 0.86, 0.01, 0.02, 0.0053, 0.0),
	row("Heart", models.ConvSkip, 0.81, 0.03, -0.0015, 0.022, 0.18, 0.84, 0.01, -0.006, 0.017, 0.93),
	row("Heart", models.ConvSkipResBlock2, 0.82, 0.02, 0.01, 0.01, 0.22, 0.85, 0.01, 0.0074, 0.0073, 0.89),
	row("Lung", models.UNet, 0.34, 0.07, na, na, na, 0.45, 0.03, na, na, na),
	row("Lung", models.SwinUNETR, 0.28, 0.05, -0.062, 0.063, 0.0, 0.64, 0.02, 0.19, 0.018, 0.0),
	row("Lung", models.HalfUNet, 0.074, 0.03, -0.27, 0.056, 0.0, 0.19, 0.06, -0.26, 0.055, 0.0),
	row("Lung", models.ResBlock2, 0.31, 0.08, -0.03, 0.07, 0.67, 0.42, 0.09, -0.028, 0.098, 0.81),
	row("Lung", models.TransUNet, 0.14, 0.1, -0.2, 0.093, 0.0, 0.34, 0.2, -0.11, 0.21, 0.66),
	row("Lung", models.ConvSkip, 0.35, 0.09, 0.0093, 0.052, 0.82, 0.5, 0.02, 0.054, 0.02, 0.0002),
	row("Lung", models.ConvSkipResBlock2, 0.27, 0.2, -0.069, 0.13, 0.03, 0.35, 0.2, -0.1, 0.17, 0.0),
}

// Table1 returns the paper's Table 1 (a fresh copy): for each dataset
// (Heart, then Lung) and design, the validation and training foreground
// Dice over 5 folds (mean ± sd), the fold-wise difference with U-net
// (mean ± sd) and its bootstrap p-value, as printed. The U-net rows are the
// baseline (Baseline set): the paper prints their FWD and p as "NA." and
// they hold 0, as in the rows of stats.Table1Rows. Model is the design's
// models.Arch.PaperName.
func Table1() []stats.Table1Row { return slices.Clone(table1) }

// Table1Row returns the paper's row of a dataset ("Heart", "Lung") and
// design (its PaperName); false when the paper has none (Resblock-1 and
// ConvNext on Lung, a design the paper does not have).
func Table1Row(dataset, model string) (stats.Table1Row, bool) {
	for _, r := range table1 {
		if r.Dataset == dataset && r.Model == model {
			return r, true
		}
	}
	return stats.Table1Row{}, false
}

// Table2Models are the columns of the paper's Table 2.
var Table2Models = []string{models.UNet.PaperName(), models.SwinUNETR.PaperName(), models.ConvSkip.PaperName()}

// Table2AverageRanks are the average ranks the paper prints under Table 2
// (U-net, Swin-UNETR, Conv-Skip): over its 17 label rows, rank sums 28, 47
// and 27. stats.ScoreTable.AverageRanks of Table2() gives them again.
var Table2AverageRanks = []float64{1.647, 2.765, 1.588}

// table2 rows: task, region, then the Dice of U-net, Swin-UNETR, Conv-Skip.
var table2 = []stats.ScoreRow{
	{Task: "BrainTumour", Label: "L1", Scores: []float64{0.643, 0.627, 0.652}},
	{Task: "BrainTumour", Label: "L2", Scores: []float64{0.432, 0.398, 0.436}},
	{Task: "BrainTumour", Label: "L3", Scores: []float64{0.665, 0.628, 0.655}},
	{Task: "Heart", Label: "L1", Scores: []float64{0.837, 0.819, 0.810}},
	{Task: "Liver", Label: "L1", Scores: []float64{0.939, 0.929, 0.938}},
	{Task: "Liver", Label: "L2", Scores: []float64{0.522, 0.376, 0.498}},
	{Task: "Hippocampus", Label: "L1", Scores: []float64{0.873, 0.870, 0.885}},
	{Task: "Hippocampus", Label: "L2", Scores: []float64{0.881, 0.873, 0.884}},
	{Task: "Prostate", Label: "L1", Scores: []float64{0.630, 0.508, 0.621}},
	{Task: "Prostate", Label: "L2", Scores: []float64{0.850, 0.797, 0.851}},
	{Task: "Lung", Label: "L1", Scores: []float64{0.465, 0.275, 0.427}},
	{Task: "Pancreas", Label: "L1", Scores: []float64{0.618, 0.501, 0.674}},
	{Task: "Pancreas", Label: "L2", Scores: []float64{0.083, 0.088, 0.236}},
	{Task: "HepaticVessel", Label: "L1", Scores: []float64{0.457, 0.423, 0.407}},
	{Task: "HepaticVessel", Label: "L2", Scores: []float64{0.376, 0.310, 0.452}},
	{Task: "Spleen", Label: "L1", Scores: []float64{0.757, 0.877, 0.913}},
	{Task: "Colon", Label: "L1", Scores: []float64{0.209, 0.044, 0.121}},
}

// Table2 returns the paper's Table 2 (a fresh copy): the test Dice of
// U-net, Swin-UNETR and Conv-Skip per task and label ("L1" is label 1 of
// the task's dataset.json), 17 rows in the Decathlon's task order. The
// paper's test sets are the challenge's own test cases, scored by the
// organisers on labels that were never published; a rebuild can score only
// a held-out part of the labelled training cases, so the two are not the
// same test.
func Table2() *stats.ScoreTable {
	t := &stats.ScoreTable{Title: "The paper's Table 2: test Dice (the challenge's hidden test labels)",
		Models: slices.Clone(Table2Models)}
	for _, r := range table2 {
		r.Scores = slices.Clone(r.Scores)
		t.Rows = append(t.Rows, r)
	}
	return t
}

// Table2Score returns the paper's test Dice of model (a column of Table 2)
// on label (1-based) of task; false when the paper has no such cell.
func Table2Score(task string, label int, model string) (float64, bool) {
	m := slices.Index(Table2Models, model)
	if m < 0 {
		return 0, false
	}
	want := fmt.Sprintf("L%d", label)
	for _, r := range table2 {
		if r.Task == task && r.Label == want {
			return r.Scores[m], true
		}
	}
	return 0, false
}

// Figure5 returns the paper's fold-wise differences with U-net on dataset
// as Table 1 prints them, for viz.FoldDiff: for every design but U-net,
// the training and validation FWD as a mean with a bar of ± one sd
// (Lo = mean - sd, Hi = mean + sd) and no per-fold values (the paper's
// Figure 5 plots them, but they were never published). Level is 0: the
// bars are not bootstrap intervals. It returns nil for a dataset the
// paper's Table 1 does not have.
func Figure5(dataset string) *stats.FoldComparison {
	var c *stats.FoldComparison
	for _, r := range table1 {
		if r.Dataset != dataset {
			continue
		}
		if c == nil {
			c = &stats.FoldComparison{Baseline: models.UNet.PaperName()}
		}
		if r.Baseline {
			continue
		}
		c.Rows = append(c.Rows, stats.FoldDiffRow{Model: r.Model,
			Train: &stats.Difference{Mean: r.TrainFWDMean, SD: r.TrainFWDSD, Lo: r.TrainFWDMean - r.TrainFWDSD, Hi: r.TrainFWDMean + r.TrainFWDSD},
			Val:   &stats.Difference{Mean: r.ValFWDMean, SD: r.ValFWDSD, Lo: r.ValFWDMean - r.ValFWDSD, Hi: r.ValFWDMean + r.ValFWDSD}})
	}
	return c
}
