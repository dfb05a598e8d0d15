package kernel

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/unetlab/unetlab/kernel/wire"
)

func TestKernelInfo(t *testing.T) {
	for _, transport := range []string{"tcp", "ipc"} {
		t.Run(transport, func(t *testing.T) {
			_, c, _ := startKernel(t, transport, nil, "")
			for _, sock := range []zmq4.Socket{c.shell, c.control} {
				req := c.send(sock, "kernel_info_request", nil)
				r := c.reply(sock, req)
				if r.Header.MsgType != "kernel_info_reply" || r.Header.Version != "5.3" {
					t.Fatalf("reply header %+v", r.Header)
				}
				if r.ParentHeader != req.Header {
					t.Errorf("parent header %+v, want %+v", r.ParentHeader, req.Header)
				}
				ci := content(t, r)
				li := ci["language_info"].(map[string]any)
				want := map[string]any{"name": "go", "mimetype": "text/x-go", "file_extension": ".go",
					"pygments_lexer": "go", "codemirror_mode": "go"}
				for k, v := range want {
					if li[k] != v {
						t.Errorf("language_info.%s = %v, want %v", k, li[k], v)
					}
				}
				if v, _ := li["version"].(string); v == "" || strings.HasPrefix(v, "go") {
					t.Errorf("language_info.version %q", v)
				}
				if ci["protocol_version"] != "5.3" || ci["implementation"] != "unetlab" || ci["status"] != "ok" {
					t.Errorf("kernel_info %v", ci)
				}
				if links, _ := ci["help_links"].([]any); len(links) < 2 {
					t.Errorf("help_links %v", ci["help_links"])
				}
				if out := c.outputs(req); len(out) != 0 {
					t.Errorf("kernel_info published %v", types(out))
				}
			}
		})
	}
}

func TestKernelInfoDoesNotWaitForTheWorker(t *testing.T) {
	release := make(chan struct{})
	slow := func(ctx context.Context) (Interpreter, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return newFake(), nil
	}
	defer close(release)
	_, c, _ := startKernel(t, "tcp", slow, "") // startKernel waits for kernel_info
	req := c.send(c.shell, "kernel_info_request", nil)
	c.reply(c.shell, req)
}

func TestExecute(t *testing.T) {
	_, c, _ := startKernel(t, "tcp", nil, "")
	r, out := c.execute("print hello\neprint oops\nresult 42", nil)
	if r["status"] != "ok" || r["execution_count"] != 1.0 {
		t.Fatalf("reply %v", r)
	}
	if got, want := types(out), []string{"execute_input", "stream", "stream", "execute_result"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("iopub %v, want %v", got, want)
	}
	in := content(t, out[0])
	if in["code"] != "print hello\neprint oops\nresult 42" || in["execution_count"] != 1.0 {
		t.Errorf("execute_input %v", in)
	}
	if s := content(t, out[1]); s["name"] != "stdout" || s["text"] != "hello\n" {
		t.Errorf("stdout %v", s)
	}
	if s := content(t, out[2]); s["name"] != "stderr" || s["text"] != "oops\n" {
		t.Errorf("stderr %v", s)
	}
	res := content(t, out[3])
	if res["execution_count"] != 1.0 || res["data"].(map[string]any)["text/plain"] != "42" {
		t.Errorf("execute_result %v", res)
	}

	r, _ = c.execute("x", map[string]any{"user_expressions": map[string]any{"a": "1+1"}})
	if r["execution_count"] != 2.0 {
		t.Errorf("second count %v", r["execution_count"])
	}
	ue := r["user_expressions"].(map[string]any)["a"].(map[string]any)
	if ue["status"] != "ok" {
		t.Errorf("user_expressions %v", r["user_expressions"])
	}

	// silent: no count, no outputs at all.
	r, out = c.execute("print quiet\nresult 1", map[string]any{"silent": true})
	if r["status"] != "ok" || r["execution_count"] != 2.0 || len(out) != 0 {
		t.Errorf("silent: reply %v, iopub %v", r, types(out))
	}
	// store_history false: outputs, but no new count.
	r, out = c.execute("result 7", map[string]any{"store_history": false})
	if r["execution_count"] != 2.0 || len(out) != 2 {
		t.Errorf("store_history=false: reply %v, iopub %v", r, types(out))
	}
}

func TestDisplayMessages(t *testing.T) {
	_, c, _ := startKernel(t, "tcp", nil, "")
	_, out := c.execute("png\nupdate\nclear", nil)
	if got, want := types(out), []string{"execute_input", "display_data", "update_display_data", "clear_output"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("iopub %v, want %v", got, want)
	}
	d := content(t, out[1])
	data := d["data"].(map[string]any)
	if data["image/png"] != base64.StdEncoding.EncodeToString([]byte{0x89, 'P', 'N', 'G'}) {
		t.Errorf("png not base64: %v", data["image/png"])
	}
	if data["text/plain"] == nil {
		t.Error("display_data without text/plain")
	}
	if d["transient"].(map[string]any)["display_id"] != "d1" {
		t.Errorf("transient %v", d["transient"])
	}
	u := content(t, out[2])
	if u["transient"].(map[string]any)["display_id"] != "d1" || u["data"].(map[string]any)["text/plain"] != "updated" {
		t.Errorf("update %v", u)
	}
	if content(t, out[3])["wait"] != true {
		t.Errorf("clear_output %v", content(t, out[3]))
	}
}

func TestExecuteErrorAndStopOnError(t *testing.T) {
	k, c, _ := startKernel(t, "tcp", nil, "")
	send := func(code string, stop bool) *wire.Message {
		return c.send(c.shell, "execute_request", map[string]any{"code": code, "stop_on_error": stop})
	}
	// Queue three cells at once; the first fails.
	reqs := []*wire.Message{send("block\nfail", true), send("print 2", true), send("print 3", true)}
	waitFor(t, "the first cell blocks and two more are queued", func() bool { return blocked(k) && len(k.shellQ) == 2 })
	c.send(c.control, "interrupt_request", nil)
	var statuses []string
	for _, req := range reqs {
		r := content(t, c.reply(c.shell, req))
		statuses = append(statuses, r["status"].(string))
		out := c.outputs(req)
		if r["status"] == "aborted" && len(out) != 0 {
			t.Errorf("aborted cell published %v", types(out))
		}
	}
	if want := []string{"error", "aborted", "aborted"}; !reflect.DeepEqual(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}

	// Without stop_on_error the queue runs on; the error reaches iopub too.
	reqs = []*wire.Message{send("fail", false), send("print 2", true)}
	r := content(t, c.reply(c.shell, reqs[0]))
	if r["status"] != "error" || r["ename"] != "Error" || r["evalue"] != "1:1: it failed" {
		t.Errorf("error reply %v", r)
	}
	if got := types(c.outputs(reqs[0])); !reflect.DeepEqual(got, []string{"execute_input", "error"}) {
		t.Errorf("error iopub %v", got)
	}
	if r := content(t, c.reply(c.shell, reqs[1])); r["status"] != "ok" {
		t.Errorf("cell after error without stop_on_error: %v", r)
	}
	c.outputs(reqs[1])
}

func TestResetVariablesReported(t *testing.T) {
	_, c, _ := startKernel(t, "tcp", nil, "")
	_, out := c.execute("reset", nil)
	if len(out) != 2 || out[1].Header.MsgType != "stream" {
		t.Fatalf("iopub %v", types(out))
	}
	s := content(t, out[1])
	if s["name"] != "stderr" || !strings.Contains(s["text"].(string), "a, b") {
		t.Errorf("reset line %v", s)
	}
}

func TestWorkerCrash(t *testing.T) {
	_, c, _ := startKernel(t, "tcp", nil, "")
	r, _ := c.execute("whoami", nil)
	r, out := c.execute("print before\ncrash", nil)
	if r["status"] != "error" || r["ename"] != "InterpreterCrashed" ||
		!strings.Contains(r["evalue"].(string), "state was reset") || !strings.Contains(r["evalue"].(string), "panic: boom") {
		t.Fatalf("crash reply %v", r)
	}
	if got := types(out); !reflect.DeepEqual(got, []string{"execute_input", "stream", "error"}) {
		t.Errorf("crash iopub %v", got)
	}
	first, _ := c.execute("whoami", nil)
	_, out = c.execute("whoami", nil)
	_ = first
	if first["status"] != "ok" {
		t.Fatalf("cell after crash: %v", first)
	}
	res := content(t, out[len(out)-1])["data"].(map[string]any)["text/plain"]
	if res == "" {
		t.Error("no result after crash")
	}
}

func TestDeathBetweenCellsIsReported(t *testing.T) {
	k, c, _ := startKernel(t, "tcp", nil, "")
	first := c.send(c.shell, "execute_request", map[string]any{"code": "whoami"})
	c.reply(c.shell, first)
	c.outputs(first)
	p := k.sup.current().(*fake)
	p.die()
	// Reported at once, under the last cell (no request saw the death).
	m := c.waitIOPub("stream", first, 5*time.Second)
	if s := content(t, m); s["name"] != "stderr" || !strings.Contains(s["text"].(string), "exited between requests") {
		t.Errorf("notice %v", s)
	}
	// The next cell runs in a fresh interpreter and does not repeat it.
	r, out := c.execute("print after", nil)
	if r["status"] != "ok" || len(out) != 2 {
		t.Fatalf("reply %v, iopub %v", r, types(out))
	}
}

func TestInterrupt(t *testing.T) {
	k, c, _ := startKernel(t, "tcp", nil, "")
	// One interrupt stops a cooperative cell.
	req := c.send(c.shell, "execute_request", map[string]any{"code": "block"})
	waitFor(t, "the cell blocks", func() bool { return blocked(k) })
	ir := c.send(c.control, "interrupt_request", nil)
	if r := content(t, c.reply(c.control, ir)); r["status"] != "ok" {
		t.Errorf("interrupt_reply %v", r)
	}
	if r := content(t, c.reply(c.shell, req)); r["status"] != "error" || r["ename"] != "Interrupted" {
		t.Errorf("interrupted cell %v", r)
	}
	c.outputs(req)
	before, _ := c.execute("whoami", nil)
	_ = before

	// A cell that ignores the first interrupt is killed by the second.
	req = c.send(c.shell, "execute_request", map[string]any{"code": "hang"})
	waitFor(t, "the cell hangs", func() bool { return blocked(k) })
	c.reply(c.control, c.send(c.control, "interrupt_request", nil))
	c.reply(c.control, c.send(c.control, "interrupt_request", nil))
	r := content(t, c.reply(c.shell, req))
	if r["status"] != "error" || r["ename"] != "KernelRestarted" || !strings.Contains(r["evalue"].(string), "state was reset") {
		t.Errorf("killed cell %v", r)
	}
	c.outputs(req)
	if r, _ := c.execute("print alive", nil); r["status"] != "ok" {
		t.Errorf("cell after restart %v", r)
	}
}

func TestStdin(t *testing.T) {
	k, c, _ := startKernel(t, "tcp", nil, "")
	req := c.send(c.shell, "execute_request", map[string]any{"code": "input name?", "allow_stdin": true})
	ir := c.reply(c.stdin, req)
	if ir.Header.MsgType != "input_request" || content(t, ir)["prompt"] != "name?" {
		t.Fatalf("input_request %s %s", ir.Header.MsgType, ir.Content)
	}
	rep, _ := wire.NewMessage("input_reply", c.session, "tester", nil, map[string]any{"value": "gopher"})
	rep.ParentHeader = ir.Header
	c.sendMsg(c.stdin, rep)
	if r := content(t, c.reply(c.shell, req)); r["status"] != "ok" {
		t.Fatalf("reply %v", r)
	}
	out := c.outputs(req)
	if s := content(t, out[len(out)-1]); s["text"] != "got gopher\n" {
		t.Errorf("echo %v", s)
	}

	// Not allowed: the cell gets a clear error, no input_request is sent.
	r, _ := c.execute("input name?", map[string]any{"allow_stdin": false})
	if r["status"] != "error" || !strings.Contains(r["evalue"].(string), "allow_stdin=false") {
		t.Errorf("stdin not allowed: %v", r)
	}
	c.noMessage(c.stdin, 50*time.Millisecond)

	// Interrupting a cell that waits for input ends the wait.
	req = c.send(c.shell, "execute_request", map[string]any{"code": "input again?", "allow_stdin": true})
	c.reply(c.stdin, req)
	waitFor(t, "the cell waits for input", func() bool { return blocked(k) })
	c.reply(c.control, c.send(c.control, "interrupt_request", nil))
	if r := content(t, c.reply(c.shell, req)); r["status"] != "error" || !strings.Contains(r["evalue"].(string), "interrupted") {
		t.Errorf("interrupted input %v", r)
	}
}

func TestCompleteInspectIsComplete(t *testing.T) {
	_, c, _ := startKernel(t, "tcp", nil, "")
	req := c.send(c.shell, "complete_request", map[string]any{"code": "fmt.Pr", "cursor_pos": 6})
	r := content(t, c.reply(c.shell, req))
	if r["status"] != "ok" || r["cursor_start"] != 4.0 || r["cursor_end"] != 6.0 || len(r["matches"].([]any)) != 2 {
		t.Errorf("complete_reply %v", r)
	}
	req = c.send(c.shell, "inspect_request", map[string]any{"code": "Println", "cursor_pos": 3, "detail_level": 0})
	r = content(t, c.reply(c.shell, req))
	if r["found"] != true || r["data"].(map[string]any)["text/plain"] != "func Println()" {
		t.Errorf("inspect_reply %v", r)
	}
	req = c.send(c.shell, "inspect_request", map[string]any{"code": "", "cursor_pos": 0})
	if r = content(t, c.reply(c.shell, req)); r["found"] != false || r["status"] != "ok" {
		t.Errorf("inspect not found %v", r)
	}
	req = c.send(c.shell, "is_complete_request", map[string]any{"code": "for {"})
	if r = content(t, c.reply(c.shell, req)); r["status"] != "incomplete" || r["indent"] != "\t" {
		t.Errorf("is_complete_reply %v", r)
	}
	req = c.send(c.shell, "is_complete_request", map[string]any{"code": "x := 1"})
	if r = content(t, c.reply(c.shell, req)); r["status"] != "complete" {
		t.Errorf("is_complete_reply %v", r)
	}
	// Bad content: an error reply, not a crash.
	req = c.send(c.shell, "complete_request", map[string]any{"code": 5})
	if r = content(t, c.reply(c.shell, req)); r["status"] != "error" {
		t.Errorf("bad complete_request answered %v", r)
	}
}

func TestHistoryRequests(t *testing.T) {
	file := filepath.Join(t.TempDir(), "history.jsonl")
	func() {
		_, c, _ := startKernel(t, "tcp", nil, file)
		c.execute("result old", nil)
		// The cell goes to the file after its idle status, before the
		// shell serves its next request: this reply means it is there.
		c.reply(c.shell, c.send(c.shell, "kernel_info_request", map[string]any{}))
		b, err := os.ReadFile(file)
		if err != nil || !strings.Contains(string(b), `"input":"result old"`) {
			t.Fatalf("history file after the cell: %q, %v", b, err)
		}
	}()
	_, c, _ := startKernel(t, "tcp", nil, file)
	c.execute("result a1", nil)
	c.execute("print b", nil)
	c.execute("result a1", nil)
	c.execute("silent", map[string]any{"silent": true})
	query := func(q map[string]any) []any {
		req := c.send(c.shell, "history_request", q)
		r := content(t, c.reply(c.shell, req))
		if r["status"] != "ok" {
			t.Fatalf("history_reply %v", r)
		}
		h, _ := r["history"].([]any)
		return h
	}
	tail := query(map[string]any{"hist_access_type": "tail", "n": 2, "output": false, "raw": true})
	if want := []any{[]any{2.0, 2.0, "print b"}, []any{2.0, 3.0, "result a1"}}; !reflect.DeepEqual(tail, want) {
		t.Errorf("tail %v, want %v", tail, want)
	}
	rng := query(map[string]any{"hist_access_type": "range", "session": 0, "start": 1, "stop": 2, "output": true})
	if want := []any{[]any{2.0, 1.0, []any{"result a1", "a1"}}}; !reflect.DeepEqual(rng, want) {
		t.Errorf("range %v, want %v", rng, want)
	}
	prev := query(map[string]any{"hist_access_type": "range", "session": -1, "start": 1, "stop": 0})
	if want := []any{[]any{1.0, 1.0, "result old"}}; !reflect.DeepEqual(prev, want) {
		t.Errorf("previous session %v, want %v", prev, want)
	}
	search := query(map[string]any{"hist_access_type": "search", "pattern": "result*", "unique": true})
	if want := []any{[]any{1.0, 1.0, "result old"}, []any{2.0, 3.0, "result a1"}}; !reflect.DeepEqual(search, want) {
		t.Errorf("search %v, want %v", search, want)
	}
	req := c.send(c.shell, "history_request", map[string]any{"hist_access_type": "bogus"})
	if r := content(t, c.reply(c.shell, req)); r["status"] != "error" {
		t.Errorf("bogus history request %v", r)
	}
}

func TestComms(t *testing.T) {
	k, c, _ := startKernel(t, "tcp", nil, "")
	c.execute("whoami", nil) // the worker is up
	info := func(target string) map[string]any {
		req := c.send(c.shell, "comm_info_request", map[string]any{"target_name": target})
		return content(t, c.reply(c.shell, req))["comms"].(map[string]any)
	}
	open := c.send(c.shell, "comm_open", map[string]any{"comm_id": "f1", "target_name": "known", "data": map[string]any{}})
	c.outputs(open)
	if got := info(""); len(got) != 1 || got["f1"].(map[string]any)["target_name"] != "known" {
		t.Errorf("comm_info after open %v", got)
	}
	bad := c.send(c.shell, "comm_open", map[string]any{"comm_id": "f2", "target_name": "nope", "data": map[string]any{}})
	out := c.outputs(bad)
	if len(out) != 1 || out[0].Header.MsgType != "comm_close" || content(t, out[0])["comm_id"] != "f2" {
		t.Errorf("unknown target answered with %v", types(out))
	}
	deferred := c.send(c.shell, "comm_open", map[string]any{"comm_id": "f3", "target_name": "deferred-unknown", "data": map[string]any{}})
	out = c.outputs(deferred)
	if len(out) != 1 || out[0].Header.MsgType != "comm_close" || content(t, out[0])["comm_id"] != "f3" {
		t.Errorf("deferred unknown target answered with %v", types(out))
	}
	msg := c.send(c.shell, "comm_msg", map[string]any{"comm_id": "f1", "data": map[string]any{"x": 1}})
	if out = c.outputs(msg); !reflect.DeepEqual(types(out), []string{"comm_msg", "stream"}) {
		t.Errorf("handler output %v", types(out))
	}
	// The binary buffers of a front end's comm_msg (the frames after its
	// content) reach the worker's handler, which echoes them.
	bufs := [][]byte{{0, 1, 2, 0xff}, []byte("second")}
	withBufs, err := wire.NewMessage("comm_msg", c.session, "tester", nil, map[string]any{"comm_id": "f1", "data": map[string]any{"method": "custom"}})
	if err != nil {
		t.Fatal(err)
	}
	withBufs.Buffers = bufs
	c.sendMsg(c.shell, withBufs)
	if out = c.outputs(withBufs); len(out) == 0 || out[0].Header.MsgType != "comm_msg" || !reflect.DeepEqual(out[0].Buffers, bufs) {
		t.Errorf("handler output for a message with buffers: %v, buffers %q; want a comm_msg echoing %q", types(out), firstBuffers(out), bufs)
	}
	c.outputs(c.send(c.shell, "comm_msg", map[string]any{"comm_id": "zz", "data": map[string]any{}}))
	// A comm the cell opens is published and tracked.
	_, out = c.execute("comm", nil)
	if types(out)[1] != "comm_open" || content(t, out[1])["target_name"] != "t" {
		t.Errorf("cell comm %v", types(out))
	}
	if got := info("t"); len(got) != 1 || got["c1"] == nil {
		t.Errorf("comm_info(t) %v", got)
	}
	c.outputs(c.send(c.shell, "comm_close", map[string]any{"comm_id": "f1", "data": map[string]any{}}))
	if got := info("known"); len(got) != 0 {
		t.Errorf("comm_info after close %v", got)
	}
	f := k.sup.current().(*fake)
	f.mu.Lock()
	got := f.comms
	f.mu.Unlock()
	if want := []string{"comm_open f1", "comm_msg f1", "comm_msg f1", "comm_close f1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("worker saw %v, want %v", got, want)
	}
}

// firstBuffers returns the binary buffers of the first message of out.
func firstBuffers(out []*wire.Message) [][]byte {
	if len(out) == 0 {
		return nil
	}
	return out[0].Buffers
}

func TestIdleOutput(t *testing.T) {
	// What the interpreter emits after a cell ended goes out at once, with
	// the latest non-silent cell as parent, outside any busy/idle pair.
	_, c, _ := startKernel(t, "tcp", nil, "")
	cellReq := func(code string, opts map[string]any) *wire.Message {
		content := map[string]any{"code": code, "silent": false, "store_history": true,
			"user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true}
		for k, v := range opts {
			content[k] = v
		}
		req := c.send(c.shell, "execute_request", content)
		c.reply(c.shell, req)
		c.outputs(req)
		return req
	}
	first := cellReq("later tick", nil)
	m := c.waitIOPub("stream", first, 5*time.Second)
	if s := content(t, m); s["name"] != "stdout" || s["text"] != "tick\n" {
		t.Errorf("idle stream %v", s)
	}
	// A silent cell is no output's home: later output goes to the last
	// cell the user ran.
	cellReq("later quiet", map[string]any{"silent": true})
	if s := content(t, c.waitIOPub("stream", first, 5*time.Second)); s["text"] != "quiet\n" {
		t.Errorf("idle stream after a silent cell %v", s)
	}
	second := cellReq("later tock", nil)
	if s := content(t, c.waitIOPub("stream", second, 5*time.Second)); s["text"] != "tock\n" {
		t.Errorf("idle stream of the second cell %v", s)
	}
	c.noMessage(c.iopub, 100*time.Millisecond)
}

func TestCommHandlerInterrupted(t *testing.T) {
	// The kernel waits for a comm handler as for a cell; an interrupt ends
	// the wait, the comm stays open and the kernel serves the next request.
	k, c, _ := startKernel(t, "tcp", nil, "")
	r, _ := c.execute("whoami", nil)
	open := c.send(c.shell, "comm_open", map[string]any{"comm_id": "s1", "target_name": "slow", "data": map[string]any{}})
	deadline := time.Now().Add(5 * time.Second)
	for f := k.sup.current().(*fake); !f.blocked.Load(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the slow handler was not reached")
		}
	}
	c.reply(c.control, c.send(c.control, "interrupt_request", nil))
	if out := c.outputs(open); len(out) != 0 {
		t.Errorf("interrupted comm_open published %v", types(out))
	}
	req := c.send(c.shell, "comm_info_request", map[string]any{"target_name": "slow"})
	if comms := content(t, c.reply(c.shell, req))["comms"].(map[string]any); comms["s1"] == nil {
		t.Errorf("comm_info after the interrupted open %v", comms)
	}
	// Comm messages never count as cells.
	r2, _ := c.execute("whoami", nil)
	if r2["execution_count"] != r["execution_count"].(float64)+1 {
		t.Errorf("execution_count %v after %v", r2["execution_count"], r["execution_count"])
	}
}

func TestCommHandlerCrash(t *testing.T) {
	// An interpreter that dies in a comm handler closes its comms at once
	// and the next cell says the state was reset.
	k, c, _ := startKernel(t, "tcp", nil, "")
	c.execute("whoami", nil)
	first := k.sup.current()
	c.outputs(c.send(c.shell, "comm_open", map[string]any{"comm_id": "k1", "target_name": "known", "data": map[string]any{}}))
	out := c.outputs(c.send(c.shell, "comm_open", map[string]any{"comm_id": "x1", "target_name": "crash", "data": map[string]any{}}))
	var closed []string
	for _, m := range out {
		if m.Header.MsgType == "comm_close" {
			closed = append(closed, content(t, m)["comm_id"].(string))
		}
	}
	if len(closed) != 2 || closed[0] != "k1" || closed[1] != "x1" {
		t.Errorf("crash in a handler published %v, closing %v; want k1 and x1 closed once", types(out), closed)
	}
	r, out := c.execute("whoami", nil)
	if r["status"] != "ok" || k.sup.current() == first {
		t.Errorf("next cell %v on the same interpreter", r)
	}
	if len(out) < 2 || out[1].Header.MsgType != "stream" || !strings.Contains(content(t, out[1])["text"].(string), "died in a comm handler") {
		t.Errorf("next cell's output %v does not report the death", types(out))
	}
}

func TestBadMessagesAreDropped(t *testing.T) {
	_, c, _ := startKernel(t, "tcp", nil, "")
	// Wrong key: signed, but not with the session key.
	other, _ := wire.NewSigner("hmac-sha256", "another-key")
	m, _ := wire.NewMessage("execute_request", c.session, "tester", nil, map[string]any{"code": "print pwned"})
	frames, _ := wire.Encode(m, other)
	c.shell.SendMulti(zmq4.NewMsgFrom(frames...))
	// Missing signature.
	frames, _ = wire.Encode(m, nil)
	c.shell.SendMulti(zmq4.NewMsgFrom(frames...))
	// Garbage frames of every kind.
	for _, g := range [][][]byte{
		{[]byte("hello")},
		{[]byte(wire.Delimiter)},
		{[]byte(wire.Delimiter), []byte("sig"), []byte("{"), []byte("{}"), []byte("{}"), []byte("{}")},
		{{}, {}, {}},
		{[]byte(wire.Delimiter), {0xff, 0xfe}, {0}, {1}, {2}, {3}, {4}},
	} {
		c.shell.SendMulti(zmq4.NewMsgFrom(g...))
		c.control.SendMulti(zmq4.NewMsgFrom(g...))
		c.stdin.SendMulti(zmq4.NewMsgFrom(g...))
	}
	c.noMessage(c.shell, 200*time.Millisecond)
	for len(c.in[c.iopub]) > 0 {
		if m := <-c.in[c.iopub]; m.ParentHeader.MsgID == m.Header.MsgID {
			t.Errorf("a dropped message caused %s", m.Header.MsgType)
		}
	}
	// Raw bytes that are not ZMTP at all.
	for _, port := range []int{c.kernelPort(t, "shell"), c.kernelPort(t, "hb")} {
		nc, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		nc.Write([]byte("GET / HTTP/1.0\r\n\r\n\x00\xff\xff\xff garbage"))
		nc.Close()
	}
	r, out := c.execute("print still here", nil)
	if r["status"] != "ok" || r["execution_count"] != 1.0 {
		t.Fatalf("kernel after garbage: %v %v", r, types(out))
	}
	for _, o := range out {
		if o.Header.MsgType == "stream" && strings.Contains(string(o.Content), "pwned") {
			t.Fatal("a badly signed message was executed")
		}
	}
}

func TestHeartbeat(t *testing.T) {
	_, c, _ := startKernel(t, "ipc", nil, "")
	for _, ping := range []string{"ping", "\x00binary\xff"} {
		if err := c.hb.Send(zmq4.NewMsgString(ping)); err != nil {
			t.Fatal(err)
		}
		got := make(chan zmq4.Msg, 1)
		go func() {
			m, _ := c.hb.Recv()
			got <- m
		}()
		select {
		case m := <-got:
			if len(m.Frames) != 1 || string(m.Frames[0]) != ping {
				t.Errorf("echo %q, want %q", m.Frames, ping)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no heartbeat echo")
		}
	}
}

func TestShutdown(t *testing.T) {
	for _, restart := range []bool{false, true} {
		_, c, served := startKernel(t, "tcp", nil, "")
		req := c.send(c.control, "shutdown_request", map[string]any{"restart": restart})
		r := c.reply(c.control, req)
		if rc := content(t, r); r.Header.MsgType != "shutdown_reply" || rc["restart"] != restart || rc["status"] != "ok" {
			t.Errorf("shutdown_reply %s %v", r.Header.MsgType, rc)
		}
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve = %v after shutdown_request", err)
			}
			served <- nil // for the cleanup
		case <-time.After(5 * time.Second):
			t.Fatal("kernel still running after shutdown_request")
		}
	}
}

func TestStartFailureIsReported(t *testing.T) {
	broken := func(context.Context) (Interpreter, error) { return nil, errors.New("no interpreter here") }
	_, c, _ := startKernel(t, "tcp", broken, "")
	r, out := c.execute("print x", nil)
	if r["status"] != "error" || !strings.Contains(r["evalue"].(string), "no interpreter here") {
		t.Errorf("reply %v", r)
	}
	if got := types(out); !reflect.DeepEqual(got, []string{"execute_input", "error"}) {
		t.Errorf("iopub %v", got)
	}
	req := c.send(c.shell, "complete_request", map[string]any{"code": "x", "cursor_pos": 1})
	if r := content(t, c.reply(c.shell, req)); r["status"] != "error" {
		t.Errorf("complete without interpreter %v", r)
	}
}

func TestCancelledContextStopsServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	k, err := New(ctx, Config{Conn: wire.ConnectionInfo{IP: "127.0.0.1"}, Start: startFake, HistoryFile: "-",
		Log: NewLogger(testWriter{t})})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- k.Serve() }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Serve = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}

func TestBindErrorNamesEndpoint(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, err = New(context.Background(), Config{Conn: wire.ConnectionInfo{IP: "127.0.0.1", ShellPort: port},
		Start: startFake, HistoryFile: "-", Log: NewLogger(testWriter{t})})
	if err == nil || !strings.Contains(err.Error(), "shell") || !strings.Contains(err.Error(), itoa(port)) {
		t.Errorf("error %v does not name the shell endpoint", err)
	}
}

func (c *client) kernelPort(t *testing.T, name string) int {
	t.Helper()
	return c.ports[name]
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestCrashClosesComms(t *testing.T) {
	_, c, _ := startKernel(t, "tcp", nil, "")
	c.execute("comm", nil)
	_, out := c.execute("crash", nil)
	if got := types(out); !reflect.DeepEqual(got, []string{"execute_input", "comm_close", "error"}) {
		t.Fatalf("iopub %v", got)
	}
	if id := content(t, out[1])["comm_id"]; id != "c1" {
		t.Errorf("closed comm %v", id)
	}
	req := c.send(c.shell, "comm_info_request", nil)
	if comms := content(t, c.reply(c.shell, req))["comms"].(map[string]any); len(comms) != 0 {
		t.Errorf("comms after crash %v", comms)
	}
}

func TestSilentConnectionDoesNotBlockOthers(t *testing.T) {
	defer func(d time.Duration) { handshakeTimeout = d }(handshakeTimeout)
	handshakeTimeout = 2 * time.Second
	tests := []struct {
		name, hello string
		within      time.Duration
	}{
		// Without the guard the first two would block new clients for
		// ever; the second is bounded by the handshake deadline.
		{"silent", "", handshakeTimeout / 2},
		{"greeting then silent", "\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f", handshakeTimeout + 2*time.Second},
		{"not ZMTP", "GET / HTTP/1.1\r\n", handshakeTimeout / 2},
	}
	k, _, _ := startKernel(t, "tcp", nil, "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", itoa(k.Conn().ShellPort)))
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.Write([]byte(tt.hello))
			time.Sleep(20 * time.Millisecond)
			done := make(chan struct{})
			go func() {
				defer close(done)
				c2 := dial(t, k.Conn())
				defer c2.close()
				req := c2.send(c2.shell, "kernel_info_request", nil)
				c2.reply(c2.shell, req)
			}()
			select {
			case <-done:
			case <-time.After(tt.within):
				t.Fatalf("a client waited more than %v behind a stalled connection", tt.within)
			}
		})
	}
}

// blocked reports whether the kernel's fake interpreter waits in a cell.
func blocked(k *Kernel) bool {
	f, ok := k.sup.current().(*fake)
	return ok && f.blocked.Load()
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

func TestInputWithoutStdinSocketCanBeInterrupted(t *testing.T) {
	k, err := New(context.Background(), Config{Conn: wire.ConnectionInfo{IP: "127.0.0.1", Key: testKey},
		Start: startFake, HistoryFile: "-", Log: NewLogger(testWriter{t}), ShutdownGrace: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	go k.Serve()
	defer k.Shutdown()
	c := dialSockets(t, k.Conn(), false)
	defer c.close()
	c.waitReady()
	req := c.send(c.shell, "execute_request", map[string]any{"code": "input name?", "allow_stdin": true})
	waitFor(t, "the cell waits for input", func() bool { return blocked(k) })
	c.reply(c.control, c.send(c.control, "interrupt_request", nil))
	if r := content(t, c.reply(c.shell, req)); r["status"] != "error" || !strings.Contains(r["evalue"].(string), "interrupted") {
		t.Errorf("reply %v", r)
	}
}

// TestDeathBetweenCellsReportedAtOnce: a death while nothing runs (a
// goroutine's panic after its cell) is reported under the latest cell
// without waiting for the next one, once: the next cell runs on a fresh
// interpreter and says nothing about it.
func TestDeathBetweenCellsReportedAtOnce(t *testing.T) {
	k, c, _ := startKernel(t, "tcp", nil, "")
	first := c.send(c.shell, "execute_request", map[string]any{"code": "whoami", "silent": false, "store_history": true,
		"user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true})
	c.reply(c.shell, first)
	before := c.outputs(first)
	was := content(t, before[len(before)-1])["data"].(map[string]any)["text/plain"]
	k.sup.current().(*fake).die()
	m := c.waitIOPub("stream", first, 5*time.Second)
	if s := content(t, m); s["name"] != "stderr" || !strings.Contains(s["text"].(string), "exited between requests") {
		t.Fatalf("death notice %v", s)
	}
	r, out := c.execute("whoami", nil)
	if r["status"] != "ok" {
		t.Fatalf("cell after the death: %v", r)
	}
	for _, m := range out {
		if m.Header.MsgType == "stream" {
			t.Errorf("the death was reported again: %s", m.Content)
		}
	}
	if res := content(t, out[len(out)-1])["data"].(map[string]any)["text/plain"]; res == was {
		t.Errorf("cell after the death ran on the dead interpreter (%v)", res)
	}
}

// TestCommMetadataAndBuffers: a comm message's metadata and binary buffers
// (the widget protocol's comm_open) go out on iopub as the message's
// metadata and its frames after the content.
func TestCommMetadataAndBuffers(t *testing.T) {
	_, c, _ := startKernel(t, "tcp", nil, "")
	_, out := c.execute("widget", nil)
	var open *wire.Message
	for _, m := range out {
		if m.Header.MsgType == "comm_open" {
			open = m
		}
	}
	if open == nil {
		t.Fatalf("no comm_open in %v", types(out))
	}
	if open.Metadata["version"] != "2.1.0" {
		t.Errorf("metadata %v, want version 2.1.0", open.Metadata)
	}
	if len(open.Buffers) != 1 || string(open.Buffers[0]) != "\x89PNG" {
		t.Errorf("buffers %q, want the PNG", open.Buffers)
	}
	if d := content(t, open)["data"].(map[string]any); !reflect.DeepEqual(d["buffer_paths"], []any{[]any{"value"}}) {
		t.Errorf("data %v", d)
	}
}
