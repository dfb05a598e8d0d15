package kernel

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/google/uuid"

	"github.com/unetlab/unetlab/kernel/wire"
)

const testKey = "secret-key"

// client is a minimal Jupyter front end over real zmq4 sockets.
type client struct {
	t       testing.TB
	signer  *wire.Signer
	session string
	shell   zmq4.Socket
	control zmq4.Socket
	stdin   zmq4.Socket
	iopub   zmq4.Socket
	hb      zmq4.Socket
	in      map[zmq4.Socket]chan *wire.Message
	iopubQ  []*wire.Message // iopub messages read but not yet claimed
	ports   map[string]int
}

// startKernel runs a kernel with the fake interpreter (or start) on
// transport and connects a client to it.
func startKernel(t testing.TB, transport string, start StartFunc, hist string) (*Kernel, *client, chan error) {
	t.Helper()
	if start == nil {
		start = startFake
	}
	if hist == "" {
		hist = "-"
	}
	conn := wire.ConnectionInfo{Transport: transport, IP: "127.0.0.1", Key: testKey, SignatureScheme: "hmac-sha256"}
	if transport == "ipc" {
		conn.IP = filepath.Join(t.TempDir(), "k")
		conn.ShellPort, conn.IOPubPort, conn.StdinPort, conn.ControlPort, conn.HBPort = 1, 2, 3, 4, 5
	}
	k, err := New(context.Background(), Config{Conn: conn, Start: start, HistoryFile: hist,
		Log: NewLogger(testWriter{t}), ShutdownGrace: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- k.Serve() }()
	c := dial(t, k.Conn())
	t.Cleanup(func() {
		c.close()
		k.Shutdown()
		select {
		case <-served:
		case <-time.After(5 * time.Second):
			t.Error("kernel did not stop")
		}
	})
	c.waitReady()
	return k, c, served
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", p)
	return len(p), nil
}

func dial(t testing.TB, conn wire.ConnectionInfo) *client {
	t.Helper()
	return dialSockets(t, conn, true)
}

// dialSockets connects a client; without stdin it leaves the stdin socket
// unconnected, like a front end that never reads input.
func dialSockets(t testing.TB, conn wire.ConnectionInfo, withStdin bool) *client {
	t.Helper()
	signer, err := conn.Signer()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id := zmq4.WithID(zmq4.SocketIdentity(uuid.NewString()))
	c := &client{
		t: t, signer: signer, session: uuid.NewString(),
		shell:   zmq4.NewDealer(ctx, id),
		control: zmq4.NewDealer(ctx, id),
		stdin:   zmq4.NewDealer(ctx, id),
		iopub:   zmq4.NewSub(ctx),
		hb:      zmq4.NewReq(ctx),
		in:      map[zmq4.Socket]chan *wire.Message{},
		ports: map[string]int{"shell": conn.ShellPort, "control": conn.ControlPort, "iopub": conn.IOPubPort,
			"stdin": conn.StdinPort, "hb": conn.HBPort},
	}
	for _, s := range []struct {
		sock zmq4.Socket
		port int
	}{{c.shell, conn.ShellPort}, {c.control, conn.ControlPort}, {c.stdin, conn.StdinPort},
		{c.iopub, conn.IOPubPort}, {c.hb, conn.HBPort}} {
		if s.sock == c.stdin && !withStdin {
			continue
		}
		if err := s.sock.Dial(conn.Endpoint(s.port)); err != nil {
			t.Fatalf("dial %s: %v", conn.Endpoint(s.port), err)
		}
	}
	if err := c.iopub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		t.Fatal(err)
	}
	for _, s := range []zmq4.Socket{c.shell, c.control, c.stdin, c.iopub} {
		ch := make(chan *wire.Message, 256)
		c.in[s] = ch
		go func(s zmq4.Socket) {
			for {
				m, err := s.Recv()
				if err != nil {
					return
				}
				msg, err := wire.Decode(m.Frames, c.signer)
				if err != nil {
					t.Errorf("client could not decode a kernel message: %v", err)
					continue
				}
				ch <- msg
			}
		}(s)
	}
	return c
}

func (c *client) close() {
	for _, s := range []zmq4.Socket{c.shell, c.control, c.stdin, c.iopub, c.hb} {
		s.Close()
	}
}

// waitReady sends kernel_info until a reply and an iopub message arrive
// (the SUB socket's subscription takes a moment to reach the kernel).
func (c *client) waitReady() {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		req := c.send(c.shell, "kernel_info_request", nil)
		c.reply(c.shell, req)
		select {
		case <-c.in[c.iopub]:
			time.Sleep(20 * time.Millisecond)
			for len(c.in[c.iopub]) > 0 {
				<-c.in[c.iopub]
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
	c.t.Fatal("kernel not ready: no iopub traffic")
}

// send sends a request on sock and returns it.
func (c *client) send(sock zmq4.Socket, msgType string, content any) *wire.Message {
	c.t.Helper()
	m, err := wire.NewMessage(msgType, c.session, "tester", nil, content)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendMsg(sock, m)
	return m
}

func (c *client) sendMsg(sock zmq4.Socket, m *wire.Message) {
	c.t.Helper()
	frames, err := wire.Encode(m, c.signer)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := sock.SendMulti(zmq4.NewMsgFrom(frames...)); err != nil {
		c.t.Fatal(err)
	}
}

// reply waits for the message on sock whose parent is req.
func (c *client) reply(sock zmq4.Socket, req *wire.Message) *wire.Message {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-c.in[sock]:
			if m.ParentHeader.MsgID == req.Header.MsgID {
				return m
			}
		case <-timeout:
			c.t.Fatalf("no reply to %s", req.Header.MsgType)
			return nil
		}
	}
}

// noMessage asserts that nothing arrives on sock for d.
func (c *client) noMessage(sock zmq4.Socket, d time.Duration) {
	c.t.Helper()
	select {
	case m := <-c.in[sock]:
		c.t.Fatalf("unexpected %s (parent %s): %s", m.Header.MsgType, m.ParentHeader.MsgType, m.Content)
	case <-time.After(d):
	}
}

// outputs returns the iopub messages of req up to its idle status
// (excluding the status messages).
func (c *client) outputs(req *wire.Message) []*wire.Message {
	c.t.Helper()
	var out []*wire.Message
	busy := false
	timeout := time.After(10 * time.Second)
	next := func() *wire.Message {
		for i, m := range c.iopubQ {
			if m.ParentHeader.MsgID == req.Header.MsgID {
				c.iopubQ = append(c.iopubQ[:i], c.iopubQ[i+1:]...)
				return m
			}
		}
		for {
			select {
			case m := <-c.in[c.iopub]:
				if m.ParentHeader.MsgID == req.Header.MsgID {
					return m
				}
				c.iopubQ = append(c.iopubQ, m)
			case <-timeout:
				c.t.Fatalf("no idle status for %s; got %s", req.Header.MsgType, types(out))
			}
		}
	}
	for {
		m := next()
		if m.Header.MsgType == "status" {
			var s wire.Status
			m.DecodeContent(&s)
			switch s.ExecutionState {
			case "busy":
				busy = true
			case "idle":
				if !busy {
					c.t.Fatalf("idle before busy for %s", req.Header.MsgType)
				}
				return out
			}
			continue
		}
		if !busy {
			c.t.Fatalf("%s before busy", m.Header.MsgType)
		}
		out = append(out, m)
	}
}

func types(ms []*wire.Message) []string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Header.MsgType)
	}
	return s
}

// content decodes m's content as a map.
func content(t testing.TB, m *wire.Message) map[string]any {
	t.Helper()
	var c map[string]any
	if err := m.DecodeContent(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

// execute runs code and returns the reply content and the iopub outputs.
func (c *client) execute(code string, opts map[string]any) (map[string]any, []*wire.Message) {
	c.t.Helper()
	req := map[string]any{"code": code, "silent": false, "store_history": true,
		"user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true}
	for k, v := range opts {
		req[k] = v
	}
	m := c.send(c.shell, "execute_request", req)
	r := c.reply(c.shell, m)
	if r.Header.MsgType != "execute_reply" {
		c.t.Fatalf("reply type %s", r.Header.MsgType)
	}
	return content(c.t, r), c.outputs(m)
}

func (c *client) String() string { return fmt.Sprintf("client %s", c.session) }

// waitIOPub returns the first iopub message, queued or new, of type
// msgType whose parent is req (nil: an empty parent header), failing after d.
func (c *client) waitIOPub(msgType string, req *wire.Message, d time.Duration) *wire.Message {
	c.t.Helper()
	parent := ""
	if req != nil {
		parent = req.Header.MsgID
	}
	match := func(m *wire.Message) bool {
		return m.Header.MsgType == msgType && m.ParentHeader.MsgID == parent
	}
	for i, m := range c.iopubQ {
		if match(m) {
			c.iopubQ = append(c.iopubQ[:i], c.iopubQ[i+1:]...)
			return m
		}
	}
	timeout := time.After(d)
	for {
		select {
		case m := <-c.in[c.iopub]:
			if match(m) {
				return m
			}
			c.iopubQ = append(c.iopubQ, m)
		case <-timeout:
			c.t.Fatalf("no %s with parent %q within %v", msgType, parent, d)
			return nil
		}
	}
}
