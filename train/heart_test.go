package train

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/stats"
	"github.com/unetlab/unetlab/volume/decathlon"
)

// TestHeartDice trains the small U-net preset (4 levels, [8 16 32 64]) on
// the phantom Heart task at 32^3 until its validation foreground Dice
// exceeds 0.8, in chunks of epochs (each chunk a Resume of the run), within
// a budget of epochs; then it predicts the validation cases on their
// original grid with the last weights and checks that the Dice of those
// predictions matches the record's last epoch.
//
// Budget: 60 epochs of 10 steps (batch 1) under UNETLAB_SCALE=smoke, about
// 2 minutes on 2 free cores when 0.8 is reached near epoch 35; 100
// otherwise.
func TestHeartDice(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for minutes")
	}
	maxEpochs := 100
	if os.Getenv("UNETLAB_SCALE") == "smoke" {
		maxEpochs = 60
	}
	data := heart(t)
	opt := Options{Model: models.Small(models.UNet), Data: data, BatchSize: 1, LR: 6e-3, Seed: 1,
		Dir: filepath.Join(t.TempDir(), "heart"), Progress: ProgressNone}
	ctx := context.Background()
	start := time.Now()
	var run *Run
	var err error
	for epochs := 5; epochs <= maxEpochs; epochs += 5 {
		opt.Epochs = epochs
		if run == nil {
			run, err = Fit(ctx, &opt)
		} else {
			run, err = Resume(ctx, &opt)
		}
		if err != nil {
			t.Fatal(err)
		}
		last := run.Epochs[len(run.Epochs)-1]
		t.Logf("epoch %d: train loss %.4f Dice %.4f, val loss %.4f Dice %.4f (%.0fs)", last.Epoch, last.TrainLoss, last.TrainDice, last.ValLoss, last.ValDice, time.Since(start).Seconds())
		if last.ValDice > 0.8 {
			break
		}
	}
	checkEpochs(t, run, len(run.Epochs))
	last := run.Epochs[len(run.Epochs)-1]
	if !(last.ValDice > 0.8) {
		t.Fatalf("validation Dice %.4f after %d epochs, want > 0.8 (best %.4f at epoch %d)", last.ValDice, last.Epoch, run.BestValDice, run.BestEpoch)
	}
	// Inference on the original grid agrees with the validation pass.
	m, err := LoadModel(run.Dir)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := decathlon.Open(filepath.Join(heartDir, "Task02_Heart"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPredictor(m)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	scores, err := p.Evaluate(ctx, ds, run.Settings.Val, nil)
	if err != nil {
		t.Fatal(err)
	}
	var dice []float64
	for _, d := range scores {
		dice = append(dice, d[0])
	}
	if got := stats.NanMean(dice); math.Abs(got-last.ValDice) > 0.02 {
		t.Fatalf("Dice of the predictions %.4f, validation pass %.4f", got, last.ValDice)
	}
}
