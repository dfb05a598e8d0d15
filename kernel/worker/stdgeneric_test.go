package worker

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestStdGenericPreludeChecks type-checks the prelude as the session file
// holds it (its errors would be dropped there, silently).
func TestStdGenericPreludeChecks(t *testing.T) {
	src := "package main\nimport " + helperPrefix + "_help \"unetlab/cellhelp\"\n" + stdGenericPrelude
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "prelude.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	conf := types.Config{Importer: typesImporter()}
	if _, err := conf.Check("main", fset, []*ast.File{f}, nil); err != nil {
		t.Fatal(err)
	}
}

// TestStdGenericCoversPackages compares the prelude's members with the
// exported names of Go's own packages: all of slices, maps, cmp and iter,
// and the generic members of errors, sync and sync/atomic.
func TestStdGenericCoversPackages(t *testing.T) {
	if _, err := os.Stat(filepath.Join(runtime.GOROOT(), "src", "slices")); err != nil {
		t.Skip("MISSING REFERENCE: no GOROOT source to compare the prelude with")
	}
	members := stdGenericMembers()
	imp := importer.ForCompiler(token.NewFileSet(), "source", nil)
	for _, path := range []string{"slices", "maps", "cmp", "iter", "errors", "sync", "sync/atomic"} {
		pkg, err := imp.Import(path)
		if err != nil {
			t.Fatal(err)
		}
		name := pkg.Name()
		for _, n := range pkg.Scope().Names() {
			obj := pkg.Scope().Lookup(n)
			if !obj.Exported() {
				continue
			}
			generic := false
			switch o := obj.(type) {
			case *types.Func:
				generic = o.Type().(*types.Signature).TypeParams() != nil
			case *types.TypeName:
				if nt, ok := o.Type().(*types.Named); ok {
					generic = nt.TypeParams() != nil
				}
				if o.IsAlias() {
					generic = true
				}
			}
			if stdGenericOnly[path] || path == "iter" {
				generic = true
			}
			if generic != members[name+"_"+n] {
				t.Errorf("%s.%s: generic %v, in the prelude %v", path, n, generic, members[name+"_"+n])
			}
		}
	}
}

// TestStdGenericRewrite pins which selectors the std-generic pass
// rewrites.
func TestStdGenericRewrite(t *testing.T) {
	for _, c := range []struct{ code, want string }{
		{"slices.Sort(xs)", "slices_Sort(xs)"},
		{"import \"slices\"\nslices.Sort(xs); strings.Compare(a, b)", "import \"slices\"\nslices_Sort(xs); strings.Compare(a, b)"},
		{"var p atomic.Pointer[T]; var n atomic.Int64", "var p atomic_Pointer[T]; var n atomic.Int64"},
		{"f := sync.OnceValue(g); var mu sync.Mutex", "f := sync_OnceValue(g); var mu sync.Mutex"},
		{"e, ok := errors.AsType[*E](err); errors.Is(err, x)", "e, ok := errors_AsType[*E](err); errors.Is(err, x)"},
		// The package name is also a variable, a parameter, or another
		// package's: left as written.
		{"maps := 1; maps.Keys(m)", "maps := 1; maps.Keys(m)"},
		{"func f(cmp func(a, b int) int) { slices.SortFunc(x, cmp); cmp.Compare(1, 2) }", "func f(cmp func(a, b int) int) { slices_SortFunc(x, cmp); cmp.Compare(1, 2) }"},
		{"import sl \"slices\"\nsl.Sort(x); slices.Sort(x)", "import sl \"slices\"\nsl.Sort(x); slices.Sort(x)"},
		{"import slices \"example.com/slices\"\nslices.Sort(x)", "import slices \"example.com/slices\"\nslices.Sort(x)"},
		// A field, a member the prelude does not have, a spaced selector.
		{"x.slices.Sort(); slices.Nope(); slices .Sort(x)", "x.slices.Sort(); slices.Nope(); slices .Sort(x)"},
	} {
		s, _ := newTestSession(t)
		u := &cellUnit{code: c.code}
		if err := s.passStdGeneric(u); err != nil {
			t.Fatal(err)
		}
		if u.code != c.want {
			t.Errorf("%q: got %q, want %q", c.code, u.code, c.want)
		}
	}
}
