package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unetlab/unetlab/kernel/cell"
	"github.com/unetlab/unetlab/kernel/worker"
	"github.com/unetlab/unetlab/kernel/worker/proto"
)

// TestMain lets the test binary serve as the worker: Start re-executes it
// with UNETLAB_WORKER_TEST=1.
func TestMain(m *testing.M) {
	if os.Getenv("UNETLAB_WORKER_TEST") == "1" {
		os.Exit(worker.Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func startWorker(t *testing.T) *Process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := Start(ctx, &Options{Args: []string{}, Env: append(os.Environ(), "UNETLAB_WORKER_TEST=1")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// run executes code and returns the result and the events.
func run(t *testing.T, p *Process, req proto.ExecuteRequest) (proto.ExecuteResult, []proto.Event, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var events []proto.Event
	res, err := p.Execute(ctx, req, func(e proto.Event) { events = append(events, e) })
	return res, events, err
}

// transcript renders events as text: stream text as is, displays as
// [display TEXT], input requests as [input].
func transcript(events []proto.Event) string {
	var b strings.Builder
	for _, e := range events {
		switch {
		case e.Stream != nil:
			if e.Stream.Name == "stderr" {
				b.WriteString("[stderr]")
			}
			b.WriteString(e.Stream.Text)
		case e.Display != nil:
			b.WriteString("[display " + e.Display.Data.Text())
			if e.Display.Update {
				b.WriteString(" update")
			}
			b.WriteString("]")
		case e.Clear != nil:
			b.WriteString("[clear]")
		case e.Input != nil:
			b.WriteString("[input]")
		case e.Comm != nil:
			b.WriteString("[" + e.Comm.Type + "]")
		}
	}
	return b.String()
}

func TestExecuteStreamsAndDisplayOrder(t *testing.T) {
	p := startWorker(t)
	cases := []struct {
		name, code, want, result string
	}{
		{"interpreted stdout", `fmt.Println("hello")`, "hello\n", ""},
		{"compiled stdout", "os.Stdout.WriteString(\"compiled\\n\")\nfmt.Fprint(os.Stdout, \"again\\n\")", "compiled\nagain\n", ""},
		{"stderr", `fmt.Fprintln(os.Stderr, "oops")`, "[stderr]oops\n", ""},
		{"order", `fmt.Println("a")
display.Show(display.HTML("<b>b</b>"))
fmt.Println("c")
h := display.ShowLive(display.Text("d"))
h.Update(display.Text("e"))
display.Clear(true)`, "a\n[display <b>b</b>]c\n[display d][display e update][clear]", ""},
		{"result", "x := 40\nx + 2", "", "42"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, events, err := run(t, p, proto.ExecuteRequest{Code: c.code})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != "ok" {
				t.Fatalf("status %s: %s %s", res.Status, res.EName, res.EValue)
			}
			if got := transcript(events); got != c.want {
				t.Errorf("events %q, want %q", got, c.want)
			}
			got, _ := res.Result["text/plain"].(string)
			if got != c.result {
				t.Errorf("result %q, want %q", got, c.result)
			}
		})
	}
}

func TestInterruptTightLoop(t *testing.T) {
	p := startWorker(t)
	type out struct {
		res proto.ExecuteResult
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := p.Execute(context.Background(), proto.ExecuteRequest{Code: "n := 0\nfor {\n\tn++\n}"}, nil)
		done <- out{res, err}
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := p.Interrupt(); err != nil {
		t.Fatal(err)
	}
	select {
	case o := <-done:
		if o.err != nil {
			t.Fatal(o.err)
		}
		if o.res.Status != "error" || o.res.EName != "Interrupted" {
			t.Errorf("result %+v, want an Interrupted error", o.res)
		}
		d := time.Since(start)
		t.Logf("for {} stopped %v after the interrupt", d)
		if d > time.Second {
			t.Errorf("stopped after %v, want < 1s", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("for {} did not stop within 5 s of the interrupt")
	}
	// The worker still works, with its state.
	res, _, err := run(t, p, proto.ExecuteRequest{Code: "n > 0"})
	if err != nil || res.Result["text/plain"] != "true" {
		t.Errorf("after interrupt: %+v, %v; want true", res, err)
	}
	// The cell context: cancelled by the interrupt, reachable from cells.
	go func() {
		res, err := p.Execute(context.Background(), proto.ExecuteRequest{Code: "<-cell.Context().Done()\n\"stopped\""}, nil)
		done <- out{res, err}
	}()
	time.Sleep(300 * time.Millisecond)
	_ = p.Interrupt()
	select {
	case o := <-done:
		if o.err != nil || o.res.Status != "error" {
			t.Errorf("cell waiting on cell.Context(): %+v, %v; want an interrupted error", o.res, o.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cell.Context() was not cancelled by the interrupt")
	}
}

func TestCrashInGoroutine(t *testing.T) {
	p := startWorker(t)
	if _, _, err := run(t, p, proto.ExecuteRequest{Code: "x := 1"}); err != nil {
		t.Fatal(err)
	}
	_, _, err := run(t, p, proto.ExecuteRequest{Code: "go func() { panic(\"kaboom\") }()\ntime.Sleep(5 * time.Second)"})
	if !errors.Is(err, proto.ErrCrashed) {
		t.Fatalf("error %v, want proto.ErrCrashed", err)
	}
	if !strings.Contains(err.Error(), "kaboom") {
		t.Errorf("error %q lacks the panic text", err)
	}
	if !strings.Contains(err.Error(), "(cell:1:") || strings.Contains(err.Error(), "yaegi") {
		t.Errorf("error %q: want the cell position of the panic and no interpreter frames", err)
	}
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after the crash")
	}
	// A panic in the cell itself is the cell's error, not a crash.
	q := startWorker(t)
	res, _, err := run(t, q, proto.ExecuteRequest{Code: "panic(\"in the cell\")"})
	if err != nil || res.Status != "error" || !strings.Contains(res.EValue, "in the cell") {
		t.Errorf("panic in cell: %+v, %v; want an error result", res, err)
	}
	// os.Exit does not end the worker either.
	res, _, err = run(t, q, proto.ExecuteRequest{Code: "os.Exit(3)"})
	if err != nil || res.Status != "error" {
		t.Errorf("os.Exit: %+v, %v; want an error result", res, err)
	}
}

func TestStdin(t *testing.T) {
	p := startWorker(t)
	var events []proto.Event
	res, err := p.Execute(context.Background(), proto.ExecuteRequest{
		Code:       "var name string\nfmt.Print(\"name? \")\nfmt.Scanln(&name)\n\"hello \" + name",
		AllowStdin: true,
	}, func(e proto.Event) {
		events = append(events, e)
		if e.Input != nil {
			go p.Input("gopher", nil)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Result["text/plain"]; got != `"hello gopher"` {
		t.Errorf("result %v, want \"hello gopher\"", got)
	}
	if got := transcript(events); got != "name? [input]" {
		t.Errorf("events %q, want the prompt then the input proto.Request", got)
	}
	// os.Stdin read directly, through bufio.
	events = nil
	res, err = p.Execute(context.Background(), proto.ExecuteRequest{
		Code:       "r := bufio.NewReader(os.Stdin)\nline, _ := r.ReadString('\\n')\nline2, _ := r.ReadString('\\n')\nline + line2",
		AllowStdin: true,
	}, func(e proto.Event) {
		events = append(events, e)
		if e.Input != nil {
			answers := []string{"dir", "ect"}
			go p.Input(answers[strings.Count(transcript(events), "[input]")-1], nil)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Result["text/plain"]; got != `"dir\nect\n"` {
		t.Errorf("bufio on os.Stdin: result %v (%s %s), want \"dir\\nect\\n\"", got, res.EName, res.EValue)
	}
	res, events, err = run(t, p, proto.ExecuteRequest{Code: "_, err2 := r.ReadString('\\n')\nerr2"})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Result["text/plain"]; got != "EOF" || !strings.Contains(transcript(events), "allow_stdin is false") {
		t.Errorf("os.Stdin without allow_stdin: %v, events %q; want EOF and a note", got, transcript(events))
	}
	res, _, err = run(t, p, proto.ExecuteRequest{Code: "_, err := fmt.Scanln(&name)\nerr"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := res.Result["text/plain"].(string); !strings.Contains(got, "not allowed") {
		t.Errorf("without allow_stdin: %q, want a clear error", got)
	}
}

// TestStdinSentinels: the errors a cell's read of standard input gets
// test true with errors.Is against package cell's sentinels, whether the
// child refuses by itself (allow_stdin false) or the parent answers with
// the sentinel, wrapped or not.
func TestStdinSentinels(t *testing.T) {
	p := startWorker(t)
	const check = "errors.Is(err, cell.ErrStdinNotAllowed), errors.Is(err, cell.ErrInputInterrupted)"
	for _, tc := range []struct {
		name   string
		allow  bool
		answer error // the parent's answer to the input request
		code   string
		want   string
	}{
		{name: "refused by the child", code: "var s string\n_, err := fmt.Scanln(&s)", want: "true false"},
		{name: "refused by the parent", allow: true, answer: cell.ErrStdinNotAllowed,
			code: "var s string\n_, err := fmt.Scanln(&s)", want: "true false"},
		{name: "refused, wrapped", allow: true, answer: fmt.Errorf("kernel: %w (the front end closed stdin)", cell.ErrStdinNotAllowed),
			code: "var s string\n_, err := fmt.Scanln(&s)", want: "true false"},
		{name: "interrupted", allow: true, answer: cell.ErrInputInterrupted,
			code: "var s string\n_, err := fmt.Scanln(&s)", want: "false true"},
		{name: "another error", allow: true, answer: errors.New("kernel: sending input_request: broken pipe"),
			code: "var s string\n_, err := fmt.Scanln(&s)", want: "false false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var events []proto.Event
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := p.Execute(ctx, proto.ExecuteRequest{
				Code: tc.code + "\nfmt.Println(err)\nfmt.Println(" + check + ")", AllowStdin: tc.allow,
			}, func(e proto.Event) {
				events = append(events, e)
				if e.Input != nil {
					go p.Input("", tc.answer)
				}
			})
			if err != nil || res.Status != "ok" {
				t.Fatalf("%+v, %v", res, err)
			}
			lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(transcript(events), "[input]", "")), "\n")
			if got := lines[len(lines)-1]; got != tc.want {
				t.Errorf("errors.Is (not allowed, interrupted) = %s, want %s; transcript %q", got, tc.want, transcript(events))
			}
			if tc.answer != nil && !strings.Contains(transcript(events), tc.answer.Error()) {
				t.Errorf("the cell's error lost the parent's text %q: %q", tc.answer, transcript(events))
			}
		})
	}
}

func TestLiveStreaming(t *testing.T) {
	p := startWorker(t)
	// The cell writes its clock every 40 ms; each line's delay is the time
	// from its write to its delivery here.
	var delays []time.Duration
	_, err := p.Execute(context.Background(), proto.ExecuteRequest{
		Code: "for i := 0; i < 10; i++ {\n\tfmt.Println(time.Now().UnixNano())\n\ttime.Sleep(40 * time.Millisecond)\n}",
	}, func(e proto.Event) {
		if e.Stream == nil {
			return
		}
		now := time.Now()
		for _, line := range strings.Fields(e.Stream.Text) {
			var ns int64
			if _, err := fmt.Sscan(line, &ns); err == nil {
				delays = append(delays, now.Sub(time.Unix(0, ns)))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(delays) != 10 {
		t.Fatalf("%d lines, want 10", len(delays))
	}
	slices.Sort(delays)
	t.Logf("stream delay: median %v, max %v", delays[len(delays)/2], delays[len(delays)-1])
	if delays[len(delays)/2] > 100*time.Millisecond {
		t.Errorf("median delay %v, want at most 100 ms", delays[len(delays)/2])
	}
}

func TestUserExpressionsAndSilent(t *testing.T) {
	p := startWorker(t)
	res, _, err := run(t, p, proto.ExecuteRequest{Code: "a := 6", UserExpressions: map[string]string{"double": "a * 2", "bad": "nope"}})
	if err != nil {
		t.Fatal(err)
	}
	ok := res.UserExpressions["double"]
	if ok.Status != "ok" || ok.Data["text/plain"] != "12" {
		t.Errorf("user expression double = %+v, want 12", ok)
	}
	bad := res.UserExpressions["bad"]
	if bad.Status != "error" || bad.EName == "" {
		t.Errorf("user expression bad = %+v, want an error", bad)
	}
	res, _, err = run(t, p, proto.ExecuteRequest{Code: "a", Silent: true})
	if err != nil || res.Result != nil {
		t.Errorf("silent: %+v, %v; want no result", res, err)
	}
}

func TestRestartAfterCrash(t *testing.T) {
	p := startWorker(t)
	_, _, err := run(t, p, proto.ExecuteRequest{Code: "go func() {\n\tvar m map[string]int\n\tm[\"a\"] = 1\n}()\ntime.Sleep(2 * time.Second)"})
	if !errors.Is(err, proto.ErrCrashed) {
		t.Fatalf("error %v, want proto.ErrCrashed", err)
	}
	q := startWorker(t)
	res, _, err := run(t, q, proto.ExecuteRequest{Code: "1 + 2"})
	if err != nil || res.Result["text/plain"] != "3" {
		t.Errorf("fresh worker: %+v, %v", res, err)
	}
}

func TestComms(t *testing.T) {
	p := startWorker(t)
	// A cell opens a comm and sends on it.
	res, events, err := run(t, p, proto.ExecuteRequest{Code: `c, err := comm.Open("test.target", map[string]any{"n": 1})
if err != nil {
	panic(err)
}
c.Send(map[string]any{"n": 2})
c.Close(nil)`})
	if err != nil || res.Status != "ok" {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := transcript(events); got != "[comm_open][comm_msg][comm_close]" {
		t.Fatalf("events %q", got)
	}
	if events[0].Comm.Content["target_name"] != "test.target" || events[1].Comm.Content["data"].(map[string]any)["n"] != 2.0 {
		t.Errorf("comm contents %+v %+v", events[0].Comm.Content, events[1].Comm.Content)
	}
	// The front end opens a comm to a target a cell registered, then sends
	// on it; the handler echoes.
	res, _, err = run(t, p, proto.ExecuteRequest{Code: `comm.Register("echo", func(c *comm.Comm, data map[string]any) {
	c.OnMessage(func(data map[string]any) { c.Send(data) })
})
comm.Register("bytes", func(c *comm.Comm, data map[string]any) {
	c.OnMessageWith(func(data map[string]any, buffers [][]byte) {
		sizes := []any{}
		for i := len(buffers) - 1; i >= 0; i-- {
			sizes = append(sizes, len(buffers[i]))
		}
		rev := make([][]byte, 0, len(buffers))
		for i := len(buffers) - 1; i >= 0; i-- {
			rev = append(rev, buffers[i])
		}
		c.SendWith(map[string]any{"sizes": sizes}, rev)
	})
})`})
	if err != nil || res.Status != "ok" {
		t.Fatalf("%+v, %v", res, err)
	}
	// Handlers run while no cell runs; what they send comes back through
	// Comm, in order, and nothing waits for a cell.
	var idle eventLog
	p.OnIdle(idle.add)
	cases := []struct {
		typ     string
		content map[string]any
		buffers [][]byte
		want    string
	}{
		{"comm_open", map[string]any{"comm_id": "c1", "target_name": "echo", "data": map[string]any{}}, nil, ""},
		{"comm_msg", map[string]any{"comm_id": "c1", "data": map[string]any{"ping": "pong"}}, nil, "[comm_msg]"},
		// A comm_open to an unknown target is closed.
		{"comm_open", map[string]any{"comm_id": "c2", "target_name": "nobody"}, nil, "[comm_close]"},
		{"comm_msg", map[string]any{"comm_id": "nonesuch", "data": map[string]any{}}, nil, ""},
		// Binary buffers reach the handler as [][]byte, byte for byte.
		{"comm_open", map[string]any{"comm_id": "c3", "target_name": "bytes", "data": map[string]any{}}, nil, ""},
		{"comm_msg", map[string]any{"comm_id": "c3", "data": map[string]any{}}, [][]byte{{0, 1, 0xfe, 0xff}, []byte("\x00abc\n")}, "[comm_msg]"},
	}
	for _, tc := range cases {
		events, err := sendComm(t, p, tc.typ, tc.content, tc.buffers)
		if err != nil {
			t.Fatalf("%s %v: %v", tc.typ, tc.content["comm_id"], err)
		}
		if got := transcript(events); got != tc.want {
			t.Fatalf("%s %v: events %q, want %q", tc.typ, tc.content["comm_id"], got, tc.want)
		}
		switch tc.want {
		case "[comm_msg]":
			if tc.buffers != nil {
				want := [][]byte{tc.buffers[1], tc.buffers[0]}
				sizes := events[0].Comm.Content["data"].(map[string]any)["sizes"]
				if !reflect.DeepEqual(events[0].Comm.Buffers, want) || !reflect.DeepEqual(sizes, []any{5.0, 4.0}) {
					t.Errorf("the handler got or sent back buffers %q, sizes %v; want %q, [5 4]", events[0].Comm.Buffers, sizes, want)
				}
				break
			}
			if events[0].Comm.Content["data"].(map[string]any)["ping"] != "pong" || events[0].Comm.Content["comm_id"] != "c1" {
				t.Errorf("echo %+v", events[0].Comm.Content)
			}
		case "[comm_close]":
			if events[0].Comm.Content["comm_id"] != "c2" {
				t.Errorf("close %+v", events[0].Comm.Content)
			}
		}
	}
	if got := idle.text(); got != "" {
		t.Errorf("idle events %q, want none", got)
	}
}

// sendComm passes a front-end comm message and returns the handler's events.
func sendComm(t *testing.T, p *Process, typ string, content map[string]any, buffers [][]byte) ([]proto.Event, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var events []proto.Event
	err := p.Comm(ctx, typ, content, buffers, func(e proto.Event) { events = append(events, e) })
	return events, err
}

// eventLog collects events from another goroutine.
type eventLog struct {
	mu     sync.Mutex
	events []proto.Event
}

func (l *eventLog) add(e proto.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return transcript(l.events)
}

// waitFor waits until the log's transcript contains want, at most d.
func (l *eventLog) waitFor(t *testing.T, want string, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		got := l.text()
		if strings.Contains(got, want) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestInterruptCompiledCall(t *testing.T) {
	p := startWorker(t)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(300 * time.Millisecond)
		cancel() // Execute's ctx ending interrupts the cell
	}()
	start := time.Now()
	res, err := p.Execute(ctx, proto.ExecuteRequest{Code: "time.Sleep(20 * time.Second)"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.EName != "Interrupted" {
		t.Errorf("result %+v, want Interrupted", res)
	}
	if d := time.Since(start); d > 1300*time.Millisecond {
		t.Errorf("took %v, want the interrupt within 1 s", d)
	}
}

// BenchmarkExecute measures the round trip of a trivial cell through the
// worker process.
func BenchmarkExecute(b *testing.B) {
	p, err := Start(context.Background(), &Options{Args: []string{}, Env: append(os.Environ(), "UNETLAB_WORKER_TEST=1")})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Execute(context.Background(), proto.ExecuteRequest{Code: "1+1"}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkComm measures a front-end comm_msg through the worker to a
// handler that echoes it, until the echo is back.
func BenchmarkComm(b *testing.B) {
	p, err := Start(context.Background(), &Options{Args: []string{}, Env: append(os.Environ(), "UNETLAB_WORKER_TEST=1")})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	res, err := p.Execute(context.Background(), proto.ExecuteRequest{Code: `comm.Register("bench", func(c *comm.Comm, data map[string]any) {
	c.OnMessage(func(d map[string]any) { c.Send(d) })
})`}, nil)
	if err != nil || res.Status != "ok" {
		b.Fatalf("%+v %v", res, err)
	}
	ctx := context.Background()
	if err := p.Comm(ctx, "comm_open", map[string]any{"comm_id": "b1", "target_name": "bench", "data": map[string]any{}}, nil, nil); err != nil {
		b.Fatal(err)
	}
	msg := map[string]any{"comm_id": "b1", "data": map[string]any{"x": 1}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		echoes := 0
		if err := p.Comm(ctx, "comm_msg", msg, nil, func(e proto.Event) { echoes++ }); err != nil {
			b.Fatal(err)
		}
		if echoes != 1 {
			b.Fatalf("%d events, want the echo", echoes)
		}
	}
}

// BenchmarkStart measures starting a worker until its interpreter is ready.
func BenchmarkStart(b *testing.B) {
	for i := 0; i < b.N; i++ {
		p, err := Start(context.Background(), &Options{Args: []string{}, Env: append(os.Environ(), "UNETLAB_WORKER_TEST=1")})
		if err != nil {
			b.Fatal(err)
		}
		p.Close()
	}
}

// After an interrupt the worker answers only when the cell's evaluation has
// ended: a compiled call that ignores the context is waited for, so that
// the next cell does not run beside it.
func TestInterruptWaitsInWorker(t *testing.T) {
	p := startWorker(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	res, err := p.Execute(ctx, proto.ExecuteRequest{Code: "exec.Command(\"sleep\", \"1\").Run()\nfmt.Println(\"after\")"}, nil)
	if err != nil {
		t.Fatal(err) // Execute waits for the cell's answer: no timer kills the worker
	}
	if res.EName != "Interrupted" {
		t.Errorf("result %+v, want Interrupted", res)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("answered after %v, while the compiled call ran for 1 s", d)
	}
	res, _, err = run(t, p, proto.ExecuteRequest{Code: "1+1"})
	if err != nil || res.Result["text/plain"] != "2" {
		t.Errorf("next cell: %+v %v", res, err)
	}
}

func TestIdleOutput(t *testing.T) {
	// What a goroutine prints, shows and sends after its cell ended goes to
	// the idle function at once, in order, without another Execute.
	p := startWorker(t)
	var idle eventLog
	p.OnIdle(idle.add)
	res, events, err := run(t, p, proto.ExecuteRequest{Code: `go func() {
	time.Sleep(200 * time.Millisecond)
	fmt.Println("a")
	display.Show(display.Text("b"))
	os.Stdout.WriteString("c\n")
	c, _ := comm.Open("late.target", nil)
	fmt.Fprintln(os.Stderr, "d")
	c.Close(nil)
}()
fmt.Println("cell")`})
	if err != nil || res.Status != "ok" {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := transcript(events); got != "cell\n" {
		t.Errorf("cell events %q", got)
	}
	want := "a\n[display b]c\n[comm_open][stderr]d\n[comm_close]"
	if got := idle.waitFor(t, "[comm_close]", 5*time.Second); got != want {
		t.Errorf("idle events %q, want %q", got, want)
	}
}

func TestIdleEventsPrecedeTheNextCell(t *testing.T) {
	// A slow idle function holds the next cell's events back: they never
	// overtake what was emitted before the cell started.
	p := startWorker(t)
	var (
		mu    sync.Mutex
		order []string
	)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	p.OnIdle(func(e proto.Event) {
		once.Do(func() { close(entered); <-release })
		mu.Lock()
		order = append(order, "idle:"+transcript([]proto.Event{e}))
		mu.Unlock()
	})
	if _, _, err := run(t, p, proto.ExecuteRequest{Code: `go func() { time.Sleep(50 * time.Millisecond); fmt.Println("bg") }()`}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the goroutine's output never reached the idle function")
	}
	done := make(chan error, 1)
	go func() {
		_, err := p.Execute(context.Background(), proto.ExecuteRequest{Code: `fmt.Println("cell")`}, func(e proto.Event) {
			mu.Lock()
			order = append(order, "cell:"+transcript([]proto.Event{e}))
			mu.Unlock()
		})
		done <- err
	}()
	time.Sleep(200 * time.Millisecond) // the cell has run; its output waits
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"idle:bg\n", "cell:cell\n"}; !slices.Equal(order, want) {
		t.Errorf("order %q, want %q", order, want)
	}
}

func TestIdleEventsWithoutIdleFunction(t *testing.T) {
	// Without OnIdle, late output is kept for the next cell, ahead of it.
	p := startWorker(t)
	if _, _, err := run(t, p, proto.ExecuteRequest{Code: `go func() { time.Sleep(50 * time.Millisecond); fmt.Println("late") }()`}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	_, events, err := run(t, p, proto.ExecuteRequest{Code: `fmt.Println("now")`})
	if err != nil {
		t.Fatal(err)
	}
	if got := transcript(events); got != "late\nnow\n" {
		t.Errorf("events %q, want the late line first", got)
	}
}

func TestCommHandlerOutput(t *testing.T) {
	p := startWorker(t)
	var idle eventLog
	p.OnIdle(idle.add)
	res, _, err := run(t, p, proto.ExecuteRequest{Code: `comm.Register("talk", func(c *comm.Comm, data map[string]any) {
	fmt.Println("opened", data["n"])
	c.OnMessage(func(d map[string]any) {
		if d["boom"] == true {
			panic("handler failed")
		}
		if d["slow"] == true {
			time.Sleep(300 * time.Millisecond)
			fmt.Println("slow done")
			return
		}
		fmt.Println("got", d["x"])
		display.Show(display.Text("shown"))
		os.Stderr.WriteString("err\n")
		c.Send(d)
	})
})`})
	if err != nil || res.Status != "ok" {
		t.Fatalf("%+v, %v", res, err)
	}
	cases := []struct {
		name    string
		typ     string
		content map[string]any
		want    string
	}{
		{"open", "comm_open", map[string]any{"comm_id": "t1", "target_name": "talk", "data": map[string]any{"n": 1}}, "opened 1\n"},
		{"message", "comm_msg", map[string]any{"comm_id": "t1", "data": map[string]any{"x": 2}}, "got 2\n[display shown][stderr]err\n[comm_msg]"},
		{"panic", "comm_msg", map[string]any{"comm_id": "t1", "data": map[string]any{"boom": true}},
			"[stderr]unetlab: panic in the comm handler for comm_msg t1: handler failed\n"},
		{"after the panic", "comm_msg", map[string]any{"comm_id": "t1", "data": map[string]any{"x": 3}}, "got 3\n[display shown][stderr]err\n[comm_msg]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			events, err := sendComm(t, p, tc.typ, tc.content, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := transcript(events); got != tc.want {
				t.Errorf("events %q, want %q", got, tc.want)
			}
		})
	}

	// A caller that stops waiting gets ctx's error; the handler runs on and
	// its later output goes to the idle function, not to the next cell.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = p.Comm(ctx, "comm_msg", map[string]any{"comm_id": "t1", "data": map[string]any{"slow": true}}, nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow handler: error %v, want DeadlineExceeded", err)
	}
	if got := idle.waitFor(t, "slow done", 5*time.Second); got != "slow done\n" {
		t.Errorf("idle events %q", got)
	}
	res, events, err := run(t, p, proto.ExecuteRequest{Code: "1 + 1"})
	if err != nil || res.Result["text/plain"] != "2" || len(events) != 0 {
		t.Errorf("next cell: %+v %q %v", res, transcript(events), err)
	}
}

// TestCommMetadataAndBuffers: metadata and binary buffers a cell sends on a
// comm (comm.OpenWith, Comm.SendWith) cross the pipe intact.
func TestCommMetadataAndBuffers(t *testing.T) {
	p := startWorker(t)
	res, events, err := run(t, p, proto.ExecuteRequest{Code: `c, err := comm.OpenWith("jupyter.widget", map[string]any{"state": map[string]any{}},
	map[string]any{"version": "2.1.0"}, [][]byte{[]byte{0, 1, 255}})
if err != nil {
	panic(err)
}
c.SendWith(map[string]any{"method": "update"}, [][]byte{[]byte("b1"), []byte("b2")})`})
	if err != nil || res.Status != "ok" {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := transcript(events); got != "[comm_open][comm_msg]" {
		t.Fatalf("events %q", got)
	}
	o, m := events[0].Comm, events[1].Comm
	if o.Metadata["version"] != "2.1.0" || len(o.Buffers) != 1 || string(o.Buffers[0]) != "\x00\x01\xff" {
		t.Errorf("comm_open metadata %v buffers %q", o.Metadata, o.Buffers)
	}
	if m.Metadata != nil || len(m.Buffers) != 2 || string(m.Buffers[1]) != "b2" {
		t.Errorf("comm_msg metadata %v buffers %q", m.Metadata, m.Buffers)
	}
}
