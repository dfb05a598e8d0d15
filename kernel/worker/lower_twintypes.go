package worker

import (
	"go/ast"
	"go/token"
	"go/types"
)

// This file is about the cell types that yaegi v0.16.1 does not tell
// apart from other types once their values are in an interface. A value
// of a cell type without methods (`type F float64`, `type S struct{ X int
// }`) is held in an interface as a bare value of its underlying type: an
// any holding F(1) and an any holding float64(1) are one value to the
// interpreter, whose comparisons, assertions and type switches then
// answer for both alike (`case F(1.0):` of a switch on any(float64(1.0))
// matched; test/switch.go). Such types are "twins" here: two types whose
// values the interpreter holds alike in an interface (twinTypes).
//
// What the kernel does with them:
//
//   - a switch whose tag is an interface value of a statically known
//     dynamic type (the tag converts a value of a concrete type, `switch
//     interface{}(x)`, or is a variable the switch's init so declares and
//     nothing assigns again) compares each case value as Go does: a case
//     value of another type is false without asking the interpreter
//     (lower-switches, tagDynType);
//   - otherwise, a switch on an interface with case values of two twin
//     types, and a type switch with cases of two twin types, are refused
//     (refuse-type-names, refuseTwinCases): which case matches depends on
//     what the interpreter cannot tell;
//   - a type switch without a variable never matched a case of a cell
//     type without methods (`switch v.(type) { case F: }` with v holding
//     F(1) took the default): it gets a variable, with which yaegi matches
//     such a value (lower-iface-assert). One that also has a case of a
//     cell type with methods, which yaegi matches only without a
//     variable, is refused.
//
// Not seen: a comparison or assertion of an interface holding a value of
// a twin that the cell does not name in the same switch (`v == F(1)` with
// v holding float64(1) is true); map keys are refuse-type-names'.

// yaegiHeld is the type whose values yaegi holds in an interface for a
// value of type t: the underlying type of a cell type without methods, t
// itself otherwise (a cell type with methods is held with its type).
func yaegiHeld(t types.Type) types.Type {
	if n := bareCellType(t); n != nil {
		return n.Underlying()
	}
	return t
}

// twinTypes reports whether values of the types a and b, different
// types, are held alike in an interface by yaegi: one at least is a cell
// type without methods, and both are held as the same type.
func twinTypes(a, b types.Type) bool {
	if a == nil || b == nil || types.IsInterface(a) || types.IsInterface(b) || types.Identical(a, b) {
		return false
	}
	if bareCellType(a) == nil && bareCellType(b) == nil {
		return false
	}
	return types.Identical(yaegiHeld(a), yaegiHeld(b))
}

// caseType is the type a case value or case type e has: untyped
// constants at their default type; nil for the nil case.
func caseType(info *types.Info, e ast.Expr) types.Type {
	tv := info.Types[e]
	if tv.IsNil() || tv.Type == nil {
		return nil
	}
	return types.Default(tv.Type)
}

// refuseTwinCases refuses a switch on an interface (of a dynamic type not
// known statically) with case values of two twin types, and a type switch
// with cases of two twin types, at the second case.
func (l *lowerer) refuseTwinCases(n ast.Node) {
	var body *ast.BlockStmt
	what := "case values"
	switch x := n.(type) {
	case *ast.SwitchStmt:
		tt := l.c.info.Types[x.Tag].Type
		if x.Tag == nil || tt == nil || !types.IsInterface(tt) || isTypeParam(tt) || l.tagDynType(x) != nil {
			return
		}
		body = x.Body
	case *ast.TypeSwitchStmt:
		body = x.Body
		what = "cases"
	default:
		return
	}
	type seen struct {
		t  types.Type
		at ast.Expr
	}
	var all []seen
	for _, st := range body.List {
		cc, ok := st.(*ast.CaseClause)
		if !ok {
			continue
		}
		for _, e := range cc.List {
			t := caseType(l.c.info, e)
			if t == nil || isTypeParam(t) {
				continue
			}
			for _, s := range all {
				if twinTypes(s.t, t) {
					q := types.RelativeTo(l.c.pkg)
					l.fail(e, "cannot run faithfully: %s of the types %s and %s in one switch on an interface: the interpreter holds a value of a cell type without methods in an interface as its underlying type, so it does not tell them apart", what, types.TypeString(s.t, q), types.TypeString(t, q))
					return
				}
			}
			all = append(all, seen{t, e})
		}
	}
}

// tagDynType is the dynamic type of the interface value the tag of sw
// holds, when it is known statically: the tag converts a value of a
// concrete type to an interface (`interface{}(x)`), or is a variable
// declared so by the switch's init and not assigned again, nor its
// address taken, in the switch; nil otherwise.
func (l *lowerer) tagDynType(sw *ast.SwitchStmt) types.Type {
	if sw.Tag == nil {
		return nil
	}
	if t := l.convertedType(sw.Tag); t != nil {
		return t
	}
	id, ok := ast.Unparen(sw.Tag).(*ast.Ident)
	if !ok || sw.Init == nil {
		return nil
	}
	obj, ok := l.c.info.Uses[id].(*types.Var)
	if !ok {
		return nil
	}
	as, ok := sw.Init.(*ast.AssignStmt)
	if !ok || as.Tok != token.DEFINE || len(as.Lhs) != len(as.Rhs) {
		return nil
	}
	var t types.Type
	for i, lhs := range as.Lhs {
		if lid, ok := lhs.(*ast.Ident); ok && l.c.info.Defs[lid] == obj {
			t = l.convertedType(as.Rhs[i])
		}
	}
	if t == nil || l.reassigned(sw.Body, obj) {
		return nil
	}
	return t
}

// convertedType is the type of x in e = I(x), a conversion of a value of
// a concrete type (untyped constants at their default type) to an
// interface type I; nil when e is not one.
func (l *lowerer) convertedType(e ast.Expr) types.Type {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok || len(call.Args) != 1 || call.Ellipsis.IsValid() {
		return nil
	}
	ft := l.c.info.Types[call.Fun]
	if !ft.IsType() || !types.IsInterface(ft.Type) || isTypeParam(ft.Type) {
		return nil
	}
	at := l.c.info.Types[call.Args[0]]
	if at.Type == nil || at.IsNil() || types.IsInterface(at.Type) || isTypeParam(at.Type) {
		return nil
	}
	return types.Default(at.Type)
}

// reassigned reports whether n assigns to obj, or takes its address.
func (l *lowerer) reassigned(n ast.Node, obj types.Object) bool {
	is := func(e ast.Expr) bool {
		id, ok := ast.Unparen(e).(*ast.Ident)
		return ok && l.c.info.Uses[id] == obj
	}
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.AssignStmt:
			for _, lhs := range x.Lhs {
				found = found || is(lhs)
			}
		case *ast.UnaryExpr:
			found = found || (x.Op == token.AND && is(x.X))
		case *ast.RangeStmt:
			found = found || (x.Key != nil && is(x.Key)) || (x.Value != nil && is(x.Value))
		}
		return !found
	})
	return found
}

// knownDynEqual writes the comparison of a tag whose dynamic type is dyn
// (tagDynType) with the case value e where e's type is another: false,
// written around e, which is still evaluated (Go evaluates the case
// values in order until one matches). It reports false, and writes
// nothing, where the types are the same (the interpreter compares the
// values).
func (l *lowerer) knownDynEqual(dyn types.Type, e ast.Expr) bool {
	tv := l.c.info.Types[e]
	if tv.IsNil() || tv.Type == nil || types.IsInterface(tv.Type) || types.Identical(types.Default(tv.Type), dyn) {
		return false
	}
	l.insert(e.Pos(), "func(any) bool { return false }(")
	l.insert(e.End(), ")")
	return true
}

// typeSwitchVariable reports how lower-iface-assert treats the type
// switch x (without a variable) as to cell types without methods: add
// when a case is one (yaegi matched such a case only with a variable);
// refuse (a refusal's message) when a case of a cell type with methods
// is there too, which yaegi matches only without one.
func (l *lowerer) typeSwitchVariable(x *ast.TypeSwitchStmt) (add bool) {
	var bare, methods ast.Expr
	for _, st := range x.Body.List {
		for _, e := range st.(*ast.CaseClause).List {
			t := caseType(l.c.info, e)
			if t == nil || isTypeParam(t) || types.IsInterface(t) {
				continue
			}
			if bare == nil && bareCellType(t) != nil {
				bare = e
			}
			if methods == nil && isCellNamedOrPtr(t) && types.NewMethodSet(t).Len() > 0 {
				methods = e
			}
		}
	}
	if bare == nil {
		return false
	}
	if methods != nil {
		at := bare
		if bare.Pos() < methods.Pos() {
			at = methods
		}
		q := types.RelativeTo(l.c.pkg)
		l.fail(at, "cannot run faithfully: a type switch without a variable with a case of %s, a cell type without methods, and one of %s, a cell type with methods: the interpreter matches a value of the first only in a switch with a variable (switch v := x.(type)), of the second only in one without", types.TypeString(caseType(l.c.info, bare), q), types.TypeString(caseType(l.c.info, methods), q))
		return false
	}
	return true
}
