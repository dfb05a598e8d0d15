package worker

import (
	"strings"
	"testing"
)

func TestLowerFmtValues(t *testing.T) {
	decl := "type P struct{ X int }\nfunc (p P) String() string { return \"p\" }\n"
	runLowerCases(t, []lowerCase{
		{name: "named", code: decl + "fmt.Println(P{1})",
			has: []string{`__unetlab_help.FmtNamed("main.P", x, nil, nil, nil, func() string { return x.String() })`}},
		{name: "slice", code: decl + "fmt.Println([]P{{1}})",
			has: []string{`__unetlab_help.FmtSeq("[]main.P", false, x == nil, r)`}},
		{name: "struct field", code: decl + "type W struct{ In P; n int }\nfmt.Printf(\"%+v\\n\", W{})",
			has: []string{`__unetlab_help.FmtStruct("", []string{"In", "n"}, []bool{true, false}, []any{__unetlab_f1(x.In), __unetlab_help.FmtLeaf(x.n)})`}},
		{name: "%T", code: decl + "fmt.Printf(\"%5T|%v\\n\", &P{}, 1)",
			has: []string{`fmt.Printf("%5s|%v\n", __unetlab_help.FmtTypeName("*main.P", &P{}), 1)`}},
		{name: "%T of an interface", code: "var e error\nfmt.Printf(\"%T\", e)",
			has: []string{`__unetlab_help.FmtDynType("", e)`}},
		{name: "compiled operands left alone", code: "fmt.Println(1, \"a\", time.Second)", hasNot: []string{"__unetlab_help"}},
		{name: "%p left alone", code: decl + "fmt.Printf(\"%p\", &P{})", hasNot: []string{"__unetlab_help"}},
		{name: "explicit indexes refused", code: decl + "fmt.Printf(\"%[1]v\", P{})", err: "cannot run faithfully: a format with explicit argument indexes"},
		{name: "log", code: decl + "log.Println(P{})", has: []string{`FmtNamed("main.P"`}},
	})
}

func TestFmtDirectives(t *testing.T) {
	for _, c := range []struct {
		format, want string
		ok           bool
	}{
		{"%v %% %5.2f %T", "v0 f1 T2", true},
		{"%*d %-*.*s|%x", "*0 d1 *2 *3 s4 x5", true},
		{"%[2]v", "", false},
		{"é%vé", "v0", true},
	} {
		ds, ok := fmtDirectives(c.format)
		var got []string
		for _, d := range ds {
			got = append(got, string(d.verb)+string(rune('0'+d.arg)))
		}
		if ok != c.ok || strings.Join(got, " ") != c.want {
			t.Errorf("fmtDirectives(%q) = %v %v, want %q %v", c.format, got, ok, c.want, c.ok)
		}
	}
}

func TestGoTypeName(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "struct", code: "type P struct{ X int }\nfmt.Printf(\"%T\", struct{ A P; B []map[string]*P `json:\"b\"` }{})",
			has: []string{"\"struct { A main.P; B []map[string]*main.P \\\"json:\\\\\\\"b\\\\\\\"\\\" }\""}},
		{name: "func and chan", code: "type P struct{}\nfmt.Printf(\"%T\", struct{ F func(...P) (int, error); C <-chan P }{})",
			has: []string{`struct { F func(...main.P) (int, error); C <-chan main.P }`}},
	})
}

// A cell's result of a type holding cell types shows their String and
// Error methods, as fmt's %+v of it would under go run.
func TestResultTextOfCellTypes(t *testing.T) {
	runSteps(t, []step{
		{code: "type P struct{ X, Y int }\nfunc (p P) String() string { return fmt.Sprintf(\"(%d,%d)\", p.X, p.Y) }\ntype W struct {\n\tIn P\n\tN  int\n}\ntype E struct{ C int }\nfunc (e *E) Error() string { return \"E!\" }"},
		{code: "W{P{1, 2}, 3}", result: "{In:(1,2) N:3}"},
		{code: "[]P{{1, 2}}", result: "[(1,2)]"},
		{code: "&E{1}", result: "E!"},
		{code: "P{5, 6}", result: "(5,6)"},
		{code: "map[string]W{\"a\": {}}", result: "map[a:{In:(0,0) N:0}]"},
		{code: "struct{ A []*E }{[]*E{{2}}}", result: "{A:[E!]}"},
	})
}

func TestLowerFmtDynSwitch(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "any field", code: "type Rect struct{ W, H float64 }\ntype L struct{ Any any }\nfmt.Println(L{Rect{4, 5}})",
			has: []string{"case Rect: return"}},
	})
}
