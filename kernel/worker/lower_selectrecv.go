package worker

import (
	"go/ast"
	"go/token"
	"strings"
)

// passLowerSelectRecv works around a fault of yaegi v0.16.1: a select
// case that assigns what it receives (`case v, ok = <-c:`) panicked
// ("reflect.Select: invalid Dir"). It receives into fresh variables and
// assigns them at the top of its body, which is when Go evaluates and
// assigns the left-hand side (only once the case is chosen):
//
//	case v, ok = <-c:  =>  case __unetlab_rv1, __unetlab_rv2 := <-c: v, ok = __unetlab_rv1, __unetlab_rv2;
//
// (`return <-c` is lower-recv-return's.)
func (s *session) passLowerSelectRecv(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		if n == nil || !l.inCell(n) {
			return true
		}
		switch x := n.(type) {
		case *ast.CommClause:
			as, ok := x.Comm.(*ast.AssignStmt)
			if !ok || as.Tok != token.ASSIGN {
				return true
			}
			var temps, lhs, rhs []string
			for _, e := range as.Lhs {
				if id, ok := e.(*ast.Ident); ok && id.Name == "_" {
					temps = append(temps, "_")
					continue
				}
				t := l.name("rv")
				temps = append(temps, t)
				lhs = append(lhs, l.text(e))
				rhs = append(rhs, t)
			}
			if len(lhs) == 0 {
				return true
			}
			pos := l.c.fset.Position(as.Lhs[0].Pos())
			l.edits = append(l.edits, edit{line: pos.Line, col: pos.Column, text: strings.Join(temps, ", ") + " :=", del: l.offset(as.TokPos) + 1 - l.offset(as.Lhs[0].Pos())})
			l.insert(x.Colon+1, " "+strings.Join(lhs, ", ")+" = "+strings.Join(rhs, ", ")+";")
		}
		return true
	})
	return l.done()
}
