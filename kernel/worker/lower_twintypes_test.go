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
		{name: "type switch on the clause index", code: decls + "var v any\nswitch v.(type) {\ncase F:\ncase T, int:\ncase nil:\ndefault:\n}",
			has: []string{"switch func(__unetlab_tiv any) int { switch __unetlab_tiw := __unetlab_tiv.(type) { case F: _ = __unetlab_tiw; return 1 }; switch __unetlab_tiv.(type) { case T: return 2 }; switch __unetlab_tiv.(type) { case int: return 2 }; if __unetlab_tiv == nil { return 3 }; return 0 }(v) {\ncase 1:\ncase 2:\ncase 3:\ndefault:"}},
		{name: "methods only: no index", code: decls + "var v any\nswitch v.(type) {\ncase T:\n}", hasNot: []string{"__unetlab_ti"}},
		{name: "value made bare", code: decls + "type P struct{}\nfunc (*P) M() {}\nvar v any\nswitch x := v.(type) {\ncase T, *P:\n\t_ = x\n}",
			has: []string{"switch x := func(__unetlab_tnv any) any { switch __unetlab_tnv.(type) { case T: __unetlab_tnw, _ := __unetlab_tnv.(T); return __unetlab_tnw; case *P: __unetlab_tnw, _ := __unetlab_tnv.(*P); return __unetlab_tnw; }; return __unetlab_tnv }(v).(type) {"}},
		{name: "no bare value beside its underlying type", code: decls + "var v any\nswitch x := v.(type) {\ncase int, T:\n\t_ = x\n}", hasNot: []string{"__unetlab_tn"}},
		{name: "no bare value beside an interface", code: decls + "var v any\nswitch x := v.(type) {\ncase T, fmt.Stringer:\n\t_ = x\n}", hasNot: []string{"__unetlab_tn"}},
	})
}

func TestLowerConcreteAsserts(t *testing.T) {
	const decls = "type K int\nfunc (K) M() {}\ntype R int\nfunc (R) M() {}\n"
	runLowerCases(t, []lowerCase{
		{name: "to a cell type", code: decls + "var v any\nr := v.(R)\n_ = r",
			has: []string{`r := func(__unetlab_ca any) R { switch __unetlab_ca.(type) { case K: panic("interface conversion: interface {} is main.K, not main.R"); }; return __unetlab_ca.(R) }(v)`}},
		{name: "comma-ok", code: decls + "var v any\nr, ok := v.(R)\n_, _ = r, ok",
			has: []string{`func(__unetlab_ca any) (R, bool) { switch __unetlab_ca.(type) { case K: var z R; return z, false }; v, ok := __unetlab_ca.(R); return v, ok }(v)`}},
		{name: "to the underlying type", code: decls + "var v any\n_, ok := v.(int)\n_ = ok",
			has: []string{"case K, R: var z int; return z, false"}},
		{name: "no twin: left", code: "type K int\nfunc (K) M() {}\nvar v any\n_ = v.(K)", hasNot: []string{"__unetlab_ca"}},
		{name: "error asserted refused", code: decls + "type E int\nfunc (E) Error() string { return \"\" }\ntype D int\nfunc (D) Error() string { return \"\" }\nvar err error\n_, ok := err.(E)\n_ = ok",
			err: "cannot run faithfully: an error asserted to E, which another cell error type (D) is over the same type as"},
		{name: "error compared refused", code: "type E int\nfunc (E) Error() string { return \"\" }\ntype D int\nfunc (D) Error() string { return \"\" }\nvar err error\n_ = err == E(1)",
			err: "cell:6:5: cannot run faithfully: an error compared with a value of E, which another cell error type (D) is over the same type as"},
		{name: "error beside a type that is no error", code: "type E int\nfunc (E) Error() string { return \"\" }\ntype L int\nfunc (L) String() string { return \"\" }\nvar err error\n_ = err == E(1)\n_, ok := err.(E)\n_ = ok",
			hasNot: []string{"cannot run faithfully"}},
	})
}

func TestRefuseTwinKeys(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "cell type and its underlying type", code: "type F float64\nm := map[any]int{}\nm[F(1)] = 1\nm[1.0] = 2",
			err: "cell:4:3: cannot run faithfully: values of the types F and float64 as keys of one map"},
		{name: "with methods too", code: "type T int\nfunc (T) M() {}\nm := map[any]int{T(1): 1, 2: 2}\n_ = m",
			err: "cell:3:27: cannot run faithfully: values of the types T and int as keys of one map"},
		{name: "other types accepted", code: "type T int\nfunc (T) M() {}\nm := map[any]int{T(1): 1, \"s\": 2, 2.5: 3}\n_ = m", hasNot: []string{"cannot run faithfully"}},
		{name: "maps apart accepted", code: "type F float64\nm := map[any]int{}\nn := map[string]int{}\nm[F(1)] = 1\nn[\"a\"] = 2\n_ = n", hasNot: []string{"cannot run faithfully"}},
	})
}
