package worker

import (
	"go/ast"
	"go/token"
	"go/types"
)

// passLowerIfaceCompare lowers the comparison of an interface with a
// value of a cell's named type (or a pointer to one): yaegi v0.16.1 keeps
// a value of a cell type with methods in an interface as its own wrapper,
// which == compared with the bare value as unequal (`var i any = u; u !=
// i` was true). The comparison becomes what Go defines it to be, a type
// assertion and a comparison of the values, its operands evaluated once
// and in order:
//
//	u != i  =>  !func(a U, b any) bool { v, ok := b.(U); return ok && v == a }(u, i)
//
// (yaegi's assertion takes a value of the type's underlying type for one
// of the type, as it does for any value of a named type without methods:
// those comparisons stay as they were.)
func (s *session) passLowerIfaceCompare(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		b, ok := n.(*ast.BinaryExpr)
		if !ok || (b.Op != token.EQL && b.Op != token.NEQ) || !l.inCell(n) {
			return true
		}
		xt, yt := l.c.info.Types[b.X], l.c.info.Types[b.Y]
		if xt.Type == nil || yt.Type == nil || xt.IsNil() || yt.IsNil() {
			return true
		}
		var concrete, iface types.Type
		concreteFirst := false
		switch {
		case types.IsInterface(xt.Type) && !types.IsInterface(yt.Type):
			iface, concrete = xt.Type, yt.Type
		case !types.IsInterface(xt.Type) && types.IsInterface(yt.Type):
			concrete, iface = xt.Type, yt.Type
			concreteFirst = true
		default:
			return true
		}
		if !isCellNamedOrPtr(concrete) {
			return true
		}
		cs, ok1 := l.typeString(concrete)
		is, ok2 := l.typeString(iface)
		if !ok1 || !ok2 {
			return true
		}
		a, c, v, okv := helperPrefix+"_ei", helperPrefix+"_ec", helperPrefix+"_ev", helperPrefix+"_eok"
		params := a + " " + is + ", " + c + " " + cs
		if concreteFirst {
			params = c + " " + cs + ", " + a + " " + is
		}
		text := "func(" + params + ") bool { " + v + ", " + okv + " := " + a + ".(" + cs + "); return " + okv + " && " + v + " == " + c + " }(" + l.text(b.X) + ", " + l.text(b.Y) + ")"
		if b.Op == token.NEQ {
			text = "!" + text
		}
		l.replace(b, "("+text+")")
		return true
	})
	return l.done()
}

// isCellNamedOrPtr reports whether t is a (not generic) named type of
// the cell, or a pointer to one.
func isCellNamedOrPtr(t types.Type) bool {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := types.Unalias(t).(*types.Named)
	return ok && isCellNamed(n) && n.TypeParams().Len() == 0 && n.TypeArgs().Len() == 0
}
