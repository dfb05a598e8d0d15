package worker

import "testing"

func TestLowerDefer(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "argument", code: "func f() {\n\tfor i := 0; i < 3; i++ {\n\t\tdefer fmt.Println(\"d\", i)\n\t}\n}",
			has: []string{`{ __unetlab_da1 := i; defer fmt.Println("d", __unetlab_da1) }`}},
		{name: "constants stay", code: "func f() { defer fmt.Println(\"x\", 1, nil) }",
			has: []string{`defer fmt.Println("x", 1, nil)`}, hasNot: []string{"__unetlab_da"}},
		{name: "value receiver copied", code: "type T struct{ n int }\nfunc (t T) show() {}\nfunc f() { t := T{}; defer t.show(); t.n = 2 }",
			has: []string{"__unetlab_dr1 := t; defer __unetlab_dr1.show()"}},
		{name: "pointer receiver of a value", code: "type T struct{ n int }\nfunc (t *T) inc() {}\nfunc f() { var t T; defer t.inc() }",
			has: []string{"__unetlab_dr1 := &t; defer __unetlab_dr1.inc()"}},
		{name: "func variable", code: "func f() { g := func(int) {}; x := 1; go g(x) }",
			has: []string{"__unetlab_df1 := g; __unetlab_da2 := x; go __unetlab_df1(__unetlab_da2)"}},
		{name: "several results", code: "func two() (int, int) { return 1, 2 }\nfunc f() { defer fmt.Println(two()) }",
			has: []string{"__unetlab_da1, __unetlab_da2 := two(); defer fmt.Println(__unetlab_da1, __unetlab_da2)"}},
		{name: "recover left alone", code: "func f() { defer recover() }", has: []string{"defer recover()"}, hasNot: []string{"__unetlab"}},
		{name: "top level deferred to the cell's end", code: "x := 1\ndefer fmt.Println(x)",
			has: []string{"{ __unetlab_da1 := x; __unetlab_defers = append(__unetlab_defers, func() { fmt.Println(__unetlab_da1) }) }"}},
		{name: "top level literal", code: "defer func() { fmt.Println(1) }()",
			has: []string{"__unetlab_defers = append(__unetlab_defers, func() { func() { fmt.Println(1) }() })"}},
		{name: "top level recover refused", code: "defer func() { recover() }()\npanic(1)", err: "cell:1:1: cannot run faithfully: a deferred call among the cell's statements that may call recover"},
		{name: "top level recover in a nested literal", code: "defer func() { f := func() { recover() }; _ = f }()", hasNot: []string{"cannot run faithfully"}},
		{name: "top level defer recover refused", code: "defer recover()", err: "cannot run faithfully: a deferred call among the cell's statements that may call recover"},
		{name: "top level cell function that recovers", code: "func r() { recover() }\ndefer r()", err: "cannot run faithfully: a deferred call among the cell's statements that may call recover"},
	})
}
