package viz_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/stats"
	"github.com/unetlab/unetlab/train"
	"github.com/unetlab/unetlab/viz"
	"github.com/unetlab/unetlab/volume"
)

// A notebook cell ends with the figure (or passes it to display.Show);
// outside a kernel Show prints the plain-text form.
func ExampleLearningCurves() {
	var runs []*train.Run
	for f := 1; f <= 2; f++ {
		run := &train.Run{Name: fmt.Sprintf("U-net fold %d", f)}
		for e := 1; e <= 20; e++ {
			decay := math.Exp(-float64(e) / 6)
			run.Epochs = append(run.Epochs, train.Epoch{Epoch: e,
				TrainLoss: 0.3 + decay, ValLoss: 0.4 + decay,
				TrainDice: 0.9 - 0.8*decay, ValDice: 0.8 - 0.75*decay})
		}
		runs = append(runs, run)
	}
	fig, err := viz.LearningCurves(runs, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(fig.Render().Text()) // in a cell: display.Show(fig), or end the cell with fig
	faceted, _ := viz.LearningCurves(runs, &viz.CurveOptions{Facet: true})
	fmt.Println(faceted.PixelSize())
	// Output:
	// <viz.Figure "Learning curves" 768x432>
	// 768 518
}

func ExampleFoldDiff() {
	models := []stats.FoldScores{
		{Model: "U-net", Train: []float64{0.84, 0.85, 0.83, 0.84, 0.85}, Val: []float64{0.80, 0.83, 0.78, 0.81, 0.84}},
		{Model: "Conv-Skip", Train: []float64{0.85, 0.84, 0.84, 0.83, 0.86}, Val: []float64{0.82, 0.82, 0.79, 0.80, 0.84}},
		{Model: "Half-UNet", Train: []float64{0.80, 0.86, 0.84, 0.81, 0.86}, Val: []float64{0.70, 0.78, 0.72, 0.74, 0.76}},
	}
	// stats computes the differences and their intervals; viz draws them.
	c, err := stats.CompareFolds(models, &stats.CompareOptions{Baseline: "U-net"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fig, err := viz.FoldDiff(c, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(fig.Render().Text()) // in a cell: display.Show(fig), or end the cell with fig
	// The numbers behind the figure.
	for _, r := range c.Rows {
		fmt.Printf("%s: validation %+.3f ± %.3f, 95%% CI [%+.3f, %+.3f]\n", r.Model, r.Val.Mean, r.Val.SD, r.Val.Lo, r.Val.Hi)
	}
	// Output:
	// <viz.Figure "Fold-wise difference with U-net" 768x230>
	// Conv-Skip: validation +0.002 ± 0.013, 95% CI [-0.008, +0.012]
	// Half-UNet: validation -0.072 ± 0.019, 95% CI [-0.088, -0.058]
}

func ExampleDiceCompute() {
	fig, err := viz.DiceCompute([]viz.ComputePoint{
		{Model: "U-net", Task: "Heart", Compute: 1.5e12, Dice: 0.81, DiceSD: 0.03},
		{Model: "Conv-Skip", Task: "Heart", Compute: 2.0e12, Dice: 0.81, DiceSD: 0.03},
		{Model: "U-net", Task: "Lung", Compute: 1.5e12, Dice: 0.34, DiceSD: 0.07},
		{Model: "Conv-Skip", Task: "Lung", Compute: 2.0e12, Dice: 0.35, DiceSD: 0.09},
	}, &viz.ComputeOptions{XLabel: "multiply-accumulates per batch of 2 at 128³ (log scale)"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(fig.Panels()[0]), "panels")
	// Output:
	// 2 panels
}

func ExampleLabelBars() {
	fig, err := viz.LabelBars(&stats.ScoreTable{
		Models: []string{"U-net", "Swin-UNETR", "Conv-Skip"},
		Rows: []stats.ScoreRow{
			{Task: "Liver", Label: "liver", Scores: []float64{0.939, 0.929, 0.938}},
			{Task: "Liver", Label: "cancer", Scores: []float64{0.522, 0.376, 0.498}},
		},
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(fig.Render().Text()) // in a cell: display.Show(fig), or end the cell with fig
	// Output:
	// <viz.Figure "Dice per task and label" 768x173>
}

func ExampleFoldBoxes() {
	fig, err := viz.FoldBoxes([]stats.FoldScores{
		{Model: "U-net", Val: []float64{0.80, 0.83, 0.78, 0.81, 0.84}},
		{Model: "Conv-Skip", Val: []float64{0.82, 0.82, 0.79, 0.80, 0.84}},
	}, &viz.BoxOptions{ValOnly: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(fig.Render().Text()) // in a cell: display.Show(fig), or end the cell with fig
	// Output:
	// <viz.Figure "Dice across folds" 768x202>
}

func ExampleTable1() {
	tb, err := viz.Table1([]stats.Table1Row{
		{Dataset: "Heart", Model: "U-net", Folds: 5, Epoch: stats.EpochBest, Baseline: true, ValMean: 0.81, ValSD: 0.03, TrainMean: 0.84, TrainSD: 0.009},
		{Dataset: "Heart", Model: "Conv-Skip", Folds: 5, Epoch: stats.EpochBest, ValMean: 0.81, ValSD: 0.03, ValFWDMean: -0.0015, ValFWDSD: 0.022, ValP: 0.18,
			TrainMean: 0.84, TrainSD: 0.01, TrainFWDMean: -0.006, TrainFWDSD: 0.017, TrainP: 0.93},
	}, &viz.TableOptions{Digits: 2, Caption: "-"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(tb)
	// Output:
	// Table 1: 5-fold cross-validation, foreground Dice at the best validation epoch
	// Dataset  Model        Val. Dice         Val. FWD  Val. p   Train Dice       Train FWD  Train p
	// ==============================================================================================
	// Heart    U-net      0.81 ± 0.03*             NA.          0.84 ± 0.01             NA.
	//          Conv-Skip  0.81 ± 0.03*  -0.002 ± 0.022   0.180  0.84 ± 0.01  -0.006 ± 0.017    0.930
}

func ExampleTable2() {
	tb, err := viz.Table2(&stats.ScoreTable{
		Models: []string{"U-net", "Conv-Skip"},
		Rows: []stats.ScoreRow{
			{Task: "Hippocampus", Label: "anterior", Scores: []float64{0.873, 0.885}},
			{Task: "Hippocampus", Label: "posterior", Scores: []float64{0.881, 0.884}},
			{Task: "Colon", Label: "cancer", Scores: []float64{0.209, 0.121}},
		},
	}, &viz.TableOptions{Caption: "-"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(tb)
	// Output:
	// Table 2: test Dice per task and label
	// Dataset       Region     U-net   Conv-Skip
	// ===========================================
	// Hippocampus   anterior   0.873       0.885*
	//               posterior  0.881       0.884*
	// -------------------------------------------
	// Colon         cancer     0.209*      0.121
	// -------------------------------------------
	// Average rank             1.667       1.333*
}

// ball returns a 32³ volume (1 mm, RAS) with a bright ball and its label.
func ball() (img, lab *volume.Volume) {
	n := 32
	img = vol(make([]float32, n*n*n), [3]int{n, n, n}, [3]float64{1, 1, 1}, "")
	lab = vol(make([]float32, n*n*n), img.Shape, img.Spacing, "")
	for z := range n {
		for y := range n {
			for x := range n {
				i := x + n*(y+n*z)
				d := math.Hypot(math.Hypot(float64(x-12), float64(y-16)), float64(z-16))
				img.Data[i] = float32(100 - 3*d)
				if d < 6 {
					lab.Data[i] = 1
				}
			}
		}
	}
	return img, lab
}

func ExampleSlice() {
	img, lab := ball()
	v, err := viz.Slice(img, viz.Axial, 16, &viz.ViewOptions{Labels: lab, Alpha: 0.5})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v.Render().Text())       // in a cell: display.Show(v), or end the cell with v
	fmt.Println(v.PanelBounds(0).Size()) // 32 voxels of 1 mm, zoomed 8x
	// Output:
	// <viz.View "axial slice 16 of 32 (R left, A up)": 1 panels, 268x310>
	// (256,256)
}

func ExampleMontage() {
	img, lab := ball()
	v, err := viz.Montage(img, viz.Coronal, 4, &viz.ViewOptions{Labels: lab, Contour: true, PixelSize: 0.5})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range v.Len() {
		fmt.Print(v.Caption(i), "; ")
	}
	fmt.Println()
	// Output:
	// y = 4; y = 12; y = 20; y = 28;
}

func ExampleOrthogonal() {
	img, _ := ball()
	v, err := viz.Orthogonal(img, [3]int{12, 16, 16}, &viz.ViewOptions{Window: viz.WindowSoftTissue, Crosshair: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range v.Len() {
		fmt.Println(v.Caption(i))
	}
	// Output:
	// axial, z = 16 (R left, A up)
	// coronal, y = 16 (R left, S up)
	// sagittal, x = 12 (A left, S up)
}

func ExampleCompare() {
	img, truth := ball()
	// A prediction that misses the ball's left half (x < 12).
	pred := truth.Clone()
	for i := range pred.Data {
		if i%32 < 12 {
			pred.Data[i] = 0
		}
	}
	v, err := viz.Compare(img, truth, pred, viz.Axial, 16, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v.Title)
	// Output:
	// axial z = 16 (R left, A up) — Dice 0.710
}

func ExampleNewScroller() {
	img, lab := ball()
	s, err := viz.NewScroller(img, viz.Axial, &viz.ScrollOptions{View: viz.ViewOptions{Labels: lab}, MaxFrames: 16})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Render().Text()) // in a cell: display.Show(s), or end the cell with s
	fmt.Println(s.Indices[:4])
	// Output:
	// <viz.Scroller "axial slices (R left, A up)": 16 frames 256x256>
	// [1 3 5 7]
}

func ExampleFigure_SaveAs() {
	fig, _ := viz.FoldBoxes([]stats.FoldScores{{Model: "U-net", Val: []float64{0.80, 0.83, 0.78}}}, &viz.BoxOptions{ValOnly: true})
	dir, _ := os.MkdirTemp("", "viz")
	defer os.RemoveAll(dir)
	for _, name := range []string{"boxes.png", "boxes.svg", "boxes.pdf"} {
		if err := fig.SaveAs(filepath.Join(dir, name)); err != nil {
			fmt.Println(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fmt.Println(e.Name())
	}
	// Output:
	// boxes.pdf
	// boxes.png
	// boxes.svg
}

func ExampleArchitecture() {
	// A 2-level U-net; models.Paper(models.ConvSkip) draws Figure 3's network.
	d, err := viz.Architecture(models.Config{Arch: models.UNet, Channels: []int{8, 16}, InputSize: [3]int{16, 16, 16}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(d) // in a cell: d (an SVG drawing)
	// Output:
	// U-net: 18610 parameters, input 1 channel(s) of 16x16x16
	// level 0 (1/1):
	//   encoder  encoder.conv_blocks.0 [Conv3d InstanceNorm3d LeakyReLU] 8ch
	//   decoder  decoder.upscaling_layers.0 [ConvTranspose3d] 8ch -> decoder.conv_blocks.0 [Concat Conv3d InstanceNorm3d LeakyReLU] 8ch -> output_layer [Conv3d] 2ch
	//   skip     encoder => decoder (concat)
	// level 1 (1/2):
	//   encoder  encoder.downscaling_layers.0 [MaxPool3d] 8ch -> encoder.conv_blocks.1 [Conv3d InstanceNorm3d LeakyReLU] 16ch
}
