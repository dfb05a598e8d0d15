package worker

import "testing"

func TestLowerFmtContainers(t *testing.T) {
	decl := "type P struct{ X int }\nfunc (p P) String() string { return \"p\" }\n"
	runLowerCases(t, []lowerCase{
		{name: "slice", code: decl + "fmt.Println([]P{{1}})",
			has: []string{"fmt.Println(func(s []P) []fmt.Stringer { if s == nil { return nil }; r := make([]fmt.Stringer, len(s)); for i, v := range s { r[i] = func(v P) fmt.Stringer { return __unetlab_help.String(v.String) }(v) }; return r }([]P{{1}}))"}},
		{name: "map", code: decl + "fmt.Println(map[int]P{})", has: []string{"func(m map[int]P) map[int]fmt.Stringer {"}},
		{name: "verb %d left alone", code: decl + "fmt.Printf(\"%d\", []P{})", hasNot: []string{"fmt.Stringer"}},
		{name: "named container left alone", code: decl + "type Ps []P\nfmt.Println(Ps{})", hasNot: []string{"fmt.Stringer"}},
		{name: "pointers left alone", code: decl + "fmt.Println([]*P{})", hasNot: []string{"fmt.Stringer"}},
	})
}
