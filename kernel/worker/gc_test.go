package worker

import (
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	limit := tuneGC()
	if got := debug.SetGCPercent(-1); got != workerGCPercent {
		t.Errorf("GOGC %d, want %d", got, workerGCPercent)
	}
	if avail := memoryAvailable(); avail > 0 {
		if limit != avail/4*3 || debug.SetMemoryLimit(-1) != limit {
			t.Errorf("limit %d, want 3/4 of %d", limit, avail)
		}
	}
	// The user's settings win.
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(1 << 62)
	t.Setenv("GOGC", "200")
	t.Setenv("GOMEMLIMIT", "1GiB")
	if limit := tuneGC(); limit != 0 || debug.SetGCPercent(-1) != 100 || debug.SetMemoryLimit(-1) != 1<<62 {
		t.Errorf("tuneGC overrode GOGC/GOMEMLIMIT from the environment (limit %d)", limit)
	}
}
