package train

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/unetlab/unetlab/internal/atomicfile"
)

// TestCheckpointAfterCrashBetweenRenames: a crash between the two renames
// of atomicfile.ReplaceDir leaves the last checkpoint only in its aside
// folder; readCheckpoint and Resume still find it, and the next checkpoint
// puts a complete checkpoint/ back and drops the aside folder.
func TestCheckpointAfterCrashBetweenRenames(t *testing.T) {
	dir := t.TempDir() + "/run"
	if _, err := Fit(context.Background(), new(tinyOptions(t, dir, 1))); err != nil {
		t.Fatal(err)
	}
	final := filepath.Join(dir, CheckpointDir)
	if err := os.Rename(final, atomicfile.OldDir(final)); err != nil {
		t.Fatal(err)
	}
	ck, err := readCheckpoint(dir)
	if err != nil {
		t.Fatalf("no checkpoint found beside %s: %v", final, err)
	}
	if ck.src != atomicfile.OldDir(final) {
		t.Errorf("checkpoint read from %s, want %s", ck.src, atomicfile.OldDir(final))
	}
	run, err := Resume(context.Background(), new(tinyOptions(t, dir, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Epochs) != 2 {
		t.Errorf("%d epochs after resuming to 2", len(run.Epochs))
	}
	if _, err := os.Stat(filepath.Join(final, "state.json")); err != nil {
		t.Errorf("no complete checkpoint after the next epoch: %v", err)
	}
	if _, err := os.Stat(atomicfile.OldDir(final)); !os.IsNotExist(err) {
		t.Errorf("the aside checkpoint is still there (%v)", err)
	}
}
