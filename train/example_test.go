package train_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/train"
	"github.com/unetlab/unetlab/volume/decathlon"
	"github.com/unetlab/unetlab/volume/phantom"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The loss of logits (N=1, C=2, D=1, H=1, W=2) against class values
// (N=1, 1, 1, 1, 2), with its gradient.
func ExampleLoss() {
	g := gorgonia.NewGraph()
	logits := gorgonia.NewTensor(g, tensor.Float64, 5, gorgonia.WithShape(1, 2, 1, 1, 2), gorgonia.WithName("logits"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(1, 2, 1, 1, 2), tensor.WithBacking([]float64{2, -1, 0, 1}))))
	target := gorgonia.NewTensor(g, tensor.Float64, 5, gorgonia.WithShape(1, 1, 1, 1, 2), gorgonia.WithName("target"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(1, 1, 1, 1, 2), tensor.WithBacking([]float64{0, 1}))))
	loss, err := train.Loss(logits, target, nil) // nil: DiceCE, weights 1 and 1
	if err != nil {
		log.Fatal(err)
	}
	if _, err := gorgonia.Grad(loss, logits); err != nil {
		log.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(logits))
	defer m.Close()
	if err := m.RunAll(); err != nil {
		log.Fatal(err)
	}
	grad, _ := logits.Grad()
	fmt.Printf("loss %.4f\n", loss.Value().Data())
	fmt.Printf("dloss/dlogits %.4f\n", grad.Data())
	// Output:
	// loss 0.2461
	// dloss/dlogits [-0.1121 0.1121 0.1121 -0.1121]
}

// Fit on the phantom Heart task at 16^3 with a small U-net, for one epoch.
func ExampleFit() {
	root, err := os.MkdirTemp("", "unetlab-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	ctx := context.Background()
	ds, synthetic, err := phantom.Ensure(ctx, root, "Heart", &phantom.Options{Shape: [3]int{16, 16, 16}, Training: 6})
	if err != nil {
		log.Fatal(err)
	}
	cfg := models.Small(models.UNet)
	cfg.Channels = []int{4, 8, 16}
	cfg.InputSize = [3]int{16, 16, 16}
	run, err := train.Fit(ctx, &train.Options{
		Model:    cfg,
		Data:     ds.Prepare(&decathlon.PrepareOptions{Shape: [3]int{16, 16, 16}}),
		Epochs:   1,
		LR:       1e-3,
		Root:     filepath.Join(root, "runs"),
		Progress: train.ProgressNone,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("synthetic:", synthetic)
	fmt.Println("cases (train, val):", len(run.Settings.Train), len(run.Settings.Val))
	fmt.Println("epochs:", len(run.Epochs), run.Status)
	if _, err := os.Stat(filepath.Join(run.Dir, train.RecordFile)); err == nil {
		fmt.Println("record written")
	}
	// Output:
	// synthetic: true
	// cases (train, val): 5 1
	// epochs: 1 completed
	// record written
}

// Two models cross-validated on the same three folds of a phantom task, and
// the rows of the paper's Table 1 (U-net as the baseline).
func ExampleCompareModels() {
	root, err := os.MkdirTemp("", "unetlab-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	ctx := context.Background()
	ds, _, err := phantom.Ensure(ctx, root, "Heart", &phantom.Options{Shape: [3]int{16, 16, 16}, Training: 6})
	if err != nil {
		log.Fatal(err)
	}
	unet := models.Small(models.UNet)
	unet.Channels = []int{4, 8, 16}
	unet.InputSize = [3]int{16, 16, 16}
	convSkip := unet
	convSkip.Arch = models.ConvSkip
	opt := train.CVOptions{
		Options: train.Options{
			Data:     ds.Prepare(&decathlon.PrepareOptions{Shape: [3]int{16, 16, 16}}),
			Epochs:   1,
			Progress: train.ProgressNone,
		},
		Folds: 3,
		Dir:   filepath.Join(root, "cv"),
	}
	rs, err := train.CompareModels(ctx, &opt, []models.Config{unet, convSkip}, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rs {
		fs := r.FoldScores()
		fmt.Println(r.Model, len(fs.Val), "folds, validation cases of fold 1:", r.Folds[0].Val)
	}
	rows, err := train.Table1Rows("Heart", rs, 0, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, row := range rows {
		fmt.Println(row.Dataset, row.Model, "baseline:", row.Baseline)
	}
	// Output:
	// UNet 3 folds, validation cases of fold 1: [2 4]
	// ConvSkip 3 folds, validation cases of fold 1: [2 4]
	// Heart UNet baseline: true
	// Heart ConvSkip baseline: false
}

// A raw batch of two 16³ single-channel volumes, (N, C, D, H, W) =
// (2, 1, 16, 16, 16), through a 2-class U-net: the logits come back as a
// (2, 2, 16, 16, 16) tensor, the class at each voxel being its argmax.
func ExamplePredictBatch() {
	cfg := models.Small(models.UNet)
	cfg.Channels = []int{4, 8, 16}
	cfg.InputSize = [3]int{16, 16, 16}
	m, err := models.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	x := make([]float32, 2*1*16*16*16)
	for i := range x {
		x[i] = float32(i%16) / 16
	}
	logits, shape, err := train.PredictBatch(context.Background(), m, x, [5]int{2, 1, 16, 16, 16})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(shape, len(logits))
	_, _, err = train.PredictBatch(context.Background(), m, x, [5]int{2, 1, 32, 32, 32})
	fmt.Println(err)
	// Output:
	// [2 2 16 16 16] 16384
	// train: shape mismatch: batch shape [2 1 32 32 32], want (N >= 1, 1, 16, 16, 16): the model's InChannels and InputSize
}
