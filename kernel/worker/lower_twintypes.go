package worker

import (
	"go/ast"
	"go/token"
	"go/types"
	"strconv"
	"strings"
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
//     F(1) took the default): it becomes a switch on the index of the
//     clause that matches (indexTypeSwitch);
//   - a type switch with a variable missed a value of a cell type with
//     methods that yaegi held with its type: its value is made bare first
//     (normalizeTypeSwitch);
//   - a value of a cell type with methods is held either with its type
//     (a call's argument, a composite literal's element) or bare (a
//     function's result, any(t), an assignment); held with its type, a
//     type switch without a variable tells it from other types, which
//     the comparisons (ifaceEqual, lower-iface-compare) and assertions to
//     a concrete type (lowerConcreteAssert) now ask first (`t.(Rankine)`
//     and `t.(int)` succeeded for a t holding Kelvin(1));
//   - an error compared with, or asserted to, a value of a cell type with
//     methods that another such type is over the same type as, is refused
//     (refuseErrorTwins): yaegi's wrapper of an error hides which.
//
// Not seen: %T of a value of a cell type without methods held in an
// interface prints its underlying type (refusing %T of every value of a
// type some cell type is over refused ordinary programs); an assertion
// of an interface holding a bare cell struct value to a cell interface is
// false (yaegi dropped the methods; asking by structure matched structs
// without them).
// Not seen either: a comparison or assertion of an interface holding a bare
// value of a twin that the cell does not name in the same switch (`v ==
// F(1)` with v holding float64(1) is true; so is `v == T(1)` and v.(T)
// for T a cell type with methods over int and v holding int(1), a T held
// bare being the same to the interpreter); map keys are
// refuse-type-names'.

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
// address taken, in the switch; nil otherwise, and in generic code.
func (l *lowerer) tagDynType(sw *ast.SwitchStmt) types.Type {
	if sw.Tag == nil || l.inGenericFunc(sw.Pos()) {
		// (lower-generic drops duplicate case values of an instance,
		// which the comparisons written around them cannot follow.)
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

// hasBareCellCase reports whether a case of the type switch x is a cell
// type without methods.
func (l *lowerer) hasBareCellCase(x *ast.TypeSwitchStmt) bool {
	for _, st := range x.Body.List {
		for _, e := range st.(*ast.CaseClause).List {
			if t := caseType(l.c.info, e); t != nil && !isTypeParam(t) && bareCellType(t) != nil {
				return true
			}
		}
	}
	return false
}

// instanceCase returns the first case of the type switch x that names a
// generic type's instance (List[int]), nil when none does.
func instanceCase(x *ast.TypeSwitchStmt) ast.Expr {
	for _, st := range x.Body.List {
		for _, e := range st.(*ast.CaseClause).List {
			found := false
			ast.Inspect(e, func(n ast.Node) bool {
				switch n.(type) {
				case *ast.IndexExpr, *ast.IndexListExpr:
					found = true
				}
				return !found
			})
			if found {
				return e
			}
		}
	}
	return nil
}

// indexTypeSwitch lowers the type switch x without a variable, on g, an
// empty interface, with a case of a cell type without methods, to a
// switch on the index of the clause that matches, which a function
// computes asking, clause by clause and in order, the switch yaegi
// matches each case type with: one with a variable for a cell type
// without methods (held bare, its underlying type's value, which a switch
// without a variable never matched) and for the cells' interfaces, one
// without for the other types (a cell type with methods held with its
// type, which one with a variable missed; a compiled type):
//
//	switch v.(type) { case F: A; case T, int: B; default: C }  =>
//	switch func(v any) int { switch w := v.(type) { case F: _ = w; return 1 }; switch v.(type) { case T: return 2 }; ...; return 0 }(v) { case 1: A; case 2: B; default: C }
func (l *lowerer) indexTypeSwitch(x *ast.TypeSwitchStmt, guard, g ast.Expr) {
	const v, w = helperPrefix + "_tiv", helperPrefix + "_tiw"
	var body strings.Builder
	k := 0
	for _, st := range x.Body.List {
		cc := st.(*ast.CaseClause)
		if len(cc.List) == 0 {
			continue
		}
		k++
		ret := "return " + strconv.Itoa(k)
		for _, e := range cc.List {
			tv := l.c.info.Types[e]
			switch t := tv.Type; {
			case tv.IsNil():
				body.WriteString("if " + v + " == nil { " + ret + " }; ")
			case bareCellType(t) != nil || (!isTypeParam(t) && interpretedIface(t)):
				body.WriteString("switch " + w + " := " + v + ".(type) { case " + l.text(e) + ": _ = " + w + "; " + ret + " }; ")
			default:
				body.WriteString("switch " + v + ".(type) { case " + l.text(e) + ": " + ret + " }; ")
			}
		}
		l.replaceSpan(cc.List[0].Pos(), cc.List[len(cc.List)-1].End(), strconv.Itoa(k))
	}
	l.replace(guard, "func("+v+" any) int { "+body.String()+"return 0 }("+l.text(g)+")")
}

// normalizeTypeSwitch makes the type switch x on the empty-interface
// value g match a value of a cell type with methods however yaegi holds
// it, where x has a variable (withVar: its own, or one lower-iface-assert
// gives it). yaegi holds such a value in an interface either with its
// type (a call's argument, a composite literal's element) or bare (a
// function's result, a conversion any(t), an assignment to a variable
// declared before); a type switch with a variable matched only the bare
// value (`switch x := v.(type) { case S: }` took the default for
// describe(S{1})), one without only the value with its type. g goes
// through a function that asks a switch without a variable for each such
// case type and returns the value bare:
//
//	switch x := v.(type)  =>  switch x := func(v any) any { switch v.(type) { case S: w, _ := v.(S); return w }; return v }(v).(type)
//
// Not for a case type whose bare value another case's type would match
// too (S's underlying type, or a type over it), nor in a switch with a
// case of an interface type, which yaegi matches only in a value held
// with its type.
func (l *lowerer) normalizeTypeSwitch(x *ast.TypeSwitchStmt, g ast.Expr) {
	var cases []types.Type
	for _, st := range x.Body.List {
		for _, e := range st.(*ast.CaseClause).List {
			t := caseType(l.c.info, e)
			if t == nil {
				continue
			}
			if isTypeParam(t) || types.IsInterface(t) {
				return
			}
			cases = append(cases, t)
		}
	}
	var body strings.Builder
	const v, w = helperPrefix + "_tnv", helperPrefix + "_tnw"
	for i, t := range cases {
		if !isCellNamedOrPtr(t) || types.NewMethodSet(t).Len() == 0 {
			continue
		}
		bare := t.Underlying()
		if p, ok := t.(*types.Pointer); ok {
			bare = types.NewPointer(p.Elem().Underlying())
		}
		twin := false
		for j, u := range cases {
			if j != i && !types.Identical(t, u) && types.Identical(bare, yaegiHeldBare(u)) {
				twin = true
			}
		}
		ts, ok := l.typeString(t)
		if twin || !ok {
			continue
		}
		body.WriteString("case " + ts + ": " + w + ", _ := " + v + ".(" + ts + "); return " + w + "; ")
	}
	if body.Len() == 0 {
		return
	}
	l.insert(g.Pos(), "func("+v+" any) any { switch "+v+".(type) { "+body.String()+"}; return "+v+" }(")
	l.insert(g.End(), ")")
}

// yaegiHeldBare is the type whose values yaegi holds for a value of type
// t held bare: the underlying type of a cell type (and pointer to one),
// t itself otherwise.
func yaegiHeldBare(t types.Type) types.Type {
	if p, ok := t.(*types.Pointer); ok && isCellNamedOrPtr(t) {
		return types.NewPointer(p.Elem().Underlying())
	}
	if isCellNamedOrPtr(t) {
		return t.Underlying()
	}
	return t
}

// lowerConcreteAssert lowers x.(T), x an empty interface and T a concrete
// type, where a cell type with methods over the same type as T (T's
// underlying type, or T itself for a compiled type) is in the session:
// yaegi's assertion accepted a value of that other type held with its
// type (`var t any = Kelvin(1)`; t.(Rankine) and t.(int) succeeded). A
// type switch without a variable, which tells those apart, rejects them
// first, as Go does; a comma-ok assertion gives the zero value and false,
// another panics with Go's message:
//
//	t.(int)  =>  func(a any) int { switch a.(type) { case Kelvin: panic("interface conversion: interface {} is main.Kelvin, not int") }; return a.(int) }(t)
//
// Not in generic code. An error asserted to a cell type with methods
// that has such a twin is refused (refuseErrorTwins).
func (l *lowerer) lowerConcreteAssert(ta *ast.TypeAssertExpr, commaOk bool) {
	if ta.Type == nil || l.inGenericFunc(ta.Pos()) {
		return
	}
	xt := l.c.info.Types[ta.X].Type
	t := l.c.info.Types[ta.Type].Type
	if xt == nil || t == nil || types.IsInterface(t) || isTypeParam(t) || isTypeParam(xt) {
		return
	}
	if isErrorType(xt) {
		if others := l.errorTwins(t); isCellNamedOrPtr(t) && types.NewMethodSet(t).Len() > 0 && len(others) > 0 {
			q := types.RelativeTo(l.c.pkg)
			l.fail(ta, "cannot run faithfully: an error asserted to %s, which another cell error type (%s) is over the same type as: the interpreter's wrapper of an error does not tell them apart", types.TypeString(t, q), strings.Join(others, ", "))
		}
		return
	}
	if !emptyIface(xt) {
		return
	}
	twins := l.sameBareTypesOf(t)
	others := l.sameBareList(t)
	ts, ok := l.typeString(t)
	if len(others) == 0 || !ok {
		return
	}
	const a = helperPrefix + "_ca"
	var b strings.Builder
	if commaOk {
		b.WriteString("func(" + a + " any) (" + ts + ", bool) { switch " + a + ".(type) { case " + strings.Join(others, ", ") + ": var z " + ts + "; return z, false }; v, ok := " + a + ".(" + ts + "); return v, ok }(")
	} else {
		b.WriteString("func(" + a + " any) " + ts + " { switch " + a + ".(type) { ")
		for i, o := range others {
			name := goTypeName(twins[i])
			b.WriteString("case " + o + ": panic(" + strconv.Quote("interface conversion: interface {} is "+name+", not "+goTypeName(t)) + "); ")
		}
		b.WriteString("}; return " + a + ".(" + ts + ") }(")
	}
	// One replacement of the assertion: lower-fmt-values' stand-in
	// of a printed operand goes around it.
	l.replace(ta, b.String()+l.text(ta.X)+")")
}

// sameBareTypesOf is sameBareList's types.
func (l *lowerer) sameBareTypesOf(t types.Type) []types.Type {
	list, allowed := l.cellConcreteTypes()
	var out []types.Type
	for i, named := range list {
		if !allowed[i] {
			continue
		}
		for _, u := range []types.Type{named, types.NewPointer(named)} {
			if types.Identical(u, t) || types.NewMethodSet(u).Len() == 0 || !types.Identical(yaegiHeldBare(u), yaegiHeldBare(t)) {
				continue
			}
			if _, ok := l.typeString(u); ok {
				out = append(out, u)
			}
		}
	}
	return out
}

// refuseErrorTwins refuses the comparison b of an error with a value of
// a cell type with methods that another cell type with methods is over
// the same type as (ErrA and ErrB over int): yaegi holds the value in an
// error through a wrapper that neither its assertion nor a type switch
// tells apart (`var e error = ErrA(1)`; e == ErrB(1) was true).
func (l *lowerer) refuseErrorTwins(b ast.Node, xt, yt types.Type) {
	for _, p := range [][2]types.Type{{xt, yt}, {yt, xt}} {
		if !isErrorType(p[0]) || !isCellNamedOrPtr(p[1]) || types.NewMethodSet(p[1]).Len() == 0 {
			continue
		}
		if others := l.errorTwins(p[1]); len(others) > 0 {
			q := types.RelativeTo(l.c.pkg)
			l.fail(b, "cannot run faithfully: an error compared with a value of %s, which another cell error type (%s) is over the same type as: the interpreter's wrapper of an error does not tell them apart", types.TypeString(p[1], q), strings.Join(others, ", "))
			return
		}
	}
}

// errorTwins lists the cell types with methods other than t that yaegi
// holds as t's and that implement error: only those can be what an error
// holds (a type over the same int that is no error cannot).
func (l *lowerer) errorTwins(t types.Type) []string {
	errIface := types.Universe.Lookup("error").Type().Underlying().(*types.Interface)
	q := types.RelativeTo(l.c.pkg)
	var out []string
	for _, u := range l.sameBareTypesOf(t) {
		if types.Implements(u, errIface) {
			out = append(out, types.TypeString(u, q))
		}
	}
	return out
}

// isErrorType reports whether t is the predeclared error.
func isErrorType(t types.Type) bool {
	return t != nil && types.Identical(t, types.Universe.Lookup("error").Type())
}
