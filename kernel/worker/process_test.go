package worker

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary serve as the worker: Start re-executes it
// with UNETLAB_WORKER_TEST=1.
func TestMain(m *testing.M) {
	if os.Getenv("UNETLAB_WORKER_TEST") == "1" {
		os.Exit(Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func startWorker(t *testing.T) *Process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := Start(ctx, Options{Args: []string{}, Env: append(os.Environ(), "UNETLAB_WORKER_TEST=1")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// run executes code and returns the result and the events.
func run(t *testing.T, p *Process, req ExecuteRequest) (ExecuteResult, []Event, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var events []Event
	res, err := p.Execute(ctx, req, func(e Event) { events = append(events, e) })
	return res, events, err
}

// transcript renders events as text: stream text as is, displays as
// [display TEXT], input requests as [input].
func transcript(events []Event) string {
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
			res, events, err := run(t, p, ExecuteRequest{Code: c.code})
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
