package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/unetlab/unetlab/kernel/worker/proto"
)

// Options say how to start the worker process.
type Options struct {
	// Exe is the binary to run; "" means os.Executable() (the kernel
	// re-executes itself).
	Exe string
	// Args are the arguments after the program name; nil means
	// []string{"worker"}.
	Args []string
	// Env is the child's environment; nil means os.Environ().
	Env []string
	// Dir is the child's working directory; "" means the parent's.
	Dir string
	// Stderr, when set, receives a copy of everything the child writes to
	// its standard error (compiled code's logs, the Go runtime's panic
	// report), for the kernel's own log.
	Stderr io.Writer
}

// flushInterval is how long buffered stream text waits to go out as a
// StreamEvent, with the text that joins it meanwhile: the first text
// buffered arms a timer of this length (no timer runs while nothing is
// buffered), and text is at most this old (plus scheduling) when delivered
// unless it waits for its message (see package proto's sync markers).
const flushInterval = 50 * time.Millisecond

// maxPending is the buffered stream text that triggers an early flush.
const maxPending = 64 << 10

// tailSize is how much of the child's stderr an ErrCrashed error quotes.
const tailSize = 4 << 10

// Process is a running worker: one interpreter session in a child process.
// Its methods are safe for concurrent use; Execute calls run one at a time.
type Process struct {
	cmd  *exec.Cmd
	enc  *proto.Encoder
	opt  Options
	done chan struct{}

	waitErr error // set before done is closed

	nextID atomic.Uint64
	execMu sync.Mutex // one Execute at a time

	mu    sync.Mutex
	cond  *sync.Cond
	calls map[uint64]*call
	// owner is the request that the stream text now flushable belongs to:
	// the owner named by the last marked message delivered (see
	// package proto); 0 when the child is idle.
	owner uint64
	// idle holds events whose owner nobody waits for, in order, for
	// idleFn (run by idleLoop), or, while there is no idleFn, for the next
	// Execute or Comm call. idleBusy: idleLoop is handing events out.
	idle     []proto.Event
	idleFn   func(proto.Event)
	idleBusy bool
	pending  [2][]segment // stream text not yet delivered: stdout, stderr
	seen     [2]uint64    // last sync marker seen on each stream
	// delivered is the last sync number whose message went out: text
	// written after marker N waits until message N is delivered.
	delivered uint64
	eof       [2]bool // stream closed
	// drained: the stream holds nothing the child wrote (it reached end
	// of file, or everything buffered in the pipe when the child exited
	// was read); streamsDrained is closed once both are.
	drained        [2]bool
	streamsDrained chan struct{}
	flushTimer     *time.Timer // runs timedFlush; armed while flushArmed
	flushArmed     bool
	tail           []byte // last tailSize bytes of stderr
	fatal          []byte // stderr from a fatal runtime error on, at most fatalSize bytes
	stopped        bool   // control channel closed
}

// segment is stream text written after sync marker number after.
type segment struct {
	after uint64
	text  []byte
}

// call is one request waiting for its reply.
type call struct {
	id     uint64
	owns   bool // an Execute or a Comm: output owned by it goes to it
	reply  chan proto.Reply
	mu     sync.Mutex
	events []proto.Event
	signal chan struct{}
}

func (c *call) push(e proto.Event) {
	c.mu.Lock()
	c.events = append(c.events, e)
	c.mu.Unlock()
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

func (c *call) take() []proto.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := c.events
	c.events = nil
	return ev
}

// Start starts a worker process and waits until its interpreter is ready.
// opt may be nil: the defaults (this binary run as `worker`, the parent's
// environment and directory).
func Start(ctx context.Context, opt *Options) (*Process, error) {
	if opt == nil {
		opt = &Options{}
	}
	exe := opt.Exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("worker: finding the kernel binary: %w", err)
		}
	}
	args := opt.Args
	if args == nil {
		args = []string{"worker"}
	}
	var files []*os.File
	pipe := func() (*os.File, *os.File) {
		r, w, err := os.Pipe()
		if err != nil {
			panic(err) // out of file descriptors; handled below
		}
		files = append(files, r, w)
		return r, w
	}
	var (
		reqR, reqW, repR, repW, outR, outW, errR, errW *os.File
		perr                                           error
	)
	func() {
		defer func() {
			if r := recover(); r != nil {
				perr = fmt.Errorf("worker: creating pipes: %v", r)
			}
		}()
		reqR, reqW = pipe()
		repR, repW = pipe()
		outR, outW = pipe()
		errR, errW = pipe()
	}()
	if perr != nil {
		for _, f := range files {
			f.Close()
		}
		return nil, perr
	}
	cmd := exec.Command(exe, args...)
	env := opt.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(env[:len(env):len(env)], proto.FDsEnv+"=3,4")
	cmd.Dir = opt.Dir
	cmd.Stdout = outW
	cmd.Stderr = errW
	cmd.ExtraFiles = []*os.File{reqR, repW}
	if err := cmd.Start(); err != nil {
		for _, f := range files {
			f.Close()
		}
		return nil, fmt.Errorf("worker: starting %s: %w", exe, err)
	}
	for _, f := range []*os.File{reqR, repW, outW, errW} {
		f.Close()
	}
	p := &Process{
		cmd:   cmd,
		enc:   proto.NewEncoder(reqW),
		opt:   *opt,
		done:  make(chan struct{}),
		calls: map[uint64]*call{},
	}
	p.cond = sync.NewCond(&p.mu)
	p.streamsDrained = make(chan struct{})
	ready := make(chan error, 1)
	go p.readStream(0, outR)
	go p.readStream(1, errR)
	go p.readReplies(repR, ready)
	go p.idleLoop()
	go func() {
		err := cmd.Wait()
		reqW.Close()
		// Everything the child wrote is in the pipes now: the readers
		// stop waiting for more (a grandchild may hold the pipes open),
		// read what is buffered and say so (see readStream).
		_ = outR.SetReadDeadline(pastDeadline)
		_ = errR.SetReadDeadline(pastDeadline)
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(p.done)
	}()
	select {
	case err := <-ready:
		switch {
		case err == nil:
			return p, nil
		case errors.Is(err, proto.ErrCrashed):
			// The child closed its end of the control channel: it is
			// exiting.
			select {
			case <-p.done:
				return nil, p.crashError("while starting")
			case <-ctx.Done():
				p.Close()
				return nil, fmt.Errorf("worker: starting: %w", ctx.Err())
			}
		default:
			// It speaks another protocol: it is no worker of ours.
			p.Close()
			return nil, err
		}
	case <-p.done:
		return nil, p.crashError("while starting")
	case <-ctx.Done():
		p.Close()
		return nil, fmt.Errorf("worker: starting: %w", ctx.Err())
	}
}

// Done is closed when the child process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Close kills the child and waits for it to exit.
func (p *Process) Close() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return nil
}

// pastDeadline is a read deadline in the past: a read with it returns at
// once.
var pastDeadline = time.Unix(1, 0)

// crashError builds the ErrCrashed error: exit status and stderr tail. It
// is called once the child exited and waits until the stream readers have
// read everything the child wrote.
func (p *Process) crashError(when string) error {
	<-p.done
	<-p.streamsDrained
	p.mu.Lock()
	defer p.mu.Unlock()
	status := "exited"
	if p.waitErr != nil {
		status = p.waitErr.Error()
	} else if p.cmd.ProcessState != nil {
		status = p.cmd.ProcessState.String()
	}
	tail := cleanTrace(string(bytes.TrimSpace(p.tail)))
	if p.fatal != nil && bytes.Contains(p.tail, []byte("goroutine ")) {
		// The process died of a fatal error (its dump ends the output;
		// a "fatal error:" line a cell printed is no crash report).
		tail = foldFatal(string(p.fatal))
	}
	if tail == "" {
		return fmt.Errorf("%w (%s %s)", proto.ErrCrashed, status, when)
	}
	return fmt.Errorf("%w (%s %s); its last error output:\n%s", proto.ErrCrashed, status, when, tail)
}

// fatalSize bounds the head of a fatal runtime error's report that is kept.
const fatalSize = 64 << 10

// fatalMarkers start the report of a fatal runtime error (out of memory,
// stack overflow, concurrent map writes, deadlock) at the start of a line.
var fatalMarkers = []string{"fatal error: ", "runtime: goroutine stack exceeds"}

// fatalStart returns the offset in b of the first line that starts a fatal
// runtime error's report, or -1.
func fatalStart(b []byte) int {
	first := -1
	for _, m := range fatalMarkers {
		if i := lineStart(b, m); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	return first
}

// lineStart returns the offset of the first line of b that starts with m,
// or -1.
func lineStart(b []byte, m string) int {
	for off := 0; off < len(b); {
		i := bytes.Index(b[off:], []byte(m))
		if i < 0 {
			break
		}
		if at := off + i; at == 0 || b[at-1] == '\n' {
			return at
		}
		off += i + 1
	}
	return -1
}

// foldedFrames is how many lines of the first goroutine's dump a fatal
// error report shows.
const foldedFrames = 30

// foldFatal puts a fatal runtime error's reason ("fatal error: runtime:
// out of memory") first, then the dump folded: the first goroutine's
// frames (the interpreter's and the runtime's own dropped, see cleanTrace),
// then "... N more lines".
func foldFatal(report string) string {
	lines := strings.Split(strings.TrimSpace(report), "\n")
	reason := ""
	var rest []string
	for _, l := range lines {
		if reason == "" && strings.HasPrefix(l, "fatal error: ") {
			reason = l
			continue
		}
		rest = append(rest, l)
	}
	if reason == "" {
		reason = lines[0]
		rest = lines[1:]
	}
	// The first goroutine's block: from its header to the blank line
	// after it.
	start, end := -1, len(rest)
	for i, l := range rest {
		if start < 0 && strings.HasPrefix(l, "goroutine ") {
			start = i
			continue
		}
		if start >= 0 && strings.TrimSpace(l) == "" {
			end = i
			break
		}
	}
	var shown []string
	for _, l := range rest {
		if strings.HasPrefix(l, "runtime: goroutine stack exceeds") {
			shown = append(shown, l) // the limit a stack overflow hit
		}
	}
	if start >= 0 {
		block := rest[start:end]
		cleaned := strings.Split(cleanTrace(strings.Join(block, "\n")), "\n")
		if len(cleaned) < 2 {
			cleaned = block // only the interpreter's frames: show them
		}
		shown = append(shown, cleaned...)
	}
	if len(shown) > foldedFrames {
		shown = shown[:foldedFrames]
	}
	more := len(rest) - len(shown)
	out := reason
	if len(shown) > 0 && shown[0] != "" {
		out += "\n" + strings.Join(shown, "\n")
	}
	if more > 0 {
		out += fmt.Sprintf("\n... %d more lines", more)
	}
	return out
}

// cleanTrace drops the interpreter's and the runtime's own frames from a
// Go panic report: for a panic in interpreted code they are all there is,
// and the cell positions come as "at" lines before it.
func cleanTrace(tail string) string {
	lines := strings.Split(tail, "\n")
	noise := func(fn string) bool {
		fn = strings.TrimPrefix(fn, "created by ")
		for _, p := range []string{"github.com/traefik/yaegi/", "reflect.", "runtime.", "panic("} {
			if strings.HasPrefix(fn, p) {
				return true
			}
		}
		return false
	}
	var out []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "\t") && !strings.HasPrefix(l, "\t") && noise(l) {
			i++ // the function and its file:line
			continue
		}
		out = append(out, l)
	}
	// A goroutine header left without frames says nothing.
	var kept []string
	for i, l := range out {
		if strings.HasPrefix(l, "goroutine ") && (i+1 == len(out) || strings.TrimSpace(out[i+1]) == "") {
			continue
		}
		kept = append(kept, l)
	}
	return strings.TrimSpace(strings.Join(kept, "\n"))
}

var streamNames = [2]string{"stdout", "stderr"}

// readStream reads the child's stdout (i=0) or stderr (i=1), strips sync
// markers and buffers the text for timedFlush. Once the child has exited
// (the read deadline passes), it reads what the pipe holds without
// waiting, marks the stream drained, and reads on until end of file.
func (p *Process) readStream(i int, r *os.File) {
	defer r.Close()
	buf := make([]byte, 32<<10)
	var carry []byte // an incomplete marker at the end of the last read
	for {
		n, err := r.Read(buf)
		if n > 0 {
			carry = p.takeStream(i, carry, buf[:n])
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			_ = r.SetReadDeadline(time.Time{})
			eof := readBuffered(r, buf, func(b []byte) { carry = p.takeStream(i, carry, b) })
			p.mu.Lock()
			p.markDrained(i)
			p.mu.Unlock()
			if !eof {
				continue
			}
			err = io.EOF
		}
		if err != nil {
			p.mu.Lock()
			if len(carry) > 0 {
				p.appendText(i, carry)
			}
			p.eof[i] = true
			if p.eof[0] && p.eof[1] {
				p.delivered = ^uint64(0) // the child is gone: nothing more to order
			}
			p.markDrained(i)
			p.flushLocked()
			p.cond.Broadcast()
			p.mu.Unlock()
			return
		}
	}
}

// markDrained notes that stream i holds nothing more of the child's; p.mu
// is held.
func (p *Process) markDrained(i int) {
	if p.drained[i] {
		return
	}
	p.drained[i] = true
	if p.drained[0] && p.drained[1] {
		close(p.streamsDrained)
	}
}

// takeStream buffers data read from stream i, after carry (an incomplete
// marker from the read before), and returns the new carry.
func (p *Process) takeStream(i int, carry, read []byte) []byte {
	data := append(carry, read...)
	carry = nil
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(data) > 0 {
		k := bytes.IndexByte(data, proto.MarkerCommon[0])
		if k < 0 {
			p.appendText(i, data)
			break
		}
		p.appendText(i, data[:k])
		rest := data[k:]
		if len(rest) < len(proto.MarkerCommon) {
			if bytes.HasPrefix([]byte(proto.MarkerCommon), rest) {
				carry = append([]byte(nil), rest...)
				break
			}
			p.appendText(i, rest[:1])
			data = rest[1:]
			continue
		}
		if !bytes.HasPrefix(rest, []byte(proto.MarkerCommon)) {
			p.appendText(i, rest[:1])
			data = rest[1:]
			continue
		}
		end := bytes.IndexByte(rest, proto.MarkerEnd)
		if end < 0 {
			if len(rest) > maxMarker { // not a marker after all
				p.appendText(i, rest[:1])
				data = rest[1:]
				continue
			}
			carry = append([]byte(nil), rest...)
			break
		}
		kind, payload, _ := strings.Cut(string(rest[len(proto.MarkerCommon):end]), ";")
		switch kind {
		case "sync":
			seq, perr := strconv.ParseUint(payload, 10, 64)
			if perr != nil {
				p.appendText(i, rest[:1])
				data = rest[1:]
				continue
			}
			if seq > p.seen[i] {
				p.seen[i] = seq
			}
			p.cond.Broadcast()
		case "frame":
			p.addTail([]byte("at " + payload + "\n"))
		default:
			p.appendText(i, rest[:1])
			data = rest[1:]
			continue
		}
		data = rest[end+1:]
	}
	if pendingSize(p.pending[i]) > maxPending {
		p.flushLocked()
	}
	return carry
}

// appendText buffers stream text; p.mu is held.
func (p *Process) appendText(i int, b []byte) {
	if len(b) == 0 {
		return
	}
	segs := p.pending[i]
	if n := len(segs); n > 0 && segs[n-1].after == p.seen[i] {
		segs[n-1].text = append(segs[n-1].text, b...)
	} else {
		p.pending[i] = append(segs, segment{after: p.seen[i], text: append([]byte(nil), b...)})
	}
	p.armFlush()
	if i == 1 {
		p.addTail(b)
		if p.opt.Stderr != nil {
			_, _ = p.opt.Stderr.Write(b)
		}
	}
}

func pendingSize(segs []segment) int {
	n := 0
	for _, s := range segs {
		n += len(s.text)
	}
	return n
}

// addTail keeps b in the last tailSize bytes of stderr; p.mu is held.
func (p *Process) addTail(b []byte) {
	// A fatal runtime error prints its reason first and then a dump of
	// every goroutine, tens of KB: its head is kept apart from the tail.
	switch {
	case p.fatal != nil && len(p.fatal) < fatalSize:
		p.fatal = append(p.fatal, b[:min(len(b), fatalSize-len(p.fatal))]...)
	case p.fatal == nil:
		if i := fatalStart(b); i >= 0 {
			p.fatal = append([]byte(nil), b[i:min(len(b), i+fatalSize)]...)
		}
	}
	p.tail = append(p.tail, b...)
	if len(p.tail) > tailSize {
		p.tail = append([]byte(nil), p.tail[len(p.tail)-tailSize:]...)
	}
}

// maxMarker bounds a marker's length: a longer run is plain text.
const maxMarker = 1024

// flushLocked turns buffered stream text into events, up to the first
// text written after a message not yet delivered; p.mu is held.
func (p *Process) flushLocked() {
	for i := range p.pending {
		var text []byte
		k := 0
		for ; k < len(p.pending[i]) && p.pending[i][k].after <= p.delivered; k++ {
			text = append(text, p.pending[i][k].text...)
		}
		p.pending[i] = p.pending[i][k:]
		if len(text) > 0 {
			p.deliverLocked(proto.Event{Stream: &proto.StreamEvent{Name: streamNames[i], Text: string(text)}}, p.owner)
		}
	}
}

// deliverLocked hands an event to the Execute or Comm call that owns it,
// or to the idle queue when the owner is 0 or nobody waits for it any
// more; p.mu is held.
func (p *Process) deliverLocked(e proto.Event, owner uint64) {
	if c := p.calls[owner]; owner != 0 && c != nil && c.owns {
		c.push(e)
		return
	}
	if e.Stream != nil && len(p.idle) > 0 {
		// Text not handed out yet goes out in one message.
		if last := p.idle[len(p.idle)-1].Stream; last != nil && last.Name == e.Stream.Name && len(last.Text) < 1<<20 {
			last.Text += e.Stream.Text
			return
		}
	}
	if p.idleFn == nil && len(p.idle) >= maxIdle {
		return // nobody takes them: keep the first ones only
	}
	p.idle = append(p.idle, e)
	p.cond.Broadcast()
}

// maxIdle bounds the idle events kept while no idle function is set.
const maxIdle = 10000

// OnIdle sets the function that receives the events no request waits for:
// what goroutines a cell left running print, show or send after the cell
// ended, and what a comm handler emits after its Comm call stopped
// waiting. fn is called on one goroutine, in the order the child emitted
// the events, and never at the same time as an Execute or Comm call hands
// its own events out: events emitted before a call's are handed out first.
// Events that came before OnIdle was called go to fn too. fn must not call
// Execute or Comm. Without an idle function (nil, the default) such events
// are kept and delivered at the start of the next Execute or Comm call.
func (p *Process) OnIdle(fn func(proto.Event)) {
	p.mu.Lock()
	p.idleFn = fn
	p.cond.Broadcast()
	p.mu.Unlock()
}

// idleLoop hands idle events to idleFn until the child is gone and its
// output read.
func (p *Process) idleLoop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		for len(p.idle) == 0 || p.idleFn == nil {
			if p.stopped && p.eof[0] && p.eof[1] {
				return
			}
			p.cond.Wait()
		}
		events, fn := p.idle, p.idleFn
		p.idle, p.idleBusy = nil, true
		p.mu.Unlock()
		for _, e := range events {
			fn(e)
		}
		p.mu.Lock()
		p.idleBusy = false
		p.cond.Broadcast()
	}
}

// waitIdle waits until the idle events queued so far have been handed out,
// so that a call's events never overtake them.
func (p *Process) waitIdle() {
	p.mu.Lock()
	for p.idleFn != nil && (len(p.idle) > 0 || p.idleBusy) {
		p.cond.Wait()
	}
	p.mu.Unlock()
}

// armFlush makes timedFlush run flushInterval from now unless it is
// already due; p.mu is held.
func (p *Process) armFlush() {
	if p.flushArmed {
		return
	}
	p.flushArmed = true
	if p.flushTimer == nil {
		p.flushTimer = time.AfterFunc(flushInterval, p.timedFlush)
		return
	}
	p.flushTimer.Reset(flushInterval)
}

// timedFlush delivers the buffered text that may go out; text that waits
// for its message arms the timer again while the child runs.
func (p *Process) timedFlush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flushArmed = false
	p.flushLocked()
	if len(p.pending[0])+len(p.pending[1]) == 0 {
		return
	}
	select {
	case <-p.done:
	default:
		p.armFlush()
	}
}

// readReplies reads the control channel.
func (p *Process) readReplies(r *os.File, ready chan<- error) {
	defer r.Close()
	dec := proto.NewDecoder(r)
	first := true
	for {
		var rep proto.Reply
		if err := dec.Next(&rep); err != nil {
			p.mu.Lock()
			p.stopped = true
			p.cond.Broadcast()
			p.mu.Unlock()
			if first {
				ready <- fmt.Errorf("worker: child closed its control channel before it was ready: %w", proto.ErrCrashed)
			}
			return
		}
		if first {
			first = false
			if rep.Op != proto.OpReady {
				ready <- fmt.Errorf("worker: child's first message is %q, want ready", rep.Op)
				return
			}
			ready <- nil
			continue
		}
		p.mu.Lock()
		if rep.Sync > 0 {
			// Deliver the stream text written before this message first.
			for (p.seen[0] < rep.Sync && !p.eof[0]) || (p.seen[1] < rep.Sync && !p.eof[1]) {
				p.cond.Wait()
			}
			p.flushLocked()
		}
		switch rep.Op {
		case proto.OpEvent:
			if rep.Event != nil {
				p.deliverLocked(rep.Event.Event(), rep.Owner)
			}
		case proto.OpStart:
			// Without an idle function, what came while idle goes out
			// with the next cell.
			if c := p.calls[rep.ID]; c != nil && c.owns && p.idleFn == nil {
				for _, e := range p.idle {
					c.push(e)
				}
				p.idle = nil
			}
		case proto.OpDone:
			if c := p.calls[rep.ID]; c != nil {
				delete(p.calls, rep.ID)
				c.reply <- rep
			}
		}
		if rep.Sync > 0 {
			// Text written after this marker belongs to the owner it names.
			p.owner = rep.Owner
		}
		if rep.Sync > p.delivered {
			p.delivered = rep.Sync
		}
		p.mu.Unlock()
	}
}

// newCall registers a request waiting for its reply; events says whether
// the output it owns goes to it (Execute, Comm).
func (p *Process) newCall(events bool) *call {
	c := &call{id: p.nextID.Add(1), owns: events, reply: make(chan proto.Reply, 1), signal: make(chan struct{}, 1)}
	p.mu.Lock()
	p.calls[c.id] = c
	p.mu.Unlock()
	return c
}

// dropCall forgets c: what it owns from now on goes to the idle queue.
func (p *Process) dropCall(c *call) {
	p.mu.Lock()
	delete(p.calls, c.id)
	p.mu.Unlock()
}

// drain hands c's events to fn, after the idle events emitted before them.
func (p *Process) drain(c *call, fn func(proto.Event)) {
	events := c.take()
	if len(events) == 0 {
		return
	}
	p.waitIdle()
	for _, e := range events {
		fn(e)
	}
}

// Execute runs one cell. Events (output, displays, input requests) are
// delivered in order to fn on the calling goroutine before Execute
// returns; fn must not call Execute. They are what the child emits, from
// any goroutine, between the start and the end of the cell; what comes
// later goes to the idle function (see OnIdle). When the child dies the
// error wraps ErrCrashed and carries the exit status and the end of the
// child's stderr (the Go panic report). When ctx ends the cell is
// interrupted (as by Interrupt) and Execute waits for its answer: a cell in
// a compiled call that ignores its context answers when the call returns,
// or ends when Close kills the child (the kernel does so on a second
// interrupt and at shutdown).
func (p *Process) Execute(ctx context.Context, req proto.ExecuteRequest, fn func(proto.Event)) (proto.ExecuteResult, error) {
	p.execMu.Lock()
	defer p.execMu.Unlock()
	if fn == nil {
		fn = func(proto.Event) {}
	}
	c := p.newCall(true)
	defer p.dropCall(c)

	if err := p.enc.Send(proto.Request{ID: c.id, Op: proto.OpExecute, Execute: &req}); err != nil {
		if p.exiting(ctx, err) {
			return proto.ExecuteResult{}, p.crashError("before the cell ran")
		}
		return proto.ExecuteResult{}, fmt.Errorf("worker: sending the cell: %w", err)
	}
	drain := func() { p.drain(c, fn) }
	ctxDone := ctx.Done()
	for {
		select {
		case <-c.signal:
			drain()
		case rep := <-c.reply:
			drain()
			if rep.Execute == nil {
				return proto.ExecuteResult{}, fmt.Errorf("worker: proto.Reply without a result: %s", rep.Error)
			}
			return rep.Execute.ExecuteResult(), nil
		case <-p.done:
			err := p.crashError("while running the cell")
			p.mu.Lock()
			p.flushLocked()
			p.mu.Unlock()
			drain()
			return proto.ExecuteResult{}, err
		case <-ctxDone:
			ctxDone = nil
			_ = p.Interrupt()
		}
	}
}

// exiting reports whether a failed send (err) means that the child is
// gone: the request pipe is broken (the child closed its end), and then it
// waits for the child's exit (or ctx). Other errors (a value JSON cannot
// encode) leave the child running.
func (p *Process) exiting(ctx context.Context, err error) bool {
	if !errors.Is(err, syscall.EPIPE) && !errors.Is(err, os.ErrClosed) {
		select {
		case <-p.done:
			return true
		default:
			return false
		}
	}
	select {
	case <-p.done:
		return true
	case <-ctx.Done():
		return false
	}
}

// request sends a request without events and waits for its reply.
func (p *Process) request(ctx context.Context, req proto.Request) (proto.Reply, error) {
	c := p.newCall(false)
	defer p.dropCall(c)
	req.ID = c.id
	if err := p.enc.Send(req); err != nil {
		return proto.Reply{}, fmt.Errorf("worker: sending %s: %w", req.Op, err)
	}
	select {
	case rep := <-c.reply:
		return rep, nil
	case <-p.done:
		return proto.Reply{}, p.crashError("during " + req.Op)
	case <-ctx.Done():
		return proto.Reply{}, fmt.Errorf("worker: %s: %w", req.Op, ctx.Err())
	}
}

// Complete returns completions at cursorPos (in code points) of code.
func (p *Process) Complete(ctx context.Context, code string, cursorPos int) (proto.CompleteResult, error) {
	rep, err := p.request(ctx, proto.Request{Op: proto.OpComplete, Code: code, Cursor: cursorPos})
	if err != nil {
		return proto.CompleteResult{}, err
	}
	if rep.Complete == nil {
		return proto.CompleteResult{}, errors.New("worker: complete proto.Reply without a result")
	}
	return *rep.Complete, nil
}

// Inspect returns help for the name at cursorPos (in code points).
func (p *Process) Inspect(ctx context.Context, code string, cursorPos, detailLevel int) (proto.InspectResult, error) {
	rep, err := p.request(ctx, proto.Request{Op: proto.OpInspect, Code: code, Cursor: cursorPos, Detail: detailLevel})
	if err != nil {
		return proto.InspectResult{}, err
	}
	if rep.Inspect == nil {
		return proto.InspectResult{}, errors.New("worker: inspect proto.Reply without a result")
	}
	return proto.InspectResult{Found: rep.Inspect.Found, Data: proto.FromWire(rep.Inspect.Data)}, nil
}

// IsComplete says whether code is a complete cell (the child's splitter
// decides; it answers while a cell runs).
func (p *Process) IsComplete(ctx context.Context, code string) (proto.IsCompleteResult, error) {
	rep, err := p.request(ctx, proto.Request{Op: proto.OpIsComplete, Code: code})
	if err != nil {
		return proto.IsCompleteResult{}, err
	}
	if rep.IsComplete == nil {
		return proto.IsCompleteResult{}, errors.New("worker: is_complete reply without a result")
	}
	return *rep.IsComplete, nil
}

// Input answers the pending InputEvent with the user's line, or with err
// (for example when the front end refused or the request was abandoned).
// An err wrapping cell.ErrStdinNotAllowed or cell.ErrInputInterrupted
// wraps it in the cell too (errors.Is holds there); other errors arrive as
// their text.
func (p *Process) Input(value string, err error) {
	r := proto.Request{Op: proto.OpInput, Value: value}
	if err != nil {
		r.Err = err.Error()
		for name, target := range proto.InputSentinels {
			if errors.Is(err, target) {
				r.ErrIs = name
			}
		}
	}
	_ = p.enc.Send(r)
}

// Interrupt cancels the running cell's context. Interpreted loops stop at
// their next step; compiled calls stop when they check the context.
func (p *Process) Interrupt() error {
	select {
	case <-p.done:
		return fmt.Errorf("worker: interrupt: %w", proto.ErrCrashed)
	default:
	}
	return p.enc.Send(proto.Request{Op: proto.OpInterrupt})
}

// Comm passes a comm_open, comm_msg or comm_close from the front end, with
// its binary buffers (nil for none), to the worker (package comm's targets
// and handlers) and waits until the handler
// it runs has returned. What the handler sends and prints (its comm_msg
// replies, a comm_close for an unknown target, output) is delivered in
// order to fn on the calling goroutine before Comm returns, as Execute
// delivers a cell's; fn must not call Execute or Comm. Handlers run one
// at a time, in the order of the messages. When ctx ends first, Comm
// returns ctx's error wrapped and the handler runs on: what it emits later
// goes to the idle function (see OnIdle). When the child dies the error
// wraps ErrCrashed.
func (p *Process) Comm(ctx context.Context, typ string, content map[string]any, buffers [][]byte, fn func(proto.Event)) error {
	if fn == nil {
		fn = func(proto.Event) {}
	}
	c := p.newCall(true)
	defer p.dropCall(c)
	if err := p.enc.Send(proto.Request{ID: c.id, Op: proto.OpComm, CommType: typ, CommContent: content, CommBuffers: buffers}); err != nil {
		if p.exiting(ctx, err) {
			return p.crashError("before the comm handler ran")
		}
		return fmt.Errorf("worker: sending %s: %w", typ, err)
	}
	for {
		select {
		case <-c.signal:
			p.drain(c, fn)
		case rep := <-c.reply:
			p.drain(c, fn)
			if rep.Error != "" {
				return fmt.Errorf("worker: %s: %s", typ, rep.Error)
			}
			return nil
		case <-p.done:
			err := p.crashError("while a comm handler ran")
			p.mu.Lock()
			p.flushLocked()
			p.mu.Unlock()
			p.drain(c, fn)
			return err
		case <-ctx.Done():
			p.dropCall(c)
			_ = p.enc.Send(proto.Request{ID: c.id, Op: proto.OpCommAbandon})
			p.drain(c, fn)
			return fmt.Errorf("worker: waiting for the %s handler: %w", typ, ctx.Err())
		}
	}
}
