package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"testing"
)

// TestThirdPartyNotGeneric: yaegi extract skips generic functions, methods
// and types, so a generic member of a thirdParty package would be missing
// from the cells' tables without a word. None may be generic; one that
// becomes generic in a new version of the module needs a wrapper first.
func TestThirdPartyNotGeneric(t *testing.T) {
	if testing.Short() {
		t.Skip("lists and parses the third-party packages")
	}
	pkgs, err := list(thirdParty...)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != len(thirdParty) {
		t.Fatalf("go list found %d of the %d thirdParty packages", len(pkgs), len(thirdParty))
	}
	for _, p := range pkgs {
		fset := token.NewFileSet()
		for _, name := range p.Files {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					if d.Name.IsExported() && d.Type.TypeParams != nil {
						t.Errorf("%s: func %s is generic", p.Path, d.Name.Name)
					}
				case *ast.GenDecl:
					for _, s := range d.Specs {
						if ts, ok := s.(*ast.TypeSpec); ok && ts.Name.IsExported() && ts.TypeParams != nil {
							t.Errorf("%s: type %s is generic", p.Path, ts.Name.Name)
						}
					}
				}
			}
		}
	}
}
