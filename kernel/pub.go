package kernel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/security/null"
	"github.com/google/uuid"
)

// pubSocket is the kernel's iopub socket: a ZeroMQ PUB socket (ZMTP 3.0,
// NULL security) over the guarded transports of guard.go. zmq4's PUB socket
// queues each message for a goroutine of its own that writes it later; on
// a loaded machine that hop delayed the status idle closing a request by
// a tenth of a millisecond and more. pubSocket writes a message to each
// subscriber from the publishing goroutine, so when send returns the
// message is in the kernel's socket buffers, in order.
//
// A subscriber that does not read is not waited for long: a write that
// does not complete within pubWriteWait leaves the rest of the message,
// and the later messages, to a goroutine of that subscriber's, and when
// more than maxPubPending bytes wait there, further messages for it are
// dropped, as ZeroMQ's PUB drops at its high-water mark.
type pubSocket struct {
	ln  net.Listener
	id  zmq4.SocketIdentity
	log *slog.Logger

	mu     sync.Mutex
	subs   []*subscriber
	closed bool
}

// pubWriteWait is how long a publishing goroutine waits for a subscriber's
// socket buffer to take a message.
var pubWriteWait = 10 * time.Millisecond

// maxPubPending bounds the bytes waiting for one slow subscriber.
var maxPubPending = 256 << 20

// listenPub binds a PUB socket to endpoint ("tcp://host:port" or
// "ipc://path") through the guarded transports.
func listenPub(endpoint string, log *slog.Logger) (*pubSocket, error) {
	scheme, rest, ok := strings.Cut(endpoint, "://")
	var g guardedTransport
	switch {
	case ok && scheme == "tcp":
		g = tcpGuard
	case ok && scheme == "ipc":
		g = ipcGuard
	default:
		return nil, fmt.Errorf("kernel: unsupported endpoint %q", endpoint)
	}
	addr, err := g.Addr(rest)
	if err != nil {
		return nil, err
	}
	ln, err := g.Listen(context.Background(), addr)
	if err != nil {
		return nil, err
	}
	p := &pubSocket{ln: ln, id: zmq4.SocketIdentity(newSocketID()), log: log}
	go p.accept()
	return p, nil
}

func (p *pubSocket) Addr() net.Addr { return p.ln.Addr() }

func (p *pubSocket) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // the guarded listener returns an error only once closed
		}
		go p.serve(c)
	}
}

// serve performs the ZMTP handshake with a new peer, then reads its
// subscriptions until the connection ends.
func (p *pubSocket) serve(c net.Conn) {
	if _, err := zmq4.Open(c, null.Security(), zmq4.Pub, p.id, true, nil); err != nil {
		p.log.Debug("iopub: handshake failed", "err", err)
		c.Close()
		return
	}
	s := &subscriber{conn: c, raw: c, prefixes: map[string]int{}}
	if z, ok := c.(*zmtpConn); ok {
		// Messages are written whole to the connection under zmtpConn.
		s.raw = z.Conn
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.subs = append(p.subs, s)
	p.mu.Unlock()
	err := s.readSubscriptions()
	s.close()
	p.mu.Lock()
	for i, o := range p.subs {
		if o == s {
			p.subs = append(p.subs[:i:i], p.subs[i+1:]...)
			break
		}
	}
	p.mu.Unlock()
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		p.log.Debug("iopub: subscriber gone", "err", err)
	}
}

// SendMulti writes msg (its frames, the first one the topic) to every
// subscriber whose subscriptions match its topic. It returns once the
// message is written or left to the slow subscribers' goroutines.
func (p *pubSocket) SendMulti(msg zmq4.Msg) error {
	if len(msg.Frames) == 0 {
		return errors.New("kernel: publishing a message without frames")
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return net.ErrClosed
	}
	subs := append([]*subscriber(nil), p.subs...)
	p.mu.Unlock()
	if len(subs) == 0 {
		return nil
	}
	b := appendZMTP(nil, msg.Frames)
	for _, s := range subs {
		if s.write(msg.Frames[0], b) {
			p.log.Warn("iopub: a subscriber does not read; dropping messages for it", "pending_bytes", maxPubPending)
		}
	}
	return nil
}

// Close stops listening and ends every subscriber's connection.
func (p *pubSocket) Close() error {
	p.mu.Lock()
	p.closed = true
	subs := p.subs
	p.subs = nil
	p.mu.Unlock()
	err := p.ln.Close()
	for _, s := range subs {
		s.close()
	}
	return err
}

// appendZMTP appends frames to b as one ZMTP 3 message: each frame is a
// flags byte (MORE on all but the last, LONG when the body exceeds 255
// bytes), its size in 1 or 8 bytes (big endian), then its body.
func appendZMTP(b []byte, frames [][]byte) []byte {
	n := 0
	for _, f := range frames {
		n += 9 + len(f)
	}
	if b == nil {
		b = make([]byte, 0, n)
	}
	for i, f := range frames {
		var flags byte
		if i < len(frames)-1 {
			flags |= zmtpMore
		}
		if len(f) > 255 {
			b = append(b, flags|zmtpLong)
			b = binary.BigEndian.AppendUint64(b, uint64(len(f)))
		} else {
			b = append(b, flags, byte(len(f)))
		}
		b = append(b, f...)
	}
	return b
}

// ZMTP 3 frame flags.
const (
	zmtpMore    = 0x01
	zmtpLong    = 0x02
	zmtpCommand = 0x04
)

// subscriber is one peer of the PUB socket.
type subscriber struct {
	conn net.Conn // reads go through it (zmtpConn: buffered, bounded frames)
	raw  net.Conn // writes go straight to it

	mu       sync.Mutex
	prefixes map[string]int // subscribed topic prefixes, with their counts
	pending  []byte         // bytes the flush goroutine is to write, in order
	flushing bool           // the flush goroutine runs: writes go to pending
	dropping bool           // pending is full: messages are dropped
	dead     bool
}

// write sends one encoded message b, of the given topic, if the
// subscriber wants it. It reports whether this write started a run of
// dropped messages.
func (s *subscriber) write(topic, b []byte) (startedDropping bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead || !s.wants(topic) {
		return false
	}
	if s.flushing {
		if len(s.pending)+len(b) > maxPubPending {
			started := !s.dropping
			s.dropping = true
			return started
		}
		s.pending = append(s.pending, b...)
		return false
	}
	s.dropping = false
	_ = s.raw.SetWriteDeadline(time.Now().Add(pubWriteWait))
	n, err := s.raw.Write(b)
	if err == nil {
		return false
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// The rest goes out from a goroutine, before any later message.
		s.pending = append(s.pending[:0], b[n:]...)
		s.flushing = true
		go s.flush()
		return false
	}
	s.killLocked()
	return false
}

// flush writes pending bytes, without a deadline, until none are left.
func (s *subscriber) flush() {
	var buf []byte
	for {
		s.mu.Lock()
		if s.dead || len(s.pending) == 0 {
			s.flushing = false
			s.mu.Unlock()
			return
		}
		buf, s.pending = s.pending, buf[:0]
		s.mu.Unlock()
		_ = s.raw.SetWriteDeadline(time.Time{})
		if _, err := s.raw.Write(buf); err != nil {
			s.mu.Lock()
			s.flushing = false
			s.killLocked()
			s.mu.Unlock()
			return
		}
	}
}

// wants reports whether a subscription matches topic; s.mu is held.
func (s *subscriber) wants(topic []byte) bool {
	for p := range s.prefixes {
		if strings.HasPrefix(string(topic), p) {
			return true
		}
	}
	return false
}

func (s *subscriber) close() {
	s.mu.Lock()
	s.killLocked()
	s.mu.Unlock()
}

// killLocked ends the connection; s.mu is held.
func (s *subscriber) killLocked() {
	if !s.dead {
		s.dead = true
		s.conn.Close()
	}
}

// readSubscriptions reads what the peer sends until the connection ends:
// ZMTP 3.0 subscriptions (a one-frame message of 1 and the prefix, or 0
// and the prefix to cancel) and ZMTP 3.1's SUBSCRIBE and CANCEL commands.
// Other messages and commands are ignored.
func (s *subscriber) readSubscriptions() error {
	var frames [][]byte
	for {
		flags, body, err := readFrame(s.conn)
		if err != nil {
			return err
		}
		if flags&zmtpCommand != 0 {
			if len(body) > 0 && int(body[0]) < len(body) {
				name, data := string(body[1:1+int(body[0])]), body[1+int(body[0]):]
				switch name {
				case "SUBSCRIBE":
					s.subscribe(true, data)
				case "CANCEL":
					s.subscribe(false, data)
				}
			}
			continue
		}
		frames = append(frames, body)
		if flags&zmtpMore != 0 {
			continue
		}
		if len(frames) == 1 && len(frames[0]) > 0 && frames[0][0] <= 1 {
			s.subscribe(frames[0][0] == 1, frames[0][1:])
		}
		frames = frames[:0]
	}
}

func (s *subscriber) subscribe(on bool, prefix []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := string(prefix)
	if on {
		s.prefixes[p]++
		return
	}
	if s.prefixes[p]--; s.prefixes[p] <= 0 {
		delete(s.prefixes, p)
	}
}

// readFrame reads one ZMTP 3 frame: its flags and body.
func readFrame(r io.Reader) (byte, []byte, error) {
	var hdr [9]byte
	if _, err := io.ReadFull(r, hdr[:2]); err != nil {
		return 0, nil, err
	}
	flags, size := hdr[0], uint64(hdr[1])
	if flags&zmtpLong != 0 {
		if _, err := io.ReadFull(r, hdr[2:9]); err != nil {
			return 0, nil, err
		}
		size = binary.BigEndian.Uint64(hdr[1:9])
	}
	if size > maxFrame { // zmtpConn refuses these first; other readers too
		return 0, nil, fmt.Errorf("%w: %d bytes, at most %d", ErrFrameTooLarge, size, maxFrame)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, err
	}
	return flags, body, nil
}

// newSocketID returns the identity the iopub socket announces in its
// handshake (a PUB socket's identity means nothing to its peers).
func newSocketID() string { return "iopub-" + uuid.NewString() }
