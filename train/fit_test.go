package train

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/volume/decathlon"
	"github.com/unetlab/unetlab/volume/phantom"
)

var (
	heartOnce sync.Once
	heartDir  string
	heartErr  error
)

// heart returns the phantom Heart task at 32^3 (12 training cases), written
// once per test binary, prepared at 32^3.
func heart(t testing.TB) *decathlon.Prepared { return heartAt(t, 32) }

// heartAt is heart prepared at size^3.
func heartAt(t testing.TB, size int) *decathlon.Prepared {
	t.Helper()
	heartOnce.Do(func() {
		heartDir, heartErr = os.MkdirTemp("", "unetlab-train-heart")
		if heartErr != nil {
			return
		}
		_, _, heartErr = phantom.Ensure(context.Background(), heartDir, "Heart", &phantom.Options{Shape: [3]int{32, 32, 32}, Training: 12, Test: 1, Seed: 1})
	})
	if heartErr != nil {
		t.Fatal(heartErr)
	}
	ds, err := decathlon.Open(heartDir + "/Task02_Heart")
	if err != nil {
		t.Fatal(err)
	}
	return ds.Prepare(&decathlon.PrepareOptions{Shape: [3]int{size, size, size}})
}

// tinyModel is a 3-level U-net at 16^3 or 32^3 for fast loop tests.
func tinyModel(size int) models.Config {
	c := models.Small(models.UNet)
	c.Channels = []int{4, 8, 16}
	c.InputSize = [3]int{size, size, size}
	return c
}

func TestMain(m *testing.M) {
	code := m.Run()
	if heartDir != "" {
		os.RemoveAll(heartDir)
	}
	os.Exit(code)
}

func TestFitSmoke(t *testing.T) {
	data := heart(t)
	run, err := Fit(context.Background(), Options{Model: models.Small(models.UNet), Data: data, Epochs: 3, LR: 1e-3, Dir: t.TempDir() + "/run"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range run.Epochs {
		t.Logf("%+v", e)
	}
}

func TestExperiment(t *testing.T) {
	if os.Getenv("EXP") == "" {
		t.Skip()
	}
	data := heart(t)
	_, err := Fit(context.Background(), Options{Model: models.Small(models.UNet), Data: data, Epochs: 40, LR: 3e-3, BatchSize: 1, Dir: t.TempDir() + "/run"})
	if err != nil {
		t.Fatal(err)
	}
}
