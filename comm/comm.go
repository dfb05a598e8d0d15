// Package comm lets notebook cells talk to front-end widgets through
// Jupyter comms (comm_open, comm_msg, comm_close).
//
// A cell opens a comm to a front-end target and sends data on it:
//
//	c, err := comm.Open("my.target", map[string]any{"value": 1})
//	c.Send(map[string]any{"value": 2})
//	c.Close(nil)
//
// and registers handlers for comms the front end opens:
//
//	comm.Register("my.target", func(c *comm.Comm, data map[string]any) {
//		c.OnMessage(func(data map[string]any) { fmt.Println("got", data) })
//	})
//
// A message from the front end may carry binary buffers (the frames after
// its content: an ArrayBuffer or DataView that JavaScript sent);
// [Comm.OnMessageWith] receives them as [][]byte beside the data.
//
// Inside the unetlab kernel the worker installs the [Transport]; outside a
// kernel Open returns [ErrNoKernel].
package comm

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/google/uuid"
)

// ErrNoKernel is returned when no kernel transport is installed.
var ErrNoKernel = errors.New("comm: not running in the unetlab kernel")

// ErrClosed is returned by Send on a closed comm.
var ErrClosed = errors.New("comm: comm is closed")

// Transport carries comm messages to the front end: typ is "comm_open",
// "comm_msg" or "comm_close" and content the message content as the
// Jupyter protocol defines it (comm_id, target_name, data).
type Transport interface {
	SendComm(typ string, content map[string]any) error
}

// MessageTransport is a [Transport] that also carries a message's
// metadata (the message-level metadata, beside its header) and its binary
// buffers (the frames after the content). The unetlab worker's transport
// is one; [OpenWith] and [Comm.SendWith] need one.
type MessageTransport interface {
	Transport
	SendCommMessage(typ string, content, metadata map[string]any, buffers [][]byte) error
}

// ErrNoBuffers is returned when metadata or buffers are to be sent and the
// installed transport is not a [MessageTransport].
var ErrNoBuffers = errors.New("comm: the transport carries no metadata or binary buffers")

// Comm is one open comm channel.
type Comm struct {
	id, target string

	mu      sync.Mutex
	closed  bool
	onMsg   func(data map[string]any, buffers [][]byte)
	onClose func(data map[string]any)
}

var (
	mu        sync.Mutex
	transport Transport
	targets   = map[string]func(c *Comm, data map[string]any){}
	comms     = map[string]*Comm{}
)

// SetTransport installs t (the kernel's worker does) and returns the
// previous one; nil uninstalls.
func SetTransport(t Transport) Transport {
	mu.Lock()
	defer mu.Unlock()
	old := transport
	transport = t
	return old
}

func send(typ string, content map[string]any) error {
	return sendWith(typ, content, nil, nil)
}

func sendWith(typ string, content, metadata map[string]any, buffers [][]byte) error {
	mu.Lock()
	t := transport
	mu.Unlock()
	if t == nil {
		return ErrNoKernel
	}
	if len(metadata) == 0 && len(buffers) == 0 {
		return t.SendComm(typ, content)
	}
	mt, ok := t.(MessageTransport)
	if !ok {
		return ErrNoBuffers
	}
	return mt.SendCommMessage(typ, content, metadata, buffers)
}

// Open opens a comm to the front-end target with initial data (nil for
// none).
func Open(target string, data map[string]any) (*Comm, error) {
	return OpenWith(target, data, nil, nil)
}

// OpenWith opens a comm as [Open] does, with the comm_open message's
// metadata (nil for none) and binary buffers (nil for none). The comm is
// registered before the message goes out, so a reply the front end sends
// at once finds it.
func OpenWith(target string, data, metadata map[string]any, buffers [][]byte) (*Comm, error) {
	c := &Comm{id: uuid.NewString(), target: target}
	mu.Lock()
	comms[c.id] = c
	mu.Unlock()
	if err := sendWith("comm_open", map[string]any{"comm_id": c.id, "target_name": target, "data": orEmpty(data)}, metadata, buffers); err != nil {
		mu.Lock()
		delete(comms, c.id)
		mu.Unlock()
		return nil, fmt.Errorf("comm: open %q: %w", target, err)
	}
	return c, nil
}

// ID returns the comm's id.
func (c *Comm) ID() string { return c.id }

// Target returns the comm's target name.
func (c *Comm) Target() string { return c.target }

// Send sends data on the comm (comm_msg).
func (c *Comm) Send(data map[string]any) error {
	return c.SendWith(data, nil)
}

// SendWith sends data on the comm with binary buffers (comm_msg); nil
// buffers send a plain message.
func (c *Comm) SendWith(data map[string]any, buffers [][]byte) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return fmt.Errorf("%w: %s", ErrClosed, c.id)
	}
	return sendWith("comm_msg", map[string]any{"comm_id": c.id, "data": orEmpty(data)}, nil, buffers)
}

// Close closes the comm, sending data with the comm_close message.
func (c *Comm) Close(data map[string]any) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	mu.Lock()
	delete(comms, c.id)
	mu.Unlock()
	return send("comm_close", map[string]any{"comm_id": c.id, "data": orEmpty(data)})
}

// OnMessage sets the handler of messages the front end sends on c; the
// messages' binary buffers, if any, are not passed (see
// [Comm.OnMessageWith]). It replaces the handler OnMessageWith set.
func (c *Comm) OnMessage(f func(data map[string]any)) {
	var h func(map[string]any, [][]byte)
	if f != nil {
		h = func(data map[string]any, _ [][]byte) { f(data) }
	}
	c.mu.Lock()
	c.onMsg = h
	c.mu.Unlock()
}

// OnMessageWith sets the handler of messages the front end sends on c,
// called with each message's data and its binary buffers (nil when it has
// none), in the order the front end sent them. It replaces the handler
// OnMessage set.
func (c *Comm) OnMessageWith(f func(data map[string]any, buffers [][]byte)) {
	c.mu.Lock()
	c.onMsg = f
	c.mu.Unlock()
}

// OnClose sets the handler called when the front end closes c.
func (c *Comm) OnClose(f func(data map[string]any)) {
	c.mu.Lock()
	c.onClose = f
	c.mu.Unlock()
}

// Register makes target accept comms the front end opens: f is called
// with each new comm and the data of its comm_open. A nil f unregisters.
func Register(target string, f func(c *Comm, data map[string]any)) {
	mu.Lock()
	defer mu.Unlock()
	if f == nil {
		delete(targets, target)
		return
	}
	targets[target] = f
}

// Targets returns the registered target names, sorted.
func Targets() []string {
	mu.Lock()
	defer mu.Unlock()
	out := make([]string, 0, len(targets))
	for t := range targets {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Deliver hands a message from the front end to the comms of this
// process: typ is "comm_open", "comm_msg" or "comm_close". A comm_open to
// an unknown target is answered with a comm_close, as the protocol asks.
// It is [DeliverWith] without buffers.
func Deliver(typ string, content map[string]any) {
	DeliverWith(typ, content, nil)
}

// DeliverWith hands a message from the front end with its binary buffers
// (the frames after its content; nil for none) to the comms of this
// process, as [Deliver] does; the kernel's worker calls it. The buffers of
// a comm_msg go to the handler [Comm.OnMessageWith] set; those of a
// comm_open or comm_close are not passed on (a target's function and
// OnClose take the data only).
func DeliverWith(typ string, content map[string]any, buffers [][]byte) {
	id, _ := content["comm_id"].(string)
	data, _ := content["data"].(map[string]any)
	switch typ {
	case "comm_open":
		target, _ := content["target_name"].(string)
		mu.Lock()
		f := targets[target]
		var c *Comm
		if f != nil {
			c = &Comm{id: id, target: target}
			comms[id] = c
		}
		mu.Unlock()
		if f == nil {
			_ = send("comm_close", map[string]any{"comm_id": id, "data": map[string]any{}})
			return
		}
		f(c, data)
	case "comm_msg", "comm_close":
		mu.Lock()
		c := comms[id]
		if typ == "comm_close" {
			delete(comms, id)
		}
		mu.Unlock()
		if c == nil {
			return
		}
		c.mu.Lock()
		onMsg, onClose := c.onMsg, c.onClose
		if typ == "comm_close" {
			c.closed = true
		}
		c.mu.Unlock()
		switch {
		case typ == "comm_msg" && onMsg != nil:
			onMsg(data, buffers)
		case typ == "comm_close" && onClose != nil:
			onClose(data)
		}
	}
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
