// Package proto is the protocol between the kernel and its worker
// process: what the kernel asks and gets back (ExecuteRequest,
// ExecuteResult, Event, ...), and how both travel over the pipes.
//
// The parent and the child exchange JSON objects, one a line: requests go
// down on the child's fd 3, replies and events come up on its fd 4. The
// child's fd 1 and 2 are pipes the parent reads as the cell's stdout and
// stderr; the child writes a sync marker on both before each event, so the
// parent delivers the text written before an event ahead of the event.
//
// Each marked message also names its owner: the request (an execute, else
// a front-end comm message whose handler runs) that output written from
// then on belongs to, 0 when the child is idle. The child changes the owner
// only together with a marked message (start when a cell or handler
// begins, done when it ends), so the parent gives the text after marker N
// to the owner of message N: to the waiting Execute or Comm call, or to the
// idle function when the owner is 0 or nobody waits for it any more.
//
// Package kernel/worker/host is the parent's end, package kernel/worker
// the child's.
package proto

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/kernel/cell"
	"github.com/unetlab/unetlab/kernel/wire"
)

// FDsEnv tells the child where its control pipes are ("3,4").
const FDsEnv = "UNETLAB_WORKER_FDS"

// Markers in the stdout and stderr pipes are MarkerCommon + kind + ";" +
// payload + MarkerEnd. Kind "sync": the payload is the decimal sequence
// number of the message that follows on the control channel (MarkerSync
// starts it). Kind "frame": a panic frame in cell positions, kept for a
// crash report (MarkerFrame starts it).
const (
	MarkerCommon = "\x1b]unetlab-"
	MarkerSync   = MarkerCommon + "sync;"
	MarkerFrame  = MarkerCommon + "frame;"
	MarkerEnd    = '\a'
)

// Operations of a request.
const (
	OpExecute    = "execute"
	OpComplete   = "complete"
	OpInspect    = "inspect"
	OpIsComplete = "is_complete"
	OpInput      = "input"
	OpInterrupt  = "interrupt"
	OpComm       = "comm"
	// OpCommAbandon: the sender of comm message ID stopped waiting for
	// its handler; cells no longer wait for it either.
	OpCommAbandon = "comm_abandon"
	OpReady       = "ready"
	OpEvent       = "event"
	OpStart       = "start" // the child began serving request ID (an execute or a comm)
	OpDone        = "done"
)

// Request is one message from the parent to the child.
type Request struct {
	ID      uint64          `json:"id,omitempty"`
	Op      string          `json:"op"`
	Execute *ExecuteRequest `json:"execute,omitempty"`
	Code    string          `json:"code,omitempty"`
	Cursor  int             `json:"cursor,omitempty"`
	Detail  int             `json:"detail,omitempty"`
	// Input answer.
	Value string `json:"value,omitempty"`
	Err   string `json:"err,omitempty"`
	ErrIs string `json:"err_is,omitempty"` // a key of InputSentinels that Err wraps
	// Comm from the front end, with the message's binary buffers.
	CommType    string         `json:"comm_type,omitempty"`
	CommContent map[string]any `json:"comm_content,omitempty"`
	CommBuffers [][]byte       `json:"comm_buffers,omitempty"`
}

// Reply is one message from the child to the parent.
type Reply struct {
	ID   uint64 `json:"id,omitempty"`
	Op   string `json:"op"`
	Sync uint64 `json:"sync,omitempty"` // the marker written before this message
	// Owner is, for a marked message, the request that output written
	// after its marker belongs to (0: none, the child is idle).
	Owner uint64 `json:"owner,omitempty"`
	// Op event.
	Event *WireEvent `json:"event,omitempty"`
	// Op done.
	Execute    *WireExecuteResult `json:"execute,omitempty"`
	Complete   *CompleteResult    `json:"complete,omitempty"`
	Inspect    *WireInspect       `json:"inspect,omitempty"`
	IsComplete *IsCompleteResult  `json:"is_complete,omitempty"`
	Error      string             `json:"error,omitempty"`
}

// Bundle carries a display.Bundle through JSON keeping []byte entries
// as bytes (encoding/json alone would turn them into strings).
type Bundle map[string]Value

// Value is one entry of a Bundle: raw bytes or a JSON value.
type Value struct {
	Bytes []byte `json:"b,omitempty"`
	Value any    `json:"v,omitempty"`
	IsRaw bool   `json:"r,omitempty"`
}

// ToWire converts b for the pipe: []byte entries stay bytes, other
// values go through JSON.
func ToWire(b display.Bundle) Bundle {
	if b == nil {
		return nil
	}
	w := make(Bundle, len(b))
	for k, v := range b {
		switch x := v.(type) {
		case []byte:
			w[k] = Value{Bytes: x, IsRaw: true}
		case string, nil, bool, float64, map[string]any, []any:
			w[k] = Value{Value: x}
		default:
			// Any other value (application/json of user types): round
			// trip through JSON now, in the child, where the type lives.
			data, err := json.Marshal(x)
			if err != nil {
				w[k] = Value{Value: fmt.Sprintf("worker: cannot encode %s: %v", k, err)}
				continue
			}
			var generic any
			_ = json.Unmarshal(data, &generic)
			w[k] = Value{Value: generic}
		}
	}
	return w
}

// FromWire converts w back into a display.Bundle.
func FromWire(w Bundle) display.Bundle {
	if w == nil {
		return nil
	}
	b := make(display.Bundle, len(w))
	for k, v := range w {
		if v.IsRaw {
			if v.Bytes == nil {
				v.Bytes = []byte{}
			}
			b[k] = v.Bytes
		} else {
			b[k] = v.Value
		}
	}
	return b
}

// WireEvent is Event on the wire.
type WireEvent struct {
	Stream  *StreamEvent `json:"stream,omitempty"`
	Display *struct {
		Data      Bundle         `json:"data"`
		Metadata  map[string]any `json:"metadata,omitempty"`
		DisplayID string         `json:"display_id,omitempty"`
		Update    bool           `json:"update,omitempty"`
	} `json:"display,omitempty"`
	Clear *ClearEvent `json:"clear,omitempty"`
	Input *InputEvent `json:"input,omitempty"`
	Comm  *CommEvent  `json:"comm,omitempty"`
}

// Event is the Event w carries.
func (w *WireEvent) Event() Event {
	var e Event
	switch {
	case w.Stream != nil:
		e.Stream = w.Stream
	case w.Display != nil:
		e.Display = &DisplayEvent{Data: FromWire(w.Display.Data), Metadata: w.Display.Metadata,
			DisplayID: w.Display.DisplayID, Update: w.Display.Update}
	case w.Clear != nil:
		e.Clear = w.Clear
	case w.Input != nil:
		e.Input = w.Input
	case w.Comm != nil:
		e.Comm = w.Comm
	}
	return e
}

// WireExecuteResult is ExecuteResult on the wire.
type WireExecuteResult struct {
	Status          string                         `json:"status"`
	Result          Bundle                         `json:"result,omitempty"`
	EName           string                         `json:"ename,omitempty"`
	EValue          string                         `json:"evalue,omitempty"`
	Traceback       []string                       `json:"traceback,omitempty"`
	UserExpressions map[string]wire.UserExpression `json:"user_expressions,omitempty"`
	Reset           []string                       `json:"reset,omitempty"`
}

// ExecuteResult is the ExecuteResult w carries.
func (w *WireExecuteResult) ExecuteResult() ExecuteResult {
	return ExecuteResult{Status: w.Status, Result: FromWire(w.Result), EName: w.EName, EValue: w.EValue,
		Traceback: w.Traceback, UserExpressions: w.UserExpressions, Reset: w.Reset}
}

// WireInspect is InspectResult on the wire.
type WireInspect struct {
	Found bool   `json:"found"`
	Data  Bundle `json:"data,omitempty"`
}

// Encoder writes JSON lines; safe for concurrent use.
type Encoder struct {
	mu  sync.Mutex
	w   *bufio.Writer
	enc *json.Encoder
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder {
	bw := bufio.NewWriter(w)
	return &Encoder{w: bw, enc: json.NewEncoder(bw)}
}

// Send writes v as one JSON line.
func (e *Encoder) Send(v any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enc.Encode(v); err != nil {
		return err
	}
	return e.w.Flush()
}

// Decoder reads JSON lines.
type Decoder struct{ dec *json.Decoder }

// NewDecoder returns a Decoder reading r.
func NewDecoder(r io.Reader) *Decoder { return &Decoder{json.NewDecoder(bufio.NewReader(r))} }

// Next reads the next JSON line into v.
func (d *Decoder) Next(v any) error { return d.dec.Decode(v) }

// InputSentinels are the errors an input answer carries across the pipe
// by name, so that the cell can test them with errors.Is.
var InputSentinels = map[string]error{
	"stdin_not_allowed": cell.ErrStdinNotAllowed,
	"input_interrupted": cell.ErrInputInterrupted,
}

// InputError is the error of an input answer r, as the cell sees it: the
// parent's error text, wrapping the sentinel the parent's error wrapped.
func InputError(r Request) error {
	target, ok := InputSentinels[r.ErrIs]
	switch {
	case !ok:
		return fmt.Errorf("worker: input request failed: %s", r.Err)
	case r.Err == target.Error():
		return target
	}
	return &wrappedInputError{text: r.Err, target: target}
}

// wrappedInputError is a parent's error that wrapped target.
type wrappedInputError struct {
	text   string
	target error
}

func (e *wrappedInputError) Error() string { return e.text }
func (e *wrappedInputError) Unwrap() error { return e.target }

// ErrCrashed is returned (wrapped, with the exit status and the last lines of
// the child's stderr) when the worker process died while serving a request.
// The interpreter state is lost; the caller starts a fresh worker.
var ErrCrashed = errors.New("worker: interpreter process died; its state was reset")

// ExecuteRequest is one cell to run.
type ExecuteRequest struct {
	Code            string
	Silent          bool              // no output, no execute_result
	StoreHistory    bool              // count the cell and keep it in history
	AllowStdin      bool              // reading os.Stdin may ask the front end
	UserExpressions map[string]string // name -> expression, evaluated after the cell
	ExecutionCount  int               // the count the kernel gives this cell
}

// ExecuteResult is the outcome of a cell.
type ExecuteResult struct {
	// Status is "ok", "error" or "aborted".
	Status string
	// Result is the rich bundle of the cell's trailing expression, nil when
	// the cell ends in a statement. It always holds text/plain when non-nil;
	// binary image entries hold []byte.
	Result display.Bundle
	// For Status "error": exception name, value and traceback lines (ANSI
	// colours allowed), positions given in the cell's own line:column.
	EName     string
	EValue    string
	Traceback []string
	// UserExpressions maps each requested name to its Jupyter expression
	// result: a MIME bundle, or an error.
	UserExpressions map[string]wire.UserExpression
	// Reset names the variables whose values were lost because a
	// redefinition rebuilt the interpreter (the cell still ran). They stay
	// defined: at the zero value of their type, or at their var
	// declaration's initial value, evaluated again.
	Reset []string
}

// CompleteResult answers a complete_request.
type CompleteResult struct {
	Matches     []string
	CursorStart int // in Unicode code points, as the protocol counts
	CursorEnd   int
	Types       []wire.CompletionType // one per match, for JupyterLab
}

// InspectResult answers an inspect_request.
type InspectResult struct {
	Found bool
	Data  display.Bundle // text/plain (and optionally text/markdown)
}

// IsCompleteResult answers an is_complete_request.
type IsCompleteResult struct {
	Status string // "complete", "incomplete", "invalid" or "unknown"
	Indent string // for "incomplete": the indent of the next line
}

// Event is something the worker emits: during a cell or a comm handler,
// for the Execute or Comm call, or while idle, for the OnIdle function
// (of kernel/worker/host.Process). Exactly one of the pointer fields is
// set.
type Event struct {
	Stream  *StreamEvent
	Display *DisplayEvent
	Clear   *ClearEvent
	Input   *InputEvent
	Comm    *CommEvent
}

// StreamEvent is text the cell (or compiled code it called) wrote to
// os.Stdout or os.Stderr. The worker batches writes, at most ~50 ms old.
type StreamEvent struct {
	Name string // "stdout" or "stderr"
	Text string
}

// DisplayEvent is a display.Show, ShowLive or Update from the cell.
type DisplayEvent struct {
	Data      display.Bundle
	Metadata  map[string]any
	DisplayID string // "" for none
	Update    bool   // true: update_display_data for DisplayID
}

// ClearEvent is a display.Clear from the cell.
type ClearEvent struct{ Wait bool }

// InputEvent asks the front end for a line of input (input_request). The
// kernel answers with the Input method of kernel/worker/host.Process: the
// user's line, or an error when stdin is not allowed or the request was
// abandoned.
type InputEvent struct {
	Prompt   string
	Password bool
}

// CommEvent is a comm message sent by cell code (package comm):
// Type is "comm_open", "comm_msg" or "comm_close"; Content is the message
// content as the protocol defines it; Metadata is the message's metadata
// (the widget protocol's comm_open carries {"version": "2.1.0"} there) and
// Buffers its binary frames after the content, both optional.
type CommEvent struct {
	Type     string
	Content  map[string]any
	Metadata map[string]any `json:",omitempty"`
	Buffers  [][]byte       `json:",omitempty"`
}
