package kernel

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/security/null"
)

func TestAppendZMTP(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 256)
	tests := []struct {
		name   string
		frames [][]byte
		want   []byte
	}{
		{"one empty frame", [][]byte{{}}, []byte{0, 0}},
		{"two short frames", [][]byte{[]byte("ab"), []byte("c")}, []byte{1, 2, 'a', 'b', 0, 1, 'c'}},
		{"255 bytes is short", [][]byte{long[:255]}, append([]byte{0, 255}, long[:255]...)},
		{"256 bytes is long", [][]byte{[]byte("t"), long},
			append([]byte{1, 1, 't', 2, 0, 0, 0, 0, 0, 0, 1, 0}, long...)},
	}
	for _, tt := range tests {
		got := appendZMTP(nil, tt.frames)
		if !bytes.Equal(got, tt.want) {
			t.Errorf("%s: % x, want % x", tt.name, got, tt.want)
			continue
		}
		// readFrame reads back what appendZMTP wrote.
		r := bytes.NewReader(got)
		for i, f := range tt.frames {
			flags, body, err := readFrame(r)
			if err != nil || !bytes.Equal(body, f) || (flags&zmtpMore != 0) != (i < len(tt.frames)-1) {
				t.Errorf("%s: frame %d read back as %x %q %v", tt.name, i, flags, body, err)
			}
		}
		if _, _, err := readFrame(r); err != io.EOF {
			t.Errorf("%s: after the message: %v, want EOF", tt.name, err)
		}
	}
}

// startPub binds a pubSocket on a free tcp port of the loopback.
func startPub(t *testing.T) *pubSocket {
	t.Helper()
	p, err := listenPub("tcp://127.0.0.1:0", slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// subscribe dials p with a zmq4 SUB socket subscribed to topic and returns
// the channel its messages' topics arrive on.
func subscribe(t *testing.T, p *pubSocket, topic string) <-chan string {
	t.Helper()
	sub := zmq4.NewSub(context.Background())
	t.Cleanup(func() { sub.Close() })
	if err := sub.Dial("tcp://" + p.Addr().String()); err != nil {
		t.Fatal(err)
	}
	if err := sub.SetOption(zmq4.OptionSubscribe, topic); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1000)
	go func() {
		for {
			m, err := sub.Recv()
			if err != nil {
				return
			}
			got <- string(m.Frames[0])
		}
	}()
	return got
}

// waitSubscribed publishes messages of topic until every channel in subs
// got one (subscriptions reach a PUB socket after the connection), then
// drains them.
func waitSubscribed(t *testing.T, p *pubSocket, topic string, subs ...<-chan string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	seen := make([]bool, len(subs))
	for done := 0; done < len(subs); {
		if time.Now().After(deadline) {
			t.Fatalf("subscriptions did not arrive: %v", seen)
		}
		if err := p.SendMulti(zmq4.NewMsgFrom([]byte(topic), []byte("x"))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
		for i, s := range subs {
			for len(s) > 0 {
				if <-s == topic && !seen[i] {
					seen[i] = true
					done++
				}
			}
		}
	}
	time.Sleep(50 * time.Millisecond)
	for _, s := range subs {
		for len(s) > 0 {
			<-s
		}
	}
}

func TestPubTopics(t *testing.T) {
	p := startPub(t)
	all := subscribe(t, p, "")
	kernel := subscribe(t, p, "kernel.")
	waitSubscribed(t, p, "kernel.warmup", all, kernel)

	for _, topic := range []string{"kernel.1.status", "other", "kernel.2.stream"} {
		if err := p.SendMulti(zmq4.NewMsgFrom([]byte(topic), []byte("<IDS|MSG>"), []byte("body"))); err != nil {
			t.Fatal(err)
		}
	}
	collect := func(c <-chan string, n int) []string {
		var got []string
		timeout := time.After(5 * time.Second)
		for len(got) < n {
			select {
			case s := <-c:
				got = append(got, s)
			case <-timeout:
				return got
			}
		}
		return got
	}
	if got, want := collect(all, 3), "kernel.1.status other kernel.2.stream"; strings.Join(got, " ") != want {
		t.Errorf("subscriber of everything got %q, want %q", got, want)
	}
	if got, want := collect(kernel, 2), "kernel.1.status kernel.2.stream"; strings.Join(got, " ") != want {
		t.Errorf("subscriber of kernel. got %q, want %q", got, want)
	}
	time.Sleep(50 * time.Millisecond)
	if len(kernel) > 0 {
		t.Errorf("subscriber of kernel. also got %q", <-kernel)
	}
}

// A subscriber that never reads costs a publisher at most pubWriteWait per
// message, then its messages are dropped; the other subscribers get all.
func TestPubSlowSubscriber(t *testing.T) {
	defer func(w time.Duration, n int) { pubWriteWait, maxPubPending = w, n }(pubWriteWait, maxPubPending)
	pubWriteWait, maxPubPending = 5*time.Millisecond, 1<<20
	var logs lockedBuffer
	p, err := listenPub("ipc://"+filepath.Join(t.TempDir(), "iopub"), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	// The slow peer: a ZMTP SUB that subscribes to everything and never
	// reads again.
	c, err := net.Dial("unix", p.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := zmq4.Open(c, null.Security(), zmq4.Sub, zmq4.SocketIdentity("slow"), false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(appendZMTP(nil, [][]byte{{1}})); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		p.mu.Lock()
		subs := p.subs
		p.mu.Unlock()
		ready := false
		if len(subs) == 1 {
			subs[0].mu.Lock()
			ready = len(subs[0].prefixes) == 1
			subs[0].mu.Unlock()
		}
		if ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow subscriber's subscription did not arrive")
		}
	}

	body := bytes.Repeat([]byte("y"), 64<<10)
	start := time.Now()
	const n = 200 // 12.5 MiB: more than the socket buffers and maxPubPending
	for i := 0; i < n; i++ {
		if err := p.SendMulti(zmq4.NewMsgFrom([]byte(fmt.Sprint("kernel.", i)), body)); err != nil {
			t.Fatal(err)
		}
	}
	// Only the writes before the flush goroutine took over wait (once).
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("publishing %d messages past a stalled subscriber took %v", n, d)
	}
	if !strings.Contains(logs.String(), "dropping messages") {
		t.Errorf("no warning about dropped messages; log: %q", logs.String())
	}
	p.mu.Lock()
	s := p.subs[0]
	p.mu.Unlock()
	s.mu.Lock()
	pending := len(s.pending)
	s.mu.Unlock()
	if pending > maxPubPending {
		t.Errorf("%d bytes pending, at most %d", pending, maxPubPending)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
