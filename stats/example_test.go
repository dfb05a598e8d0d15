package stats_test

import (
	"fmt"

	"github.com/unetlab/unetlab/stats"
)

func ExampleDicePerLabel() {
	truth := []uint8{0, 1, 1, 2, 2, 0}
	pred := []uint8{0, 1, 0, 2, 2, 2}
	d, _ := stats.DicePerLabel(pred, truth, 3)
	fmt.Printf("%.3f\n", d)
	// Output: [0.667 0.800]
}

func ExampleBootstrapTest() {
	unet := []float64{0.90, 0.91, 0.89, 0.92, 0.90} // validation Dice per fold
	other := []float64{0.80, 0.82, 0.78, 0.83, 0.79}
	fwd, _ := stats.FoldDifferences(other, unet)
	p, _ := stats.BootstrapTest(fwd, stats.BootstrapOptions{Seed: 1})
	fmt.Println(stats.Summarize(fwd), p < 0.01)
	// Output: -0.100 ± 0.010 true
}

func ExampleBootstrap() {
	// Three folds, the model better than the baseline by a hair on each.
	fwd := []float64{0.004, 0.006, 0.005}
	r, _ := stats.Bootstrap(fwd, stats.BootstrapOptions{})
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
