package symtypes_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/kernel/worker/symtypes"
	"github.com/unetlab/unetlab/stdlib"
)

// check type-checks src (a file of package main) against the tables.
func check(t *testing.T, im types.Importer, src string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var errs []string
	conf := types.Config{Importer: im, Error: func(err error) { errs = append(errs, err.Error()) }}
	_, _ = conf.Check("main", fset, []*ast.File{f}, nil)
	return errs
}

func TestImportEveryPackage(t *testing.T) {
	im := symtypes.New(stdlib.Symbols)
	for key := range stdlib.Symbols {
		path := key[:strings.LastIndexByte(key, '/')]
		pkg, err := im.Import(path)
		if err != nil {
			t.Errorf("Import(%q): %v", path, err)
			continue
		}
		if pkg.Scope().Len() == 0 && len(stdlib.Symbols[key]) > 0 {
			t.Errorf("Import(%q): empty scope", path)
		}
	}
}

func TestCheck(t *testing.T) {
	im := symtypes.New(stdlib.Symbols)
	tests := []struct {
		name, src string
		want      []string // substrings of the errors, in order
	}{
		{"ok", `package main
import ("fmt"; "strings"; "time"; "os"; "math"; "errors"; "io"; "bytes"; "sort")
type P struct{ X int }
func (p P) String() string { return fmt.Sprint(p.X) }
func main() {
	var b strings.Builder
	b.WriteString("x")
	d := 2 * time.Second
	var s fmt.Stringer = P{1}
	_ = s
	var w io.Writer = &bytes.Buffer{}
	fmt.Fprintln(w, b.String(), d.Seconds(), os.Args, math.Pi, math.MaxInt64)
	err := errors.New("e")
	var pe *os.PathError
	_ = errors.As(err, &pe)
	_ = os.ModeDir | os.FileMode(0o644)
	xs := []int{3, 1}
	sort.Ints(xs)
	sort.Sort(sort.Reverse(sort.IntSlice(xs)))
	f, _ := os.Open("x")
	defer f.Close()
	_ = time.Now().Add(d).Format(time.RFC3339)
}`, nil},
		{"errors", `package main
import "strings"
func main() {
	var n int = "s"
	strings.NoSuch()
	_ = n
}`, []string{`cannot use "s" (untyped string constant) as int value in variable declaration`, "undefined: strings.NoSuch"}},
		{"unexported field", `package main
import "strings"
func main() { var b strings.Builder; _ = b.buf }`, []string{"b.buf undefined"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := check(t, im, tc.src)
			if len(errs) != len(tc.want) {
				t.Fatalf("errors %q, want %d matching %q", errs, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(errs[i], w) {
					t.Errorf("error %d = %q, want it to contain %q", i, errs[i], w)
				}
			}
		})
	}
}
