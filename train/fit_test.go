package train

import (
	"context"
	"errors"
	"github.com/unetlab/unetlab/volume/augment"
	"math"
	"os"
	"strings"
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
		if dir := os.Getenv(heartEnv); dir != "" {
			// A child process of TestResumeAfterKill: the parent's data,
			// which the parent removes (the child is killed).
			heartDir = dir
			return
		}
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

// heartEnv passes the phantom's directory to a child test process.
const heartEnv = "UNETLAB_TRAIN_HEART_DIR"

func TestMain(m *testing.M) {
	code := m.Run()
	if heartDir != "" && os.Getenv(heartEnv) == "" {
		os.RemoveAll(heartDir)
	}
	os.Exit(code)
}

// TestFitFloat64 trains in float64 and checks the record on disk.
func TestFitFloat64(t *testing.T) {
	opt := tinyOptions(t, t.TempDir()+"/run", 2)
	opt.Float64 = true
	opt.Name = "f64"
	run, err := Fit(context.Background(), &opt)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ReadRun(opt.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Name != "f64" || !rec.Settings.Float64 || len(rec.Epochs) != 2 || rec.Epochs[1].TrainLoss != run.Epochs[1].TrainLoss {
		t.Fatalf("record %+v", rec)
	}
	if rec.Settings.LR != 3e-3 || rec.Settings.Adam.WeightDecay != 1e-7 || rec.Settings.Plateau.Patience != 20 || rec.Settings.Loss.SmoothNr != 1e-5 || rec.Settings.Loss.SmoothDr != 1e-5 {
		t.Fatalf("settings %+v", rec.Settings)
	}
	if !(run.Epochs[1].TrainLoss < run.Epochs[0].TrainLoss) {
		t.Fatalf("loss did not fall: %+v", run.Epochs)
	}
}

func TestFitErrors(t *testing.T) {
	data := heartAt(t, 16)
	good := func() Options { return tinyOptions(t, t.TempDir()+"/run", 1) }
	cases := []struct {
		name string
		edit func(*Options)
		want error
	}{
		{"no data", func(o *Options) { o.Data = nil }, ErrOptions},
		{"bad model", func(o *Options) { o.Model.Channels = []int{4, 0} }, models.ErrConfig},
		{"input size", func(o *Options) { o.Model.InputSize = [3]int{32, 32, 32} }, ErrShape},
		{"lr", func(o *Options) { o.LR = -1 }, ErrOptions},
		{"index", func(o *Options) { o.Train = []int{0, 99}; o.Val = []int{1} }, ErrOptions},
		{"val fraction", func(o *Options) { o.ValFraction = 1 }, ErrOptions},
		{"progress", func(o *Options) { o.Progress = "fancy" }, ErrOptions},
		{"loss", func(o *Options) { o.Loss.Kind = "focal" }, ErrOptions},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := good()
			o.Data = data
			c.edit(&o)
			if _, err := Fit(context.Background(), &o); !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
	// A directory that holds a run is refused; Resume of an empty one too.
	o := good()
	if _, err := Fit(context.Background(), &o); err != nil {
		t.Fatal(err)
	}
	if _, err := Fit(context.Background(), &o); !errors.Is(err, ErrRun) {
		t.Fatalf("Fit into a run directory: %v", err)
	}
	aug := o
	aug.Augment = &augment.Pipeline{}
	if _, err := Resume(context.Background(), &aug); !errors.Is(err, ErrRun) {
		t.Fatalf("Resume with augmentation the run did not have: %v", err)
	}
	if _, err := Resume(context.Background(), tinyRun(t, t.TempDir(), 1)); !errors.Is(err, ErrRun) {
		t.Fatalf("Resume without checkpoint: %v", err)
	}
}

// TestEarlyStopping: with a learning rate too small to change any
// prediction, the validation Dice never improves after epoch 1, so patience
// 2 stops the run after epoch 3.
func TestEarlyStopping(t *testing.T) {
	opt := tinyOptions(t, t.TempDir()+"/run", 10)
	opt.LR = 1e-12
	opt.Patience = 2
	run, err := Fit(context.Background(), &opt)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != "early stopping" || len(run.Epochs) != 3 || run.BestEpoch != 1 {
		t.Fatalf("status %q after %d epochs, best epoch %d", run.Status, len(run.Epochs), run.BestEpoch)
	}
	// Resuming a run that stopped early does not train on.
	again, err := Resume(context.Background(), tinyRun(t, opt.Dir, 0))
	if err != nil || len(again.Epochs) != 3 {
		t.Fatalf("resume after early stopping: %v, %d epochs", err, len(again.Epochs))
	}
}

func TestRunRender(t *testing.T) {
	r := &Run{ID: "id", Name: "U<net>", Settings: Settings{Epochs: 3}, Status: "running", BestEpoch: 1, BestValDice: 0.5,
		Epochs: []Epoch{{Epoch: 1, TrainLoss: 1, ValLoss: 0.9, TrainDice: 0.4, ValDice: 0.5, LR: 1e-4}, {Epoch: 2, TrainDice: math.NaN(), ValDice: math.NaN()}}}
	b := r.Render()
	h := b["text/html"].(string)
	if !strings.Contains(h, "U&lt;net&gt;") || strings.Count(h, "<tr>") != 3 || !strings.Contains(b.Text(), "best validation Dice 0.5000 at epoch 1") {
		t.Fatalf("render:\n%s\n%s", h, b.Text())
	}
	// NaN scores survive a JSON round trip as null.
	js, err := r.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Run
	if err := back.UnmarshalJSON(js); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(back.Epochs[1].ValDice) || back.Epochs[0].ValDice != 0.5 || back.BestValDice != 0.5 {
		t.Fatalf("round trip %+v", back.Epochs)
	}
}
