package worker

import (
	"bytes"
	"context"
	"fmt"
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
		{code: "v", result: `"five"`},     // carried declaration
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

func TestRebuildVariables(t *testing.T) {
	const fn = "func f() int { return 1 }"
	const fn2 = "func f() int { return 2 }"
	cases := []struct {
		name  string
		steps []step
	}{
		{"function redefinition keeps plain variables", []step{
			{code: fn},
			{code: "i := 3\ns := \"str\"\nsl := []int{1, 2}\nm := map[string]float64{\"a\": 1.5}\nr := image.Rect(0, 0, 2, 3)\nst := struct{ P image.Point; N []string }{image.Pt(1, 2), []string{\"n\"}}\nsb := &strings.Builder{}\nsb.WriteString(\"sb\")"},
			{code: fn2 + "\nfmt.Sprint(f(), i, s, sl, m, r, st, sb.String())", result: `"2 3str[1 2] map[a:1.5] (0,0)-(2,3) {(1,2) [n]}sb"`},
			{code: "i++\ni", result: "4"}, // still an int variable
		}},
		{"type redefinition resets variables of that type only", []step{
			{code: "type pt struct{ X int }\ntype other struct{ S string }"},
			{code: "p := pt{1}\nps := []pt{{2}}\nmp := map[string]*pt{}\no := other{\"o\"}\nn := 5"},
			{code: "type pt struct{ X, Y int }\npt{1, 2}", result: "{X:1 Y:2}", reset: "mp,p,ps"},
			{code: "fmt.Sprint(p, ps == nil, mp == nil, o, n)", result: `"{0 0} true true {o} 5"`},
			{code: "p = pt{3, 4}\np.Y", result: "4"}, // the new type
		}},
		{"a variable of a type built on a redefined type is reset", []step{
			{code: "type inner struct{ A int }\ntype outer struct{ In inner }"},
			{code: "v := outer{inner{1}}\nk := 7"},
			{code: "type inner struct{ A, B int }\nk", result: "7", reset: "v"},
			{code: "v.In.B", result: "0"},
		}},
		{"variables referring to a redefined function value", []step{
			{code: fn},
			{code: "g := f\nh := func() int { return f() * 10 }\nfs := []func() int{f}\nup := strings.ToUpper"},
			{code: fn2 + "\nup(\"a\")", result: `"A"`, reset: "fs,g,h"},
			{code: "g == nil && h == nil && fs == nil", result: "true"},
			{code: "g = f\ng()", result: "2"},
		}},
		{"a closure over kept code is reset, never run in the old interpreter", []step{
			{code: "func k() int { return 1 }\n" + fn},
			{code: "c := func() int { return k() }"},
			{code: fn2, reset: "c"},
		}},
		{"sharing a cell with a redefined declaration keeps a variable", []step{
			{code: "kept := 3\n" + fn},
			{code: "other := 4"},
			{code: fn2 + "\nf() + kept + other", result: "9"},
		}},
		{"a variable declared in a cell that panicked later", []step{
			{code: fn},
			{code: "w := 5\npanic(\"late\")", err: "late"},
			{code: fn2 + "\nw + f()", result: "7"},
		}},
		{"a variable declared in a cell that failed to compile", []step{
			{code: fn},
			{code: "w := 5\nw2 := w + undefinedZ", err: "cell:2:11: undefined: undefinedZ"},
			{code: "w = 6", err: "cell:1:1: undefined: w"}, // a cell that does not compile defines nothing
			{code: "w := 6"},
			{code: fn2 + "\nw + f()", result: "8"},
		}},
		{"variables of interface types", []step{
			{code: fn + "\ntype mine struct{}\nfunc (mine) Error() string { return \"mine\" }"},
			{code: "e := errors.New(\"std\")\nvar em error = mine{}\nvar nothing error"},
			{code: fn2 + "\ne.Error()", result: `"std"`, reset: "em"}, // em's declaration is replayed
			{code: "nothing == nil", result: "true"},
		}},
		{"a method redefinition keeps values of its type", []step{
			{code: "type P struct{ N int }\nfunc (p P) Get() int { return p.N }"},
			{code: "a := P{4}\nlist := []P{{1}}"},
			{code: "func (p P) Get() int { return -p.N }\na.Get() + list[0].Get()", result: "-5"},
		}},
		{"constants are replayed, not turned into variables", []step{
			{code: "const c = 3\nconst typed int64 = 4\n" + fn},
			{code: fn2 + "\nc * 2.5", result: "7.5"},
			{code: "typed", result: "4"},
		}},
		{"the redefining cell assigns a reset variable again", []step{
			{code: "type pt struct{ X int }"},
			{code: "p := pt{1}"},
			{code: "type pt struct{ X, Y int }\np := pt{1, 2}\np.Y", result: "2", reset: "p"},
			{code: "p", result: "{X:1 Y:2}"},
		}},
		{"an import of another path under a used name", []step{
			{code: "import r \"math/rand\"\nimport \"strings\""},
			{code: "src := r.NewSource(1)\nn := strings.Repeat(\"ab\", 2)"},
			{code: "import r \"strings\"\nr.ToUpper(n)", result: `"ABAB"`, reset: "src"},
		}},
		{"a reset variable waits while its type does not compile", []step{
			{code: "type pt struct{ X int }\n" + fn},
			{code: "p := pt{1}"},
			{code: "type pt struct{ X, Y undefinedType }", err: "undefined: undefinedType"}, // does not compile: nothing changes
			{code: fn2},
			{code: "type pt struct{ X, Y int }\np.Y", result: "0", reset: "p"},
		}},
		{"redefined variable types survive a second rebuild", []step{
			{code: "type T struct{ A int }\n" + fn},
			{code: "x := T{1}\ny := 2"},
			{code: "type T struct{ A, B int }", reset: "x"},
			{code: "x = T{1, 2}"},
			{code: fn2 + "\nfmt.Sprint(x, y)", result: `"{1 2} 2"`},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runSteps(t, c.steps) })
	}
}

func TestUndefinedNames(t *testing.T) {
	runSteps(t, []step{
		{code: "type T int\nvar tv T"},
		{code: "y := undefinedQ", err: "cell:1:6: undefined: undefinedQ"},
		{code: "const c = undefinedC", err: "cell:1:11: undefined: undefinedC"},
		{code: "var vv = undefinedV", err: "cell:1:10: undefined: undefinedV"},
		{code: "var vt T = undefinedT", err: "cell:1:12: undefined: undefinedT"},
		{code: "x := 1\n\nvar v2 *T = &undefinedP", err: "cell:3:14: undefined: undefinedP"},
		{code: "undefinedK", err: "undefined: undefinedK"},
		{code: "undefinedK + 1", err: "undefined: undefinedK"},
		{code: "func h() int { return undefinedH }", err: "undefined: undefinedH"},
		// After failures, yaegi knows undefinedQ as an incomplete type.
		{code: "a, b := 1, undefinedQ", err: "cell:1:12: undefined: undefinedQ"},
		{code: "xs := []int{undefinedQ}", err: "cell:1:13: undefined: undefinedQ"},
		{code: "fl := func() int { return undefinedQ }", err: "cell:1:27: undefined: undefinedQ"},
		{code: "var vf = func() int { return undefinedQ }()", err: "cell:1:30: undefined: undefinedQ"},
		{code: "const (\n\tk1 = 1\n\tk2 = undefinedQ\n)", err: "cell:3:7: undefined: undefinedQ"},
		{code: "type A [undefinedQ]int", err: "cell:1:9: undefined array length undefinedQ or missing type constraint"}, // the compiler's wording
		{code: "tv = 2\ntv = undefinedQ", err: "cell:2:6: undefined: undefinedQ"},
		{code: "\nfmt.Println(undefinedQ)", err: "cell:2:13: undefined: undefinedQ"},
		{code: "type S struct{ A undefinedQ }", err: "cell:1:18: undefined: undefinedQ"},
		{code: "func h(v undefinedQ) {}", err: "cell:1:10: undefined: undefinedQ"},
		{code: "tv + 1", result: "1"}, // the session still works
	})
	for _, code := range []string{"const c = undefinedC", "var vv = undefinedV", "y := undefinedQ"} {
		s, _ := newTestSession(t)
		_, err := s.execute(context.Background(), code)
		if err == nil || strings.Contains(err.Error(), "definition loop") {
			t.Errorf("%q: error %v, want undefined", code, err)
		}
	}
}

// TestStaticType guards the reading of yaegi's internal type strings
// (yaegi has no API for a variable's static type): a yaegi upgrade that
// changes them fails here.
func TestStaticType(t *testing.T) {
	s, _ := newTestSession(t)
	if _, err := s.execute(context.Background(), "type T int\ntype S struct{ A T }\nvar t1 T\ni := 1\nps := []*S{}\nsb := &strings.Builder{}\nm := map[string][]color.RGBA{}\nfn := func(int) (string, error) { return \"\", nil }"); err != nil {
		t.Fatal(err)
	}
	g := s.globals()
	for name, want := range map[string]string{
		"t1": "T", "i": "int", "ps": "[]*S", "sb": "*__unetlab_p0.Builder",
		"m": "map[string][]__unetlab_p0.RGBA", "fn": "func(int) (string, error)",
	} {
		str, ok := s.staticType(name)
		if !ok {
			t.Errorf("%s: no static type", name)
			continue
		}
		got, _, ok := typeSource(str, g[name].Type(), map[string]string{})
		if !ok || got != want {
			t.Errorf("%s: type %q (yaegi %q), want %q", name, got, str, want)
		}
	}
}

// BenchmarkRebuild times a function redefinition in a session holding 50
// variables (ints, slices of a million floats, maps, a library value), all
// carried.
func BenchmarkRebuild(b *testing.B) {
	unverified(b)
	s, _ := newTestSession(&testing.T{})
	var setup strings.Builder
	for i := range 50 {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&setup, "v%d := %d\n", i, i)
		case 1:
			fmt.Fprintf(&setup, "v%d := make([]float64, 1<<20)\n", i)
		case 2:
			fmt.Fprintf(&setup, "v%d := map[string]int{\"a\": %d}\n", i, i)
		default:
			fmt.Fprintf(&setup, "v%d := &strings.Builder{}\n", i)
		}
	}
	ctx := context.Background()
	if _, err := s.execute(ctx, "func f() int { return 0 }"); err != nil {
		b.Fatal(err)
	}
	if _, err := s.execute(ctx, setup.String()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		o, err := s.execute(ctx, fmt.Sprintf("func f() int { return %d }", i+1))
		if err != nil || len(o.reset) > 0 {
			b.Fatal(err, o.reset)
		}
	}
}
