package worker

import (
	"os"
	"runtime"
	"sync"
	"time"
)

// procs keeps the worker on one processor while it has nothing to run and
// gives it all of them (runtime.GOMAXPROCS as the runtime chose it at
// start) once a task (a cell, a comm handler, a completion) has run for
// raiseAfter, or while goroutines a cell started still run after it.
//
// Why: between requests the worker idles, and a Go process that wakes from
// idle with several processors starts spinning threads at each hand-over
// between goroutines (the request reader hands reading on as the cell
// starts; the cell's output and reply are written by others). On a small
// machine those threads take the CPU the front end needs to decode the
// replies at the same moment. Measured on 2 cores with a `1+1` every 10
// ms: the worker's CPU per request 1.4 -> 0.8 ms, its threads' context
// switches 42 -> 11 (`make bench-kernel` shows kernel and worker together). A cell that computes gets every processor
// after raiseAfter, whatever it calls; the switch is one stop of the world
// (tens of microseconds) each way.
//
// GOMAXPROCS in the environment, or a cell that sets runtime.GOMAXPROCS
// itself, turns the governor off.
type procs struct {
	mu       sync.Mutex
	full     int // the processors of a raised worker
	active   int // tasks running
	raised   bool
	off      bool
	timer    *time.Timer
	baseline int // goroutines of an idle worker, the warm pool's kept ones not counted
}

// raiseAfter is how long a task runs on one processor before the worker
// takes them all (a task that never yields is preempted, and the worker
// raised, within 10 ms).
var raiseAfter = 2 * time.Millisecond

// newProcs lowers the worker to one processor unless GOMAXPROCS is set in
// the environment or the machine has one. The worker's own goroutines
// must be running: they are the idle baseline.
func newProcs() *procs {
	p := &procs{full: runtime.GOMAXPROCS(0)}
	if os.Getenv("GOMAXPROCS") != "" || p.full <= 1 {
		p.off = true
		return p
	}
	p.timer = time.AfterFunc(time.Hour, p.raise)
	p.timer.Stop()
	runtime.GOMAXPROCS(1)
	p.baseline = runtime.NumGoroutine() - int(warm.kept.Load())
	return p
}

// begin marks the start of a task; the returned function marks its end.
// A nil *procs does nothing.
func (p *procs) begin() func() {
	if p == nil || p.off {
		return func() {}
	}
	p.mu.Lock()
	p.active++
	if p.active == 1 && !p.raised {
		p.timer.Reset(raiseAfter)
	}
	p.mu.Unlock()
	return p.end
}

// raise gives the worker every processor when a task still runs, or when
// none does but goroutines the cells started do (checked once more here,
// after end saw them: the worker's own goroutines of a task, such as its
// interrupt watcher, are gone by then).
func (p *procs) raise() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.off || p.raised || (p.active == 0 && !p.background()) {
		return
	}
	if prev := runtime.GOMAXPROCS(p.full); prev != 1 {
		runtime.GOMAXPROCS(prev) // a cell set GOMAXPROCS: leave it to the cell
		p.off = true
		return
	}
	p.raised = true
}

// background reports whether goroutines other than the worker's own run.
func (p *procs) background() bool {
	return runtime.NumGoroutine()-int(warm.kept.Load()) > p.baseline
}

// end marks the end of a task (see begin).
func (p *procs) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.active--
	if p.off || p.active > 0 {
		return
	}
	p.timer.Stop()
	want := 1
	if p.raised {
		want = p.full
	}
	if runtime.GOMAXPROCS(0) != want {
		p.off = true // a cell set GOMAXPROCS itself
		return
	}
	// Goroutines the cells started and that still run keep every
	// processor, or get them when they still run after raiseAfter.
	runtime.Gosched() // goroutines that are done may return first
	switch bg := p.background(); {
	case p.raised && !bg:
		runtime.GOMAXPROCS(1)
		p.raised = false
	case !p.raised && bg:
		p.timer.Reset(raiseAfter)
	}
}
