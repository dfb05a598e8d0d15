package worker

import (
	"go/ast"
	"go/token"
	"strings"
)

// passLowerDefaultFallthrough lowers the fallthrough statements of a
// switch whose default clause is not its last clause: yaegi v0.16.1 runs
// such a default as if it came last, so that a fallthrough out of it went
// nowhere and one into it went elsewhere (to a later case):
//
//	switch {
//	default:
//		n++
//		fallthrough
//	case false:
//		n += 10        // Go runs it after the default's statements
//	}
//
// Each fallthrough of such a switch becomes a block holding the statements
// of the clause after it (and, when that one ends in a fallthrough too,
// those of the clauses after it, in order, each in its own block): what Go
// runs there. A break among them still leaves the switch. Statements with
// a label cannot be copied (the label would be declared twice), nor those
// using a name the clause falling through declares again (they would see
// its variable): such a switch is refused.
func (s *session) passLowerDefaultFallthrough(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		if l.err != nil {
			return false
		}
		sw, ok := n.(*ast.SwitchStmt)
		if !ok || !l.inCell(n) {
			return true
		}
		clauses := sw.Body.List
		midDefault := false
		for i, st := range clauses {
			if st.(*ast.CaseClause).List == nil && i < len(clauses)-1 {
				midDefault = true
			}
		}
		if !midDefault {
			return true
		}
		for i, st := range clauses {
			cc := st.(*ast.CaseClause)
			if i == len(clauses)-1 {
				continue
			}
			ft := endsInFallthrough(cc)
			if ft == nil {
				continue
			}
			var b strings.Builder
			b.WriteString("{ ")
			for k := i + 1; k < len(clauses); k++ {
				next := clauses[k].(*ast.CaseClause)
				body := next.Body
				more := endsInFallthrough(next) != nil && k < len(clauses)-1
				if more {
					body = body[:len(body)-1]
				}
				for _, bs := range body {
					if id := l.shadowedIn(bs, cc); id != nil {
						l.fail(ft, "cannot run faithfully: fallthrough in a switch whose default clause is not the last, into statements that use %s, which the clause falling through declares again (the interpreter runs such a switch's fallthrough elsewhere; the statements copied here would see that %s)", id.Name, id.Name)
						return false
					}
					if hasLabel(bs) {
						l.fail(ft, "cannot run faithfully: fallthrough in a switch whose default clause is not the last, into statements with a label (the interpreter runs such a switch's fallthrough elsewhere; copying the statements would declare the label twice)")
						return false
					}
					b.WriteString(l.text(bs) + "; ")
				}
				if !more {
					break
				}
				b.WriteString("}; { ") // the next clause's own scope
			}
			b.WriteString("}")
			l.replace(ft, b.String())
		}
		return true
	})
	return l.done()
}

// endsInFallthrough is the fallthrough statement cc ends with, or nil.
func endsInFallthrough(cc *ast.CaseClause) *ast.BranchStmt {
	if len(cc.Body) == 0 {
		return nil
	}
	br, ok := cc.Body[len(cc.Body)-1].(*ast.BranchStmt)
	if !ok || br.Tok != token.FALLTHROUGH {
		return nil
	}
	return br
}

// shadowedIn returns a name n uses whose object clause cc declares again
// (so that n copied into cc would use cc's), or nil.
func (l *lowerer) shadowedIn(n ast.Node, cc *ast.CaseClause) *ast.Ident {
	scope := l.c.info.Scopes[cc]
	if scope == nil {
		return nil
	}
	var found *ast.Ident
	ast.Inspect(n, func(m ast.Node) bool {
		id, ok := m.(*ast.Ident)
		if !ok || found != nil {
			return found == nil
		}
		if obj := l.c.info.Uses[id]; obj != nil {
			if other := scope.Lookup(id.Name); other != nil && other != obj {
				found = id
			}
		}
		return true
	})
	return found
}

// hasLabel reports whether n holds a labeled statement.
func hasLabel(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(m ast.Node) bool {
		if _, ok := m.(*ast.LabeledStmt); ok {
			found = true
		}
		return !found
	})
	return found
}
