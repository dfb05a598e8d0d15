package worker

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
)

// This file answers completion and inspection from the type checker: the
// fields and methods of an expression's static type (promoted ones
// included, cell types as much as compiled ones), and the signature and
// doc comment of a cell's own functions.

// typeOfChain type-checks chain ("p", "p.Inner", "rs[0]") against the
// session and returns its static type. It reports false while a cell runs
// (the session is busy), or when the chain is not a value the checker
// knows.
func (s *session) typeOfChain(chain string) (types.TypeAndValue, bool) {
	if !s.mu.TryLock() {
		return types.TypeAndValue{}, false
	}
	defer s.mu.Unlock()
	p := part{Kind: partStmt, Line: 1, Col: 1, Expr: chain, ExprLine: 1, ExprCol: 1}
	a, err := parseCell(chain, []part{p})
	if err != nil {
		return types.TypeAndValue{}, false
	}
	c := s.checkCell(a, []part{p}, nil, nil, s.autoImports(a, nil, nil))
	if c.skipped || len(c.errs) > 0 || !c.hasValue || c.result.Type == nil || !c.result.IsValue() {
		return types.TypeAndValue{}, false
	}
	return c.result, true
}

// typeMembers lists the fields and methods of a value of type t that a
// cell can select: exported ones, and all of the cell's own types.
func typeMembers(t types.Type) []completion {
	var out []completion
	visible := func(o types.Object) bool {
		return o.Exported() || (o.Pkg() != nil && o.Pkg().Path() == cellPkgPath)
	}
	mt := t
	if _, isPtr := t.Underlying().(*types.Pointer); !isPtr && !types.IsInterface(t) {
		mt = types.NewPointer(t) // a variable is addressable: pointer methods too
	}
	ms := types.NewMethodSet(mt)
	for i := 0; i < ms.Len(); i++ {
		if o := ms.At(i).Obj(); visible(o) {
			out = append(out, completion{o.Name(), "function"})
		}
	}
	seen := map[types.Type]bool{}
	var fields func(t types.Type, depth int)
	fields = func(t types.Type, depth int) {
		if p, ok := t.Underlying().(*types.Pointer); ok {
			t = p.Elem()
		}
		st, ok := t.Underlying().(*types.Struct)
		if !ok || seen[t] || depth > 4 {
			return
		}
		seen[t] = true
		for i := 0; i < st.NumFields(); i++ {
			f := st.Field(i)
			if visible(f) {
				out = append(out, completion{f.Name(), "instance"})
			}
			if f.Embedded() {
				fields(f.Type(), depth+1)
			}
		}
	}
	fields(t, 0)
	return out
}

// cellFuncHelp returns the signature and doc comment of a function (or
// method "T.M") a cell declared, or false.
func (s *session) cellFuncHelp(name string) (string, bool) {
	if !s.mu.TryLock() {
		return "", false
	}
	defer s.mu.Unlock()
	for _, d := range s.decls {
		for _, n := range d.names {
			if n != name {
				continue
			}
			f, fset, ok := parseDecl(d.text)
			if !ok {
				return "", false
			}
			for _, decl := range f.Decls {
				fd, ok := decl.(*ast.FuncDecl)
				if !ok {
					continue
				}
				sig := d.text[fset.Position(fd.Pos()).Offset-len(declHead) : fset.Position(fd.Type.End()).Offset-len(declHead)]
				doc := strings.TrimSpace(d.doc)
				if doc != "" {
					return sig + "\n\n" + doc, true
				}
				return sig, true
			}
			return "", false
		}
	}
	return "", false
}

const declHead = "package p\n"

// parseDecl parses the text of a kept declaration.
func parseDecl(text string) (*ast.File, *token.FileSet, bool) {
	fset := token.NewFileSet()
	f, err := parseFile(fset, "", declHead+text, parser.SkipObjectResolution)
	return f, fset, err == nil
}

// describeType is the text inspection shows for a value of a cell.
func describeType(chain string, tv types.TypeAndValue) string {
	return fmt.Sprintf("%s: %s", chain, types.TypeString(tv.Type, func(p *types.Package) string {
		if p.Path() == cellPkgPath {
			return ""
		}
		return p.Name()
	}))
}
