package worker

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
	"time"
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

// flushInterval is how often buffered stream text goes out as a
// StreamEvent: text is at most this old (plus scheduling) when delivered.
const flushInterval = 50 * time.Millisecond

// maxPending is the buffered stream text that triggers an early flush.
const maxPending = 64 << 10

// tailSize is how much of the child's stderr an ErrCrashed error quotes.
const tailSize = 4 << 10

// Process is a running worker: one interpreter session in a child process.
// Its methods are safe for concurrent use; Execute calls run one at a time.
type Process struct {
	cmd  *exec.Cmd
	enc  *encoder
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
	// protocol.go); 0 when the child is idle.
	owner uint64
	// idle holds events whose owner nobody waits for, in order, for
	// idleFn (run by idleLoop), or, while there is no idleFn, for the next
	// Execute or Comm call. idleBusy: idleLoop is handing events out.
	idle     []Event
	idleFn   func(Event)
	idleBusy bool
	pending  [2][]segment // stream text not yet delivered: stdout, stderr
	seen     [2]uint64    // last sync marker seen on each stream
	// delivered is the last sync number whose message went out: text
	// written after marker N waits until message N is delivered.
	delivered  uint64
	eof        [2]bool       // stream closed
	streamsEOF chan struct{} // closed once both streams are closed
	tail       []byte        // last tailSize bytes of stderr
	fatal      []byte        // stderr from a fatal runtime error on, at most fatalSize bytes
	stopped    bool          // control channel closed
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
	reply  chan reply
	mu     sync.Mutex
	events []Event
	signal chan struct{}
}

func (c *call) push(e Event) {
	c.mu.Lock()
	c.events = append(c.events, e)
	c.mu.Unlock()
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

func (c *call) take() []Event {
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
	cmd.Env = append(env[:len(env):len(env)], fdsEnv+"=3,4")
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
		enc:   newEncoder(reqW),
		opt:   *opt,
		done:  make(chan struct{}),
		calls: map[uint64]*call{},
	}
	p.cond = sync.NewCond(&p.mu)
	p.streamsEOF = make(chan struct{})
	ready := make(chan error, 1)
	go p.readStream(0, outR)
	go p.readStream(1, errR)
	go p.readReplies(repR, ready)
	go p.flushLoop()
	go p.idleLoop()
	go func() {
		err := cmd.Wait()
		reqW.Close()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(p.done)
	}()
	select {
	case err := <-ready:
		if err != nil {
			select {
			case <-p.done:
				return nil, p.crashError("while starting")
			case <-time.After(2 * time.Second):
				p.Close()
				return nil, err
			}
		}
		return p, nil
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

// crashError builds the ErrCrashed error: exit status and stderr tail. It
// waits briefly for the stream readers to drain.
func (p *Process) crashError(when string) error {
	p.waitStreams(500 * time.Millisecond)
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
		return fmt.Errorf("%w (%s %s)", ErrCrashed, status, when)
	}
	return fmt.Errorf("%w (%s %s); its last error output:\n%s", ErrCrashed, status, when, tail)
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

// waitStreams waits until both stream pipes reached EOF (the event), at
// most d (a grandchild process may hold them open).
func (p *Process) waitStreams(d time.Duration) {
	if p.streamsEOF == nil {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.streamsEOF:
	case <-t.C:
	}
}

var streamNames = [2]string{"stdout", "stderr"}

// readStream reads the child's stdout (i=0) or stderr (i=1), strips sync
// markers and buffers the text for flushLoop.
func (p *Process) readStream(i int, r *os.File) {
	defer r.Close()
	buf := make([]byte, 32<<10)
	var carry []byte // an incomplete marker at the end of the last read
	for {
		n, err := r.Read(buf)
		if n > 0 {
			data := append(carry, buf[:n]...)
			carry = nil
			p.mu.Lock()
			for len(data) > 0 {
				k := bytes.IndexByte(data, markerCommon[0])
				if k < 0 {
					p.appendText(i, data)
					break
				}
				p.appendText(i, data[:k])
				rest := data[k:]
				if len(rest) < len(markerCommon) {
					if bytes.HasPrefix([]byte(markerCommon), rest) {
						carry = append([]byte(nil), rest...)
						break
					}
					p.appendText(i, rest[:1])
					data = rest[1:]
					continue
				}
				if !bytes.HasPrefix(rest, []byte(markerCommon)) {
					p.appendText(i, rest[:1])
					data = rest[1:]
					continue
				}
				end := bytes.IndexByte(rest, markerEnd)
				if end < 0 {
					if len(rest) > maxMarker { // not a marker after all
						p.appendText(i, rest[:1])
						data = rest[1:]
						continue
					}
					carry = append([]byte(nil), rest...)
					break
				}
				kind, payload, _ := strings.Cut(string(rest[len(markerCommon):end]), ";")
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
			p.mu.Unlock()
		}
		if err != nil {
			p.mu.Lock()
			if len(carry) > 0 {
				p.appendText(i, carry)
			}
			p.eof[i] = true
			if p.eof[0] && p.eof[1] {
				p.delivered = ^uint64(0) // the child is gone: nothing more to order
				close(p.streamsEOF)
			}
			p.flushLocked()
			p.cond.Broadcast()
			p.mu.Unlock()
			return
		}
	}
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
			p.deliverLocked(Event{Stream: &StreamEvent{Name: streamNames[i], Text: string(text)}}, p.owner)
		}
	}
}

// deliverLocked hands an event to the Execute or Comm call that owns it,
// or to the idle queue when the owner is 0 or nobody waits for it any
// more; p.mu is held.
func (p *Process) deliverLocked(e Event, owner uint64) {
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
func (p *Process) OnIdle(fn func(Event)) {
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

func (p *Process) flushLoop() {
	t := time.NewTicker(flushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.mu.Lock()
			p.flushLocked()
			p.mu.Unlock()
		case <-p.done:
			return
		}
	}
}

// readReplies reads the control channel.
func (p *Process) readReplies(r *os.File, ready chan<- error) {
	defer r.Close()
	dec := newDecoder(r)
	first := true
	for {
		var rep reply
		if err := dec.next(&rep); err != nil {
			p.mu.Lock()
			p.stopped = true
			p.cond.Broadcast()
			p.mu.Unlock()
			if first {
				ready <- fmt.Errorf("worker: child closed its control channel before it was ready: %w", ErrCrashed)
			}
			return
		}
		if first {
			first = false
			if rep.Op != opReady {
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
		case opEvent:
			if rep.Event != nil {
				p.deliverLocked(rep.Event.event(), rep.Owner)
			}
		case opStart:
			// Without an idle function, what came while idle goes out
			// with the next cell.
			if c := p.calls[rep.ID]; c != nil && c.owns && p.idleFn == nil {
				for _, e := range p.idle {
					c.push(e)
				}
				p.idle = nil
			}
		case opDone:
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
	c := &call{id: p.nextID.Add(1), owns: events, reply: make(chan reply, 1), signal: make(chan struct{}, 1)}
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
func (p *Process) drain(c *call, fn func(Event)) {
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
// child's stderr (the Go panic report). When ctx is cancelled the cell is
// interrupted; a cell that does not stop within 2 s kills the child.
func (p *Process) Execute(ctx context.Context, req ExecuteRequest, fn func(Event)) (ExecuteResult, error) {
	p.execMu.Lock()
	defer p.execMu.Unlock()
	if fn == nil {
		fn = func(Event) {}
	}
	c := p.newCall(true)
	defer p.dropCall(c)

	if err := p.enc.send(request{ID: c.id, Op: opExecute, Execute: &req}); err != nil {
		select {
		case <-p.done:
			return ExecuteResult{}, p.crashError("before the cell ran")
		case <-time.After(time.Second):
			return ExecuteResult{}, fmt.Errorf("worker: sending the cell: %w", err)
		}
	}
	drain := func() { p.drain(c, fn) }
	ctxDone := ctx.Done()
	var killAt <-chan time.Time
	for {
		select {
		case <-c.signal:
			drain()
		case rep := <-c.reply:
			drain()
			if rep.Execute == nil {
				return ExecuteResult{}, fmt.Errorf("worker: reply without a result: %s", rep.Error)
			}
			return rep.Execute.result(), nil
		case <-p.done:
			err := p.crashError("while running the cell")
			p.mu.Lock()
			p.flushLocked()
			p.mu.Unlock()
			drain()
			return ExecuteResult{}, err
		case <-ctxDone:
			ctxDone = nil
			_ = p.Interrupt()
			killAt = time.After(2 * time.Second)
		case <-killAt:
			p.Close()
			drain()
			return ExecuteResult{}, fmt.Errorf("worker: cell did not stop after its context ended (%w): %w", ctx.Err(), ErrCrashed)
		}
	}
}

// request sends a request without events and waits for its reply.
func (p *Process) request(ctx context.Context, req request) (reply, error) {
	c := p.newCall(false)
	defer p.dropCall(c)
	req.ID = c.id
	if err := p.enc.send(req); err != nil {
		return reply{}, fmt.Errorf("worker: sending %s: %w", req.Op, err)
	}
	select {
	case rep := <-c.reply:
		return rep, nil
	case <-p.done:
		return reply{}, p.crashError("during " + req.Op)
	case <-ctx.Done():
		return reply{}, fmt.Errorf("worker: %s: %w", req.Op, ctx.Err())
	}
}

// Complete returns completions at cursorPos (in code points) of code.
func (p *Process) Complete(ctx context.Context, code string, cursorPos int) (CompleteResult, error) {
	rep, err := p.request(ctx, request{Op: opComplete, Code: code, Cursor: cursorPos})
	if err != nil {
		return CompleteResult{}, err
	}
	if rep.Complete == nil {
		return CompleteResult{}, errors.New("worker: complete reply without a result")
	}
	return *rep.Complete, nil
}

// Inspect returns help for the name at cursorPos (in code points).
func (p *Process) Inspect(ctx context.Context, code string, cursorPos, detailLevel int) (InspectResult, error) {
	rep, err := p.request(ctx, request{Op: opInspect, Code: code, Cursor: cursorPos, Detail: detailLevel})
	if err != nil {
		return InspectResult{}, err
	}
	if rep.Inspect == nil {
		return InspectResult{}, errors.New("worker: inspect reply without a result")
	}
	return InspectResult{Found: rep.Inspect.Found, Data: fromWire(rep.Inspect.Data)}, nil
}

// IsComplete says whether code is a complete cell. It needs no interpreter
// state and is answered in the calling process.
func (p *Process) IsComplete(ctx context.Context, code string) (IsCompleteResult, error) {
	return isComplete(code), nil
}

// Input answers the pending InputEvent with the user's line, or with err
// (for example when the front end refused or the request was abandoned).
// An err wrapping cell.ErrStdinNotAllowed or cell.ErrInputInterrupted
// wraps it in the cell too (errors.Is holds there); other errors arrive as
// their text.
func (p *Process) Input(value string, err error) {
	r := request{Op: opInput, Value: value}
	if err != nil {
		r.Err = err.Error()
		for name, target := range inputSentinels {
			if errors.Is(err, target) {
				r.ErrIs = name
			}
		}
	}
	_ = p.enc.send(r)
}

// Interrupt cancels the running cell's context. Interpreted loops stop at
// their next step; compiled calls stop when they check the context.
func (p *Process) Interrupt() error {
	select {
	case <-p.done:
		return fmt.Errorf("worker: interrupt: %w", ErrCrashed)
	default:
	}
	return p.enc.send(request{Op: opInterrupt})
}

// Comm passes a comm_open, comm_msg or comm_close from the front end to the
// worker (package comm's targets and handlers) and waits until the handler
// it runs has returned. What the handler sends and prints (its comm_msg
// replies, a comm_close for an unknown target, output) is delivered in
// order to fn on the calling goroutine before Comm returns, as Execute
// delivers a cell's; fn must not call Execute or Comm. Handlers run one
// at a time, in the order of the messages. When ctx ends first, Comm
// returns ctx's error wrapped and the handler runs on: what it emits later
// goes to the idle function (see OnIdle). When the child dies the error
// wraps ErrCrashed.
func (p *Process) Comm(ctx context.Context, typ string, content map[string]any, fn func(Event)) error {
	if fn == nil {
		fn = func(Event) {}
	}
	c := p.newCall(true)
	defer p.dropCall(c)
	if err := p.enc.send(request{ID: c.id, Op: opComm, CommType: typ, CommContent: content}); err != nil {
		select {
		case <-p.done:
			return p.crashError("before the comm handler ran")
		case <-time.After(time.Second):
			return fmt.Errorf("worker: sending %s: %w", typ, err)
		}
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
			p.drain(c, fn)
			return fmt.Errorf("worker: waiting for the %s handler: %w", typ, ctx.Err())
		}
	}
}
