package worker

import "testing"

func TestLowerBuiltins(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "range int", code: "for i := range 3 { fmt.Println(i) }",
			has: []string{"for __unetlab_rc1, __unetlab_rn2 := int(0), 3; __unetlab_rc1 < __unetlab_rn2; __unetlab_rc1++ { i := __unetlab_rc1;"}},
		{name: "range typed", code: "var n uint8 = 2\nfor range n {}", has: []string{"uint8(0), n;"}},
		{name: "range assign", code: "var j int64\nfor j = range 4 {}\n_ = j", has: []string{"int64(0), 4;", "{ j = __unetlab_rc1;"}},
		{name: "range string", code: "for i, r := range \"a\\xffb\" { fmt.Println(i, r) }",
			has: []string{"for __unetlab_ss1, __unetlab_si2, __unetlab_sw3 := \"a\\xffb\", 0, 0; __unetlab_si2 < len(__unetlab_ss1); __unetlab_si2 += __unetlab_sw3 {", "i, r := __unetlab_si2, __unetlab_sr4;"}},
		{name: "min constant", code: "const k = min(4, 2, 8)", has: []string{"const k = (2)"}},
		{name: "max typed constant", code: "const k int8 = 3\nx := max(k, 1)\n_ = x", has: []string{"(int8(3))"}},
		{name: "min ints", code: "a, b := 1, 2\nx := min(a, b)\n_ = x", has: []string{"func(a0, a1 int) int { r := a0; if a1 < r { r = a1 }; return r }(a, b)"}},
		{name: "max floats", code: "a := 1.5\nx := max(a, 2, 0.5)\n_ = x", has: []string{"func(a0, a1, a2 float64) float64 {", "1/r < 0"}},
		{name: "min of one", code: "a := 1\nx := min(a)\n_ = x", has: []string{"x := (a)"}},
		{name: "new expr", code: "x := 2\np, q := new(x+1), new(int)\n_, _ = p, q", has: []string{"func(v int) *int { return &v }(x+1), new(int)"}},
		{name: "clear", code: "m := map[int]int{}\nclear(m)", has: []string{"__unetlab_help.Clear(m)"}},
	})
}

func TestLowerBuiltinsRun(t *testing.T) {
	runSteps(t, []step{
		{code: "x, y := 0.0, 1.0\nz := -x\nnan := x / x * y", out: ""},
		{code: "fmt.Println(min(z, x), max(z, x), min(nan, 1.0), max(2.0, nan))", out: "-0 0 NaN NaN\n"},
		{code: "for i, r := range \"a\\xffb\" { fmt.Print(i, r, \" \") }", out: "0 97 1 65533 2 98 "},
		{code: "s := []string{\"a\", \"b\"}\nclear(s)\nfmt.Printf(\"%q\\n\", s)", out: "[\"\" \"\"]\n"},
	})
}
