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

func TestFmtDynTypeTwins(t *testing.T) {
	for _, c := range []struct {
		shapes string
		v      any
		want   string // "" for a refusal
	}{
		{"", 1.5, "float64"},
		{"<float64>", 1.5, ""},
		{"<float64>", "s", "string"},
		{"{X}<[]string>", []string{"a"}, ""},
		{"<[]string>", []int{1}, "[]int"},
	} {
		got := func() (s string) {
			defer func() {
				if r := recover(); r != nil {
					s = ""
				}
			}()
			return fmtDynType(c.shapes, c.v)
		}()
		if got != c.want {
			t.Errorf("fmtDynType(%q, %#v) = %q, want %q", c.shapes, c.v, got, c.want)
		}
	}
}
