package kernel

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/transport"
)

// handshakeTimeout bounds the ZMTP handshake of an incoming connection.
var handshakeTimeout = 5 * time.Second

// zmq4 performs the handshake of each accepted connection in its accept
// loop, without a deadline: one peer that connects and stays silent would
// block every later client of that socket. The kernel therefore listens
// through guarded transports ("unetlab-tcp", "unetlab-ipc"), whose
// listeners hand a connection to zmq4 only once its first byte arrived and
// looks like ZMTP, and bound the rest of the handshake by a deadline.
var registerGuards = sync.OnceValue(func() error {
	return errors.Join(
		zmq4.RegisterTransport("unetlab-tcp", guardedTransport{transport.New("tcp"), "tcp"}),
		zmq4.RegisterTransport("unetlab-ipc", guardedTransport{transport.New("unix"), "unix"}),
	)
})

type guardedTransport struct {
	transport.Transport
	network string
}

func (g guardedTransport) Listen(ctx context.Context, addr string) (net.Listener, error) {
	l, err := net.Listen(g.network, addr)
	if err != nil {
		return nil, err
	}
	gl := &guardedListener{Listener: l, ready: make(chan net.Conn), done: make(chan struct{})}
	go gl.run()
	return gl, nil
}

type guardedListener struct {
	net.Listener
	ready     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

func (l *guardedListener) run() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			select {
			case <-l.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go l.screen(c)
	}
}

// screen waits for the peer's first byte: 0xFF starts every ZMTP greeting.
func (l *guardedListener) screen(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(handshakeTimeout))
	var first [1]byte
	if _, err := c.Read(first[:]); err != nil || first[0] != 0xFF {
		c.Close()
		return
	}
	select {
	case l.ready <- newZMTPConn(c, first[:]):
	case <-l.done:
		c.Close()
	}
}

func (l *guardedListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *guardedListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

const greetingSize = 64

// maxFrame is the largest ZMTP frame the kernel accepts: zmq4 allocates a
// frame's announced size before reading it, so a garbage size would crash
// the process.
var maxFrame uint64 = 1 << 31

// ErrFrameTooLarge ends a connection whose peer announces a frame larger
// than the kernel accepts.
var ErrFrameTooLarge = errors.New("kernel: ZMTP frame too large")

// zmtpConn is the connection zmq4 sees. It replays the byte the listener
// read, bounds the handshake by a deadline, refuses oversized frames, reads
// through a buffer and writes each message in one system call (zmq4 writes
// every frame header and body separately, which our wrapper would otherwise
// turn into as many TCP segments).
type zmtpConn struct {
	net.Conn
	pending []byte
	in      frameParser // the peer's bytes
	br      *bufio.Reader

	wmu sync.Mutex
	out frameParser // our bytes, once the handshake is done
	buf []byte
}

func newZMTPConn(c net.Conn, first []byte) *zmtpConn {
	z := &zmtpConn{Conn: c, pending: first, in: frameParser{need: greetingSize}}
	return z
}

func (c *zmtpConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		if err := c.in.consume(p[:n]); err != nil {
			return 0, err
		}
		return n, nil
	}
	var n int
	var err error
	if c.br != nil {
		n, err = c.br.Read(p)
	} else {
		n, err = c.Conn.Read(p)
	}
	if n > 0 {
		wasDone := c.in.frames > 0
		if perr := c.in.consume(p[:n]); perr != nil {
			c.Conn.Close()
			return 0, perr
		}
		if !wasDone && c.in.frames > 0 {
			// The peer's handshake (greeting and READY) is in: no more
			// deadline; buffer reads and coalesce writes from now on.
			c.Conn.SetReadDeadline(time.Time{})
			if c.br == nil {
				c.br = bufio.NewReaderSize(c.Conn, 64<<10)
			}
			c.wmu.Lock()
			c.out.framing = true
			c.wmu.Unlock()
		}
	}
	return n, err
}

func (c *zmtpConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.out.framing {
		return c.Conn.Write(p)
	}
	c.buf = append(c.buf, p...)
	c.out.consume(p)
	if (c.out.atMessageEnd() || len(c.buf) >= 256<<10) && len(c.buf) > 0 {
		_, err := c.Conn.Write(c.buf)
		c.buf = c.buf[:0]
		if cap(c.buf) > 1<<20 {
			c.buf = nil
		}
		if err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// frameParser follows a ZMTP 3 byte stream: the 64-byte greeting, then
// frames of flags, a 1- or 8-byte size and a body.
type frameParser struct {
	framing bool // write side: parse frames (the handshake is done)
	state   int  // 0 greeting, 1 flags, 2 size, 3 body
	need    int
	more    bool
	long    bool
	size    uint64
	frames  int  // frames completed
	ended   bool // the last completed frame ended a message
}

func (f *frameParser) atMessageEnd() bool { return f.state == 1 && f.ended }

func (f *frameParser) consume(b []byte) error {
	if f.state == 0 && f.need == 0 { // zero value: already past the greeting
		f.state = 1
	}
	for len(b) > 0 || (f.state == 3 && f.need == 0) {
		switch f.state {
		case 0:
			k := min(f.need, len(b))
			b, f.need = b[k:], f.need-k
			if f.need == 0 {
				f.state = 1
			}
		case 1:
			f.more = b[0]&0x01 != 0
			f.long = b[0]&0x02 != 0
			f.need, f.size, f.ended = 1, 0, false
			if f.long {
				f.need = 8
			}
			b = b[1:]
			f.state = 2
		case 2:
			f.size = f.size<<8 | uint64(b[0])
			b = b[1:]
			if f.need--; f.need == 0 {
				if f.size > maxFrame {
					return fmt.Errorf("%w: %d bytes, at most %d", ErrFrameTooLarge, f.size, maxFrame)
				}
				f.need, f.state = int(f.size), 3
			}
		case 3:
			k := min(f.need, len(b))
			b, f.need = b[k:], f.need-k
			if f.need == 0 {
				f.frames++
				f.ended = !f.more
				f.state = 1
			}
		}
	}
	return nil
}
