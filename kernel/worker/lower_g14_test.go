package worker

import "testing"

func TestLowerShifts(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "typed operand", code: "var val uint64\npos := 3\nval = val | 1<<uint(pos)", has: []string{"(uint64(1) << uint(pos))"}},
		{name: "float count", code: "x := 1\ny := x << 1.\n_ = y", has: []string{"(x << uint(1))"}},
		{name: "complex count", code: "x := 1\ny := x << (1 + 0i)\n_ = y", has: []string{"(x << uint(1))"}},
		{name: "assign", code: "x := 1\nx <<= 2.", has: []string{"x <<= uint(2)"}},
		{name: "assign keeps lowering its left operand", code: "m := map[uint64]uint64{}\nvar v uint64\nk := 3\nm[v|1<<k] <<= 2.", has: []string{"m[v|(uint64(1) << k)] <<= uint(2)"}},
		{name: "int literal", code: "x := 1\ny := x << 2\n_ = y", hasNot: []string{"uint(2)"}},
	})
}

func TestLowerShiftCount(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "shift as count", code: "x := 1\ny := x << (1 << x)\n_ = y", has: []string{"x << ((uint(1) << x))"}},
	})
}

func TestLowerSwitches(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "interface tag", code: "var i any = \"a\"\nswitch i {\ncase 42, \"a\":\n}", has: []string{"switch __unetlab_sw1 := i; {", "case __unetlab_sw1 == 42 || __unetlab_sw1 == \"a\":"}},
		{name: "init", code: "switch i := any(1.0); i {\ncase nil:\n}", has: []string{"switch i := any(1.0); { default: switch __unetlab_sw1 := i; {", "case __unetlab_sw1 == nil:", "} }"}},
		{name: "tagless several", code: "x := 3\nswitch {\ncase x == 2, x == 3:\n}", has: []string{"case x == 2 || x == 3:"}},
		{name: "bool tag several", code: "x := 3\nswitch true {\ncase x == 2, x == 3:\n}", has: []string{"case __unetlab_sw1 == (x == 2) || __unetlab_sw1 == (x == 3):"}},
		{name: "tagless interface", code: "i := any(true)\nswitch {\ncase i:\n}", has: []string{"case true == i:"}},
		{name: "cell type case", code: "type W uint16\nfunc (W) M() {}\nvar i any = W(1)\nswitch i {\ncase W(1), nil:\n}",
			has: []string{"case func(__unetlab_ei any, __unetlab_ec W) bool {", "}(__unetlab_sw1, W(1)) || __unetlab_sw1 == nil:"}},
		{name: "only default", code: "var i any\nswitch i {\ndefault:\n}", hasNot: []string{"__unetlab_sw"}},
		{name: "interface cases", code: "type A interface{ M() }\ntype B interface {\n\tA\n\tN()\n}\ntype X int\nfunc (X) M() {}\nfunc (X) N() {}\nvar x X\nswitch A(x) {\ncase B(x):\n}", hasNot: []string{"__unetlab_sw"}},
		{name: "same type", code: "x := 3\nswitch x {\ncase 1, 2:\n}", hasNot: []string{"__unetlab_sw"}},
	})
}

func TestLowerFuncValues(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "value", code: "func f(i int) any { return f }\nvar e any = f\n_ = e", has: []string{"return (func(int) any)(f)", "var e any = (func(int) any)(f)"}},
		{name: "parameter named as predeclared", code: "func g(len int) int { return len }\nh := g\n_ = h", has: []string{"h := (func(int) int)(g)"}},
		{name: "variadic", code: "func v(xs ...int) {}\nw := v\n_ = w", has: []string{"w := (func(...int))(v)"}},
		{name: "call", code: "func g() int { return 1 }\nx := g()\n_ = x", hasNot: []string{")(g)"}},
	})
}

func TestLowerPredeclared(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "const", code: "const len = 20\nx := len\n_ = x\ny := cap([]int{})\n_ = y", has: []string{"const __unetlab_pd_len = 20", "x := __unetlab_pd_len", "cap([]int{})"}},
		{name: "type switch name", code: "var x any = 3\nswitch len := x.(type) {\ncase int:\n_ = len + 1\n}", has: []string{"switch __unetlab_pd_len := x.(type)", "_ = __unetlab_pd_len + 1"}},
		{name: "field", code: "type T struct{ len int }\nt := T{len: 1}\n_ = t.len", hasNot: []string{"__unetlab_pd_"}},
		{name: "generic function", code: "func min[T int | string](x, y T) T {\n\tif x < y {\n\t\treturn x\n\t}\n\treturn y\n}\nfmt.Println(min(2, 3), min[string](\"b\", \"a\"))", hasNot: []string{"__unetlab_pd_"}},
		{name: "iota in its own spec", code: "func f() int {\nconst (\nA = iota\niota = iota\nB\n)\nreturn B + iota\n}", has: []string{"__unetlab_pd_iota = iota", "B = 1"}},
	})
}

func TestRefuseUnfaithful(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "finalizer accepted", code: "x := new(int)\nruntime.SetFinalizer(x, func(*int) {})", has: []string{"runtime.SetFinalizer(x, func(*int) {})"}},
		{name: "recursive slice", code: "type L [][]L", err: "cannot run faithfully: type L refers to itself"},
		{name: "top-level defer", code: "defer fmt.Println(1)\nfmt.Println(2)", hasNot: []string{"cannot run faithfully"}},
		{name: "defer in a function", code: "func f() {\n\tdefer fmt.Println(1)\n}\nf()", hasNot: []string{"cannot run faithfully"}},
		{name: "defer in a literal", code: "func() {\n\tdefer fmt.Println(1)\n}()", hasNot: []string{"cannot run faithfully"}},
		{name: "recursive generic", code: "type L[T any] []*L[T]", err: "cannot run faithfully: type L refers to itself"},
		{name: "generic through struct", code: "type N[T any] struct{ next *N[T] }\ntype Ns[T any] []N[T]\nvar ns Ns[int]\n_ = ns", hasNot: []string{"refers to itself"}},
		{name: "recursive through named", code: "type A []B\ntype B map[string]A", err: "refers to itself"},
		{name: "recursive pointer", code: "type Number *Number", err: "cannot run faithfully: type Number refers to itself"},
		{name: "recursive func", code: "type F func(string) []F", err: "cannot run faithfully: type F refers to itself"},
		{name: "through struct", code: "type S struct{ next *S }\ntype L []S\nvar l L\n_ = l", has: []string{"type L []S"}},
	})
}

func TestLowerIfaceCompare(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "concrete first", code: "type U uint16\nfunc (U) M() {}\nu := U(1)\nvar i any = u\nfmt.Println(u != i)",
			has: []string{"(!func(__unetlab_ec U, __unetlab_ei any) bool { switch __unetlab_ei.(type) { case U: __unetlab_ev, _ := __unetlab_ei.(U); return __unetlab_ev == __unetlab_ec }; __unetlab_ev, __unetlab_eok := __unetlab_ei.(U); return __unetlab_eok && __unetlab_ev == __unetlab_ec }(u, i))"}},
		{name: "other cell types over the same type", code: "type U uint16\nfunc (U) M() {}\ntype V uint16\nfunc (V) M() {}\ntype W uint16\nvar i any = V(1)\nfmt.Println(i == U(1))",
			has: []string{"switch __unetlab_ei.(type) { case U: __unetlab_ev, _ := __unetlab_ei.(U); return __unetlab_ev == __unetlab_ec; case V: return false }"}},
		{name: "nil", code: "type U uint16\nvar i any\nfmt.Println(i == nil)", hasNot: []string{"__unetlab_ei"}},
		{name: "not cell type", code: "var i any\nfmt.Println(i == 3)", hasNot: []string{"__unetlab_ei"}},
	})
}

func TestLowerNamedResults(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "zeroed", code: "func f() (ret []int) {\n\tret = append(ret, 1)\n\treturn\n}\nfmt.Println(f())", has: []string{"var __unetlab_nr1 []int; ret = __unetlab_nr1;"}},
		{name: "predeclared name", code: "func f() (error string) {\n\treturn \"x\"\n}\nfmt.Println(f())", has: []string{"__unetlab_pd_error = __unetlab_nr1;"}, hasNot: []string{" error = __unetlab_nr1"}},
	})
}
