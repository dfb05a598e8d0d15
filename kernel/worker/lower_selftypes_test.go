package worker

import "testing"

func TestLowerSelfTypes(t *testing.T) {
	unbox := func(n, e string) string {
		return "func(v any) " + n + " { x, _ := v.(" + n + "); return x }(" + e + ")"
	}
	runLowerCases(t, []lowerCase{
		{name: "func declared boxed", code: "type F func(s string) F", has: []string{"type F func(s string) any"}},
		{name: "call unboxed", code: "type F func() F\nvar f F\n_ = f()()", has: []string{unbox("F", unbox("F", "f()")+"()")}},
		{name: "nil argument typed", code: "type F func(F) int\nvar f F\n_ = f(nil)", has: []string{"f(F(nil))"}},
		{name: "function converted", code: "type F func() F\nfunc g() F { return nil }\nvar f = F(g)", has: []string{"F(func(f func() F) F { if f == nil { return nil }; return func() any { return f() } }("}},
		{name: "function assigned", code: "type F func() F\nfunc g() F { return nil }\nvar f F = g", has: []string{"var f F = func(f func() F) F {"}},
		{name: "slice declared boxed", code: "type T []T", has: []string{"type T []any"}},
		{name: "element unboxed", code: "type T []T\nvar t T\n_ = len(t[0])", has: []string{"len(" + unbox("T", "t[0]") + ")"}},
		{name: "element stored", code: "type T []T\nt := make(T, 1)\nt[0] = nil", has: []string{"t[0] = T(nil)"}, hasNot: []string{"v.(T)"}},
		{name: "literal retyped", code: "type T []T\nfunc ln(a ...T) int { return len(a) }\n_ = ln([]T{nil})", has: []string{"ln(T{T(nil)})"}},
		{name: "append boxed", code: "type T []T\nvar t T\nt = append(t, nil, t)", has: []string{"append(t, T(nil), t)"}},
		{name: "several results refused", code: "type F func() (F, int)\nvar f F\n_, _ = f()", err: "cannot run faithfully: type F refers to itself other than through a struct, and is a result of a function with several results"},
		{name: "element address refused", code: "type T []T\nt := T{nil}\np := &t[0]\n_ = p", err: "an element whose address is taken"},
		{name: "range value refused", code: "type T []T\nfor _, v := range (T{}) {\n\t_ = v\n}", err: "ranged over with a value"},
		{name: "range key accepted", code: "type T []T\nfor i := range (T{}) {\n\t_ = i\n}", hasNot: []string{"cannot run faithfully"}},
		{name: "underlying value refused", code: "type T []T\nvar u []T\nvar t T = u\n_ = t", err: "used through a value of its underlying type"},
		{name: "elided element named", code: "type T []T\nt := T{{}, {nil}}\n_ = t", has: []string{"T{T{}, T{T(nil)}}"}},
		{name: "channel", code: "type C chan C\nc := make(C, 1)\nc <- nil\n_ = <-c", has: []string{"type C chan any", "c <- C(nil)", "_ = func(v any) C { x, _ := v.(C); return x }("}},
		{name: "comma-ok receive refused", code: "type C chan C\nc := make(C, 1)\nv, ok := <-c\n_, _ = v, ok", err: "received with comma-ok"},
		{name: "generic instance", code: "type G[T any] func(T) G[T]\nvar g G[int]\n_ = g(1)", has: []string{unbox("Gᐸintᐳ", "g(1)")}},
		{name: "type argument refused", code: "type F func() F\nfunc id[X any](x X) X { return x }\n_ = id[F](nil)", err: "used as a type argument"},
		{name: "struct field literal converted", code: "type F func() F\ntype H struct{ f F }\nvar g func() F\nh := H{f: g}\n_ = h", has: []string{"H{f: func(f func() F) F { if f == nil { return nil }; return func() any { return f() } }(g)}"}},
		{name: "map element converted", code: "type F func() F\nvar g func() F\nm := map[int]F{1: g}\nm[2] = g", has: []string{"map[int]F{1: func(f func() F) F { if f == nil { return nil }; return func() any { return f() } }(g)}", "m[2] = func(f func() F) F { if f == nil { return nil }; return func() any { return f() } }(g)"}},
		{name: "slice of the type converted", code: "type F func() F\nvar g func() F\ns := []F{g}\ns = append(s, g)\ns[0] = g", has: []string{"[]F{func(f func() F) F { if f == nil { return nil }; return func() any { return f() } }(g)}", "append(s, func(f func() F) F { if f == nil { return nil }; return func() any { return f() } }(g))", "s[0] = func(f func() F) F { if f == nil { return nil }; return func() any { return f() } }(g)"}},
		{name: "send converted", code: "type F func() F\nvar g func() F\nch := make(chan F, 1)\nch <- g", has: []string{"ch <- func(f func() F) F { if f == nil { return nil }; return func() any { return f() } }(g)"}},
		{name: "unboxed statement assigned", code: "type F func() F\nvar f F\nf()()", has: []string{"_ = func(v any) F"}},
		{name: "slice value of the underlying type refused", code: "type T []T\nvar u []T\nm := map[int]T{1: u}\n_ = m", err: "used through a value of its underlying type"},
	})
}

func TestLowerInitOrder(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "in order kept", code: "var a = 1\nvar b = a + 1", has: []string{"var a = 1\nvar b = a + 1"}},
		{name: "through a function", code: "var n = f()\nvar called = false\nfunc f() int { called = true; return 1 }",
			has: []string{"var n = func() int { _ = &called; return f() }()\nvar called = false\n"}},
		{name: "group", code: "var (\n\ta, b = c, 2\n\tc = 3\n)",
			has: []string{"a, b = func() int { _ = &b; _ = &c; return c }(), 2\n\tc = 3"}},
		{name: "tuple", code: "var a, b = f()\nvar x = 1\nfunc f() (int, string) { return x, \"s\" }",
			has: []string{"var a, b = func() (int, string) { _ = &x; return f() }()"}},
	})
}

func TestLowerDefaultFallthrough(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "into the next clause", code: "n := 0\nswitch {\ndefault:\n\tn++\n\tfallthrough\ncase false:\n\tn += 10\n}",
			has: []string{"n++\n\t{ n += 10; }\ncase false:"}},
		{name: "chain", code: "n := 0\nswitch n {\ndefault:\n\tfallthrough\ncase 1:\n\tn++\n\tfallthrough\ncase 2:\n\tn += 10\n}",
			has: []string{"default:\n\t{ n++; }; { n += 10; }\ncase 1:"}},
		{name: "into a default", code: "n := 0\nswitch n {\ncase 1:\n\tfallthrough\ndefault:\n\tn++\ncase 2:\n}", has: []string{"case 1:\n\t{ n++; }\ndefault:"}},
		{name: "last default kept", code: "n := 0\nswitch n {\ncase 1:\n\tfallthrough\ndefault:\n\tn++\n}", hasNot: []string{"{ n++; }"}},
		{name: "label refused", code: "n := 0\nswitch {\ndefault:\n\tfallthrough\ncase false:\nL:\n\tn++\n\tgoto L\n}", err: "into statements with a label"},
	})
}

func TestRefuseAllocationCounts(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "mallocs", code: "var m runtime.MemStats\nruntime.ReadMemStats(&m)\n_ = m.Mallocs", err: "cell:3:5: cannot run faithfully: runtime.MemStats.Mallocs counts allocations"},
		{name: "through a pointer", code: "m := new(runtime.MemStats)\n_ = m.Frees", err: "runtime.MemStats.Frees counts allocations"},
		{name: "other statistics", code: "var m runtime.MemStats\nruntime.ReadMemStats(&m)\n_ = m.HeapObjects + uint64(m.NumGC)", hasNot: []string{"cannot run faithfully"}},
		{name: "allocs per run", code: "_ = testing.AllocsPerRun(1, func() {})", err: "testing.AllocsPerRun counts allocations"},
	})
}
