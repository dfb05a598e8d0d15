package kernel

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/unetlab/unetlab/kernel/wire"
)

// channel is one of the kernel's sockets, with the lock that serialises
// sends on it.
type channel struct {
	name string // "shell", "control", "iopub", "stdin", "hb"
	sock zmq4.Socket
	mu   sync.Mutex
}

// sockets holds the five sockets of a kernel.
type sockets struct {
	shell, control, iopub, stdin, hb *channel
	paths                            []string // ipc socket files to remove
}

func (s *sockets) all() []*channel {
	return []*channel{s.shell, s.control, s.iopub, s.stdin, s.hb}
}

// bind opens and binds the five sockets the connection describes. For tcp,
// a port of 0 is replaced in conn by the port the system chose.
func bind(ctx context.Context, conn *wire.ConnectionInfo, log *slog.Logger) (*sockets, error) {
	zlog := slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	opts := []zmq4.Option{zmq4.WithLogger(zlog)}
	s := &sockets{
		shell:   &channel{name: "shell", sock: zmq4.NewRouter(ctx, opts...)},
		control: &channel{name: "control", sock: zmq4.NewRouter(ctx, opts...)},
		iopub:   &channel{name: "iopub", sock: zmq4.NewPub(ctx, opts...)},
		stdin:   &channel{name: "stdin", sock: zmq4.NewRouter(ctx, opts...)},
		hb:      &channel{name: "hb", sock: zmq4.NewRep(ctx, opts...)},
	}
	ports := []*int{&conn.ShellPort, &conn.ControlPort, &conn.IOPubPort, &conn.StdinPort, &conn.HBPort}
	if err := registerGuards(); err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	for i, ch := range s.all() {
		ep := conn.Endpoint(*ports[i])
		if conn.Transport == "ipc" {
			path := strings.TrimPrefix(ep, "ipc://")
			removeStaleSocket(path)
			s.paths = append(s.paths, path)
		}
		if err := ch.sock.Listen("unetlab-" + ep); err != nil {
			s.close()
			return nil, fmt.Errorf("kernel: binding the %s socket to %s: %w", ch.name, ep, err)
		}
		if *ports[i] == 0 && conn.Transport == "tcp" {
			*ports[i] = portOf(ch.sock.Addr().String())
		}
	}
	return s, nil
}

func portOf(addr string) int {
	i := strings.LastIndexByte(addr, ':')
	p := 0
	for _, r := range addr[i+1:] {
		if r < '0' || r > '9' {
			return 0
		}
		p = p*10 + int(r-'0')
	}
	return p
}

// removeStaleSocket removes a unix socket file left by a dead kernel, so
// that binding the path succeeds. Anything that is not a socket is kept.
func removeStaleSocket(path string) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode().Type() == fs.ModeSocket {
		os.Remove(path)
	}
}

func (s *sockets) close() {
	for _, ch := range s.all() {
		if ch != nil {
			ch.sock.Close()
		}
	}
	for _, p := range s.paths {
		removeStaleSocket(p)
	}
}

// send encodes, signs and sends m on ch.
func (k *Kernel) send(ch *channel, m *wire.Message) error {
	frames, err := wire.Encode(m, k.signer)
	if err != nil {
		return err
	}
	if k.log.Enabled(context.Background(), slog.LevelDebug) {
		k.log.Debug("send", "socket", ch.name, "msg_type", m.Header.MsgType, "msg_id", m.Header.MsgID,
			"parent", m.ParentHeader.MsgID, "content", truncate(string(m.Content), 400))
	}
	ch.mu.Lock()
	err = ch.sock.SendMulti(zmq4.NewMsgFrom(frames...))
	ch.mu.Unlock()
	if err != nil {
		return fmt.Errorf("kernel: sending %s on %s: %w", m.Header.MsgType, ch.name, err)
	}
	if ch == k.socks.iopub {
		// zmq4's PUB socket only queues the message: a goroutine of its
		// own writes it. The kernel process runs on one processor
		// (cmd/unetlab), where that goroutine would wait until this one
		// blocks: the status busy went out after the cell had been
		// handed to the worker, and an execute_result after the
		// execute_reply that follows it. Yielding lets it write now, in
		// the order the messages were sent (on one processor, and while
		// the peer's socket takes what is written: a writer blocked on a
		// full buffer leaves the rest queued, as before).
		runtime.Gosched()
	}
	return nil
}

// receive reads messages from ch until ctx ends, handing each well-formed,
// correctly signed one to deliver. Bad messages are logged and dropped.
func (k *Kernel) receive(ctx context.Context, ch *channel, deliver func(*wire.Message)) {
	for {
		zm, err := ch.sock.Recv()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return
			}
			k.log.Warn("receive failed", "socket", ch.name, "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		m, err := wire.Decode(zm.Frames, k.signer)
		if err != nil {
			k.log.Warn("dropping a bad message", "socket", ch.name, "frames", len(zm.Frames), "err", err)
			continue
		}
		if k.log.Enabled(ctx, slog.LevelDebug) {
			k.log.Debug("recv", "socket", ch.name, "msg_type", m.Header.MsgType, "msg_id", m.Header.MsgID,
				"content", truncate(string(m.Content), 400))
		}
		deliver(m)
	}
}

// heartbeat echoes every ping on the hb socket.
func (k *Kernel) heartbeat(ctx context.Context) {
	for {
		m, err := k.socks.hb.sock.Recv()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if err := k.socks.hb.sock.Send(m); err != nil && ctx.Err() == nil {
			k.log.Warn("heartbeat echo failed", "err", err)
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
