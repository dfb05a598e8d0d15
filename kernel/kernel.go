// Package kernel is the Jupyter side of unetlab: it owns the five ZeroMQ
// sockets a front end connects to, decodes and verifies messages (package
// kernel/wire), dispatches requests and relays the interpreter's output.
//
// Cells run in a child process (package kernel/worker), supervised here: a
// crash of the interpreter costs its state, never the kernel. The worker is
// started together with the kernel, but kernel_info is answered without
// waiting for it, so a front end sees the kernel ready at once.
//
// Concurrency: shell requests are served one at a time, in order, by one
// goroutine; control requests (interrupt, shutdown, kernel_info) by another,
// so that they are answered while a cell runs; input_reply messages from the
// stdin socket are routed to the cell waiting for them.
//
// # Output between requests
//
// A comm_open, comm_msg or comm_close from the front end is served like a
// cell: the kernel hands it to the interpreter and waits, between the
// busy and idle status messages, until the handler a cell registered
// (package comm) returns; what the handler sends and prints goes out with
// the comm message as parent, as ipykernel's handlers' output does. An
// interrupt_request stops the wait (the handler runs on). What the
// interpreter emits while it serves no request (a goroutine a cell
// started printing, showing or sending on a comm after the cell ended) goes
// out at once, with the latest non-silent execute_request as parent and no
// status messages. That is ipykernel's default for the output of threads:
// the latest cell (its global parent; ipykernel's PR #1451 went back to it
// after a time of routing a thread's output to the cell that started the
// thread). The interpreter cannot tell which cell started a goroutine, so
// a cell's late output shows under a later cell once one has run. If the
// interpreter dies while no request runs (a goroutine's panic after its
// cell), the notice that its state was reset goes out the same way, at
// once (a death while a request uses the interpreter is that request's to
// report), and the next cell runs in a fresh interpreter.
package kernel

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/unetlab/unetlab/kernel/wire"
	"github.com/unetlab/unetlab/kernel/worker/proto"
)

// Config configures a kernel. The zero value of each field but Conn means
// the default.
type Config struct {
	// Conn is the connection file's content. For tcp, ports of 0 are bound
	// to free ports, which Kernel.Conn then reports.
	Conn wire.ConnectionInfo
	// Start starts an interpreter; nil starts the worker process of package
	// kernel/worker (the running binary with the argument "worker").
	Start StartFunc
	// HistoryFile is where history persists across sessions: "" means
	// DefaultHistoryFile(), "-" keeps it in memory only.
	HistoryFile string
	// Log receives the kernel's log; nil logs to stderr, at debug level when
	// the environment has UNETLAB_DEBUG=1.
	Log *slog.Logger
	// ShutdownGrace is how long shutdown waits for queued iopub messages to
	// leave; 0 means 100 ms.
	ShutdownGrace time.Duration
}

// Kernel is a running Jupyter kernel. Create it with New and run it with
// Serve.
type Kernel struct {
	conn    wire.ConnectionInfo
	signer  *wire.Signer
	session string
	log     *slog.Logger
	grace   time.Duration

	socks *sockets
	sup   *supervisor
	hist  *history
	comms *comms

	ctx    context.Context
	cancel context.CancelFunc

	shellQ chan *wire.Message // shell requests, in arrival order
	inputs chan *wire.Message // input_reply messages from the stdin socket

	// count is the execution count; only the shell goroutine touches it.
	count int
	// afterIdle is work a shell request's handler leaves for after its
	// idle status (appending to the history file), run by finish; only the
	// shell goroutine touches it.
	afterIdle []func()

	mu      sync.Mutex
	running *cellRun // the cell (or comm handler) now running, or nil
	// lastCell is the latest non-silent execute_request: the parent of
	// what the interpreter emits while idle (see onIdle).
	lastCell *wire.Message

	shutdownOnce sync.Once
	requested    atomic.Bool // Shutdown was called
}

// NewLogger returns the kernel's default logger: text on w, at debug level
// when UNETLAB_DEBUG=1.
func NewLogger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if os.Getenv("UNETLAB_DEBUG") == "1" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// New binds the kernel's sockets and starts its interpreter in the
// background. It returns once the sockets listen; Serve then answers them.
func New(ctx context.Context, cfg Config) (*Kernel, error) {
	if cfg.Conn.Transport == "" {
		cfg.Conn.Transport = "tcp"
	}
	signer, err := cfg.Conn.Signer()
	if err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	log := cfg.Log
	if log == nil {
		log = NewLogger(os.Stderr)
	}
	start := cfg.Start
	if start == nil {
		start = startWorker
	}
	histPath := cfg.HistoryFile
	switch histPath {
	case "":
		histPath = DefaultHistoryFile()
	case "-":
		histPath = ""
	}
	grace := cfg.ShutdownGrace
	if grace == 0 {
		grace = 100 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(ctx)
	k := &Kernel{
		conn:    cfg.Conn,
		signer:  signer,
		session: uuid.NewString(),
		log:     log,
		grace:   grace,
		comms:   newComms(),
		ctx:     ctx,
		cancel:  cancel,
		shellQ:  make(chan *wire.Message, 1024),
		inputs:  make(chan *wire.Message, 16),
	}
	k.sup = newSupervisor(ctx, func(ctx context.Context) (Interpreter, error) {
		p, err := start(ctx)
		if err == nil {
			p.OnIdle(func(ev proto.Event) { k.onIdle(p, ev) })
		}
		return p, err
	}, log)
	k.sup.onIdleDeath = k.reportIdleDeath
	k.sup.launch() // the worker starts while the front end connects
	k.socks, err = bind(ctx, &k.conn, log)
	if err != nil {
		k.sup.stop()
		cancel()
		return nil, err
	}
	k.hist = loadHistory(histPath, log.Warn)
	return k, nil
}

// Conn returns the connection information the kernel listens on (with the
// ports chosen for tcp ports of 0).
func (k *Kernel) Conn() wire.ConnectionInfo { return k.conn }

// Serve answers requests until a shutdown_request arrives (it then returns
// nil) or ctx is cancelled (it returns ctx's error). It closes the sockets
// and the interpreter before returning.
func (k *Kernel) Serve() error {
	ctx := k.ctx
	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	controlQ := make(chan *wire.Message, 64)
	run(func() { k.heartbeat(ctx) })
	run(func() { k.receive(ctx, k.socks.shell, func(m *wire.Message) { k.enqueue(k.shellQ, m) }) })
	run(func() { k.receive(ctx, k.socks.control, func(m *wire.Message) { k.enqueue(controlQ, m) }) })
	run(func() { k.receive(ctx, k.socks.stdin, k.deliverInput) })
	run(func() { k.serveQueue(ctx, k.socks.shell, k.shellQ) })
	run(func() { k.serveQueue(ctx, k.socks.control, controlQ) })
	k.publish(nil, "status", wire.Status{ExecutionState: "starting"})
	k.log.Debug("kernel listening", "transport", k.conn.Transport, "ip", k.conn.IP,
		"shell", k.conn.ShellPort, "control", k.conn.ControlPort)

	<-ctx.Done()
	k.sup.stop()
	k.socks.close()
	wg.Wait()
	if k.requested.Load() {
		return nil
	}
	return ctx.Err()
}

// Shutdown stops the kernel as a shutdown_request does: the interpreter is
// closed, queued iopub messages get a moment to leave, Serve returns nil.
func (k *Kernel) Shutdown() {
	k.shutdownOnce.Do(func() {
		k.sup.stop()
		time.Sleep(k.grace)
		k.requested.Store(true)
		k.cancel()
	})
}

func (k *Kernel) enqueue(q chan *wire.Message, m *wire.Message) {
	select {
	case q <- m:
	case <-k.ctx.Done():
	}
}

func (k *Kernel) serveQueue(ctx context.Context, ch *channel, q chan *wire.Message) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-q:
			k.handle(ch, m)
		}
	}
}
