package kernel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/unetlab/unetlab/kernel/worker/proto"
)

// Interpreter is what the kernel needs of the interpreter worker; the
// child process started by package kernel/worker/host (*host.Process)
// satisfies it, and tests use a fake.
type Interpreter interface {
	Execute(ctx context.Context, req proto.ExecuteRequest, fn func(proto.Event)) (proto.ExecuteResult, error)
	Complete(ctx context.Context, code string, cursorPos int) (proto.CompleteResult, error)
	Inspect(ctx context.Context, code string, cursorPos, detailLevel int) (proto.InspectResult, error)
	IsComplete(ctx context.Context, code string) (proto.IsCompleteResult, error)
	// Input answers the last InputEvent: the user's line, or why there is none.
	Input(value string, err error)
	// Interrupt cancels the running cell's context.
	Interrupt() error
	// Comm forwards a front end's comm_open, comm_msg or comm_close with
	// its binary buffers (nil for none) and waits until its handler
	// returns (or ctx ends), handing what the handler emits to fn in order.
	Comm(ctx context.Context, typ string, content map[string]any, buffers [][]byte, fn func(proto.Event)) error
	// OnIdle sets the function that receives what the interpreter emits
	// while no Execute or Comm waits (goroutines a cell left running).
	OnIdle(fn func(proto.Event))
	// Close kills the interpreter and waits for it.
	Close() error
	// Done is closed when the interpreter has exited.
	Done() <-chan struct{}
}

// StartFunc starts a fresh interpreter. ctx bounds the interpreter's life.
type StartFunc func(ctx context.Context) (Interpreter, error)

// supervisor keeps one interpreter running: it starts it in the background,
// replaces it when it dies, and remembers a death nobody was told about.
type supervisor struct {
	ctx   context.Context
	start StartFunc
	log   *slog.Logger

	mu      sync.Mutex
	cur     Interpreter   // nil while starting or after a failed start
	ready   chan struct{} // closed when the current start attempt ends
	err     error         // error of the last start attempt
	stopped bool          // shutting down: start nothing new
	notice  deathNotice   // a death between requests, to report once
	// onIdleDeath, when set (before the first launch), is called after a
	// death between requests has been noted: the kernel reports it at
	// once rather than with the next cell.
	onIdleDeath func(p Interpreter)
}

type deathNotice struct {
	p    Interpreter
	text string
}

func newSupervisor(ctx context.Context, start StartFunc, log *slog.Logger) *supervisor {
	return &supervisor{ctx: ctx, start: start, log: log}
}

// launch begins starting a new interpreter unless one is starting already.
func (s *supervisor) launch() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.launchLocked()
}

func (s *supervisor) launchLocked() {
	if s.stopped {
		return
	}
	if s.ready != nil {
		select {
		case <-s.ready:
		default:
			return // a start is in progress
		}
	}
	ready := make(chan struct{})
	s.ready, s.cur, s.err = ready, nil, nil
	go func() {
		p, err := s.start(s.ctx)
		s.mu.Lock()
		if err == nil && s.stopped {
			s.mu.Unlock()
			p.Close()
			close(ready)
			return
		}
		s.cur, s.err = p, err
		close(ready)
		s.mu.Unlock()
		if err != nil {
			s.log.Error("starting the interpreter failed", "err", err)
			return
		}
		s.log.Debug("interpreter started")
		go s.watch(p)
	}()
}

// watch replaces p when it exits on its own.
func (s *supervisor) watch(p Interpreter) {
	select {
	case <-p.Done():
	case <-s.ctx.Done():
		return
	}
	if s.retire(p) {
		s.mu.Lock()
		s.notice = deathNotice{p, "the interpreter process exited between requests"}
		s.mu.Unlock()
		s.log.Warn("the interpreter exited; starting a fresh one")
		if s.onIdleDeath != nil {
			s.onIdleDeath(p)
		}
	}
}

// retire replaces p by a fresh interpreter if p is still the current one,
// and reports whether it did.
func (s *supervisor) retire(p Interpreter) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != p || p == nil {
		return false
	}
	s.cur = nil
	s.launchLocked()
	return true
}

// get returns the running interpreter, waiting for a start in progress and
// starting a new one when the last start failed or the interpreter died.
func (s *supervisor) get(ctx context.Context) (Interpreter, error) {
	for attempt := 0; ; attempt++ {
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			return nil, errors.New("the kernel is shutting down")
		}
		if s.ready == nil {
			s.launchLocked()
		}
		ready := s.ready
		s.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		s.mu.Lock()
		p, err := s.cur, s.err
		if p == nil && attempt == 0 {
			// The last start failed (or p was retired): try once more.
			s.launchLocked()
			s.mu.Unlock()
			continue
		}
		s.mu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("the interpreter could not start: %w", err)
		}
		if p == nil {
			return nil, errors.New("the interpreter could not start")
		}
		select {
		case <-p.Done():
			s.retire(p)
			if attempt < 2 {
				continue
			}
			return nil, errors.New("the interpreter keeps exiting right after it starts")
		default:
		}
		return p, nil
	}
}

// current returns the running interpreter without waiting, or nil.
func (s *supervisor) current() Interpreter {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// kill closes p on purpose and starts a fresh interpreter.
func (s *supervisor) kill(p Interpreter) {
	s.retire(p)
	if err := p.Close(); err != nil {
		s.log.Debug("closing the interpreter", "err", err)
	}
}

// crashed is called by a request that saw p die: it starts a fresh
// interpreter and drops the between-requests notice, since the request
// reports the death itself.
func (s *supervisor) crashed(p Interpreter) {
	s.retire(p)
	s.mu.Lock()
	if s.notice.p == p {
		s.notice = deathNotice{}
	}
	s.mu.Unlock()
}

// died is called by a request that saw p die but cannot tell the user (a
// comm handler's): it starts a fresh interpreter and keeps text for the
// next cell to report.
func (s *supervisor) died(p Interpreter, text string) {
	s.retire(p)
	s.mu.Lock()
	s.notice = deathNotice{p, text}
	s.mu.Unlock()
}

// takeNotice returns (and forgets) the text of an unreported death.
func (s *supervisor) takeNotice() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.notice.text
	s.notice = deathNotice{}
	return t
}

// stop closes the interpreter and starts nothing more.
func (s *supervisor) stop() {
	s.mu.Lock()
	s.stopped = true
	p, ready := s.cur, s.ready
	s.cur = nil
	s.mu.Unlock()
	if p != nil {
		p.Close()
	}
	_ = ready // a start in progress closes its interpreter itself
}
