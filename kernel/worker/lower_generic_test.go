package worker

import (
	"testing"
	"unicode"
)

func TestLowerGeneric(t *testing.T) {
	twice := "func Twice[T any](x T) []T { return []T{x, x} }\n"
	runLowerCases(t, []lowerCase{
		{name: "inferred", code: twice + "y := Twice(3)\n_ = y",
			has: []string{"y := Twiceᐸintᐳ(3)"}, hasNot: []string{"func Twice["}},
		{name: "explicit, as a value", code: twice + "f := Twice[string]\n_ = f",
			has: []string{"f := Twiceᐸstringᐳ"}, hasNot: []string{"[string]"}},
		{name: "generic type", code: "type L[T any] struct{ v []T }\nfunc (l *L[T]) Add(v T) { l.v = append(l.v, v) }\nvar l L[float64]\nl.Add(1)",
			has: []string{"var l Lᐸfloat64ᐳ"}, hasNot: []string{"L[T]"}},
		{name: "constraint interface left out", code: "type Num interface{ ~int | ~float64 }\nfunc Sum[N Num](s ...N) (t N) { for _, v := range s { t += v }; return }\nx := Sum(1, 2)\n_ = x",
			has: []string{"x := Sumᐸintᐳ(1, 2)"}, hasNot: []string{"~int"}},
	})
}

func TestGenericInstanceName(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"List", []string{"int"}, "Listᐸintᐳ"},
		{"Pair", []string{"string", "[]byte"}, "Pairᐸstringˌᐸᐳbyteᐳ"},
		{"Map", []string{"time.Duration", "*List[int]"}, "MapᐸtimeꓸDurationˌᕽListᐸintᐳᐳ"},
		{"F", []string{"func(int) (string, error)"}, ""},
		{"S", []string{`struct{a int "json:\"a\""}`}, ""},
		{"I", []string{"interface{M() <-chan int}"}, ""},
	} {
		got := genericInstanceName(c.name, c.args)
		if c.want != "" && got != c.want {
			t.Errorf("genericInstanceName(%s, %q) = %s, want %s", c.name, c.args, got, c.want)
		}
		if !isIdent(got) {
			t.Errorf("genericInstanceName(%s, %q) = %q: not an identifier", c.name, c.args, got)
		}
		want := c.name + "[" + joinArgs(c.args) + "]"
		if back, ok := genericSourceName(got); !ok || back != want {
			t.Errorf("genericSourceName(%s) = %q, %v; want %q", got, back, ok, want)
		}
	}
	if n, ok := genericSourceName("List"); ok || n != "List" {
		t.Errorf("genericSourceName(List) = %q, %v; want List, false", n, ok)
	}
}

func joinArgs(args []string) string {
	s := ""
	for i, a := range args {
		if i > 0 {
			s += ", "
		}
		s += a
	}
	return s
}

func isIdent(s string) bool {
	for i, r := range s {
		if !(unicode.IsLetter(r) || r == '_' || i > 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return s != ""
}
