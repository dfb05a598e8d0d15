package worker

import (
	"go/ast"
	"go/token"
	"strings"
)

// passLowerSelectVars gives each execution of a select case its own
// variables, as Go does: yaegi v0.16.1 declared `case v := <-c:` once per
// select statement, so `p[i] = &v` in a loop made every p[i] the same
// pointer (escape.go). The case receives into fresh names and declares its
// variables from them at the top of its body:
//
//	case v, ok := <-c:  =>  case __unetlab_sv1, __unetlab_sv2 := <-c: v, ok := __unetlab_sv1, __unetlab_sv2; _, _ = v, ok;
func (s *session) passLowerSelectVars(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		cc, ok := n.(*ast.CommClause)
		if !ok || !l.inCell(n) {
			return true
		}
		as, ok := cc.Comm.(*ast.AssignStmt)
		if !ok || as.Tok != token.DEFINE {
			return true
		}
		var names, temps []string
		for _, e := range as.Lhs {
			id, ok := e.(*ast.Ident)
			if !ok || id.Name == "_" {
				continue
			}
			t := l.name("sv")
			l.replace(id, t)
			names = append(names, id.Name)
			temps = append(temps, t)
		}
		if len(names) == 0 {
			return true
		}
		blanks := strings.TrimSuffix(strings.Repeat("_, ", len(names)), ", ")
		l.insert(cc.Colon+1, " "+strings.Join(names, ", ")+" := "+strings.Join(temps, ", ")+"; "+blanks+" = "+strings.Join(names, ", ")+";")
		return true
	})
	return l.done()
}
