package worker

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"
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
// The comparisons a switch makes are lowered by lower-switches with the
// same ifaceEqual. In generic code, an operand whose type is a type
// parameter compared with an interface is lowered the same way (its
// instances hold a type argument, maybe a cell type with methods), a nil
// value of an interface type argument equal to a nil interface only (a
// cell interface as type argument is not mended: yaegi's assertion to it
// panics).
// A cell type with methods is asked for first by a type switch without
// a variable, which tells it apart from other cell types (ifaceEqual).
// What this cannot mend: yaegi's assertion b.(U) also accepts a value of
// U's underlying type (an any holding uint16(1) equals U(1)), and a value
// of U it holds bare is one of those.
func (s *session) passLowerIfaceCompare(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	commaOk := commaOkAsserts(l.c.file)
	ast.PreorderStack(l.c.file, nil, func(n ast.Node, stack []ast.Node) bool {
		if l.err != nil {
			return false
		}
		if ta, ok := n.(*ast.TypeAssertExpr); ok && l.inCell(n) {
			l.onlyTypes = cellTypesFor(u, stack)
			l.lowerConcreteAssert(ta, commaOk[ta]) // lower_twintypes.go
			l.onlyTypes = nil
			return true
		}
		b, ok := n.(*ast.BinaryExpr)
		if !ok || (b.Op != token.EQL && b.Op != token.NEQ) || !l.inCell(n) {
			return true
		}
		xt, yt := l.c.info.Types[b.X], l.c.info.Types[b.Y]
		if xt.IsNil() || yt.IsNil() {
			return true
		}
		l.onlyTypes = cellTypesFor(u, stack)
		l.refuseErrorTwins(b, xt.Type, yt.Type) // lower_twintypes.go
		text, ok := l.ifaceEqual(l.text(b.X), xt.Type, l.text(b.Y), yt.Type)
		if !ok {
			text, ok = l.ifacesEqual(l.text(b.X), xt.Type, l.text(b.Y), yt.Type)
		}
		l.onlyTypes = nil
		if !ok {
			return true
		}
		if b.Op == token.NEQ {
			text = "!" + text
		}
		l.replace(b, "("+text+")")
		return true
	})
	return l.done()
}

// ifaceEqual writes the comparison x == y, of the operands' source x and
// y of types xt and yt, as Go defines it where one is an interface and
// the other a value of a cell's named type (or a pointer to one): a
// call of a function literal that asserts the interface to the other's
// type and compares the values, the operands evaluated once and in
// order. It reports false for any other comparison, and where a type
// cannot be spelled in the cell.
func (l *lowerer) ifaceEqual(x string, xt types.Type, y string, yt types.Type) (string, bool) {
	if xt == nil || yt == nil {
		return "", false
	}
	var concrete, iface types.Type
	concreteFirst := false
	xParam, yParam := isTypeParam(xt), isTypeParam(yt)
	switch {
	case types.IsInterface(xt) && !xParam && (!types.IsInterface(yt) || yParam):
		iface, concrete = xt, yt
	case types.IsInterface(yt) && !yParam && (!types.IsInterface(xt) || xParam):
		concrete, iface = xt, yt
		concreteFirst = true
	default:
		return "", false
	}
	param := isTypeParam(concrete)
	if !param && !isCellNamedOrPtr(concrete) {
		return "", false
	}
	cs, ok1 := l.typeString(concrete)
	is, ok2 := l.typeString(iface)
	if !ok1 || !ok2 {
		return "", false
	}
	a, c, v, okv := helperPrefix+"_ei", helperPrefix+"_ec", helperPrefix+"_ev", helperPrefix+"_eok"
	params := a + " " + is + ", " + c + " " + cs
	if concreteFirst {
		params = c + " " + cs + ", " + a + " " + is
	}
	if !emptyIface(iface) {
		// yaegi v0.16.1 passed a call's result of a non-empty interface
		// type to a parameter of one so that the assertion failed
		// (h(x) != myint(5) for h returning interface{ foo() }); a
		// conversion to the parameter's type keeps the dynamic type.
		if concreteFirst {
			y = "(" + is + ")(" + y + ")"
		} else {
			x = "(" + is + ")(" + x + ")"
		}
	}
	if !param && types.NewMethodSet(concrete).Len() > 0 {
		// A value of a cell type with methods that yaegi holds with its
		// type is told apart by a type switch without a variable (its
		// assertion also accepted another cell type over the same
		// type: `var t any = T(1)`; t == U(1) was true); one it holds
		// bare is not (an any holding int(1) still equals T(1)).
		others := l.sameBareTypes(concrete)
		body := "switch " + a + ".(type) { case " + cs + ": " + v + ", _ := " + a + ".(" + cs + "); return " + v + " == " + c
		if others != "" {
			body += "; case " + others + ": return false"
		}
		body += " }; "
		return "func(" + params + ") bool { " + body + v + ", " + okv + " := " + a + ".(" + cs + "); return " + okv + " && " + v + " == " + c + " }(" + x + ", " + y + ")", true
	}
	nilCase := ""
	if param {
		// The type argument may be an interface: a nil one equals only
		// a nil interface (the assertion below would fail on both).
		nilCase = "switch any(" + c + ").(type) { case nil: return " + a + " == nil }; "
	}
	return "func(" + params + ") bool { " + nilCase + v + ", " + okv + " := " + a + ".(" + cs + "); return " + okv + " && " + v + " == " + c + " }(" + x + ", " + y + ")", true
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

// sameBareTypes lists, for a case of a type switch, the cell types with
// methods other than t (a cell type with methods, or a pointer to one)
// whose values yaegi holds bare as t's (the same underlying type), that
// the lowering may name (lowerer.onlyTypes); "" when there is none.
func (l *lowerer) sameBareTypes(t types.Type) string {
	return strings.Join(l.sameBareList(t), ", ")
}

// sameBareList is sameBareTypes' list, t any type (a compiled int has
// the cell types with methods over int).
func (l *lowerer) sameBareList(t types.Type) []string {
	var out []string
	for _, u := range l.sameBareTypesOf(t) {
		s, _ := l.typeString(u) // sameBareTypesOf keeps only types it spells
		out = append(out, s)
	}
	return out
}
