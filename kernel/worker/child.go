package worker

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/unetlab/unetlab/comm"
	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/kernel/cell"
	"github.com/unetlab/unetlab/kernel/wire"
)

// Main is the body of `unetlab worker`: it serves the parent over fd 3
// (requests) and fd 4 (replies and events) until the parent closes fd 3.
// Its fd 1 and 2 are the cell's stdout and stderr. It returns the exit code.
func Main(args []string) int {
	if os.Getenv(fdsEnv) != "3,4" {
		fmt.Fprintln(os.Stderr, "unetlab worker: internal command: the kernel starts it with its control pipes on fd 3 and 4")
		return 2
	}
	os.Unsetenv(fdsEnv) // not inherited by programs the cells start
	tuneGC()
	reqFile := os.NewFile(3, "worker-requests")
	repFile := os.NewFile(4, "worker-replies")
	c := &child{
		enc:    newEncoder(repFile),
		stdout: os.Stdout,
		stderr: os.Stderr,
		input:  make(chan request, 1),
	}
	sess, err := newSession(sessionOptions{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: &stdinReader{c: c}, FrameMarkers: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "unetlab worker:", err)
		return 1
	}
	c.sess = sess
	if err := startFDStdin(c); err != nil {
		fmt.Fprintln(os.Stderr, "unetlab worker:", err)
	}
	display.SetPublisher(c)
	comm.SetTransport(c)
	if err := c.enc.send(reply{Op: opReady}); err != nil {
		return 1
	}
	// Comm messages are handled in order, off the request loop.
	c.comms = make(chan commItem, 1024)
	go func() {
		for it := range c.comms {
			if it.reached != nil {
				close(it.reached) // a cell waits for the comms before it
				continue
			}
			c.serveComm(it.r)
			c.commsPending.Add(-1)
		}
	}()
	dec := newDecoder(reqFile)
	for {
		var r request
		if err := dec.next(&r); err != nil {
			if err == io.EOF {
				return 0
			}
			fmt.Fprintln(os.Stderr, "unetlab worker: bad request:", err)
			return 1
		}
		switch r.Op {
		case opExecute:
			go c.execute(r)
		case opComplete:
			go c.complete(r)
		case opInspect:
			go c.inspect(r)
		case opInput:
			select {
			case c.input <- r:
			default: // nobody waits: a late answer
			}
		case opInterrupt:
			c.interrupt()
		case opComm:
			c.commsPending.Add(1)
			c.comms <- commItem{r: r}
		}
	}
}

// fdsEnv tells the child where its control pipes are ("3,4").
const fdsEnv = "UNETLAB_WORKER_FDS"

// child is the worker side of the pipes.
type child struct {
	enc            *encoder
	stdout, stderr *os.File
	sess           *session

	syncMu sync.Mutex
	seq    uint64
	// The requests whose output this is (see owner); guarded by syncMu.
	execID, commID uint64

	mu         sync.Mutex
	cur        uint64 // id of the running execute, 0 when idle
	cancel     context.CancelFunc
	ctx        context.Context
	allowStdin bool

	input chan request

	// commsPending counts comm messages from the front end not yet
	// handled; a cell waits for them (a while), so that a cell sent after
	// a comm message sees what its handler did.
	commsPending atomic.Int64
	comms        chan commItem
}

// commItem is a comm message to handle, or a marker closed when the comm
// goroutine reaches it (every message queued before it was handled).
type commItem struct {
	r       request
	reached chan struct{}
}

// ownerLocked is the request that output belongs to now: the running
// cell, else the comm message whose handler runs, else 0 (idle); c.syncMu
// is held.
func (c *child) ownerLocked() uint64 {
	if c.execID != 0 {
		return c.execID
	}
	return c.commID
}

// Markers in the stdout and stderr pipes are markerCommon + kind + ";" +
// payload + markerEnd. Kind "sync": the payload is the decimal sequence
// number of the message that follows on the control channel. Kind
// "frame": a panic frame in cell positions, kept for a crash report.
const (
	markerCommon = "\x1b]unetlab-"
	markerPrefix = markerCommon + "sync;"
	markerEnd    = '\a'
)

// send writes a sync marker on stdout and stderr, then the reply with the
// marker's number and the owner of what follows: the parent delivers the
// text before the marker first, to the owner of the message before. change,
// when not nil, changes the owner (execID, commID) at the marker.
func (c *child) send(r reply, change func()) error {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	if change != nil {
		change()
	}
	c.seq++
	m := fmt.Sprintf("%s%d%c", markerPrefix, c.seq, markerEnd)
	_, _ = c.stdout.WriteString(m)
	_, _ = c.stderr.WriteString(m)
	r.Sync = c.seq
	r.Owner = c.ownerLocked()
	return c.enc.send(r)
}

// event sends e; it belongs to the owner of the moment (see send).
func (c *child) event(e wireEvent) error {
	return c.send(reply{Op: opEvent, Event: &e}, nil)
}

// serveComm runs the handler of a front-end comm message (package comm)
// between a start and a done message, so that what the handler sends and
// prints belongs to the message. A panic in the handler is written to
// stderr; the worker goes on.
func (c *child) serveComm(r request) {
	_ = c.send(reply{ID: r.ID, Op: opStart}, func() { c.commID = r.ID })
	func() {
		defer func() {
			if v := recover(); v != nil {
				fmt.Fprintf(c.stderr, "unetlab: panic in the comm handler for %s %v: %v\n", r.CommType, r.CommContent["comm_id"], v)
			}
		}()
		comm.Deliver(r.CommType, r.CommContent)
	}()
	_ = c.send(reply{ID: r.ID, Op: opDone}, func() { c.commID = 0 })
}

// Display implements display.Publisher.
func (c *child) Display(b display.Bundle, id string) error {
	return c.displayEvent(b, id, false)
}

// Update implements display.Publisher.
func (c *child) Update(b display.Bundle, id string) error {
	return c.displayEvent(b, id, true)
}

func (c *child) displayEvent(b display.Bundle, id string, update bool) error {
	var e wireEvent
	e.Display = &struct {
		Data      wireBundle     `json:"data"`
		Metadata  map[string]any `json:"metadata,omitempty"`
		DisplayID string         `json:"display_id,omitempty"`
		Update    bool           `json:"update,omitempty"`
	}{Data: toWire(b), DisplayID: id, Update: update}
	return c.event(e)
}

// Clear implements display.Publisher.
func (c *child) Clear(wait bool) error { return c.event(wireEvent{Clear: &ClearEvent{Wait: wait}}) }

// SendComm implements comm.Transport.
func (c *child) SendComm(typ string, content map[string]any) error {
	return c.event(wireEvent{Comm: &CommEvent{Type: typ, Content: content}})
}

// SendCommMessage implements comm.MessageTransport: a comm message with
// the message's metadata and binary buffers.
func (c *child) SendCommMessage(typ string, content, metadata map[string]any, buffers [][]byte) error {
	return c.event(wireEvent{Comm: &CommEvent{Type: typ, Content: content, Metadata: metadata, Buffers: buffers}})
}

func (c *child) interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
	}
}

func (c *child) execute(r request) {
	req := r.Execute
	if req == nil {
		req = &ExecuteRequest{}
	}
	if c.commsPending.Load() > 0 && c.comms != nil {
		// Wait (for a second at most: a handler may block) until the comm
		// messages sent before this cell were handled.
		reached := make(chan struct{})
		c.comms <- commItem{reached: reached}
		t := time.NewTimer(time.Second)
		select {
		case <-reached:
		case <-t.C:
		}
		t.Stop()
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.mu.Lock()
	c.cur, c.cancel, c.ctx, c.allowStdin = r.ID, cancel, ctx, req.AllowStdin
	c.mu.Unlock()
	cell.Set(ctx)
	_ = c.send(reply{ID: r.ID, Op: opStart}, func() { c.execID = r.ID })

	res := wireExecuteResult{Status: "ok"}
	out, err := c.sess.execute(ctx, req.Code)
	res.Reset = out.reset
	if err != nil {
		ce := toCellError(err)
		res.Status, res.EName, res.EValue, res.Traceback = "error", ce.EName, ce.EValue, ce.Traceback
	} else if !req.Silent {
		res.Result = toWire(out.result)
	}
	if len(req.UserExpressions) > 0 {
		res.UserExpressions = map[string]wire.UserExpression{}
		names := make([]string, 0, len(req.UserExpressions))
		for n := range req.UserExpressions {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			v := c.sess.userExpression(ctx, req.UserExpressions[n])
			if v.Data != nil {
				v.Data = fromWireJSON(toWire(display.Bundle(v.Data)))
			}
			res.UserExpressions[n] = v
		}
	}
	cancel()
	c.mu.Lock()
	c.cur, c.cancel, c.ctx = 0, nil, nil
	c.mu.Unlock()
	_ = c.send(reply{ID: r.ID, Op: opDone, Execute: &res}, func() { c.execID = 0 })
}

// fromWireJSON turns a wire bundle into plain JSON data for
// user_expressions: bytes become base64 strings, as the protocol wants.
func fromWireJSON(w wireBundle) map[string]any {
	out := map[string]any{}
	for k, v := range w {
		if v.IsRaw {
			out[k] = v.Bytes // encoding/json writes base64
		} else {
			out[k] = v.Value
		}
	}
	return out
}

func (c *child) complete(r request) {
	res := c.sess.complete(r.Code, r.Cursor)
	_ = c.enc.send(reply{ID: r.ID, Op: opDone, Complete: &res})
}

func (c *child) inspect(r request) {
	res := c.sess.inspect(r.Code, r.Cursor, r.Detail)
	_ = c.enc.send(reply{ID: r.ID, Op: opDone, Inspect: &wireInspect{Found: res.Found, Data: toWire(res.Data)}})
}

// requestInput asks the front end for a line.
func (c *child) requestInput(prompt string, password bool) (string, error) {
	c.mu.Lock()
	allowed, ctx := c.allowStdin, c.ctx
	c.mu.Unlock()
	if !allowed || ctx == nil {
		return "", cell.ErrStdinNotAllowed
	}
	select { // drop a stale answer
	case <-c.input:
	default:
	}
	if err := c.event(wireEvent{Input: &InputEvent{Prompt: prompt, Password: password}}); err != nil {
		return "", err
	}
	select {
	case r := <-c.input:
		if r.Err != "" {
			return "", inputError(r)
		}
		return r.Value, nil
	case <-ctx.Done():
		return "", fmt.Errorf("worker: input request: %w", ctx.Err())
	}
}

// stdinReader is the interpreter's standard input: each read past the
// buffered line asks the front end for the next one.
type stdinReader struct {
	c   *child
	mu  sync.Mutex
	buf []byte
}

func (r *stdinReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) == 0 {
		line, err := r.c.requestInput("", false)
		if err != nil {
			return 0, err
		}
		r.buf = []byte(line + "\n")
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
