package worker

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/kernel/cell"
	"github.com/unetlab/unetlab/kernel/wire"
)

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

// Operations of a request.
const (
	opExecute   = "execute"
	opComplete  = "complete"
	opInspect   = "inspect"
	opInput     = "input"
	opInterrupt = "interrupt"
	opComm      = "comm"
	opReady     = "ready"
	opEvent     = "event"
	opStart     = "start" // the child began serving request ID (an execute or a comm)
	opDone      = "done"
)

// request is one message from the parent to the child.
type request struct {
	ID      uint64          `json:"id,omitempty"`
	Op      string          `json:"op"`
	Execute *ExecuteRequest `json:"execute,omitempty"`
	Code    string          `json:"code,omitempty"`
	Cursor  int             `json:"cursor,omitempty"`
	Detail  int             `json:"detail,omitempty"`
	// Input answer.
	Value string `json:"value,omitempty"`
	Err   string `json:"err,omitempty"`
	ErrIs string `json:"err_is,omitempty"` // a key of inputSentinels that Err wraps
	// Comm from the front end.
	CommType    string         `json:"comm_type,omitempty"`
	CommContent map[string]any `json:"comm_content,omitempty"`
}

// reply is one message from the child to the parent.
type reply struct {
	ID   uint64 `json:"id,omitempty"`
	Op   string `json:"op"`
	Sync uint64 `json:"sync,omitempty"` // the marker written before this message
	// Owner is, for a marked message, the request that output written
	// after its marker belongs to (0: none, the child is idle).
	Owner uint64 `json:"owner,omitempty"`
	// Op event.
	Event *wireEvent `json:"event,omitempty"`
	// Op done.
	Execute  *wireExecuteResult `json:"execute,omitempty"`
	Complete *CompleteResult    `json:"complete,omitempty"`
	Inspect  *wireInspect       `json:"inspect,omitempty"`
	Error    string             `json:"error,omitempty"`
}

// wireBundle carries a display.Bundle through JSON keeping []byte entries
// as bytes (encoding/json alone would turn them into strings).
type wireBundle map[string]wireValue

type wireValue struct {
	Bytes []byte `json:"b,omitempty"`
	Value any    `json:"v,omitempty"`
	IsRaw bool   `json:"r,omitempty"`
}

func toWire(b display.Bundle) wireBundle {
	if b == nil {
		return nil
	}
	w := make(wireBundle, len(b))
	for k, v := range b {
		switch x := v.(type) {
		case []byte:
			w[k] = wireValue{Bytes: x, IsRaw: true}
		case string, nil, bool, float64, map[string]any, []any:
			w[k] = wireValue{Value: x}
		default:
			// Any other value (application/json of user types): round
			// trip through JSON now, in the child, where the type lives.
			data, err := json.Marshal(x)
			if err != nil {
				w[k] = wireValue{Value: fmt.Sprintf("worker: cannot encode %s: %v", k, err)}
				continue
			}
			var generic any
			_ = json.Unmarshal(data, &generic)
			w[k] = wireValue{Value: generic}
		}
	}
	return w
}

func fromWire(w wireBundle) display.Bundle {
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

// wireEvent is Event on the wire.
type wireEvent struct {
	Stream  *StreamEvent `json:"stream,omitempty"`
	Display *struct {
		Data      wireBundle     `json:"data"`
		Metadata  map[string]any `json:"metadata,omitempty"`
		DisplayID string         `json:"display_id,omitempty"`
		Update    bool           `json:"update,omitempty"`
	} `json:"display,omitempty"`
	Clear *ClearEvent `json:"clear,omitempty"`
	Input *InputEvent `json:"input,omitempty"`
	Comm  *CommEvent  `json:"comm,omitempty"`
}

func (w *wireEvent) event() Event {
	var e Event
	switch {
	case w.Stream != nil:
		e.Stream = w.Stream
	case w.Display != nil:
		e.Display = &DisplayEvent{Data: fromWire(w.Display.Data), Metadata: w.Display.Metadata,
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

// wireExecuteResult is ExecuteResult on the wire.
type wireExecuteResult struct {
	Status          string                         `json:"status"`
	Result          wireBundle                     `json:"result,omitempty"`
	EName           string                         `json:"ename,omitempty"`
	EValue          string                         `json:"evalue,omitempty"`
	Traceback       []string                       `json:"traceback,omitempty"`
	UserExpressions map[string]wire.UserExpression `json:"user_expressions,omitempty"`
	Reset           []string                       `json:"reset,omitempty"`
}

func (w *wireExecuteResult) result() ExecuteResult {
	return ExecuteResult{Status: w.Status, Result: fromWire(w.Result), EName: w.EName, EValue: w.EValue,
		Traceback: w.Traceback, UserExpressions: w.UserExpressions, Reset: w.Reset}
}

type wireInspect struct {
	Found bool       `json:"found"`
	Data  wireBundle `json:"data,omitempty"`
}

// encoder writes JSON lines; safe for concurrent use.
type encoder struct {
	mu  sync.Mutex
	w   *bufio.Writer
	enc *json.Encoder
}

func newEncoder(w io.Writer) *encoder {
	bw := bufio.NewWriter(w)
	return &encoder{w: bw, enc: json.NewEncoder(bw)}
}

func (e *encoder) send(v any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enc.Encode(v); err != nil {
		return err
	}
	return e.w.Flush()
}

// decoder reads JSON lines.
type decoder struct{ dec *json.Decoder }

func newDecoder(r io.Reader) *decoder { return &decoder{json.NewDecoder(bufio.NewReader(r))} }

func (d *decoder) next(v any) error { return d.dec.Decode(v) }

// inputSentinels are the errors an input answer carries across the pipe
// by name, so that the cell can test them with errors.Is.
var inputSentinels = map[string]error{
	"stdin_not_allowed": cell.ErrStdinNotAllowed,
	"input_interrupted": cell.ErrInputInterrupted,
}

// inputError is the error of an input answer r, as the cell sees it: the
// parent's error text, wrapping the sentinel the parent's error wrapped.
func inputError(r request) error {
	target, ok := inputSentinels[r.ErrIs]
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
