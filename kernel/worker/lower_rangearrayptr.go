package worker

import (
	"go/ast"
	"go/types"
	"strconv"
)

// passLowerRangeArrayPtr makes `for i := range p`, p a pointer to an array
// of length N, loop over the indices without reading p, as the spec says:
// with at most one iteration variable and a constant len(p), the range
// expression is not evaluated, so a nil p loops N times. yaegi v0.16.1
// ranged over *p ("call of reflect.Value.Len on zero Value" for a nil p).
// p is a name or a field selection through names (len(p) is then
// constant); it becomes [N]struct{}{}, an array of N empty values (a
// range over the integer N would meet lower-loopvar, which leaves integer
// ranges alone because yaegi fails on them with a per-iteration copy).
// With a value variable, `_ = *p; ` goes before the loop, so that a nil p
// panics with Go's nil dereference.
func (s *session) passLowerRangeArrayPtr(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.PreorderStack(l.c.file, nil, func(n ast.Node, stack []ast.Node) bool {
		r, ok := n.(*ast.RangeStmt)
		if !ok || !l.inCell(r) || !pureOperand(r.X) {
			return true
		}
		if r.Value != nil && !isBlankExpr(r.Value) {
			// The values are read through p: a nil p panics first, as
			// Go's nil dereference (yaegi's range said "index out of
			// range [-1]"). A labelled loop keeps its label on the for.
			if _, ok := stack[len(stack)-1].(*ast.LabeledStmt); ok || !isArrayPtr(l.c.info.Types[r.X].Type) {
				return true
			}
			l.insert(r.Pos(), "_ = *"+l.text(r.X)+"; ")
			return true
		}
		tv, ok := l.c.info.Types[r.X]
		if !ok || tv.Type == nil {
			return true
		}
		p, ok := tv.Type.Underlying().(*types.Pointer)
		if !ok {
			return true
		}
		a, ok := p.Elem().Underlying().(*types.Array)
		if !ok {
			return true
		}
		l.replace(r.X, "["+strconv.FormatInt(a.Len(), 10)+"]struct{}{}")
		return true
	})
	return l.done()
}

// isBlankExpr reports whether e is the blank identifier.
func isBlankExpr(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "_"
}

// isArrayPtr reports whether t is a pointer to an array.
func isArrayPtr(t types.Type) bool {
	if t == nil {
		return false
	}
	p, ok := t.Underlying().(*types.Pointer)
	if !ok {
		return false
	}
	_, ok = p.Elem().Underlying().(*types.Array)
	return ok
}
