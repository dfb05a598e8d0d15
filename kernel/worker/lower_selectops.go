package worker

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"
)

// passLowerSelectOperands works around a fault of yaegi v0.16.1: a select
// case receiving with comma-ok from a channel that is not a plain name
// (`case v, ok := <-r.values:`, `<-chans[i]`, `<-f()`) never became
// ready, and the select blocked for ever (typeparam/chans.go,
// orderedmap.go). Go evaluates the channel operands of a select's
// receives, and the channels and values of its sends, once, in source
// order, on entering the select; so does the lowering, into temporaries
// declared in a block around the select, which the cases then use:
//
//	select {            =>  { __unetlab_so1 := ctx.Done(); __unetlab_so2 := r.values; select {
//	case <-ctx.Done():      case <-__unetlab_so1:
//	case v, ok := <-r.values:  case v, ok := <-__unetlab_so2:
//	}                       } }
//
// A send's value is declared with the channel's element type. Only the
// selects holding such a receive are lowered.
func (s *session) passLowerSelectOperands(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	info := l.c.info
	ast.PreorderStack(l.c.file, nil, func(n ast.Node, stack []ast.Node) bool {
		sel, ok := n.(*ast.SelectStmt)
		if !ok || !l.inCell(n) || !selectNeedsOperands(sel) {
			return true
		}
		var decls []string
		type rep struct {
			n    ast.Node
			text string
		}
		var reps []rep
		for _, st := range sel.Body.List {
			cc, ok := st.(*ast.CommClause)
			if !ok || cc.Comm == nil {
				continue
			}
			switch c := cc.Comm.(type) {
			case *ast.SendStmt:
				ct, ok := info.Types[c.Chan].Type.Underlying().(*types.Chan)
				if !ok {
					return true
				}
				es, ok := l.typeString(ct.Elem())
				if !ok {
					return true
				}
				ch, v := l.name("so"), l.name("so")
				decls = append(decls, ch+" := "+l.text(c.Chan), "var "+v+" "+es+" = "+l.text(c.Value))
				reps = append(reps, rep{c, ch + " <- " + v})
			default:
				recv := selectRecv(cc.Comm)
				if recv == nil {
					return true
				}
				ch := l.name("so")
				decls = append(decls, ch+" := "+l.text(recv.X))
				reps = append(reps, rep{recv, "<-" + ch})
			}
		}
		var at ast.Node = sel
		if ls, ok := stack[len(stack)-1].(*ast.LabeledStmt); ok && ls.Stmt == sel {
			at = ls
		}
		l.insert(at.Pos(), "{ "+strings.Join(decls, "; ")+"; ")
		for _, r := range reps {
			l.replace(r.n, r.text)
		}
		l.insert(sel.End(), " }")
		return true
	})
	return l.done()
}

// selectNeedsOperands reports whether sel has a comma-ok receive from a
// channel that is not a plain name.
func selectNeedsOperands(sel *ast.SelectStmt) bool {
	for _, st := range sel.Body.List {
		cc, ok := st.(*ast.CommClause)
		if !ok {
			continue
		}
		as, ok := cc.Comm.(*ast.AssignStmt)
		if !ok || len(as.Lhs) != 2 {
			continue
		}
		if recv := selectRecv(as); recv != nil {
			if _, ok := ast.Unparen(recv.X).(*ast.Ident); !ok {
				return true
			}
		}
	}
	return false
}

// selectRecv is the receive operation of a select case's communication
// (`<-c`, `v := <-c`, `v, ok = <-c`), or nil.
func selectRecv(comm ast.Stmt) *ast.UnaryExpr {
	var e ast.Expr
	switch c := comm.(type) {
	case *ast.ExprStmt:
		e = c.X
	case *ast.AssignStmt:
		if len(c.Rhs) == 1 {
			e = c.Rhs[0]
		}
	}
	if u, ok := ast.Unparen(e).(*ast.UnaryExpr); ok && u.Op == token.ARROW {
		return u
	}
	return nil
}
