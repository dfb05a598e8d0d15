package train_test

import (
	"fmt"
	"os"

	"github.com/unetlab/unetlab/kernel/cell"
	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/train"
	"github.com/unetlab/unetlab/viz"
	"github.com/unetlab/unetlab/volume/decathlon"
	"github.com/unetlab/unetlab/volume/phantom"
)

// Example_readme is the library block of README.md ("The library in a few
// cells"), which kernel/testdata/test_readme.py checks against it line by
// line; here the data and runs go to a temporary folder.
func Example_readme() {
	tmp, err := os.MkdirTemp("", "unetlab-readme")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(tmp)
	os.Setenv("UNETLAB_DATA", tmp+"/data")
	os.Setenv("UNETLAB_RUNS", tmp+"/runs")
	defer os.Unsetenv("UNETLAB_DATA")
	defer os.Unsetenv("UNETLAB_RUNS")

	ctx := cell.Context() // cancelled by the stop button
	dataDir := os.Getenv("UNETLAB_DATA")
	if dataDir == "" {
		dataDir = "data"
	}

	// The Decathlon's Heart task, or its synthetic phantom twin when it is missing.
	ds, synthetic, err := phantom.Ensure(ctx, dataDir, "Heart", &phantom.Options{Shape: [3]int{16, 16, 16}, Training: 6})
	if err != nil {
		panic(err)
	}
	fmt.Println(ds.Name, "synthetic:", synthetic)

	cfg := models.Small(models.UNet) // a U-net sized for the CPU, made smaller still:
	cfg.Channels, cfg.InputSize = []int{4, 8, 16}, [3]int{16, 16, 16}
	summary, err := models.Describe(cfg) // layer table: shapes, parameters, MACs and FLOPs
	if err != nil {
		panic(err)
	}
	fmt.Println(summary.Params, "parameters")

	run, err := train.Fit(ctx, &train.Options{ // resumable with train.Resume
		Model: cfg, Data: ds.Prepare(&decathlon.PrepareOptions{Shape: cfg.InputSize}),
		Epochs: 2, LR: 1e-3, Seed: 1, Root: os.Getenv("UNETLAB_RUNS"), // "": runs/
		Progress: train.ProgressNone, // the default shows a live progress bar
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(run.Epochs), "epochs:", run.Status)

	net, err := train.LoadModel(run.Dir)
	if err != nil {
		panic(err)
	}
	predictor, err := train.NewPredictor(net)
	if err != nil {
		panic(err)
	}
	dice, err := predictor.Evaluate(ctx, ds, run.Settings.Val, nil) // Dice per validation case and label
	if err != nil {
		panic(err)
	}
	fmt.Println(len(dice), "validation case(s) scored")

	curves, err := viz.LearningCurves([]*train.Run{run}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(curves.Render()["text/plain"] != nil)
	// Output:
	// Heart synthetic: true
	// 21362 parameters
	// 2 epochs: completed
	// 1 validation case(s) scored
	// true
}
