package worker

import "testing"

func TestLowerGeneric(t *testing.T) {
	twice := "func Twice[T any](x T) []T { return []T{x, x} }\n"
	runLowerCases(t, []lowerCase{
		{name: "inferred", code: twice + "y := Twice(3)\n_ = y",
			has: []string{"y := func ( x___unetlab int ) [ ] int { return [ ] int { x___unetlab , x___unetlab } }(3)"}},
		{name: "explicit, as a value", code: twice + "f := Twice[string]\n_ = f",
			has: []string{"f := func ( x___unetlab string ) [ ] string {"}, hasNot: []string{"[string]"}},
		{name: "pointer type argument", code: "type S struct{}\nfunc (*S) M() {}\nfunc Call[T interface{ M() }](t T) { f := T.M; f(t) }\nCall(&S{})",
			has: []string{"f___unetlab := ( * S ) . M"}},
		{name: "recursive left to yaegi", code: "func R[T any](n int, x T) T { if n == 0 { return x }; return R(n-1, x) }\nv := R(2, 1)\n_ = v",
			has: []string{"v := R(2, 1)"}},
		{name: "shadowed name left to yaegi", code: "var k = 1\nfunc G[T any](x T) int { return k }\nfunc f() int { k := 2; return G(k) }",
			has: []string{"return G(k)"}},
		{name: "generic bodies stay generic", code: twice + "func Four[T any](x T) [][]T { return [][]T{Twice(x), Twice(x)} }",
			has: []string{"{Twice(x), Twice(x)}"}},
	})
}
