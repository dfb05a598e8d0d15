package worker

import "testing"

func TestLowerSelectOperands(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "comma-ok from a field", code: "type R struct{ c chan int }\nr := R{make(chan int, 1)}\nd := make(chan int)\nselect {\ncase v, ok := <-r.c:\n\t_, _ = v, ok\ncase d <- 1:\n}",
			has: []string{"{ __unetlab_so1 := r.c; __unetlab_so2 := d; var __unetlab_so3 int = 1; select", "<-__unetlab_so1:", "case __unetlab_so2 <- __unetlab_so3:", "} }"}},
		{name: "plain names", code: "c := make(chan int, 1)\nselect {\ncase v, ok := <-c:\n\t_, _ = v, ok\n}", hasNot: []string{"__unetlab_so"}},
	})
}

func TestLowerIfaceStores(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "literal into a field", code: "type I interface{ M() }\ntype T struct{}\nfunc (T) M() {}\ntype S struct{ i I }\nvar s S\ns.i = T{}", has: []string{"s.i = (I)(T{})"}},
		{name: "into a name", code: "type I interface{ M() }\ntype T struct{}\nfunc (T) M() {}\nvar i I\ni = T{}\n_ = i", hasNot: []string{"(I)("}},
		{name: "comma-ok into an interface", code: "var s fmt.Stringer\nvar m map[int]time.Duration\nvar ok bool\ns, ok = m[1]\n_, _ = s, ok",
			has: []string{"__unetlab_cs1, __unetlab_cs2 := m[1]; s = __unetlab_cs1; ok = __unetlab_cs2"}},
	})
}

func TestLowerPromotedMethods(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "value and pointer", code: "type B struct{}\nfunc (B) V() int { return 1 }\nfunc (*B) P(xs ...int) {}\ntype A struct{ B }",
			has: []string{"func (__unetlab_pr A) V() int { return __unetlab_pr.B.V() }", "func (__unetlab_pr *A) P(__unetlab_pa0 ...int) { __unetlab_pr.B.P(__unetlab_pa0...) }"}},
		{name: "other package", code: "type L struct{ sync.Mutex }", hasNot: []string{"Lock()"}},
		{name: "own method wins", code: "type B struct{}\nfunc (B) V() int { return 1 }\ntype A struct{ B }\nfunc (A) V() int { return 2 }", hasNot: []string{"__unetlab_pr"}},
	})
}

func TestRefuseTypeNames(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "cell struct", code: "type P struct{ N int }\nb, _ := xml.Marshal(&P{})\n_ = b", err: "cannot run faithfully: encoding/xml names the element of a value of type P"},
		{name: "twin map keys", code: "type A struct{}\ntype B struct{}\nm := map[any]int{A{}: 1, B{}: 2}\n_ = m", err: "cannot run faithfully: values of the types A and B as keys of one map"},
		{name: "twin index keys", code: "type A int\ntype B int\nm := map[any]int{}\nm[A(1)] = 1\nm[B(1)] = 2", err: "values of the types A and B"},
		{name: "distinct underlying keys", code: "type A int\ntype B string\nm := map[any]int{A(1): 1, B(\"x\"): 2}\n_ = m", hasNot: []string{"cannot"}},
		{name: "XMLName", code: "type P struct {\n\tXMLName xml.Name `xml:\"p\"`\n\tN int\n}\nb, _ := xml.Marshal([]P{{}})\n_ = b", hasNot: []string{"cannot"}},
	})
}

func TestLowerIfacesEqual(t *testing.T) {
	runLowerCases(t, []lowerCase{
		{name: "two interfaces", code: "type I interface{ M() }\ntype T int\nfunc (T) M() {}\nvar a, b I = T(1), T(1)\nfmt.Println(a == b)",
			has: []string{"if __unetlab_ev, __unetlab_eok := __unetlab_ex.(T); __unetlab_eok {", "return __unetlab_ex == __unetlab_ey }((I)(a), (I)(b))"}},
		{name: "no cell type implements", code: "type I interface{ M() }\nvar a, b I\nfmt.Println(a == b)", hasNot: []string{"__unetlab_ex"}},
		{name: "errors left to lower-errors", code: "type E struct{}\nfunc (E) Error() string { return \"\" }\nvar a, b error\nfmt.Println(a == b)", hasNot: []string{"__unetlab_ex"}},
	})
}
