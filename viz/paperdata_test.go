package viz_test

import (
	"math"

	"github.com/unetlab/unetlab/paper"
	"github.com/unetlab/unetlab/stats"
	"github.com/unetlab/unetlab/train"
	"github.com/unetlab/unetlab/viz"
)

// Fixture data for the golden figures. Table 2 and the means and standard
// deviations of Table 1 are the paper's; the paper does not publish the
// per-fold scores, so the folds here are spread deterministically around
// the published mean with the published standard deviation. The compute
// figures are illustrative fixtures, not measurements.

// spread returns 5 fold scores with mean m and sample standard deviation sd.
func spread(m, sd float64) []float64 {
	z := []float64{-1.1, 0.4, -0.3, 1.3, -0.3}
	// z has mean 0; scale it to sample sd 1.
	var ss float64
	for _, v := range z {
		ss += v * v
	}
	k := sd / math.Sqrt(ss/4)
	out := make([]float64, len(z))
	for i, v := range z {
		out[i] = m + k*v
	}
	return out
}

func heartFolds() []stats.FoldScores {
	rows := []struct {
		name           string
		vm, vs, tm, ts float64
	}{
		{"U-net", 0.81, 0.03, 0.84, 0.009},
		{"Swin-UNETR", 0.80, 0.05, 0.89, 0.01},
		{"Half-UNet", 0.74, 0.06, 0.84, 0.04},
		{"Resblock-2", 0.79, 0.04, 0.83, 0.03},
		{"Trans-Unet", 0.77, 0.05, 0.86, 0.01},
		{"Conv-Skip", 0.81, 0.03, 0.84, 0.01},
		{"Conv-Skip-Resblock-2", 0.82, 0.02, 0.85, 0.01},
	}
	out := make([]stats.FoldScores, len(rows))
	for i, r := range rows {
		out[i] = stats.FoldScores{Model: r.name, Val: spread(r.vm, r.vs), Train: spread(r.tm, r.ts)}
	}
	// Make the folds differ per model, as real folds do.
	for i := range out {
		for f := range out[i].Val {
			out[i].Val[f] += 0.004 * float64((i*3+f*7)%5-2)
		}
	}
	return out
}

// fixtureRuns returns deterministic learning curves shaped like real ones.
func fixtureRuns() []*train.Run {
	var runs []*train.Run
	for r, name := range []string{"U-net", "Conv-Skip", "Swin-UNETR"} {
		run := &train.Run{Name: name}
		for e := 1; e <= 60; e++ {
			t := float64(e)
			k := 0.06 + 0.015*float64(r)
			tl := 0.25 + 1.1*math.Exp(-k*t) + 0.01*math.Sin(t*0.7+float64(r))
			vl := 0.35 + 1.0*math.Exp(-k*t) + 0.002*t*float64(r) + 0.02*math.Sin(t*1.3+float64(r))
			td := 0.88 - 0.8*math.Exp(-k*t)
			vd := 0.80 - 0.75*math.Exp(-k*t) - 0.001*t*float64(r) + 0.015*math.Sin(t*1.1+float64(r))
			run.Epochs = append(run.Epochs, train.Epoch{Epoch: e, TrainLoss: tl, ValLoss: vl, TrainDice: td, ValDice: vd})
		}
		runs = append(runs, run)
	}
	return runs
}

// paperTable2 is the paper's Table 2 (package paper's transcription) under
// the title the golden figures were drawn with.
func paperTable2() *stats.ScoreTable {
	t := paper.Table2()
	t.Title = "Test Dice on the Medical Segmentation Decathlon"
	return t
}

// fixtureCompute is an illustrative Figure 8: Dice from Table 1, compute
// costs of the right order for a batch of 2 at 128³ (not measurements).
func fixtureCompute() []viz.ComputePoint {
	cost := map[string]float64{"U-net": 1.50e12, "Swin-UNETR": 1.55e12, "Half-UNet": 1.25e12,
		"Resblock-2": 2.05e12, "Trans-Unet": 2.9e12, "Conv-Skip": 2.0e12, "Conv-Skip-Resblock-2": 2.6e12}
	heart := map[string]float64{"U-net": 0.81, "Swin-UNETR": 0.80, "Half-UNet": 0.74, "Resblock-2": 0.79,
		"Trans-Unet": 0.77, "Conv-Skip": 0.81, "Conv-Skip-Resblock-2": 0.82}
	lung := map[string]float64{"U-net": 0.34, "Swin-UNETR": 0.28, "Half-UNet": 0.074, "Resblock-2": 0.31,
		"Trans-Unet": 0.14, "Conv-Skip": 0.35, "Conv-Skip-Resblock-2": 0.27}
	var pts []viz.ComputePoint
	for _, task := range []string{"Heart", "Lung"} {
		for _, m := range []string{"U-net", "Swin-UNETR", "Half-UNet", "Resblock-2", "Trans-Unet", "Conv-Skip", "Conv-Skip-Resblock-2"} {
			d := heart[m]
			if task == "Lung" {
				d = lung[m]
			}
			pts = append(pts, viz.ComputePoint{Model: m, Task: task, Compute: cost[m], Dice: d})
		}
	}
	return pts
}
