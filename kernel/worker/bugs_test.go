package worker

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// A := inside a block of a top-level statement (yaegi mishandles it in the
// global scope: "undefined: err", or a nil pointer dereference).
func TestBlockScopedDefine(t *testing.T) {
	runSteps(t, []step{
		// The notebook author's cell.
		{code: "root := \"\"\nif root == \"\" { if _, err := os.Stat(\"/nonexistent/go.mod\"); err == nil { root = \"../data\" } else { root = \"none\" } }\nfmt.Println(root)", out: "none\n"},
		// With a sibling if before it and an os.Getenv line.
		{code: "home := os.Getenv(\"HOME\")\nif _, err := os.Stat(\"/\"); err != nil { panic(err) }\nr2 := \"\"\nif r2 == \"\" { if _, err := os.Stat(\"/nonexistent\"); err != nil { r2 = home + \"!\" } }\nfmt.Println(r2 != \"\")", out: "true\n"},
		// := of several values in a range body; two statements on one line.
		{code: "xs := []int{1, 2}\nf := func(i int) (int, float64, error) { return i * 10, float64(i) / 2, nil }\nn := 0; for _, i := range xs { id, d, err := f(i); if err != nil { panic(err) }; n += id; fmt.Printf(\"%d %.1f\\n\", id, d) }\nn", result: "30", out: "10 0.5\n20 1.0\n"},
		// Variables defined at the top level after a wrapped run stay globals.
		{code: "for i := 0; i < 2; i++ { v := i * 2; _ = v }\nafter := n + 1\nswitch k := after % 2; k { case 1: after++ }\nafter", result: "32"},
		{code: "after * 2", result: "64"},
		// A labelled loop with break; a type switch; a plain block.
		{code: "cnt := 0\nouter:\nfor i := 0; i < 3; i++ { for j := 0; j < 3; j++ { if j == 2 { continue outer }; if i == 2 { break outer }; c := 1; cnt += c } }\ncnt", result: "4"},
		{code: "var anyv any = 3\nswitch x := anyv.(type) { case int: y := x + 1; fmt.Println(\"int\", y) }\n{ z := 7; cnt += z }\ncnt", result: "11", out: "int 4\n"},
		// Errors keep the cell's positions.
		{code: "q := 1\nif q == 1 {\n\tw := undefinedName + 1\n\t_ = w\n}", err: "cell:3:7: undefined: undefinedName"},
		{code: "\n  if true { e := 1; e = \"s\" }", err: "cell:2:"},
		// An undefined name in a later chunk fails the cell before the
		// earlier chunks run.
		{code: "fmt.Println(\"ran\")\nm := 1\nif m > 0 {\n\tundefinedLater()\n}", err: "cell:4:2: undefined: undefinedLater"},
		{code: "m", err: "undefined: m"},
	})
}

func TestBlockScopedPanicTraceback(t *testing.T) {
	s, _ := newTestSession(t)
	_, err := s.execute(context.Background(), "x := 0\nif x == 0 {\n\tif y := 1; y == 1 {\n\t\tpanic(\"deep\")\n\t}\n}")
	ce, ok := err.(*cellError)
	if !ok {
		t.Fatalf("error %v, want a cell error", err)
	}
	tb := strings.Join(ce.Traceback, "\n")
	if !strings.Contains(tb, "panic: deep") || !strings.Contains(tb, "at cell (cell:") || strings.Contains(tb, "cell:1:") {
		t.Errorf("traceback %q: want the panic at the cell's top level, in the cell's positions", tb)
	}
}

func TestStmtChunks(t *testing.T) {
	cases := []struct {
		src  string
		want string // chunks as line:col[w]=src, joined by " | "
	}{
		{"a := 1\nb := 2", "1:1=a := 1\nb := 2"},
		{"a := 1\nif a == 1 { b := 2; _ = b }\nc := 3", "1:1=a := 1 | 2:1w=if a == 1 { b := 2; _ = b } | 3:1=c := 3"},
		{"x = 1; for i := range 3 { _ = i }; fmt.Println(x)", "1:1w=x = 1; for i := range 3 { _ = i }; fmt.Println(x)"},
		{"if a { return }", "1:1=if a { return }"}, // return: unchanged
		{"goto l\nl:\nfor {}", "1:1=goto l\nl:\nfor {}"},
		// A top-level defer is lowered (lower-cell-defers): it splits nothing.
		{"f := 1\nif f > 0 { g := 2; _ = g }\ndefer fmt.Println()", "1:1=f := 1 | 2:1w=if f > 0 { g := 2; _ = g }\ndefer fmt.Println()"},
		{"f := func() int { if true { return 1 }; return 2 }\nif f() == 1 {}", "1:1=f := func() int { if true { return 1 }; return 2 } | 2:1w=if f() == 1 {}"},
	}
	for _, c := range cases {
		var got []string
		p := part{Kind: partStmt, Line: 1, Col: 1, Src: c.src}
		a, err := parseCell(c.src, []part{p})
		if err != nil {
			t.Fatalf("%q: %v", c.src, err)
		}
		for _, ch := range stmtChunks(&cellUnit{code: c.src, ast: a}, p) {
			w := ""
			if ch.wrap {
				w = "w"
			}
			got = append(got, fmt.Sprintf("%d:%d%s=%s", ch.p.Line, ch.p.Col, w, ch.p.Src))
		}
		if g := strings.Join(got, " | "); g != c.want {
			t.Errorf("stmtChunks(%q) = %q, want %q", c.src, g, c.want)
		}
	}
}

// yaegi panics ("nil type") on a comma-ok := in the global scope.
func TestCommaOkDefine(t *testing.T) {
	runSteps(t, []step{
		{code: "type pr struct{ N int }\nps := map[string]pr{\"a\": {N: 1}}\nv, ok := ps[\"a\"]\nfmt.Println(v, ok)", out: "{1} true\n"},
		{code: "v2, ok2 := ps[\"zz\"]\nfmt.Println(v2, ok2)\nv2.N", result: "0", out: "{0} false\n"},
		{code: "ok", result: "true"},
		{code: "calls := 0\nkey := func() string { calls++; return \"a\" }\nw, found := ps[key()]\ncalls", result: "1"},
		{code: "w.N + 1", result: "2"},
		{code: "m := map[int]float64{1: 2.5}\n_, has := m[1]\nx, _ := m[1]\nfmt.Println(has, x)", out: "true 2.5\n"},
		{code: "var anyv any = pr{3}\np, isPr := anyv.(pr)\ns, isStr := anyv.(string)\nfmt.Println(p.N, isPr, s == \"\", isStr)", out: "3 true true false\n"},
		{code: "ch := make(chan pr, 1)\nch <- pr{4}\nr, open := <-ch\nclose(ch)\nr0, open0 := <-ch\nfmt.Println(r, open, r0, open0)", out: "{4} true {0} false\n"},
		{code: "cb := make(chan *strings.Builder, 1)\ncb <- &strings.Builder{}\nb, okb := <-cb\nb.WriteString(\"hi\")\nfmt.Println(b.String(), okb)", out: "hi true\n"},
		{code: "found && isPr", result: "true"},
		{code: "\nq, okq := nosuch[\"a\"]", err: "cell:2:11: undefined: nosuch"},
	})
}

// Variables of a top-level multi-value := (yaegi leaves their symbols
// non-global) used from a function called by another function, and from
// a later := (the quickstart's caseDice on ds and net).
func TestMultiValueDefineGlobals(t *testing.T) {
	fn := "func caseDice(i int) (string, float64, error) {\n\tc, err := ds.Parse(fmt.Sprint(i))\n\tif err != nil {\n\t\treturn \"\", 0, err\n\t}\n\treturn c.String() + net.Host, float64(i), nil\n}\n"
	runSteps(t, []step{
		{code: "ds, err := url.Parse(\"http://h/\")\nif err != nil { panic(err) }"},
		{code: "host, port, err := net.SplitHostPort(\"a:1\")\nfirst := host + port"}, // imports package net
		{code: "net, err := url.Parse(\"http://n/\")\nif err != nil { panic(err) }"},
		{code: fn + "func validationDice(val []int) []float64 {\n\tvar out []float64\n\tfor _, i := range val {\n\t\tid, d, err := caseDice(i)\n\t\tif err != nil { panic(err) }\n\t\tfmt.Println(id)\n\t\tout = append(out, d)\n\t}\n\treturn out\n}\nvalidationDice([]int{1, 2})", result: "[1 2]", out: "http://h/1n\nhttp://h/2n\n"},
		{code: "for _, i := range []int{3} {\n\tid, d, err := caseDice(i)\n\tif err != nil { panic(err) }\n\tfmt.Println(id, d)\n}", out: "http://h/3n 3\n"},
		{code: "t := ds\nt.Host + first", result: `"ha1"`},
		{code: "var a, b = strconv.Atoi(\"7\")\nfunc useA() int { return a }\nfunc callA() int { return useA() }\ncallA()", result: "7"},
		{code: "func() int { return callA() + len(net.Host) }()", result: "8"},
	})
}

func TestGlobalizeAssumptions(t *testing.T) {
	s, _ := newTestSession(t)
	if _, err := s.execute(context.Background(), "var declared int\nx, y := strconv.Atoi(\"1\")"); err != nil {
		t.Fatal(err)
	}
	pkgs := reflect.ValueOf(s.in).Elem().FieldByName("srcPkg")
	syms := pkgs.MapIndex(reflect.ValueOf("main"))
	for _, name := range []string{"declared", "x", "y"} {
		e := syms.MapIndex(reflect.ValueOf(name)).Elem()
		if k := e.FieldByName("kind").Uint(); k != yaegiVarSym {
			t.Errorf("%s: yaegi symbol kind %d, want varSym %d: update yaegiVarSym", name, k, yaegiVarSym)
		}
		if !e.FieldByName("global").Bool() {
			t.Errorf("%s: symbol not global after the cell", name)
		}
	}
	if n := s.globalizeVars(); n != 0 {
		t.Errorf("globalizeVars changed %d symbols a second time", n)
	}
}

// An interrupted cell ends only when its evaluation has ended: a compiled
// call that ignores the context is waited for (it used to run on while the
// next cell ran), and the interpreted code after it does not run.
func TestInterruptWaitsForCompiledCall(t *testing.T) {
	s, out := newTestSession(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := s.execute(ctx, "exec.Command(\"sleep\", \"1\").Run()\nfmt.Println(\"after\")")
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "Interrupted") {
		t.Fatalf("error %v, want Interrupted", err)
	}
	if took < 900*time.Millisecond {
		t.Errorf("the cell was reported finished after %v, while its compiled call ran for 1 s", took)
	}
	if strings.Contains(out.String(), "after") {
		t.Errorf("the code after the interrupted call ran: %q", out.String())
	}
	if o, err := s.execute(context.Background(), "1+1"); err != nil || o.result["text/plain"] != "2" {
		t.Errorf("next cell: %v %v", o.result, err)
	}
}

// time.Sleep in a cell ends at the interrupt (the one compiled call that
// sees it); a sleep in a goroutine of an earlier cell is not cut short by
// the end of the cell.
func TestInterruptSleep(t *testing.T) {
	s, out := newTestSession(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := s.execute(ctx, "for i := 0; i < 3; i++ {\n\ttime.Sleep(10 * time.Second)\n}\nfmt.Println(\"after\")")
	if err == nil || !strings.Contains(err.Error(), "Interrupted") {
		t.Fatalf("error %v, want Interrupted", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("time.Sleep ended %v after the cell started, want at the interrupt (200 ms)", took)
	}
	if strings.Contains(out.String(), "after") {
		t.Errorf("the code after the loop ran: %q", out.String())
	}
	if _, err := s.execute(context.Background(), "t0 := time.Now()\nslept := make(chan time.Duration, 1)\ngo func() { time.Sleep(300 * time.Millisecond); slept <- time.Since(t0) }()"); err != nil {
		t.Fatal(err)
	}
	o, err := s.execute(context.Background(), "(<-slept) >= 300*time.Millisecond")
	if err != nil || o.result["text/plain"] != "true" {
		t.Errorf("a goroutine's sleep after its cell ended: %v %v, want the full 300 ms", o.result, err)
	}
}

func TestStopHandles(t *testing.T) {
	s, _ := newTestSession(t)
	if _, ok := stopHandles(s.in); !ok {
		t.Fatal("yaegi's interpreter lacks the fields evalCtx uses (mutex, done, cancelChan, id): interrupted cells would run on")
	}
}

// yaegi drops the other values of a multi-value assignment with a
// composite literal, a call or a receive on the right; the session
// parenthesises those operands (multiassign.go).
func TestMultiAssignKeepsValues(t *testing.T) {
	runSteps(t, []step{
		{code: "func f() { var a [3]int; var b int; a, b = [3]int{1, 2, 3}, 10; fmt.Println(a, b) }\nf()", out: "[1 2 3] 10\n"},
		{code: "a, b := []int{1}, 10\nfmt.Println(a, b)", out: "[1] 10\n"},
		{code: "g := func() int { return 5 }\nvar c, d int\nc, d = g(), 10\nfmt.Println(c, d)", out: "5 10\n"},
		{code: "ch := make(chan int, 1)\nch <- 3\nfor i := 0; i < 1; i++ { x, y := <-ch, 4; fmt.Println(x, y) }", out: "3 4\n"},
		{code: "type pt struct{ X int }\nvar p, n = pt{X: 1}, 7\nfunc h() (pt, int) { q, m := pt{2}, 8; return q, m }\nfmt.Println(p, n)\nfmt.Println(h())", out: "{1} 7\n{2} 8\n"},
		{code: "func h() (pt, int) { q, m := pt{3}, 9; return q, m }\nh()", reset: "g,n,p"}, // a redefinition replays the fixed source (resets as documented)
		{code: "fmt.Println(h())", out: "{3} 9\n"},
		{code: "s, t := 1, 2\ns, t = t, s\nfmt.Println(s, t)", out: "2 1\n"},
		{code: "u, v := \"a,=\", []string{\"x\"}\nfmt.Println(u, v)", out: "a,= [x]\n"},
	})
}

func TestParenMulti(t *testing.T) {
	cases := []struct{ in, want string }{
		{"a, b = [3]int{1}, 10", "a, b = ([3]int{1}), 10"},
		{"a, b := f(), <-c", "a, b := (f()), (<-c)"},
		{"var a, b = T{}, g(x)", "var a, b = (T{}), (g(x))"},
		{"a := T{}", "a := T{}"},
		{"a, b := f()", "a, b := f()"},
		{"a, b = b, a", "a, b = b, a"},
		{"x, y := func() int { p, q := T{}, 1; return p.n + q }(), 2", "x, y := (func() int { p, q := (T{}), 1; return p.n + q }()), 2"},
		{"func f() { a, b := T{}, 1 }", "func f() { a, b := (T{}), 1 }"},
		{"not go (", "not go ("},
	}
	for _, c := range cases {
		if got := parenMulti(c.in); got != c.want {
			t.Errorf("parenMulti(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestFuncsOnly(t *testing.T) {
	src, ok := funcsOnly(part{Kind: partDecl, Line: 2, Col: 3, Src: "var a, b = f()\nfunc g() int { return a }\ntype T int\nfunc (T) M() {}\nfunc init() { println() }"})
	want := "\n\n  " + strings.Repeat(" ", len("var a, b = f()")) + "\nfunc g() int { return a }\n" +
		strings.Repeat(" ", len("type T int")) + "\n" + strings.Repeat(" ", len("func (T) M() {}")) + "\n" +
		strings.Repeat(" ", len("func init() { println() }"))
	if !ok || src != want {
		t.Errorf("funcsOnly = %q, %v; want %q", src, ok, want)
	}
	if _, ok := funcsOnly(part{Kind: partDecl, Line: 1, Col: 1, Src: "var a, b = f()"}); ok {
		t.Error("funcsOnly of a part without functions: ok")
	}
}
