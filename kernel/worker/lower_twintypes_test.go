package worker

import "testing"

func TestLowerTwinTypes(t *testing.T) {
	const decls = "type F float64\ntype T int\nfunc (T) M() {}\n"
	runLowerCases(t, []lowerCase{
		{name: "known tag: other type false", code: decls + "switch i := interface{}(1.5); i {\ncase F(1.5):\ncase 1.5:\n}",
			has: []string{"case func(any) bool { return false }(F(1.5)):", "__unetlab_sw1 == 1.5"}},
		{name: "known tag: same type compared", code: decls + "switch any(F(2)) {\ncase 2.0:\ncase F(2):\n}",
			has: []string{"case func(any) bool { return false }(2.0):", ".(F); return __unetlab_eok && __unetlab_ev == __unetlab_ec }(__unetlab_sw1, F(2.0))"}},
		{name: "known tag: case evaluated", code: decls + "g := func() F { return 1 }\nswitch v := any(1.0); v {\ncase g():\n}",
			has: []string{"func(any) bool { return false }(g())"}},
		{name: "tag assigned: not known", code: decls + "switch v := any(1.0); v {\ncase F(1):\n\tv = 2\ncase 1.0:\n}",
			err: "cell:7:6: cannot run faithfully: case values of the types F and float64 in one switch on an interface"},
		{name: "twin case values refused", code: decls + "var v any\nswitch v {\ncase 1.0:\ncase F(1):\n}",
			err: "cell:7:6: cannot run faithfully: case values of the types float64 and F"},
		{name: "no twins accepted", code: decls + "var v any\nswitch v {\ncase 1:\ncase F(1):\n}", hasNot: []string{"cannot run faithfully"}},
		{name: "type switch twins refused", code: decls + "var v any\nswitch v.(type) {\ncase F:\ncase float64:\n}",
			err: "cases of the types F and float64"},
		{name: "type switch twins refused with a variable", code: decls + "type G float64\nvar v any\nswitch x := v.(type) {\ncase F, G:\n\t_ = x\n}",
			err: "cases of the types F and G"},
		{name: "type switch gets a variable", code: decls + "var v any\nswitch v.(type) {\ncase F:\ncase int:\n}",
			has: []string{"switch __unetlab_tsv1 := v.(type) {\ncase F: _ = __unetlab_tsv1;"}},
		{name: "methods only: no variable", code: decls + "var v any\nswitch v.(type) {\ncase T:\n}", hasNot: []string{"__unetlab_tsv"}},
		{name: "mixed refused", code: decls + "var v any\nswitch v.(type) {\ncase T:\ncase F:\n}",
			err: "cell:7:6: cannot run faithfully: a type switch without a variable with a case of F, a cell type without methods, and one of T, a cell type with methods"},
	})
}
