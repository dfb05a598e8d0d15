package worker

import (
	"go/ast"
	"go/token"
)

// passLowerRecvReturn parenthesizes a receive that is a result of a return
// statement or a whole right-hand operand of an assignment: return <-c
// becomes return (<-c), xs[i] = <-c becomes xs[i] = (<-c). yaegi v0.16.1
// stores the received value of a bare `return <-c` through an
// unaddressable reflect.Value ("reflect.Value.Set using unaddressable
// value"), and drops it in `xs[i] = <-c` (the element kept its old value);
// in parentheses the receive is an operand evaluated first, as any other.
// A comma-ok receive (v, ok = <-c) and a select's case are left as they
// are.
func (s *session) passLowerRecvReturn(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	paren := func(e ast.Expr) {
		if x, ok := e.(*ast.UnaryExpr); ok && x.Op == token.ARROW {
			l.insert(x.Pos(), "(")
			l.insert(x.End(), ")")
		}
	}
	comms := map[ast.Stmt]bool{} // a select's receive cases stay as they are
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		if n == nil || !l.inCell(n) {
			return true
		}
		switch st := n.(type) {
		case *ast.CommClause:
			comms[st.Comm] = true
		case *ast.ReturnStmt:
			for _, e := range st.Results {
				paren(e)
			}
		case *ast.AssignStmt:
			if len(st.Lhs) == len(st.Rhs) && !comms[st] {
				for _, e := range st.Rhs {
					paren(e)
				}
			}
		}
		return true
	})
	return l.done()
}
