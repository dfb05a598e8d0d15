package worker

import "testing"

func TestLowerFinalizers(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "a literal's variables become pointers", code: "import \"runtime\"\nfunc f() { n := 0; x := new(int); runtime.SetFinalizer(x, func(p *int) { n += *p }); _ = n }",
			has: []string{"runtime.SetFinalizer(x, __unetlab_fin_f_1(&n))", "var __unetlab_fin_f_1 = func(__unetlab_fv_n *int) func(p *int) { return func(p *int) { (*__unetlab_fv_n) += *p } }"}},
		{name: "a function of the cell", code: "import \"runtime\"\nfunc done(p *int) bool { return true }\nfunc f() { runtime.SetFinalizer(new(int), done) }",
			has: []string{"__unetlab_fin_f_1)) }", "var __unetlab_fin_f_1 = func(__unetlab_fa *int) bool { return done(__unetlab_fa) }"}},
		{name: "a method's", code: "import \"runtime\"\ntype T struct{}\nfunc (t *T) f() { runtime.SetFinalizer(t, func(*T) {}) }",
			has: []string{"var __unetlab_fin_T_f_1 = func() func(*T) { return func(*T) {} }"}},
		{name: "a local type stays", code: "import \"runtime\"\nfunc f() { type L int; runtime.SetFinalizer(new(int), func(p *int) { _ = L(*p) }) }",
			hasNot: []string{"__unetlab_fin_"}},
		{name: "among the cell's statements it stays", code: "import \"runtime\"\nruntime.SetFinalizer(new(int), func(p *int) {})",
			hasNot: []string{"__unetlab_fin_"}},
	})
}
