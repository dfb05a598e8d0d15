package worker

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"

	"github.com/unetlab/unetlab/comm"
	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/kernel/cell"
	"github.com/unetlab/unetlab/kernel/wire"
	"github.com/unetlab/unetlab/kernel/worker/proto"
)

// Main is the body of `unetlab worker`: it serves the parent over fd 3
// (requests) and fd 4 (replies and events) until the parent closes fd 3.
// Its fd 1 and 2 are the cell's stdout and stderr. It returns the exit code.
func Main(args []string) int {
	if os.Getenv(proto.FDsEnv) != "3,4" {
		fmt.Fprintln(os.Stderr, "unetlab worker: internal command: the kernel starts it with its control pipes on fd 3 and 4")
		return 2
	}
	os.Unsetenv(proto.FDsEnv) // not inherited by programs the cells start
	tuneGC()
	reqFile := os.NewFile(3, "worker-requests")
	repFile := os.NewFile(4, "worker-replies")
	c := &child{
		enc:    proto.NewEncoder(repFile),
		stdout: os.Stdout,
		stderr: os.Stderr,
		input:  make(chan proto.Request, 1),
		began:  make(chan struct{}, 1),
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
	if err := c.enc.Send(proto.Reply{Op: proto.OpReady}); err != nil {
		return 1
	}
	// Comm messages are handled in order, off the request loop.
	c.comms = make(chan proto.Request, 1024)
	c.commCond = sync.NewCond(&c.commMu)
	c.commWait = map[uint64]bool{}
	go func() {
		for r := range c.comms {
			c.serveComm(r)
			c.commWaited(r.ID)
		}
	}()
	dec := proto.NewDecoder(reqFile)
	exit := make(chan int, 1)
	goWarm(func() { c.serveRequests(dec, exit) })
	return <-exit
}

// serveRequests reads and serves requests until the parent closes fd 3; it
// then sends the exit code on exit. An execute request runs on the
// goroutine that read it, which first hands the reading on to another
// goroutine (interrupts and input answers come while the cell runs): the
// cell starts without waiting for a goroutine to wake.
func (c *child) serveRequests(dec *proto.Decoder, exit chan<- int) {
	for {
		var r proto.Request
		if err := dec.Next(&r); err != nil {
			if err == io.EOF {
				exit <- 0
				return
			}
			fmt.Fprintln(os.Stderr, "unetlab worker: bad request:", err)
			exit <- 1
			return
		}
		switch r.Op {
		case proto.OpExecute:
			goWarm(func() { c.serveRequests(dec, exit) })
			c.execute(r)
			return
		case proto.OpComplete:
			goWarm(func() { c.complete(r) })
		case proto.OpInspect:
			goWarm(func() { c.inspect(r) })
		case proto.OpIsComplete:
			res := isComplete(r.Code)
			_ = c.enc.Send(proto.Reply{ID: r.ID, Op: proto.OpDone, IsComplete: &res})
		case proto.OpInput:
			select {
			case c.input <- r:
			default: // nobody waits: a late answer
			}
		case proto.OpInterrupt:
			c.interrupt()
		case proto.OpComm:
			c.commMu.Lock()
			c.commWait[r.ID] = true
			c.commMu.Unlock()
			c.comms <- r
		case proto.OpCommAbandon:
			c.commWaited(r.ID)
		}
	}
}

// child is the worker side of the pipes.
type child struct {
	enc            *proto.Encoder
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

	input chan proto.Request
	// began gets a value when a cell starts (dropped when one is already
	// there): the watcher of fd 0 (stdin_linux.go) waits on it.
	began chan struct{}

	// commWait holds the comm messages from the front end whose handlers
	// have not returned and whose sender still waits for them; a cell
	// waits until there are none (commCond signals each change), so that
	// it sees what the handlers did.
	commMu   sync.Mutex
	commCond *sync.Cond
	commWait map[uint64]bool
	comms    chan proto.Request
}

// commWaited drops comm message id from those cells wait for: its handler
// returned, or its sender stopped waiting (proto.OpCommAbandon).
func (c *child) commWaited(id uint64) {
	c.commMu.Lock()
	delete(c.commWait, id)
	c.commMu.Unlock()
	c.commCond.Broadcast()
}

// waitComms waits until no comm handler that its sender waits for runs or
// is queued, or until ctx ends.
func (c *child) waitComms(ctx context.Context) {
	if c.commCond == nil {
		return
	}
	stop := context.AfterFunc(ctx, func() {
		c.commMu.Lock()
		c.commCond.Broadcast()
		c.commMu.Unlock()
	})
	defer stop()
	c.commMu.Lock()
	for len(c.commWait) > 0 && ctx.Err() == nil {
		c.commCond.Wait()
	}
	c.commMu.Unlock()
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

// send writes a sync marker on stdout and stderr, then the reply with the
// marker's number and the owner of what follows: the parent delivers the
// text before the marker first, to the owner of the message before. change,
// when not nil, changes the owner (execID, commID) at the marker.
func (c *child) send(r proto.Reply, change func()) error {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	if change != nil {
		change()
	}
	c.seq++
	m := fmt.Sprintf("%s%d%c", proto.MarkerSync, c.seq, proto.MarkerEnd)
	_, _ = c.stdout.WriteString(m)
	_, _ = c.stderr.WriteString(m)
	r.Sync = c.seq
	r.Owner = c.ownerLocked()
	return c.enc.Send(r)
}

// event sends e; it belongs to the owner of the moment (see send).
func (c *child) event(e proto.WireEvent) error {
	return c.send(proto.Reply{Op: proto.OpEvent, Event: &e}, nil)
}

// serveComm runs the handler of a front-end comm message (package comm)
// between a start and a done message, so that what the handler sends and
// prints belongs to the message. A panic in the handler is written to
// stderr; the worker goes on.
func (c *child) serveComm(r proto.Request) {
	_ = c.send(proto.Reply{ID: r.ID, Op: proto.OpStart}, func() { c.commID = r.ID })
	func() {
		defer func() {
			if v := recover(); v != nil {
				fmt.Fprintf(c.stderr, "unetlab: panic in the comm handler for %s %v: %v\n", r.CommType, r.CommContent["comm_id"], v)
			}
		}()
		comm.DeliverWith(r.CommType, r.CommContent, r.CommBuffers)
	}()
	_ = c.send(proto.Reply{ID: r.ID, Op: proto.OpDone}, func() { c.commID = 0 })
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
	var e proto.WireEvent
	e.Display = &struct {
		Data      proto.Bundle   `json:"data"`
		Metadata  map[string]any `json:"metadata,omitempty"`
		DisplayID string         `json:"display_id,omitempty"`
		Update    bool           `json:"update,omitempty"`
	}{Data: proto.ToWire(b), DisplayID: id, Update: update}
	return c.event(e)
}

// Clear implements display.Publisher.
func (c *child) Clear(wait bool) error {
	return c.event(proto.WireEvent{Clear: &proto.ClearEvent{Wait: wait}})
}

// SendComm implements comm.Transport.
func (c *child) SendComm(typ string, content map[string]any) error {
	return c.event(proto.WireEvent{Comm: &proto.CommEvent{Type: typ, Content: content}})
}

// SendCommMessage implements comm.MessageTransport: a comm message with
// the message's metadata and binary buffers.
func (c *child) SendCommMessage(typ string, content, metadata map[string]any, buffers [][]byte) error {
	return c.event(proto.WireEvent{Comm: &proto.CommEvent{Type: typ, Content: content, Metadata: metadata, Buffers: buffers}})
}

func (c *child) interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
	}
}

func (c *child) execute(r proto.Request) {
	req := r.Execute
	if req == nil {
		req = &proto.ExecuteRequest{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.mu.Lock()
	c.cur, c.cancel, c.ctx, c.allowStdin = r.ID, cancel, ctx, req.AllowStdin
	c.mu.Unlock()
	select {
	case c.began <- struct{}{}:
	default:
	}
	// The cell sees what the handlers of the comm messages sent before it
	// did: it waits until they returned or their senders stopped waiting
	// for them (a handler may block), or until it is interrupted (it
	// then stops at once).
	c.waitComms(ctx)
	cell.Set(ctx)
	_ = c.send(proto.Reply{ID: r.ID, Op: proto.OpStart}, func() { c.execID = r.ID })

	res := proto.WireExecuteResult{Status: "ok"}
	out, err := c.sess.execute(ctx, req.Code)
	res.Reset = out.reset
	if err != nil {
		ce := toCellError(err)
		res.Status, res.EName, res.EValue, res.Traceback = "error", ce.EName, ce.EValue, ce.Traceback
	} else if !req.Silent {
		res.Result = proto.ToWire(out.result)
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
				v.Data = fromWireJSON(proto.ToWire(display.Bundle(v.Data)))
			}
			res.UserExpressions[n] = v
		}
	}
	cancel()
	c.mu.Lock()
	c.cur, c.cancel, c.ctx = 0, nil, nil
	c.mu.Unlock()
	_ = c.send(proto.Reply{ID: r.ID, Op: proto.OpDone, Execute: &res}, func() { c.execID = 0 })
}

// fromWireJSON turns a wire bundle into plain JSON data for
// user_expressions: bytes become base64 strings, as the protocol wants.
func fromWireJSON(w proto.Bundle) map[string]any {
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

func (c *child) complete(r proto.Request) {
	res := c.sess.complete(r.Code, r.Cursor)
	_ = c.enc.Send(proto.Reply{ID: r.ID, Op: proto.OpDone, Complete: &res})
}

func (c *child) inspect(r proto.Request) {
	res := c.sess.inspect(r.Code, r.Cursor, r.Detail)
	_ = c.enc.Send(proto.Reply{ID: r.ID, Op: proto.OpDone, Inspect: &proto.WireInspect{Found: res.Found, Data: proto.ToWire(res.Data)}})
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
	if err := c.event(proto.WireEvent{Input: &proto.InputEvent{Prompt: prompt, Password: password}}); err != nil {
		return "", err
	}
	select {
	case r := <-c.input:
		if r.Err != "" {
			return "", proto.InputError(r)
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
