package worker

import (
	"go/ast"
	"go/token"
	"go/types"
)

// passLowerIfaceStores works around two faults of yaegi v0.16.1 in storing
// a value into an interface-typed variable:
//
//   - a composite literal assigned to an element, a field or a pointer's
//     target of a non-empty interface type (`s.it = myIterator{}`,
//     `m[k] = T{}`) panicked ("reflect.Set: value of type
//     interp.valueInterface is not assignable to type struct {}"); with an
//     explicit conversion to the interface it is stored as Go does:
//
//     s.it = myIterator{}  =>  s.it = (Iterator)(myIterator{})
//
//   - a comma-ok receive, map index or type assertion assigned to an
//     interface of another type than the value's (`temp2, ok = x[43]`,
//     temp2 a Stringer and x a map of MyInt) panicked ("call of
//     reflect.Value.Interface on zero Value"); it receives into fresh
//     variables, then assigns them, where its left-hand operands are names
//     (Go evaluates the right-hand side before assigning them either way):
//
//     v, ok = x[43]  =>  __unetlab_cs1, __unetlab_cs2 := x[43]; v = __unetlab_cs1; ok = __unetlab_cs2
func (s *session) passLowerIfaceStores(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	info := l.c.info
	ast.PreorderStack(l.c.file, nil, func(n ast.Node, stack []ast.Node) bool {
		as, ok := n.(*ast.AssignStmt)
		if !ok || as.Tok != token.ASSIGN || !l.inCell(n) {
			return true
		}
		if len(as.Lhs) == len(as.Rhs) {
			for i, lhs := range as.Lhs {
				if _, ok := ast.Unparen(lhs).(*ast.Ident); ok {
					continue
				}
				rhs := as.Rhs[i]
				if _, ok := ast.Unparen(rhs).(*ast.CompositeLit); !ok {
					continue
				}
				lt := info.Types[lhs].Type
				if lt == nil || !types.IsInterface(lt) || isTypeParam(lt) || emptyIface(lt) {
					continue
				}
				if rt := info.Types[rhs].Type; rt == nil || types.IsInterface(rt) {
					continue
				}
				ts, ok := l.typeString(lt)
				if !ok {
					continue
				}
				l.insert(rhs.Pos(), "("+ts+")(")
				l.insert(rhs.End(), ")")
			}
			return true
		}
		if len(as.Lhs) != 2 || len(as.Rhs) != 1 || !inStmtList(as, stack) || !commaOkForm(info, as.Rhs[0]) {
			return true
		}
		lt := info.Types[as.Lhs[0]].Type
		tv, ok := info.Types[as.Rhs[0]]
		if !ok || lt == nil || !types.IsInterface(lt) || isTypeParam(lt) {
			return true
		}
		tup, ok := tv.Type.(*types.Tuple)
		if !ok || tup.Len() != 2 || types.Identical(tup.At(0).Type(), lt) {
			return true
		}
		for _, e := range as.Lhs {
			if !plainOperand(e) {
				return true
			}
		}
		okConv := "" // the ok temporary is a bool: a named bool type converts it
		if ot := info.Types[as.Lhs[1]].Type; ot != nil && !types.IsInterface(ot) && !types.Identical(ot, types.Typ[types.Bool]) {
			ts, ok := l.typeString(ot)
			if !ok {
				return true
			}
			okConv = ts
		}
		a, b := l.name("cs"), l.name("cs")
		pos := l.c.fset.Position(as.Pos())
		l.edits = append(l.edits, edit{line: pos.Line, col: pos.Column, text: a + ", " + b + " :=", del: l.offset(as.TokPos) + 1 - l.offset(as.Pos())})
		// One assignment each: yaegi's parallel assignment of the value
		// to the interface failed the same way.
		tail := ""
		for i, e := range as.Lhs {
			if id, ok := ast.Unparen(e).(*ast.Ident); ok && id.Name == "_" {
				continue
			}
			v := []string{a, b}[i]
			if i == 1 && okConv != "" {
				v = okConv + "(" + v + ")"
			}
			tail += "; " + l.text(e) + " = " + v
		}
		l.insert(as.End(), tail)
		return true
	})
	return l.done()
}

// commaOkForm reports whether e is a receive, a map index or a type
// assertion (the forms whose comma-ok assignment yields two values).
func commaOkForm(info *types.Info, e ast.Expr) bool {
	switch x := ast.Unparen(e).(type) {
	case *ast.UnaryExpr:
		return x.Op == token.ARROW
	case *ast.TypeAssertExpr:
		return true
	case *ast.IndexExpr:
		t := info.Types[x.X].Type
		if t == nil {
			return false
		}
		_, ok := t.Underlying().(*types.Map)
		return ok
	}
	return false
}

// plainOperand reports whether e, on the left of an assignment, is a
// name (or the blank identifier): its address needs no evaluation that
// could panic or have effects.
func plainOperand(e ast.Expr) bool {
	_, ok := ast.Unparen(e).(*ast.Ident)
	return ok
}

// inStmtList reports whether st is an element of a statement list (a
// block's, a case's), where statements may be inserted before it.
func inStmtList(st ast.Stmt, stack []ast.Node) bool {
	if len(stack) == 0 {
		return false
	}
	switch p := stack[len(stack)-1].(type) {
	case *ast.BlockStmt:
		return true
	case *ast.CaseClause:
		for _, s := range p.Body {
			if s == st {
				return true
			}
		}
	case *ast.CommClause:
		for _, s := range p.Body {
			if s == st {
				return true
			}
		}
	}
	return false
}
