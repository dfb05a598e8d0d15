package kernel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/kernel/wire"
	"github.com/unetlab/unetlab/kernel/worker/proto"
)

// fake is a scripted Interpreter. Each line of a cell is a command:
//
//	print TEXT    stdout stream TEXT\n
//	eprint TEXT   stderr stream
//	result TEXT   the cell's value is TEXT
//	png           display_data with image/png bytes and display id "d1"
//	update        update_display_data for "d1"
//	clear         clear_output
//	fail          error status
//	crash         the process dies (ErrCrashed)
//	block         wait until interrupted (then error "interrupted")
//	hang          ignore interrupts; wait until Close
//	input PROMPT  ask for a line, print it
//	reset         the result names reset variables a and b
//	comm          open a comm "c1" to target "t"
//	widget        open a widget comm "w1" with metadata and a binary buffer
//	later TEXT    after the cell ended, stdout TEXT\n as idle output
//
// anything else becomes the result.
type fake struct {
	id      int
	done    chan struct{}
	once    sync.Once
	mu      sync.Mutex
	intr    chan struct{}
	inputs  chan inputAnswer
	comms   []string // "type id" of front-end comm messages received
	targets map[string]bool
	idle    func(proto.Event)
	blocked atomic.Bool // a block, hang or input command is waiting
}

type inputAnswer struct {
	value string
	err   error
}

var fakeStarts atomic.Int64

func newFake() *fake {
	return &fake{
		id:      int(fakeStarts.Add(1)),
		done:    make(chan struct{}),
		intr:    make(chan struct{}, 1),
		inputs:  make(chan inputAnswer, 1),
		targets: map[string]bool{"known": true},
	}
}

func startFake(context.Context) (Interpreter, error) { return newFake(), nil }

func (f *fake) die() { f.once.Do(func() { close(f.done) }) }

func (f *fake) Execute(ctx context.Context, req proto.ExecuteRequest, fn func(proto.Event)) (proto.ExecuteResult, error) {
	select {
	case <-f.intr: // forget interrupts that came while idle
	default:
	}
	var later []string
	defer func() {
		if len(later) == 0 {
			return
		}
		f.mu.Lock()
		idle := f.idle
		f.mu.Unlock()
		go func() {
			time.Sleep(20 * time.Millisecond)
			for _, text := range later {
				idle(proto.Event{Stream: &proto.StreamEvent{Name: "stdout", Text: text + "\n"}})
			}
		}()
	}()
	res := proto.ExecuteResult{Status: "ok"}
	for _, line := range strings.Split(req.Code, "\n") {
		cmd, arg, _ := strings.Cut(line, " ")
		switch cmd {
		case "":
		case "print":
			fn(proto.Event{Stream: &proto.StreamEvent{Name: "stdout", Text: arg + "\n"}})
		case "eprint":
			fn(proto.Event{Stream: &proto.StreamEvent{Name: "stderr", Text: arg + "\n"}})
		case "result":
			res.Result = display.Bundle{"text/plain": arg}
		case "png":
			fn(proto.Event{Display: &proto.DisplayEvent{Data: display.Bundle{"image/png": []byte{0x89, 'P', 'N', 'G'}}, DisplayID: "d1"}})
		case "update":
			fn(proto.Event{Display: &proto.DisplayEvent{Data: display.Bundle{"text/plain": "updated"}, DisplayID: "d1", Update: true}})
		case "clear":
			fn(proto.Event{Clear: &proto.ClearEvent{Wait: true}})
		case "fail":
			return proto.ExecuteResult{Status: "error", EName: "Error", EValue: "1:1: it failed",
				Traceback: []string{"1:1: it failed"}}, nil
		case "crash":
			f.die()
			return res, fmt.Errorf("%w: exit status 2: panic: boom", proto.ErrCrashed)
		case "block":
			f.blocked.Store(true)
			defer f.blocked.Store(false)
			select {
			case <-f.intr:
				return proto.ExecuteResult{Status: "error", EName: "Interrupted", EValue: "interrupted"}, nil
			case <-f.done:
				return res, fmt.Errorf("%w: killed", proto.ErrCrashed)
			}
		case "hang":
			f.blocked.Store(true)
			<-f.done
			return res, fmt.Errorf("%w: signal: killed", proto.ErrCrashed)
		case "input":
			fn(proto.Event{Input: &proto.InputEvent{Prompt: arg}})
			f.blocked.Store(true)
			defer f.blocked.Store(false)
			select {
			case a := <-f.inputs:
				if a.err != nil {
					return proto.ExecuteResult{Status: "error", EName: "InputError", EValue: a.err.Error()}, nil
				}
				fn(proto.Event{Stream: &proto.StreamEvent{Name: "stdout", Text: "got " + a.value + "\n"}})
			case <-f.done:
				return res, fmt.Errorf("%w: killed", proto.ErrCrashed)
			}
		case "reset":
			res.Reset = []string{"b", "a"}
		case "comm":
			fn(proto.Event{Comm: &proto.CommEvent{Type: "comm_open",
				Content: map[string]any{"comm_id": "c1", "target_name": "t", "data": map[string]any{}}}})
		case "widget":
			fn(proto.Event{Comm: &proto.CommEvent{Type: "comm_open",
				Content: map[string]any{"comm_id": "w1", "target_name": "jupyter.widget",
					"data": map[string]any{"state": map[string]any{}, "buffer_paths": []any{[]any{"value"}}}},
				Metadata: map[string]any{"version": "2.1.0"}, Buffers: [][]byte{[]byte("\x89PNG")}}})
		case "later":
			later = append(later, arg)
		case "whoami":
			res.Result = display.Bundle{"text/plain": fmt.Sprint("worker ", f.id)}
		default:
			res.Result = display.Bundle{"text/plain": line}
		}
	}
	if len(req.UserExpressions) > 0 {
		res.UserExpressions = map[string]wire.UserExpression{}
		for name, expr := range req.UserExpressions {
			res.UserExpressions[name] = wire.UserExpression{Status: "ok",
				Data: map[string]any{"text/plain": expr}, Metadata: map[string]any{}}
		}
	}
	return res, nil
}

func (f *fake) Complete(ctx context.Context, code string, cursorPos int) (proto.CompleteResult, error) {
	return proto.CompleteResult{Matches: []string{"Println", "Printf"}, CursorStart: cursorPos - 2, CursorEnd: cursorPos}, nil
}

func (f *fake) Inspect(ctx context.Context, code string, cursorPos, detailLevel int) (proto.InspectResult, error) {
	if code == "" {
		return proto.InspectResult{}, nil
	}
	return proto.InspectResult{Found: true, Data: display.Bundle{"text/plain": "func " + code + "()"}}, nil
}

func (f *fake) IsComplete(ctx context.Context, code string) (proto.IsCompleteResult, error) {
	if strings.HasSuffix(code, "{") {
		return proto.IsCompleteResult{Status: "incomplete", Indent: "\t"}, nil
	}
	return proto.IsCompleteResult{Status: "complete"}, nil
}

func (f *fake) Input(value string, err error) { f.inputs <- inputAnswer{value, err} }

func (f *fake) Interrupt() error {
	select {
	case f.intr <- struct{}{}:
	default:
	}
	return nil
}

// Comm answers like the real worker's handlers: an unknown target is
// refused, "deferred-unknown" is closed by the handler, "slow" is waited
// for until ctx ends, "crash" kills the interpreter, a comm_msg is echoed
// with its binary buffers and a line of output.
func (f *fake) Comm(ctx context.Context, typ string, content map[string]any, buffers [][]byte, fn func(proto.Event)) error {
	if typ == "comm_open" {
		switch t, _ := content["target_name"].(string); {
		case t == "deferred-unknown":
			fn(proto.Event{Comm: &proto.CommEvent{Type: "comm_close",
				Content: map[string]any{"comm_id": content["comm_id"], "data": map[string]any{}}}})
			return nil
		case t == "crash":
			f.die()
			return fmt.Errorf("%w: exit status 2: panic: in a handler", proto.ErrCrashed)
		case t == "slow":
			f.blocked.Store(true)
			defer f.blocked.Store(false)
			<-ctx.Done()
			return fmt.Errorf("fake: waiting for the handler: %w", ctx.Err())
		case !f.targets[t]:
			return errors.New("no such comm target")
		}
	}
	if typ == "comm_msg" {
		fn(proto.Event{Comm: &proto.CommEvent{Type: "comm_msg",
			Content: map[string]any{"comm_id": content["comm_id"], "data": map[string]any{"echo": true}}, Buffers: buffers}})
		fn(proto.Event{Stream: &proto.StreamEvent{Name: "stdout", Text: "handler ran\n"}})
	}
	f.mu.Lock()
	f.comms = append(f.comms, typ+" "+fmt.Sprint(content["comm_id"]))
	f.mu.Unlock()
	return nil
}

func (f *fake) OnIdle(fn func(proto.Event)) {
	f.mu.Lock()
	f.idle = fn
	f.mu.Unlock()
}

func (f *fake) Close() error          { f.die(); return nil }
func (f *fake) Done() <-chan struct{} { return f.done }
