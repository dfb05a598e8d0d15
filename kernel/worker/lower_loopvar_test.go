package worker

import "testing"

func TestLowerLoopVar(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "closure", code: "var fs []func() int\nfor i := 0; i < 3; i++ { fs = append(fs, func() int { return i }) }",
			has: []string{"{ i := i; fs = append"}},
		{name: "not captured", code: "s := 0\nfor i := 0; i < 3; i++ { s += i }", hasNot: []string{"i := i"}},
		{name: "range", code: "var fs []func() string\nfor k, v := range map[string]string{} { fs = append(fs, func() string { return k + v }) }",
			has: []string{"{ k, v := k, v;"}},
		{name: "address", code: "var ps []*int\nfor _, v := range []int{1} { ps = append(ps, &v) }", has: []string{"{ v := v;"}},
		{name: "range assign", code: "var i int\nvar a [3]int\nfor i, a[0] = range [5]int{} {}\n_ = i",
			has: []string{"for __unetlab_ra1, __unetlab_ra2 := range [5]int{} { i, a[0] = __unetlab_ra1, __unetlab_ra2;}"}},
		{name: "changed in the body", code: "var fs []func() int\nfor i := 0; i < 6; i++ { fs = append(fs, func() int { return i }); i++ }",
			has: []string{"for __unetlab_lv1 := 0; __unetlab_lv1 < 6; __unetlab_lv1++ { i := __unetlab_lv1;", "; __unetlab_lv1 = i }"}},
		{name: "changed and continued", code: "var fs []func() int\nfor i := 0; i < 6; i++ { fs = append(fs, func() int { return i }); i++; if i > 2 { continue } }",
			err: "cannot run faithfully: the loop variable i is captured and changed"},
		{name: "pointer field is not the variable", code: "type N struct{ v int; next *N }\nvar h *N\nfor p := h; p != nil; p = p.next { _ = &p.v; continue }",
			hasNot: []string{"p := p"}},
	})
}
