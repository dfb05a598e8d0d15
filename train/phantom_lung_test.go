package train

import (
	"context"
	"testing"

	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/volume"
	"github.com/unetlab/unetlab/volume/decathlon"
	"github.com/unetlab/unetlab/volume/phantom"
)

// TestPhantomLungSmoke trains the smoke U-net on the Lung phantom as the
// smoke grid does (48x48x40 phantoms resized to 24^3, 8 epochs) and checks
// that the tumours are large enough to learn: the best validation Dice is
// above 0.1.
func TestPhantomLungSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network for 8 epochs")
	}
	ctx := context.Background()
	ds, _, err := phantom.Ensure(ctx, t.TempDir(), "Lung", &phantom.Options{Shape: [3]int{48, 48, 40}, Training: 10})
	if err != nil {
		t.Fatal(err)
	}
	cfg := models.Small(models.UNet)
	cfg.InputSize = [3]int{24, 24, 24}
	data := ds.Prepare(&decathlon.PrepareOptions{Shape: cfg.InputSize, Intensity: volume.ZScoreMinMax})
	run, err := Fit(ctx, &Options{Model: cfg, Data: data, Train: []int{0, 1, 2, 3, 4, 5, 6}, Val: []int{7, 8, 9},
		Epochs: 8, LR: 3e-3, Seed: 1, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	best, ok := run.Best()
	if !ok {
		t.Fatal("no validated epoch")
	}
	t.Logf("best validation Dice %.3f at epoch %d (training Dice %.3f)", best.ValDice, best.Epoch, best.TrainDice)
	if best.ValDice <= 0.1 {
		t.Errorf("smoke U-net's Lung validation Dice %.3f, want > 0.1: the phantom's tumours are too small to learn", best.ValDice)
	}
}
