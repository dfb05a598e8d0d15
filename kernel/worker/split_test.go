package worker

import (
	"fmt"
	"strings"
	"testing"
)

func TestSplitCell(t *testing.T) {
	cases := []struct {
		name string
		code string
		want string // parts as kind@line:col[src]{expr}, joined by " | "
	}{
		{"expression", "1 + 1", "stmt@1:1[]{1 + 1}"},
		{"statements", "x := 1\nx++", "stmt@1:1[x := 1\nx++]"},
		{"mixed", "import \"fmt\"\nfunc f() int { return 1 }\nx := f()\nfmt.Println(x)\nx",
			"import@1:1[import \"fmt\"] | decl@2:1[func f() int { return 1 }] | stmt@3:1[x := f()\nfmt.Println(x)]{x}"},
		{"grouped imports", "import (\n\t\"fmt\"\n\t\"os\"\n)\nos.Exit", "import@1:1[import (\n\t\"fmt\"\n\t\"os\"\n)] | stmt@5:1[]{os.Exit}"},
		{"method vs func literal", "func (p P) M() {}\nfunc() { println(1) }()",
			"decl@1:1[func (p P) M() {}] | stmt@2:1[]{func() { println(1) }()}"},
		{"decls grouped", "type T int\nvar v T\nconst c = 2", "decl@1:1[type T int\nvar v T\nconst c = 2]"},
		{"multi-line statement", "for i := 0; i < 2; i++ {\n\tfmt.Println(i)\n}\n", "stmt@1:1[for i := 0; i < 2; i++ {\n\tfmt.Println(i)\n}]"},
		{"semicolons", "a := 1; b := 2; a + b", "stmt@1:1[a := 1; b := 2]{a + b}"},
		{"indented", "  x := 1", "stmt@1:3[x := 1]"},
		{"comments only", "// nothing\n", ""},
		{"decl after statements", "x := 1\nfunc g() {}\ny := 2",
			"stmt@1:1[x := 1] | decl@2:1[func g() {}] | stmt@3:1[y := 2]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			parts, err := splitCell(c.code)
			if err != nil {
				t.Fatal(err)
			}
			// The parse splits the trailing expression off.
			if _, err := parseCell(c.code, parts); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range parts {
				s := fmt.Sprintf("%s@%d:%d[%s]", p.Kind, p.Line, p.Col, p.Src)
				if p.Expr != "" {
					s += "{" + p.Expr + "}"
				}
				got = append(got, s)
			}
			if g := strings.Join(got, " | "); g != c.want {
				t.Errorf("splitCell(%q)\n got %q\nwant %q", c.code, g, c.want)
			}
		})
	}
	if _, err := splitCell("s := \"unterminated"); err == nil {
		t.Error("unterminated string: no error")
	}
}

func TestAutoImport(t *testing.T) {
	runSteps(t, []step{
		{code: "strconv.Itoa(42)", result: `"42"`},                 // standard library
		{code: "rand.Intn(1)", result: "0"},                        // math/rand: the only rand with Intn
		{code: "template.New(\"x\")", err: "undefined: template"},  // text/ or html/template: ambiguous
		{code: "filepath := \"mine\"\nfilepath", result: `"mine"`}, // a user name shadows the package
		{code: "cell.Context().Err() == nil", result: "true"},      // this module
	})
}
