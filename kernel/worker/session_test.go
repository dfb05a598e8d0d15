package worker

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func newTestSession(t *testing.T) (*session, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	s, err := newSession(sessionOptions{Stdout: &out, Stderr: &out, Stdin: strings.NewReader("")})
	if err != nil {
		t.Fatal(err)
	}
	return s, &out
}

// step is one cell of a session test and what it must give.
type step struct {
	code   string
	result string // text/plain of the result; "" for none
	out    string // substring of stdout+stderr
	err    string // substring of the error; "" for success
	reset  string // comma-joined Reset list
	mime   string // a MIME type the result must carry
}

func runSteps(t *testing.T, steps []step) {
	t.Helper()
	s, out := newTestSession(t)
	for i, st := range steps {
		out.Reset()
		o, err := s.execute(context.Background(), st.code)
		got := ""
		if o.result != nil {
			got, _ = o.result["text/plain"].(string)
		}
		switch {
		case st.err == "" && err != nil:
			t.Fatalf("step %d %q: unexpected error %v", i, st.code, err)
		case st.err != "" && (err == nil || !strings.Contains(err.Error(), st.err)):
			t.Fatalf("step %d %q: error %v, want one with %q", i, st.code, err, st.err)
		}
		if err != nil {
			continue
		}
		if got != st.result {
			t.Errorf("step %d %q: result %q, want %q", i, st.code, got, st.result)
		}
		if st.out != "" && !strings.Contains(out.String(), st.out) {
			t.Errorf("step %d %q: output %q, want it to contain %q", i, st.code, out.String(), st.out)
		}
		if r := strings.Join(o.reset, ","); r != st.reset {
			t.Errorf("step %d %q: reset %q, want %q", i, st.code, r, st.reset)
		}
		if st.mime != "" {
			if _, ok := o.result[st.mime]; !ok {
				t.Errorf("step %d %q: result %v lacks %s", i, st.code, o.result, st.mime)
			}
		}
	}
}

func TestSessionBasics(t *testing.T) {
	runSteps(t, []step{
		{code: `1+1`, result: "2"},
		{code: `fmt.Println("hello")`, out: "hello\n"},
		{code: "import \"strings\"\nx := strings.ToUpper(\"ab\")\nx", result: `"AB"`},
		{code: `import "strings"`},
		{code: "func f() int { return 1 }\ny := f()\nfunc g() int { return f() * 10 }\ng()", result: "10"},
		{code: "func f() int { return 2 }\ng()", result: "20", reset: "y"}, // y := f() in f's cell
		{code: "type T struct{ A int }\nT{A: 3}", result: "{A:3}"},
		{code: "type T struct{ B string }\nT{B: \"z\"}", result: "{B:z}"},
		{code: "var v = 5\nv", result: "5"},
		{code: "math.Sqrt(16)", result: "4"},
		{code: "cell.Context() != nil", result: "true"},
		{code: "\n\nundefinedThing.Foo()", err: "cell:3:1"},
		{code: "panic(\"boom\")", err: "boom"},
		{code: "display.HTML(\"<b>x</b>\")", result: "<b>x</b>", mime: "text/html"},
		{code: "image.NewGray(image.Rect(0, 0, 4, 3))", result: "<PNG image 4x3>", mime: "image/png"},
		{code: "type R struct{}\nfunc (R) Render() display.Bundle { return display.Markdown(\"*hi*\") }\nR{}", result: "*hi*", mime: "text/markdown"},
		{code: "s := []int{3, 1, 2}\nslices.Index(s, 2)", result: "2"},
		{code: "type S struct{ N int }\nfunc (s S) String() string { return fmt.Sprint(\"S#\", s.N) }\nS{7}", result: "S#7"},
		{code: "errors.New(\"bad\")", result: "bad"},
		{code: "big := make([]int, 100000)\nlen(fmt.Sprint(big)) > 64<<10", result: "true"},
		{code: "x := \"now a string\"\nx", result: `"now a string"`},
		{code: "for i := 0; i < 2; i++ {\n\tfmt.Print(i)\n}", out: "01"},
	})
}

func TestRerunAndRedefine(t *testing.T) {
	def := "type P struct{ N int }\nfunc (p P) Twice() int { return 2 * p.N }\nfunc mk(n int) P { return P{n} }"
	runSteps(t, []step{
		{code: def},
		{code: "a := mk(4)\na.Twice()", result: "8"},
		{code: def},                      // re-run: harmless, nothing reset
		{code: "a.Twice()", result: "8"}, // state kept
		{code: "var v = 5\nv", result: "5"},
		{code: "var v = \"five\"\nv", result: `"five"`}, // a variable alone is declared again
		{code: "func (p P) Twice() int { return 3 * p.N }\nmk(1).Twice()", result: "3"},
		{code: "v", result: `"five"`}, // carried declaration
		{code: "a.Twice()", result: "12"}, // carried value of a kept interpreted type, new method
	})
}

func TestRebuildCarriesCompiledValues(t *testing.T) {
	runSteps(t, []step{
		{code: "type T int"},
		{code: "var sb strings.Builder\nsb.WriteString(\"kept\")\ndata := []float64{1, 2}\nb := display.HTML(\"x\")\nn := 3"},
		{code: "var calls int\nvar big = func() *strings.Builder { calls++; return &strings.Builder{} }()"},
		{code: "type T string\nsb.String()", result: `"kept"`},
		{code: "len(data) + len(b) + n", result: "7"},
		{code: "calls", result: "1"}, // big was carried, its initialiser did not run again
	})
}

func TestRedefineTypeReplaysDependents(t *testing.T) {
	runSteps(t, []step{
		{code: "type T struct{ A int }\nfunc show(t T) int { return t.A }"},
		{code: "type T struct{ A, B int }\nshow(T{1, 2})", result: "1"},
		{code: "func (t T) Sum() int { return t.A + t.B }\nT{3, 4}.Sum()", result: "7"},
		{code: "type T struct{ A, B, C int }\nT{1, 2, 3}.Sum() + show(T{A: 5})", result: "8"},
	})
}

func TestLongResultTruncated(t *testing.T) {
	s, _ := newTestSession(t)
	o, err := s.execute(context.Background(), "make([]int, 100000)")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := o.result["text/plain"].(string)
	if len(text) > 70<<10 || !strings.HasSuffix(text, "more bytes)") {
		t.Errorf("result of %d bytes ending %q, want it cut near 64 KiB", len(text), text[len(text)-20:])
	}
}

func TestSessionErrorPositions(t *testing.T) {
	runSteps(t, []step{
		{code: "x := 1\n\nundefinedThing.Foo()", err: "cell:3:1: undefined: undefinedThing"},
		{code: "x := 1\nfmt.Println(x +)", err: "cell:2:"},
		{code: "func f() {\n\treturn 1\n}", err: "cell:2:"},
		{code: "var a int = \"s\"", err: "cell:1:"},
		{code: "y := 2\n  zz.Foo()", err: "cell:2:3"},
		{code: "1 +", err: "SyntaxError"},
		{code: "a := 1\nb := a + typo", err: "cell:2:10: undefined: typo"},
		{code: "x := 2\nfunc main() {}", err: "cell:2:1: a cell cannot declare main"},
	})
}

func TestPanicTraceback(t *testing.T) {
	s, out := newTestSession(t)
	_, err := s.execute(context.Background(), "func inner() {\n\tpanic(\"deep\")\n}\n\nfunc outer() { inner() }\nouter()")
	ce, ok := err.(*cellError)
	if !ok {
		t.Fatalf("error %v, want a cell error", err)
	}
	tb := strings.Join(ce.Traceback, "\n")
	for _, want := range []string{"panic: deep", "inner (cell:2:2)", "outer (cell:5:"} {
		if !strings.Contains(tb, want) {
			t.Errorf("traceback %q lacks %q", tb, want)
		}
	}
	if strings.Contains(out.String(), "panic:") {
		t.Errorf("yaegi's frame lines leaked to stderr: %q", out.String())
	}
}
