package worker

import "sync/atomic"

// Cells run on goroutines kept from one cell to the next. A new goroutine
// starts with a small stack, and parsing, type checking and interpreting a
// cell go deep: the runtime grew and copied that stack several times for
// every cell, about a tenth of the worker's CPU time for `1+1`. A kept
// goroutine keeps its grown stack (until a collection finds it idle with
// little of it used and halves it).

// warmPool keeps up to max goroutines that wait for functions to run.
type warmPool struct {
	max  int32
	jobs chan func() // unbuffered: a send succeeds only when one waits
	// kept counts the kept goroutines, idle those of them waiting.
	kept, idle atomic.Int32
}

func newWarmPool(max int32) *warmPool { return &warmPool{max: max, jobs: make(chan func())} }

// warm is the worker's pool: a cell's evaluation, the request it serves,
// the reading of the next requests and a completion or inspection at once.
var warm = newWarmPool(4)

// goWarm runs f as `go f()` does, on a kept goroutine of the worker's pool.
func goWarm(f func()) { warm.run(f) }

// run runs f on an idle kept goroutine, else on a new one (kept when fewer
// than max are), and returns at once. f must recover its own panics if the
// process is to survive them, as with `go f()`; one that calls
// runtime.Goexit ends the goroutine it ran on, which frees its place.
func (p *warmPool) run(f func()) {
	select {
	case p.jobs <- f:
		return
	default:
	}
	if p.kept.Add(1) > p.max {
		p.kept.Add(-1)
		go f()
		return
	}
	go func() {
		defer p.kept.Add(-1)
		f()
		for {
			p.idle.Add(1)
			f := <-p.jobs
			p.idle.Add(-1)
			f()
		}
	}()
}
