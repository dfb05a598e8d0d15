package worker

import "go/ast"

// passLowerFuncLitStmts parenthesizes the function literal of a top-level
// statement that calls one, func() { ... }() becoming (func() { ... })().
// yaegi v0.16.1 takes a source that starts with the keyword func for a
// file of declarations and keeps its statements in the body it runs on
// every later evaluation: the literal, and the statements evaluated with
// it, ran again in every later cell (a panic in it was reported again by
// every later cell). The parentheses keep the meaning.
func (s *session) passLowerFuncLitStmts(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.PreorderStack(l.c.file, nil, func(n ast.Node, stack []ast.Node) bool {
		es, ok := n.(*ast.ExprStmt)
		if !ok || !inCellBody(stack) {
			return true
		}
		call, ok := es.X.(*ast.CallExpr)
		if !ok {
			return true
		}
		if lit, ok := call.Fun.(*ast.FuncLit); ok && l.inCell(lit) {
			l.insert(lit.Pos(), "(")
			l.insert(lit.End(), ")")
		}
		return true
	})
	return l.done()
}
