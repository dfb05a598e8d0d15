package worker

import (
	"go/ast"
	"go/types"
)

// passLowerPredeclared renames the cell's constants, variables and
// functions that redeclare a predeclared identifier (`const len = 20`,
// `var nil = 23`, `const int = 15`): yaegi v0.16.1 resolved some of their
// uses to the builtin, and a package-level redeclaration failed to
// compile ("CFG post-order panic: index out of range"). Every declaration
// and use of such an object becomes __unetlab_pd_<name>; the uses go/types
// resolves to the builtin stay as they are. The rename is the same in
// every cell, so that a later cell's use of an earlier cell's `len`
// (resolved by the check against the declarations as written) finds it.
// Fields and methods live in their type, not in a scope, and keep their
// names; so do types (`type error int`), which the other passes spell by
// their name, and generic functions (`func min[T cmp.Ordered](a, b T) T`),
// whose instances lower-generic names from them (minᐸintᐳ).
func (s *session) passLowerPredeclared(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	rename := func(id *ast.Ident, obj types.Object) {
		if obj == nil || id.Name == "_" || types.Universe.Lookup(id.Name) == nil || !l.inCell(id) {
			return
		}
		if obj.Pkg() == nil || obj.Pkg().Path() != cellPkgPath || obj.Parent() == nil || obj.Parent() == types.Universe {
			return
		}
		switch o := obj.(type) {
		case *types.Var:
			if o.IsField() {
				return
			}
		case *types.Func:
			// Methods live in their type; a generic function is
			// lower-generic's, whose instances are named minᐸintᐳ.
			if sig, ok := o.Type().(*types.Signature); ok && (sig.Recv() != nil || sig.TypeParams().Len() > 0) {
				return
			}
		case *types.Const:
		default: // a type keeps its name: the passes spell types by name
			return
		}
		l.replace(id, predeclaredName(id.Name))
	}
	// A constant's own spec lies outside its scope: an implicit
	// repetition of `iota = iota` checks the value again where the
	// constant iota is in scope, and go/types records that use (want: the
	// predeclared iota, which the spec's own value is).
	inOwnSpec := map[*ast.Ident]bool{}
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSwitchStmt); ok {
			// switch len := x.(type): go/types defines no object for
			// the name, one implicit variable per clause (which the
			// clauses' uses resolve to): the name goes with them.
			if as, ok := ts.Assign.(*ast.AssignStmt); ok && len(as.Lhs) == 1 {
				if id, ok := as.Lhs[0].(*ast.Ident); ok {
					for _, st := range ts.Body.List {
						if obj := l.c.info.Implicits[st]; obj != nil {
							rename(id, obj)
							break
						}
					}
				}
			}
			return true
		}
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		own := map[types.Object]bool{}
		for _, name := range vs.Names {
			own[l.c.info.Defs[name]] = true
		}
		for _, v := range vs.Values {
			ast.Inspect(v, func(m ast.Node) bool {
				if id, ok := m.(*ast.Ident); ok && own[l.c.info.Uses[id]] {
					inOwnSpec[id] = true
				}
				return true
			})
		}
		return true
	})
	for id, obj := range l.c.info.Defs {
		rename(id, obj)
	}
	for id, obj := range l.c.info.Uses {
		if !inOwnSpec[id] {
			rename(id, obj)
		}
	}
	return l.done()
}

// predeclaredName is the name a cell's redeclaration of the predeclared
// identifier name goes by.
func predeclaredName(name string) string {
	return helperPrefix + "_pd_" + name
}
