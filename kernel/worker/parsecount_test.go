package worker

import (
	"context"
	"testing"
)

// A cell is parsed once: split (go/scanner), then one parse that every
// later step reads (declarations, imports, auto-imports, the type check,
// the lowering passes, statement chunks, multi-assignment parentheses,
// the result). The one other parse of a cell's run is the session file
// of the type check (the declarations and variables of earlier cells),
// not the cell, and only when that file changed since the cell before.
func TestCellParsedOnce(t *testing.T) {
	s, _ := newTestSession(t)
	cells := []struct{ name, code string }{
		{"expression", "1+1"},
		{"define and result", "x := 3\nx * 2"},
		{"function and call", "func f(n int) int { return n + 1 }\nf(x)"},
		{"type, fmt lowering", "type P struct{ X int }\nfunc (p P) String() string { return \"P\" }\np := P{1}\nfmt.Println(p)"},
		{"scoped statements in chunks", "if x > 1 {\n\tfmt.Println(\"big\")\n}\nys := []int{1, 2}\nfor _, y := range ys {\n\tx += y\n}\nx"},
		{"multi-value declarations", "var q, r = []int{1}, 2\nfunc g() (int, error) { return 1, nil }\ngv, gerr := g()\nfmt.Println(q, r, gv, gerr)"},
		{"comma-ok and auto-import", "m := map[string]int{}\nv, ok := m[\"k\"]\nstrings.Repeat(\"a\", v+1) + fmt.Sprint(ok)"},
		{"index lowering", "func at(xs []int, i int) int { return xs[i] }\nat(ys, 1)"},
		{"method", "type Q int\nfunc (q Q) Twice() Q { return 2 * q }\nfunc (n int) int { return n }(1) + int(Q(3).Twice())"},
	}
	for _, c := range cells {
		all, own := parses.Load(), cellParses.Load()
		if _, err := s.execute(context.Background(), c.code); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n := cellParses.Load() - own; n != 1 {
			t.Errorf("%s: the cell was parsed %d times, want once", c.name, n)
		}
		if n := parses.Load() - all; n < 1 || n > 2 {
			t.Errorf("%s: %d parses, want the cell's and at most the session file's", c.name, n)
		}
	}
	// The session file is parsed again only when it changed: a cell that
	// declares nothing leaves it as it was for the next cell; one that
	// defines a variable changes it.
	for _, c := range []struct {
		code string
		want int64
	}{
		{"x + 1", 2}, // the session holds what the cells above defined
		{"x + 2", 1}, // ... and nothing changed since
		{"x + 3", 1},
		{"w := 5", 1},
		{"w + x", 2}, // w joined the session
		{"w", 1},
	} {
		all := parses.Load()
		if _, err := s.execute(context.Background(), c.code); err != nil {
			t.Fatalf("%s: %v", c.code, err)
		}
		if n := parses.Load() - all; n != c.want {
			t.Errorf("%s: %d parses, want %d", c.code, n, c.want)
		}
	}
	// A redefinition rebuilds the interpreter, which parses the earlier
	// cells' declarations it replays; the cell itself is parsed once.
	own := cellParses.Load()
	if _, err := s.execute(context.Background(), "func f(n int) int { return n + 2 }\nf(1)"); err != nil {
		t.Fatal(err)
	}
	if n := cellParses.Load() - own; n != 1 {
		t.Errorf("redefinition: the cell was parsed %d times, want once", n)
	}
}
