package stats_test

import (
	"fmt"

	"github.com/unetlab/unetlab/stats"
	"github.com/unetlab/unetlab/volume"
)

func ExampleDicePerLabel() {
	// Two label maps of 6x1x1 voxels (X, Y, Z), as train.Predict and
	// volume.Read give them: one channel of class numbers.
	truth, pred := volume.New([3]int{6, 1, 1}, 1), volume.New([3]int{6, 1, 1}, 1)
	copy(truth.Data, []float32{0, 1, 1, 2, 2, 0})
	copy(pred.Data, []float32{0, 1, 0, 2, 2, 2})
	d, _ := stats.DicePerLabel(pred, truth, 3)
	fmt.Printf("%.3f\n", d)
	// Output: [0.667 0.800]
}

func ExampleHD95() {
	// One voxel each, 3 voxels apart along Z, on a grid of 1x1x3 mm voxels.
	truth, pred := volume.New([3]int{4, 4, 8}, 1), volume.New([3]int{4, 4, 8}, 1)
	truth.Spacing, pred.Spacing = [3]float64{1, 1, 3}, [3]float64{1, 1, 3}
	truth.Set(0, 1, 2, 2, 1)
	pred.Set(0, 1, 2, 5, 1)
	hd, _ := stats.HD95(pred, truth, 1)
	fmt.Printf("%.1f mm\n", hd)
	// A prediction on another grid is an error, not a number.
	_, err := stats.HD95(volume.New([3]int{8, 4, 4}, 1), truth, 1)
	fmt.Println(err)
	// Output:
	// 9.0 mm
	// stats: shape mismatch: HD95: prediction shape 8x4x4, truth 4x4x8 (X, Y, Z voxels)
}

func ExampleBootstrapTest() {
	unet := []float64{0.90, 0.91, 0.89, 0.92, 0.90} // validation Dice per fold
	other := []float64{0.80, 0.82, 0.78, 0.83, 0.79}
	fwd, _ := stats.FoldDifferences(other, unet)
	p, _ := stats.BootstrapTest(fwd, &stats.BootstrapOptions{Seed: 1})
	fmt.Println(stats.Summarize(fwd), p < 0.01)
	// Output: -0.100 ± 0.010 true
}

func ExampleBootstrap() {
	// Three folds, the model better than the baseline by a hair on each.
	fwd := []float64{0.004, 0.006, 0.005}
	r, _ := stats.Bootstrap(fwd, nil)
	fmt.Printf("p = %.3f (the bootstrap alone: %.4f)\n", r.P, r.BootstrapP)
	fmt.Println(r.Warning)
	// Output:
	// p = 0.250 (the bootstrap alone: 0.0001)
	// only 3 paired differences: a bootstrap needs at least 5 to resolve a p-value; an exact sign-flip test of 3 pairs cannot go below p = 2/2^3 = 0.25 however large the difference, so p is reported as at least that
}

func ExampleAverageRanks() {
	// rows: task labels; columns: U-net, Swin-UNETR, Conv-Skip
	scores := [][]float64{
		{0.91, 0.89, 0.92},
		{0.60, 0.55, 0.58},
	}
	avg, _ := stats.AverageRanks(scores)
	fmt.Println(avg)
	// Output: [1.5 3 1.5]
}

func ExampleScoreTable_AverageRanks() {
	st := &stats.ScoreTable{
		Models: []string{"U-net", "Swin-UNETR", "Conv-Skip"},
		Rows: []stats.ScoreRow{
			{Task: "Heart", Label: "L1 left atrium", Scores: []float64{0.91, 0.89, 0.92}},
			{Task: "Lung", Label: "L1 cancer", Scores: []float64{0.60, 0.55, 0.58}},
		},
	}
	avg, _ := st.AverageRanks()
	fmt.Println(avg)
	// Output: [1.5 3 1.5]
}

func ExampleCompareFolds() {
	scores := []stats.FoldScores{
		{Model: "U-net", Val: []float64{0.90, 0.91, 0.89, 0.92, 0.90}},
		{Model: "Half-UNet", Val: []float64{0.88, 0.90, 0.88, 0.90, 0.89}},
	}
	c, _ := stats.CompareFolds(scores, nil)
	d := c.Rows[0].Val
	fmt.Printf("%s - %s: %.3f, %g%% interval [%.3f, %.3f]\n", c.Rows[0].Model, c.Baseline, d.Mean, 100*c.Level, d.Lo, d.Hi)
	// Output: Half-UNet - U-net: -0.014, 95% interval [-0.018, -0.010]
}

func ExampleTable1Rows() {
	scores := []stats.FoldScores{
		{Model: "U-net", Train: []float64{0.95, 0.96, 0.94}, Val: []float64{0.90, 0.91, 0.89}},
		{Model: "Half-UNet", Train: []float64{0.93, 0.95, 0.93}, Val: []float64{0.88, 0.90, 0.88}},
	}
	rows, _ := stats.Table1Rows("Heart", scores, 0, nil)
	r := rows[1]
	fmt.Printf("%s %s: val %.3f ± %.3f, FWD %.3f, p = %.2f over %d folds\n", r.Dataset, r.Model, r.ValMean, r.ValSD, r.ValFWDMean, r.ValP, r.Folds)
	// Output: Heart Half-UNet: val 0.887 ± 0.012, FWD -0.013, p = 0.25 over 3 folds
}
