package worker

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// A warm pool runs every function, more at once than it keeps goroutines;
// idle kept goroutines take the next functions; a function that ends its
// goroutine frees its place.
func TestWarmPool(t *testing.T) {
	p := newWarmPool(2)
	release := make(chan struct{})
	var started, done sync.WaitGroup
	const n = 5
	started.Add(n)
	done.Add(n)
	for range n {
		p.run(func() {
			defer done.Done()
			started.Done()
			<-release // all n run at the same time
		})
	}
	started.Wait()
	if k := p.kept.Load(); k != 2 {
		t.Errorf("%d goroutines kept, want 2", k)
	}
	close(release)
	done.Wait()
	waitFor(t, "the kept goroutines to be idle", func() bool { return p.idle.Load() == 2 })

	ran := make(chan struct{})
	p.run(func() { close(ran) })
	<-ran
	waitFor(t, "the kept goroutines to be idle again", func() bool { return p.idle.Load() == 2 })
	if k := p.kept.Load(); k != 2 {
		t.Errorf("%d goroutines kept after a function ran on an idle one, want 2", k)
	}

	p.run(func() { runtime.Goexit() })
	waitFor(t, "the goroutine that exited to free its place", func() bool { return p.kept.Load() == 1 })
	if i := p.idle.Load(); i != 1 {
		t.Errorf("%d idle after a Goexit, want 1", i)
	}
}
