package worker

import (
	"context"
	"reflect"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/traefik/yaegi/interp"
)

// This file makes an interrupted cell end only when its evaluation has
// truly ended. yaegi's EvalWithContext returns as soon as the context is
// cancelled and lets the evaluation run on in its goroutine: a cell blocked
// in a compiled call that ignores the context (a busy loop of a library, a
// wait on a mutex, exec.Command(...).Run()) was reported finished while it
// kept running, overlapping the next cell. evalCtx and execCtx do what
// EvalWithContext does (stop the interpreter when the context ends) and then
// wait for the evaluation to return. The kernel restarts the worker on a
// second interrupt (package kernel), which ends such a cell for good.
//
// time.Sleep in cells is the one compiled call made to see the interrupt
// (see sleep): a cell sleeping in a loop stops at once, as before.

// yaegiStop holds the interpreter fields that EvalWithContext uses to
// stop an evaluation (yaegi v0.16.1: mutex, done, cancelChan, id).
type yaegiStop struct {
	mutex      *sync.RWMutex
	done       *chan struct{}
	cancelChan *bool
	id         *uint64
}

// stopHandles returns the fields of in, false when yaegi's internals are
// not what they were.
func stopHandles(in *interp.Interpreter) (h yaegiStop, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	v := reflect.ValueOf(in).Elem()
	field := func(name string, want reflect.Type) unsafe.Pointer {
		f := v.FieldByName(name)
		if !f.IsValid() || f.Type() != want {
			return nil
		}
		return unsafe.Pointer(f.UnsafeAddr())
	}
	m := field("mutex", reflect.TypeOf(sync.RWMutex{}))
	d := field("done", reflect.TypeOf(make(chan struct{})))
	c := field("cancelChan", reflect.TypeOf(false))
	id := field("id", reflect.TypeOf(uint64(0)))
	if m == nil || d == nil || c == nil || id == nil {
		return yaegiStop{}, false
	}
	return yaegiStop{(*sync.RWMutex)(m), (*chan struct{})(d), (*bool)(c), (*uint64)(id)}, true
}

type evalResult struct {
	v   reflect.Value
	err error
}

// evalCtx evaluates src; when ctx ends first it stops the interpreter and
// waits for the evaluation to return.
func (s *session) evalCtx(ctx context.Context, src string) (reflect.Value, error) {
	return s.runCtx(ctx, func() (reflect.Value, error) { return s.in.Eval(src) },
		func() (reflect.Value, error) { return s.in.EvalWithContext(ctx, src) })
}

// execCtx runs a compiled program as evalCtx evaluates source.
func (s *session) execCtx(ctx context.Context, prog *interp.Program) (reflect.Value, error) {
	return s.runCtx(ctx, func() (reflect.Value, error) { return s.in.Execute(prog) },
		func() (reflect.Value, error) { return s.in.ExecuteWithContext(ctx, prog) })
}

func (s *session) runCtx(ctx context.Context, run, fallback func() (reflect.Value, error)) (reflect.Value, error) {
	h, ok := stopHandles(s.in)
	if !ok {
		return fallback()
	}
	h.mutex.Lock()
	*h.done = make(chan struct{})
	*h.cancelChan = true // as EvalWithContext sets it (the session never asks for fast channels)
	done := *h.done
	h.mutex.Unlock()

	finished := make(chan evalResult, 1)
	goWarm(func() {
		var r evalResult
		defer func() {
			if p := recover(); p != nil {
				var pc [64]uintptr
				n := runtime.Callers(1, pc[:])
				r = evalResult{err: interp.Panic{Value: p, Callers: pc[:n], Stack: debug.Stack()}}
			}
			finished <- r
		}()
		r.v, r.err = run()
	})
	select {
	case r := <-finished:
		return r.v, r.err
	case <-ctx.Done():
	}
	// What yaegi's stop does: interpreted code stops at its next step,
	// interpreted channel operations return.
	atomic.AddUint64(h.id, 1)
	close(done)
	<-finished
	return reflect.Value{}, ctx.Err()
}

// interruptCh returns the channel closed when the running cell is
// interrupted; nil (never ready) when no cell runs.
func (s *session) interruptCh() <-chan struct{} {
	s.intrMu.Lock()
	defer s.intrMu.Unlock()
	return s.intr
}

// watchInterrupt closes a fresh interrupt channel when ctx ends before the
// returned stop is called.
func (s *session) watchInterrupt(ctx context.Context) (stop func()) {
	intr := make(chan struct{})
	s.intrMu.Lock()
	s.intr = intr
	s.intrMu.Unlock()
	// No goroutine waits for ctx: a cell leaves none behind.
	stopWatch := context.AfterFunc(ctx, func() { close(intr) })
	return func() {
		stopWatch()
		s.intrMu.Lock()
		s.intr = nil
		s.intrMu.Unlock()
	}
}

// sleep replaces time.Sleep for cells: it returns early when the running
// cell is interrupted (compiled code calling time.Sleep keeps the real one).
func (s *session) sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.interruptCh():
	}
}
