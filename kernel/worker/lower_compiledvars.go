package worker

import (
	"go/ast"
	"go/types"
)

// passLowerCompiledVars makes assignments to a variable of a compiled
// package run: yaegi v0.16.1 takes a compiled package's variable of a
// basic type for a constant on the left of an assignment
// (runtime.MemProfileRate = 4096 failed with "cannot assign to 524288 (int
// constant)"), while it assigns through a pointer to it. pkg.V on the left
// of =, op= or ++/-- becomes *&pkg.V.
func (s *session) passLowerCompiledVars(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	info := l.c.info
	lhs := func(e ast.Expr) {
		sel, ok := ast.Unparen(e).(*ast.SelectorExpr)
		if !ok || !l.inCell(sel) {
			return
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok {
			return
		}
		if _, ok := info.Uses[id].(*types.PkgName); !ok {
			return
		}
		v, ok := info.Uses[sel.Sel].(*types.Var)
		if !ok || v.Pkg() == nil || v.Pkg().Path() == cellPkgPath {
			return
		}
		l.insert(sel.Pos(), "*&")
	}
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for _, e := range n.Lhs {
				lhs(e)
			}
		case *ast.IncDecStmt:
			lhs(n.X)
		}
		return true
	})
	return l.done()
}
