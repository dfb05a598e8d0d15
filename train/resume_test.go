package train

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// tinyOptions trains the tiny U-net on the 16^3 Heart phantom.
func tinyOptions(t testing.TB, dir string, epochs int) Options {
	return Options{Model: tinyModel(16), Data: heartAt(t, 16), Epochs: epochs, LR: 3e-3, Dir: dir, Seed: 7, Progress: ProgressNone, BatchSize: 2}
}

// tinyRun is tinyOptions by pointer, for Fit and Resume.
func tinyRun(t testing.TB, dir string, epochs int) *Options {
	o := tinyOptions(t, dir, epochs)
	return &o
}

// checkEpochs fails unless the record holds epochs 1..n once each.
func checkEpochs(t *testing.T, r *Run, n int) {
	t.Helper()
	if len(r.Epochs) != n {
		t.Fatalf("%d epochs recorded, want %d", len(r.Epochs), n)
	}
	for i, e := range r.Epochs {
		if e.Epoch != i+1 {
			t.Fatalf("record epoch %d at position %d: a gap or a duplicate", e.Epoch, i)
		}
	}
}

// metrics are an epoch's values compared between runs (not timings).
func metrics(e Epoch) [6]float64 {
	return [6]float64{e.TrainLoss, e.ValLoss, e.TrainDice, e.ValDice, e.LR, float64(e.Steps)}
}

// TestRepeatable: two runs with one seed give the same record.
func TestRepeatable(t *testing.T) {
	a, err := Fit(context.Background(), tinyRun(t, t.TempDir()+"/a", 2))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Fit(context.Background(), tinyRun(t, t.TempDir()+"/b", 2))
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Epochs {
		if metrics(a.Epochs[i]) != metrics(b.Epochs[i]) {
			t.Fatalf("epoch %d differs:\n%v\n%v", i+1, metrics(a.Epochs[i]), metrics(b.Epochs[i]))
		}
	}
}

// TestCancelResume cancels a run in its second epoch, checks the error and
// the record, resumes it and compares it with an uninterrupted run: resuming
// mid-epoch gives the same numbers.
func TestCancelResume(t *testing.T) {
	const epochs = 3
	ref, err := Fit(context.Background(), tinyRun(t, t.TempDir()+"/ref", epochs))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir() + "/run"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel after the second step of the second epoch.
	testHookStep = func(epoch, step int) {
		if epoch == 2 && step == 2 {
			cancel()
		}
	}
	run, err := Fit(ctx, tinyRun(t, dir, epochs))
	testHookStep = nil
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fit after cancel: err %v, want context.Canceled", err)
	}
	if run.Status != "cancelled" {
		t.Errorf("status %q, want cancelled", run.Status)
	}
	rec, err := ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkEpochs(t, rec, 1)
	ck, err := readCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Partial == nil || ck.Partial.Epoch != 2 || ck.Partial.Step != 2 {
		t.Fatalf("checkpoint's partial epoch %+v, want epoch 2 step 2", ck.Partial)
	}
	run, err = Resume(context.Background(), tinyRun(t, dir, 0))
	if err != nil {
		t.Fatal(err)
	}
	checkEpochs(t, run, epochs)
	if run.Status != "completed" || run.Resumes != 1 {
		t.Errorf("status %q resumes %d", run.Status, run.Resumes)
	}
	for i := range ref.Epochs {
		a, b := metrics(ref.Epochs[i]), metrics(run.Epochs[i])
		for k := range a {
			if math.Abs(a[k]-b[k]) > 1e-6*math.Max(1, math.Abs(a[k])) {
				t.Fatalf("epoch %d: resumed run %v, uninterrupted %v", i+1, b, a)
			}
		}
	}
	// Resuming a completed run changes nothing.
	again, err := Resume(context.Background(), tinyRun(t, dir, 0))
	if err != nil || !reflect.DeepEqual(metrics(again.Epochs[epochs-1]), metrics(run.Epochs[epochs-1])) {
		t.Fatalf("resume of a completed run: %v", err)
	}
}

const childEnv = "UNETLAB_TRAIN_CHILD_DIR"

// TestResumeAfterKill starts a run in a child process (this test binary),
// kills it with SIGKILL after its second epoch, resumes it here and checks
// that the record has every epoch once and the killed epochs unchanged.
func TestResumeAfterKill(t *testing.T) {
	const epochs = 5
	if dir := os.Getenv(childEnv); dir != "" {
		// The child: train until killed. Steps of epochs after the second
		// take 100 ms longer, so the kill lands inside the third epoch
		// however fast the machine trains.
		testHookStep = func(epoch, step int) {
			if epoch > 2 {
				time.Sleep(100 * time.Millisecond)
			}
		}
		_, err := Fit(context.Background(), tinyRun(t, dir, epochs))
		t.Logf("child finished: %v", err)
		return
	}
	dir := filepath.Join(t.TempDir(), "run")
	heartAt(t, 16) // the phantom, written before the child starts
	cmd := exec.Command(os.Args[0], "-test.run=^TestResumeAfterKill$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, heartEnv+"="+heartDir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	var before *Run
	for {
		if r, err := ReadRun(dir); err == nil && len(r.Epochs) >= 2 {
			before = r
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("child did not finish two epochs in 2 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // into the next epoch, or a checkpoint
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killed, err := ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if killed.Status != "running" || len(killed.Epochs) >= epochs {
		t.Fatalf("the child was not killed midway: status %q, %d epochs", killed.Status, len(killed.Epochs))
	}
	run, err := Resume(context.Background(), tinyRun(t, dir, 0))
	if err != nil {
		t.Fatal(err)
	}
	checkEpochs(t, run, epochs)
	onDisk, err := ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkEpochs(t, onDisk, epochs)
	for i := range before.Epochs {
		if metrics(before.Epochs[i]) != metrics(run.Epochs[i]) {
			t.Fatalf("epoch %d changed by the resume", i+1)
		}
	}
	if run.Resumes != 1 || run.Status != "completed" {
		t.Fatalf("resumes %d status %q", run.Resumes, run.Status)
	}
	t.Logf("killed after %d epochs, resumed to %d", len(killed.Epochs), len(run.Epochs))
}
