package worker

import (
	"go/ast"
	"go/token"
)

// passLowerRecvReturn parenthesizes a receive that is a result of a return
// statement: return <-c becomes return (<-c). yaegi v0.16.1 stores the
// received value of a bare `return <-c` into its frame through an
// unaddressable reflect.Value ("reflect.Value.Set using unaddressable
// value"); in parentheses it is an operand evaluated first, as any other.
func (s *session) passLowerRecvReturn(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		r, ok := n.(*ast.ReturnStmt)
		if !ok || !l.inCell(r) {
			return true
		}
		for _, e := range r.Results {
			if x, ok := e.(*ast.UnaryExpr); ok && x.Op == token.ARROW {
				l.insert(x.Pos(), "(")
				l.insert(x.End(), ")")
			}
		}
		return true
	})
	return l.done()
}
