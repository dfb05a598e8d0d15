package worker

import "testing"

// A multi-value assignment with an untyped nil beside an operand yaegi
// optimises: parenthesising the operand (the drop fix) would panic with
// "reflect: New(nil)", leaving it alone would keep the nil target's old
// value, so such statements are split.
func TestSplitNil(t *testing.T) {
	cases := []struct{ in, want string }{
		{"a, b = []int{1}, nil", "a = []int{1}; b = nil"},
		{"a, b, c = f(), nil, T{}", "a, c = (f()), (T{}); b = nil"},
		{"o.Train, o.Val, o.N = dev, nil, g()", "o.Train, o.N = dev, (g()); o.Val = nil"},
		{"func h() { var a, b []int; a, b = []int{1}, nil }", "func h() { var a, b []int; a = []int{1}; b = nil }"},
		{"for i := 0; i < 1; i++ { a, b = f(), nil }", "for i := 0; i < 1; i++ { a = f(); b = nil }"},
		{"switch { case true: a, e = f(), nil }", "switch { case true: a = f(); e = nil }"},
		// Not split: no optimised operand, := (nil cannot be its value),
		// an init statement (one statement only), a nil target hanging off
		// a variable the statement assigns.
		{"a, b = x, nil", "a, b = x, nil"},
		{"if a, e = f(), nil; e == nil { }", "if a, e = (f()), nil; e == nil { }"},
		{"o, o.Val = New(), nil", "o, o.Val = (New()), nil"},
	}
	for _, c := range cases {
		if got := parenMulti(c.in); got != c.want {
			t.Errorf("parenMulti(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestMultiAssignWithNil(t *testing.T) {
	runSteps(t, []step{
		{code: "func h() []int {\n\tvar a, b []int\n\tb = []int{5}\n\ta, b = []int{1}, nil\n\treturn append(a, b...)\n}\nfmt.Println(h())", out: "[1]\n"},
		{code: "type opts struct{ Train, Val []int; N int }\no := opts{Val: []int{9}}\no.Train, o.Val, o.N = []int{1, 2}, nil, len(\"abc\")\nfmt.Println(o.Train, o.Val == nil, o.N)", out: "[1 2] true 3\n"},
		{code: "var e error = fmt.Errorf(\"x\")\nvar xs []int\nxs, e = []int{7}, nil\nfmt.Println(xs, e)", out: "[7] <nil>\n"},
	})
}
