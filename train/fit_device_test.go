package train

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/internal/devtest"
	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/models/nn"
	"github.com/unetlab/unetlab/rng"
)

// testDevice names the device the device tests run on: UNETLAB_TEST_DEVICE
// ("cuda" on a GPU machine: bench/gpu/check.sh), else "emulated". A device
// that cannot be opened skips the tests, saying why.
func testDevice() string {
	if d := os.Getenv("UNETLAB_TEST_DEVICE"); d != "" {
		return d
	}
	return "emulated"
}

// devices opens the CPU and the test device (testDevice) for t, skipping
// t without it; both are closed when t ends.
func devices(t *testing.T) (cpu, emu *nn.Device) {
	t.Helper()
	cpu, err := nn.OpenDevice("cpu")
	if err != nil {
		t.Fatal(err)
	}
	emu, err = nn.OpenDevice(testDevice())
	if err != nil {
		t.Skipf("skipped: %v", err)
	}
	t.Cleanup(emu.Close)
	return cpu, emu
}

// deviceOptions is a tiny U-net (channels 4 and 8) on the Heart phantom at
// 8^3, batch 2, 12 cases: 5 steps and 2 validation cases an epoch, quick
// on the emulator.
func deviceOptions(t *testing.T, dir string, epochs int, dev *nn.Device) *Options {
	cfg := models.Small(models.UNet)
	cfg.Channels = []int{4, 8}
	cfg.InputSize = [3]int{8, 8, 8}
	return &Options{Model: cfg, Data: heartAt(t, 8), Epochs: epochs, LR: 1e-2, Dir: dir, Seed: 3,
		Progress: ProgressNone, BatchSize: 2, Device: dev}
}

// sameEpochs fails t unless two records' epochs agree: losses within rel
// (relative), Dice within 2e-2 (an argmax at a near tie may flip a voxel).
func sameEpochs(t *testing.T, what string, got, want *Run, rel float64) {
	t.Helper()
	if len(got.Epochs) != len(want.Epochs) {
		t.Fatalf("%s: %d epochs, want %d", what, len(got.Epochs), len(want.Epochs))
	}
	for i, e := range got.Epochs {
		w := want.Epochs[i]
		devtest.Loss(t, fmt.Sprintf("%s epoch %d train", what, e.Epoch), e.TrainLoss, w.TrainLoss, rel)
		devtest.Loss(t, fmt.Sprintf("%s epoch %d val", what, e.Epoch), e.ValLoss, w.ValLoss, rel)
		if math.Abs(e.ValDice-w.ValDice) > 2e-2 || math.Abs(e.TrainDice-w.TrainDice) > 2e-2 {
			t.Errorf("%s epoch %d: Dice train %.4f val %.4f, CPU %.4f %.4f", what, e.Epoch, e.TrainDice, e.ValDice, w.TrainDice, w.ValDice)
		}
	}
}

// TestFitDevice trains the tiny U-net for two epochs on the CPU and on the
// emulated device and compares the records; then a checkpoint written on
// one device resumes on the other: one epoch on the emulated device and
// one on the CPU (and the other way round) give the two-epoch run's losses.
func TestFitDevice(t *testing.T) {
	cpu, emu := devices(t)
	ctx := context.Background()
	dir := t.TempDir()
	want, err := Fit(ctx, deviceOptions(t, dir+"/cpu", 2, cpu))
	if err != nil {
		t.Fatal(err)
	}
	if want.Settings.Device != "cpu" {
		t.Errorf("CPU run's record: Device %q, want cpu", want.Settings.Device)
	}
	got, err := Fit(ctx, deviceOptions(t, dir+"/emu", 2, emu))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.Settings.Device, emu.Kind().String()) {
		t.Errorf("emulated run's record: Device %q", got.Settings.Device)
	}
	rec, err := ReadRun(dir + "/emu")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Settings.Device != got.Settings.Device {
		t.Errorf("record.json: Device %q, the run returned %q", rec.Settings.Device, got.Settings.Device)
	}
	sameEpochs(t, "emulated", got, want, 1e-3)
	if !(want.Epochs[1].TrainLoss < want.Epochs[0].TrainLoss) {
		t.Errorf("CPU loss did not fall (%v then %v): the comparison shows nothing", want.Epochs[0].TrainLoss, want.Epochs[1].TrainLoss)
	}

	for _, c := range []struct {
		name        string
		first, then *nn.Device
	}{{"emulated then cpu", emu, cpu}, {"cpu then emulated", cpu, emu}} {
		d := dir + "/" + strings.ReplaceAll(c.name, " ", "-")
		if _, err := Fit(ctx, deviceOptions(t, d, 1, c.first)); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		r, err := Resume(ctx, deviceOptions(t, d, 2, c.then))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		sameEpochs(t, c.name, r, want, 1e-3)
		if wantDev := strings.TrimPrefix(c.then.String(), "device: "); r.Settings.Device != wantDev {
			t.Errorf("%s: record's Device %q after the resume, want %q", c.name, r.Settings.Device, wantDev)
		}
	}
}

// TestFitDeviceCopies drives the trainer's steps and validation on the
// emulated device and counts the copies: after the first step (which
// uploads the parameters) a step copies the batch's image and labels in
// and the loss and logits out, a validation case its image in and its
// logits out, and nothing falls back to the CPU.
func TestFitDeviceCopies(t *testing.T) {
	_, emu := devices(t)
	ctx := context.Background()
	opt := deviceOptions(t, t.TempDir(), 1, emu)
	s, err := opt.resolve()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := newTrainer(&Run{Dir: opt.Dir, Settings: s, BestValDice: math.NaN(), Status: "running"}, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.close()
	if tr.dev == nil {
		t.Fatal("the trainer is not on the device")
	}
	it := tr.trainLoader.Epoch(ctx, 1)
	defer it.Close()
	var dice []float64
	for step := 0; it.Next(); step++ {
		tr.dev.e.ResetStats()
		if _, err := tr.step(ctx, it.Batch(), &dice); err != nil {
			t.Fatal(err)
		}
		st := tr.dev.stats()
		if st.FallbackOps != 0 || (step > 0 && (st.HostToDevice != 2 || st.DeviceToHost != 2)) {
			t.Errorf("step %d: %v; want 2 uploads (image, labels), 2 downloads (loss, logits), no fallbacks", step, st)
		}
	}
	for pass := range 2 {
		tr.dev.e.ResetStats()
		if _, _, _, err := tr.validate(ctx, 1); err != nil {
			t.Fatal(err)
		}
		st := tr.dev.stats()
		n := len(s.Val)
		if st.FallbackOps != 0 || (pass > 0 && (st.HostToDevice != n || st.DeviceToHost != n)) {
			t.Errorf("validation pass %d: %v; want %d uploads and downloads (one per case), no fallbacks", pass, st, n)
		}
	}
	if tr.adam.Steps() == 0 {
		t.Error("Adam made no step")
	}
}

// TestCVDevice cross-validates the tiny U-net (2 folds, 1 epoch) on the
// emulated device and on the CPU: the folds' scores agree, each fold's
// record names its device; the LR search's objective trains there too.
func TestCVDevice(t *testing.T) {
	cpu, emu := devices(t)
	ctx := context.Background()
	var res [2]*CVResult
	for i, d := range []*nn.Device{cpu, emu} {
		o := deviceOptions(t, "", 1, d)
		r, err := CrossValidate(ctx, &CVOptions{Options: *o, Folds: 2, Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		res[i] = r
	}
	for f := range res[0].Folds {
		g, w := res[1].Folds[f].Run, res[0].Folds[f].Run
		sameEpochs(t, fmt.Sprintf("fold %d", f+1), g, w, 1e-3)
		if !strings.HasPrefix(g.Settings.Device, emu.Kind().String()) {
			t.Errorf("fold %d record: Device %q", f+1, g.Settings.Device)
		}
	}
	o := deviceOptions(t, "", 1, emu)
	o.Root = t.TempDir()
	score, err := LRObjective(o)(ctx, 1e-2)
	if err != nil {
		t.Fatal(err)
	}
	if math.IsNaN(score) || score < 0 || score > 1 {
		t.Errorf("LR objective on the emulated device: %v, want a Dice in [0, 1]", score)
	}
}

// TestPredictDevice runs the Predictor on the emulated device and on the
// CPU: the logits of a raw batch agree.
func TestPredictDevice(t *testing.T) {
	if _, err := nn.SetDevice(testDevice()); err != nil {
		t.Skipf("skipped: %v", err)
	}
	defer nn.SetDevice("cpu")
	cfg := models.Small(models.UNet)
	cfg.Channels = []int{4, 8}
	cfg.InputSize = [3]int{8, 8, 8}
	m, err := models.NewWithOptions(cfg, &models.Options{Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	shape := [5]int{2, 1, 8, 8, 8}
	x := make([]float32, 2*8*8*8)
	r := rng.New(9)
	for i := range x {
		x[i] = float32(r.Norm())
	}
	p, err := NewPredictor(m)
	if err != nil {
		t.Fatal(err)
	}
	if p.dev == nil {
		p.Close()
		t.Fatal("the predictor is not on the emulated device")
	}
	got, _, err := p.Logits(context.Background(), x, shape)
	p.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nn.SetDevice("cpu"); err != nil {
		t.Fatal(err)
	}
	want, _, err := PredictBatch(context.Background(), m, x, shape)
	if err != nil {
		t.Fatal(err)
	}
	devtest.CompareF32(t, "logits", got, want, 1e-4, 1e-3)
}

// TestFitDeviceFloat64: a float64 run given a device computes on the CPU
// (devices run float32) and its record says so.
func TestFitDeviceFloat64(t *testing.T) {
	_, emu := devices(t)
	opt := deviceOptions(t, t.TempDir()+"/run", 1, emu)
	opt.Float64 = true
	run, err := Fit(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if d := run.Settings.Device; !strings.HasPrefix(d, "cpu (Float64: ") {
		t.Errorf("record's Device %q, want the CPU and the reason", d)
	}
}
