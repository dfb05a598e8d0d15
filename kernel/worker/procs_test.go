package worker

import (
	"runtime"
	"testing"
	"time"
)

// withProcs runs f with the process's GOMAXPROCS restored after it and the
// environment's GOMAXPROCS set to env ("" for unset).
func withProcs(t *testing.T, env string, f func(full int)) {
	t.Helper()
	full := runtime.GOMAXPROCS(0)
	if full < 2 {
		t.Skipf("GOMAXPROCS is %d: the worker stays on it, nothing to lower", full)
	}
	t.Setenv("GOMAXPROCS", env)
	t.Cleanup(func() { runtime.GOMAXPROCS(full) })
	f(full)
}

// eventually waits up to a second for cond.
func eventually(cond func() bool) bool {
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func TestProcs(t *testing.T) {
	withProcs(t, "", func(full int) {
		p := newProcs()
		now := func() int { return runtime.GOMAXPROCS(0) }
		if now() != 1 {
			t.Fatalf("idle worker: GOMAXPROCS %d, want 1", now())
		}

		// A short task stays on one processor.
		p.begin()()
		if now() != 1 {
			t.Fatalf("after a short task: GOMAXPROCS %d, want 1", now())
		}

		// A task that runs past raiseAfter gets every processor, and gives
		// them back at its end.
		end := p.begin()
		if !eventually(func() bool { return now() == full }) {
			t.Fatalf("long task: GOMAXPROCS %d after a second, want %d", now(), full)
		}
		end()
		if now() != 1 {
			t.Fatalf("after a long task: GOMAXPROCS %d, want 1", now())
		}

		// A goroutine a task leaves running gets every processor after the
		// task; the next task's end gives them back once it returned.
		stop, done := make(chan struct{}), make(chan struct{})
		end = p.begin()
		go func() {
			defer close(done)
			<-stop
		}()
		end()
		if !eventually(func() bool { return now() == full }) {
			t.Fatalf("background goroutine: GOMAXPROCS %d after a second, want %d", now(), full)
		}
		close(stop)
		<-done
		time.Sleep(10 * time.Millisecond) // the goroutine's exit is counted
		p.begin()()
		if now() != 1 {
			t.Fatalf("background goroutine returned, a task ended: GOMAXPROCS %d, want 1", now())
		}

		// A task that sets GOMAXPROCS itself turns the governor off.
		end = p.begin()
		runtime.GOMAXPROCS(full + 1)
		end()
		p.begin()()
		if now() != full+1 {
			t.Fatalf("a task set GOMAXPROCS %d: it is %d after two tasks", full+1, now())
		}
	})
}

func TestProcsOffWithEnvironment(t *testing.T) {
	withProcs(t, "2", func(full int) {
		p := newProcs()
		end := p.begin()
		end()
		if got := runtime.GOMAXPROCS(0); got != full {
			t.Fatalf("GOMAXPROCS in the environment: the governor changed GOMAXPROCS to %d (was %d)", got, full)
		}
	})
}

func TestProcsNil(t *testing.T) {
	var p *procs
	p.begin()() // in-process sessions have no governor
}
