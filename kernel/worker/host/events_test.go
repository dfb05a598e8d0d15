package host

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/unetlab/unetlab/kernel/worker/proto"
)

// The waits of Process are on events. These tests pin each: the child's
// exit, the end of what it wrote, a reply, the caller's Close.

// A crash report quotes the child's last output even while a grandchild
// holds the output pipes open (they never reach end of file): the readers
// take what the pipes hold when the child exits, without waiting for more.
func TestCrashReportWithGrandchildHoldingPipes(t *testing.T) {
	p := startWorker(t)
	res, _, err := run(t, p, proto.ExecuteRequest{Code: `bg := exec.Command("sleep", "60")
bg.Stdout, bg.Stderr = os.Stdout, os.Stderr
bg.Start()
bg.Process.Pid`})
	if err != nil || res.Status != "ok" {
		t.Fatalf("starting the grandchild: %+v %v", res, err)
	}
	pid, _ := strconv.Atoi(res.Result["text/plain"].(string))
	if pid <= 0 {
		t.Fatalf("grandchild pid %v", res.Result["text/plain"])
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	start := time.Now()
	_, _, err = run(t, p, proto.ExecuteRequest{Code: "go func() { panic(\"kaboom\") }()\ntime.Sleep(5 * time.Second)"})
	if !errors.Is(err, proto.ErrCrashed) || !strings.Contains(err.Error(), "kaboom") {
		t.Fatalf("error %v, want ErrCrashed with the panic text", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("the crash report took %v: it waited for the grandchild", d)
	}
}

// A child that exits before it is ready: Start waits for the exit and
// reports its status and error output.
func TestStartChildExitsBeforeReady(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := Start(ctx, &Options{Exe: "sh", Args: []string{"-c", "echo no worker here >&2; exit 3"}})
	if !errors.Is(err, proto.ErrCrashed) || !strings.Contains(err.Error(), "no worker here") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("error %v, want ErrCrashed with exit status 3 and the child's stderr", err)
	}
}

// A child that speaks another protocol is killed at once.
func TestStartWrongProtocol(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := Start(ctx, &Options{Exe: "sh", Args: []string{"-c", `echo '{"op":"hello"}' >&4; exec sleep 60`}})
	if err == nil || !strings.Contains(err.Error(), "want ready") || errors.Is(err, proto.ErrCrashed) {
		t.Errorf("error %v, want a protocol error", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("Start returned after %v: it waited for the child instead of killing it", d)
	}
}

// When Execute's context ends the cell is interrupted and Execute waits for
// its answer; a compiled call that ignores the context keeps it waiting
// until Close kills the child (no timer kills it).
func TestExecuteContextEndWaitsUntilClose(t *testing.T) {
	p := startWorker(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.Execute(ctx, proto.ExecuteRequest{Code: `exec.Command("sleep", "30").Run()`}, nil)
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Execute returned (%v) while the compiled call ran", err)
	case <-time.After(3 * time.Second):
	}
	p.Close()
	select {
	case err := <-done:
		if !errors.Is(err, proto.ErrCrashed) {
			t.Errorf("after Close: %v, want ErrCrashed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Execute did not return after Close")
	}
}

// A cell waits for the handlers of the comm messages before it, as long as
// their senders wait: a sender that stops waiting releases the cell too.
// An interrupt ends the cell's wait.
func TestCellWaitsForCommHandlers(t *testing.T) {
	p := startWorker(t)
	res, _, err := run(t, p, proto.ExecuteRequest{Code: `release := make(chan bool)
comm.Register("block", func(c *comm.Comm, data map[string]any) {
	c.OnMessage(func(d map[string]any) { <-release })
})`})
	if err != nil || res.Status != "ok" {
		t.Fatalf("%+v %v", res, err)
	}
	bg := context.Background()
	if err := p.Comm(bg, "comm_open", map[string]any{"comm_id": "b1", "target_name": "block", "data": map[string]any{}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	type out struct {
		res proto.ExecuteResult
		err error
	}
	execute := func(code string) chan out {
		ch := make(chan out, 1)
		go func() {
			res, err := p.Execute(bg, proto.ExecuteRequest{Code: code}, nil)
			ch <- out{res, err}
		}()
		return ch
	}
	// The sender still waits (its context is alive): the cell waits.
	ctx, cancel := context.WithCancel(bg)
	commDone := make(chan error, 1)
	go func() {
		commDone <- p.Comm(ctx, "comm_msg", map[string]any{"comm_id": "b1", "data": map[string]any{}}, nil, nil)
	}()
	time.Sleep(200 * time.Millisecond)
	cell := execute(`"ran"`)
	select {
	case o := <-cell:
		t.Fatalf("the cell ran (%+v %v) while the handler before it ran", o.res, o.err)
	case <-time.After(time.Second):
	}
	// The interrupt ends the wait: the cell answers Interrupted.
	if err := p.Interrupt(); err != nil {
		t.Fatal(err)
	}
	select {
	case o := <-cell:
		if o.err != nil || o.res.EName != "Interrupted" {
			t.Errorf("interrupted cell: %+v %v, want Interrupted", o.res, o.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the interrupt did not end the cell's wait")
	}
	// The sender stops waiting: the next cell runs although the handler
	// still blocks.
	cancel()
	if err := <-commDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("comm: %v, want Canceled", err)
	}
	select {
	case o := <-execute("close(release)\n\"ran\""):
		if o.err != nil || o.res.Result["text/plain"] != `"ran"` {
			t.Errorf("cell after the abandoned handler: %+v %v", o.res, o.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the cell waited for a handler nobody waits for")
	}
}
