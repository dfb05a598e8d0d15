package worker

import (
	"context"
	"strings"
	"testing"
	"unicode"
)

func TestLowerGeneric(t *testing.T) {
	twice := "func Twice[T any](x T) []T { return []T{x, x} }\n"
	runLowerCases(t, []lowerCase{
		{name: "inferred", code: twice + "y := Twice(3)\n_ = y",
			has: []string{"y := Twiceᐸintᐳ(3)"}, hasNot: []string{"func Twice["}},
		{name: "explicit, as a value", code: twice + "f := Twice[string]\n_ = f",
			has: []string{"f := (func(string) []string)(Twiceᐸstringᐳ)"}, hasNot: []string{"[string]"}},
		{name: "generic type", code: "type L[T any] struct{ v []T }\nfunc (l *L[T]) Add(v T) { l.v = append(l.v, v) }\nvar l L[float64]\nl.Add(1)",
			has: []string{"var l Lᐸfloat64ᐳ"}, hasNot: []string{"L[T]"}},
		{name: "an argument lower-defer moves", code: twice + "func f() { defer fmt.Println(Twice(3)) }",
			has: []string{":= Twiceᐸintᐳ(3); defer fmt.Println(__unetlab_da"}, hasNot: []string{"Twice(3)"}},
		{name: "generic type of a function refused", code: "func one() any { type T[_ any] int; return T[int](0) }",
			err: "cannot run faithfully: generic T is declared in a function"},
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

// TestGenericInstances checks the instances lower-generic writes.
func TestGenericInstances(t *testing.T) {
	for _, c := range []struct {
		name, code  string
		has, hasNot []string
	}{
		{name: "method of a generic type", code: "type B[T any] struct{ v T }\nfunc (b *B[T]) Set(v T) { b.v = v }\nvar b B[string]\nb.Set(\"x\")",
			has: []string{"type Bᐸstringᐳ struct{ v string }", "func (b *Bᐸstringᐳ) Set(v string) { b.v = v }"}},
		{name: "generic calling generic", code: "func Id[T any](x T) T { return x }\nfunc Two[T any](x T) []T { return []T{Id(x), Id[T](x)} }\n_ = Two(1.5)",
			has: []string{"func Twoᐸfloat64ᐳ(x float64) []float64 { return []float64{Idᐸfloat64ᐳ(x), Idᐸfloat64ᐳ(x)} }", "func Idᐸfloat64ᐳ(x float64) float64"}},
		{name: "duplicate type case dropped", code: "func K[T any](x any) string { switch x.(type) { case int: return \"int\"; case T: return \"T\" }; return \"\" }\n_ = K[int](1)",
			has: []string{"case int: return \"int\";  }"}, hasNot: []string{"return \"T\""}},
		{name: "interface case: an if chain in case order", code: "func K[T any](x any) string { switch x.(type) { case T: return \"T\"; case int: return \"int\" }; return \"\" }\n_ = K[any](1)",
			has: []string{" != nil", "(int); __unetlab_ok"}, hasNot: []string{"switch x.(type)"}},
		{name: "duplicate constant case dropped", code: "func F[T ~int]() int { switch any(0) { case int(0): return 1; case T(0): return 2 }; return 0 }\n_ = F[int]()",
			has: []string{"case __unetlab_sw1 == int(0): return 1;  }"}, hasNot: []string{"T(0)"}},
		{name: "impossible assertion through any", code: "type S struct{}\nfunc F[T any](i interface{ M() }) bool { _, ok := i.(T); return ok }\n_ = F[S](nil)",
			has: []string{"any(i).(S)"}},
		{name: "function-local type argument", code: "func Id[T any](x T) T { return x }\nfunc g() { type loc struct{ a int }; _ = Id(loc{1}) }",
			has: []string{"type locᐧ2 struct{ a int }", "func Idᐸlocᐧ2ᐳ(x locᐧ2) locᐧ2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, _ := newTestSession(t)
			u := &cellUnit{ctx: context.Background(), code: c.code}
			for _, p := range cellPasses {
				if err := p.run(s, u); err != nil {
					t.Fatal(err)
				}
				if p.name == "lower-apply" {
					break
				}
			}
			got := genSource(u)
			for _, h := range c.has {
				if !strings.Contains(got, h) {
					t.Errorf("instances lack %q:\n%s", h, got)
				}
			}
			for _, h := range c.hasNot {
				if strings.Contains(got, h) {
					t.Errorf("instances have %q:\n%s", h, got)
				}
			}
		})
	}
}

func TestGenericReflectName(t *testing.T) {
	for _, c := range []struct{ id, want string }{
		{genericInstanceName("Pair", []string{"string", "int"}), "Pair[string,int]"},
		{genericInstanceName("F", []string{"foo"}), "F[main.foo]"},
		{genericInstanceName("L", []string{"[]*time.Duration", "List[P]"}), "L[[]*time.Duration,main.List[main.P]]"},
		{genericInstanceName("S", []string{"large" + localMark + "73"}), "S[main.large]"},
		{genericInstanceName("M", []string{"map[string]interface{}"}), "M[map[string]interface{}]"},
		{"large" + localMark + "73", "large"},
		{"P", "P"},
	} {
		if got := genericReflectName(c.id); got != c.want {
			t.Errorf("genericReflectName(%s) = %q, want %q", c.id, got, c.want)
		}
	}
}
