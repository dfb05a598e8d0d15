package worker

import "testing"

func TestLowerRangeFunc(t *testing.T) {
	seq := "func seq(yield func(int) bool) { for i := 0; i < 3; i++ { if !yield(i) { return } } }\n"
	runLowerCases(t, []lowerCase{
		{name: "body is the yield function", code: seq + "for x := range seq { if x == 1 { continue }; if x > 1 { break }; fmt.Println(x) }",
			has: []string{"seq(func(x int) bool {", "if x == 1 { return true }", "if x > 1 { { __unetlab_rfdone1 = true; return false } }", "; return true }); __unetlab_rfdone1 = true; }"}},
		{name: "break in a switch stays", code: seq + "for x := range seq { switch x { case 1: break } }", has: []string{"case 1: break"}},
		{name: "return", code: seq + "func first() (int, bool) { for x := range seq { return x, true }; return 0, false }",
			has: []string{"var __unetlab_rfret2 bool; var __unetlab_rfv3 int; var __unetlab_rfv4 bool;", "{ __unetlab_rfret2 = true; __unetlab_rfdone1 = true; __unetlab_rfv3, __unetlab_rfv4 = x, true; return false }", "if __unetlab_rfret2 { return __unetlab_rfv3, __unetlab_rfv4 }"}},
		{name: "return without results", code: seq + "func f() { for x := range seq { if x > 0 { return } } }",
			has: []string{"if x > 0 { { __unetlab_rfret2 = true; __unetlab_rfdone1 = true; return false } }", "if __unetlab_rfret2 { return  }"}},
		{name: "defer", code: seq + "func f() { for x := range seq { defer fmt.Println(x) } }",
			has: []string{"var __unetlab_rfdefers2 []func(); defer func() {", "if len(fs) > 0 { defer fs[0](); __unetlab_rfrun3(fs[1:]) }", "__unetlab_rfdefers2 = append(__unetlab_rfdefers2, func() { fmt.Println(__unetlab_da1) })"}},
		{name: "nested defers go to the outer loop's list", code: seq + "func f() { for x := range seq { for y := range seq { defer fmt.Println(x, y) } } }",
			has: []string{"__unetlab_rfdefers2 = append(__unetlab_rfdefers2, func() { fmt.Println(__unetlab_da1, __unetlab_da2) })"}, hasNot: []string{"__unetlab_rfdefers5"}},
		{name: "a function name is called bare", code: seq + "func g() { for x := range (seq) { _ = x } }", has: []string{"bool; seq(func(x int) bool {"}},
		{name: "defer among the cell's statements: the cell's", code: seq + "for x := range seq { defer fmt.Println(x) }",
			has: []string{"__unetlab_defers = append(__unetlab_defers, func() { fmt.Println(__unetlab_da1) })"}, hasNot: []string{"rfdefers"}},
		{name: "defer that may recover refused", code: seq + "func f() { for x := range seq { defer func() { recover() }(); _ = x } }", err: "a deferred call that may recover"},
		{name: "outer label refused", code: seq + "func f() {\nL:\n\tfor range 2 { for x := range seq { _ = x; continue L } }\n}", err: "cannot run faithfully: continue L out of a range over a function"},
		{name: "goto refused", code: seq + "func f() { for x := range seq { _ = x; goto E }\nE:\n}", err: "cannot run faithfully: goto"},
	})
}
