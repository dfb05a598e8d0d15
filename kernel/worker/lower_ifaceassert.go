package worker

import (
	"go/ast"
	"go/token"
	"go/types"
)

// passLowerIfaceAssert makes yaegi keep, and find, the methods of a value
// held in an empty interface that is asserted to one of the cells'
// interfaces. yaegi v0.16.1 holds such a value either with its
// interpreted type (a "valueInterface") or as the bare Go value, whose
// methods it has lost; and its type assertion to an interface the cells
// declare works on neither:
//
//   - `x := v.(I)` (v an any) panicked ("reflect.Set: value of type
//     interface {} is not assignable to type interp.valueInterface", or
//     "interface conversion: nil is not main.I"), and so did
//     `x, ok := v.(I)`;
//   - `switch v.(type) { case I: }` matched no value; with a variable
//     (`switch x := v.(type)`) it matches a value held with its type;
//   - `any(t)`, `return t` from a function whose result is an empty
//     interface, `var v any = t` and `v = t` held t bare (t of a cell
//     type with methods, or of one of the cells' interfaces).
//
// So the assertion becomes a call of a function literal that asks a type
// switch with a variable (`func(v any) I { switch x := v.(type) { case I:
// return x }; return v.(I) }(v)`, the last assertion only to panic as
// yaegi does), a type switch on an empty interface with a case of such an
// interface gets a variable, and the conversions and returns pass the
// value through a function literal's parameter of type any (which holds
// it with its type) in generic code, where such values go into
// interfaces (`return Nil[T]{}` of a method whose result is any); outside
// it the fmt stand-ins of lower-fmt-values read the bare values. Calls
// and composite literals hold it with its type already. Generic code gets the same (its edits go into its
// instances): an operand of a type parameter's type is passed through too.
func (s *session) passLowerIfaceAssert(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	info := l.c.info
	commaOk := commaOkAsserts(l.c.file)
	// box passes r through a parameter of type any where it is assigned
	// to an empty interface (of type to).
	generic := false // in a generic function or method (see box)
	box := func(to types.Type, r ast.Expr) {
		if generic && to != nil && emptyIface(to) && losesMethods(info.Types[r].Type) {
			// Insertions: r may be replaced by another edit.
			call := boxCall("")
			l.insert(r.Pos(), call[:len(call)-1])
			l.insert(r.End(), ")")
		}
	}
	ast.PreorderStack(l.c.file, nil, func(n ast.Node, stack []ast.Node) bool {
		if !l.inCell(n) {
			return true
		}
		if fd, ok := n.(*ast.FuncDecl); ok {
			generic = isGenericFunc(fd)
		}
		switch x := n.(type) {
		case *ast.AssignStmt:
			if x.Tok == token.ASSIGN && len(x.Lhs) == len(x.Rhs) {
				for i, r := range x.Rhs {
					box(info.Types[x.Lhs[i]].Type, r)
				}
			}
		case *ast.ValueSpec:
			if x.Type != nil && len(x.Names) == len(x.Values) {
				for _, r := range x.Values {
					box(info.Types[x.Type].Type, r)
				}
			}
		case *ast.TypeAssertExpr:
			// x.(T), T a type parameter: lower-generic's, where T is known.
			if x.Type == nil || !emptyIface(info.Types[x.X].Type) || !interpretedIface(info.Types[x.Type].Type) || isTypeParam(info.Types[x.Type].Type) {
				return true
			}
			// "(T)", not T: lower-generic may replace T (List[b]),
			// which a copy of T's span would not have.
			l.replace(x, ifaceAssertCallNamed(spanMarker(l.offset(x.Lparen), l.offset(x.Rparen)+1), l.text(x.X), commaOk[x], info.Types[x.Type].Type))
		case *ast.TypeSwitchStmt:
			es, ok := x.Assign.(*ast.ExprStmt)
			if !ok {
				if as, ok := x.Assign.(*ast.AssignStmt); ok && len(as.Rhs) == 1 {
					if ta, ok := ast.Unparen(as.Rhs[0]).(*ast.TypeAssertExpr); ok && emptyIface(info.Types[ta.X].Type) {
						l.normalizeTypeSwitch(x, ta.X) // lower_twintypes.go
					}
				}
				return true
			}
			ta := ast.Unparen(es.X).(*ast.TypeAssertExpr)
			if !emptyIface(info.Types[ta.X].Type) {
				return true
			}
			if l.hasBareCellCase(x) && !l.inGenericFunc(x.Pos()) { // lower_twintypes.go
				if e := instanceCase(x); e != nil {
					// The rewrite replaces the case list, in which
					// lower-generic renames the instance: the two
					// edits would overlap.
					l.fail(e, "cannot run faithfully: a type switch with a case of a generic type's instance beside a case of a cell type without methods (the interpreter matches no value of the latter in such a switch); ask with an assertion first")
					return false
				}
				l.indexTypeSwitch(x, es.X, ta.X)
				return true
			}
			if !typeSwitchHasIface(info, x) {
				return true
			}
			v := l.name("tsv")
			l.insert(es.Pos(), v+" := ")
			for _, st := range x.Body.List {
				cc := st.(*ast.CaseClause)
				l.insert(cc.Colon+1, " _ = "+v+";")
			}
		case *ast.CallExpr:
			// any(t), interface{}(t)
			tv := info.Types[x.Fun]
			if !tv.IsType() || len(x.Args) != 1 {
				return true
			}
			at := info.Types[x.Args[0]].Type
			switch {
			case emptyIface(tv.Type) && losesMethods(at):
				box(tv.Type, x.Args[0])
			case !isTypeParam(tv.Type) && interpretedIface(tv.Type) && at != nil && (isTypeParam(at) || !types.IsInterface(at)):
				// I(t) is held bare; a parameter of type I holds t
				// with its type. (Insertions, as in box.)
				const a = helperPrefix + "_av"
				if ts, ok := l.typeString(tv.Type); ok {
					l.insert(x.Args[0].Pos(), "func("+a+" "+ts+") "+ts+" { return "+a+" }(")
					l.insert(x.Args[0].End(), ")")
				}
			}
		case *ast.ReturnStmt:
			sig := enclosingSig(info, stack)
			if sig == nil || sig.Results().Len() != len(x.Results) {
				return true
			}
			for i, r := range x.Results {
				box(sig.Results().At(i).Type(), r)
			}
		}
		return true
	})
	return l.done()
}

// interpretedIface reports whether t is an interface with methods that
// yaegi interprets (not one of a compiled package): the cells' own, an
// interface literal, or a type parameter (an interface in some instance).
func interpretedIface(t types.Type) bool {
	if t == nil {
		return false
	}
	if _, ok := t.(*types.TypeParam); ok {
		return true
	}
	it, ok := t.Underlying().(*types.Interface)
	if !ok || it.NumMethods() == 0 || !it.IsMethodSet() {
		return false
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == cellPkgPath
	}
	return true
}

// typeSwitchHasIface reports whether a type switch has a case of an
// interface that interpretedIface accepts.
func typeSwitchHasIface(info *types.Info, x *ast.TypeSwitchStmt) bool {
	for _, st := range x.Body.List {
		for _, e := range st.(*ast.CaseClause).List {
			// A type parameter that is an interface in an instance:
			// lower-generic's if-chain.
			if tv := info.Types[e]; !tv.IsNil() && !isTypeParam(tv.Type) && interpretedIface(tv.Type) {
				return true
			}
		}
	}
	return false
}

// losesMethods reports whether yaegi may hold a value of type t bare in
// an empty interface, its methods lost: t has methods, or is a type
// parameter's type.
func losesMethods(t types.Type) bool {
	if t == nil {
		return false
	}
	if _, ok := t.(*types.TypeParam); ok {
		return true
	}
	if types.IsInterface(t) {
		// I(t) held in an interface of the cells' is held bare too.
		return interpretedIface(t)
	}
	return types.NewMethodSet(t).Len() > 0
}

// enclosingSig is the signature of the function (declaration or literal)
// innermost in stack.
func enclosingSig(info *types.Info, stack []ast.Node) *types.Signature {
	for i := len(stack) - 1; i >= 0; i-- {
		switch f := stack[i].(type) {
		case *ast.FuncLit:
			sig, _ := info.Types[f].Type.(*types.Signature)
			return sig
		case *ast.FuncDecl:
			if fn, ok := info.Defs[f.Name].(*types.Func); ok {
				return fn.Type().(*types.Signature)
			}
			return nil
		}
	}
	return nil
}

// ifaceAssertCall is v.(t) (or its comma-ok form) as the call of a
// function literal whose type switch has a variable (see
// passLowerIfaceAssert); t and v are source text (span markers).
func ifaceAssertCall(t, v string, commaOk bool) string {
	const a, x, ok, z = helperPrefix + "_av", helperPrefix + "_ax", helperPrefix + "_aok", helperPrefix + "_az"
	// The type switch matches an interface by its methods' names only:
	// the assertion's status (which is right on a parameter) checks
	// their signatures.
	match := "switch " + x + " := " + a + ".(type) { case " + t + ": if _, " + ok + " := " + a + ".(" + t + "); " + ok + " { return " + x
	if commaOk {
		return "func(" + a + " interface{}) (" + t + ", bool) { " + match + ", true } }; var " + z + " " + t + "; return " + z + ", false }(" + v + ")"
	}
	return "func(" + a + " interface{}) " + t + " { " + match + " } }; return " + a + ".(" + t + ") }(" + v + ")"
}

// commaOkAsserts are the type assertions of files in comma-ok form
// (v, ok := x.(T); var v, ok = x.(T)).
func commaOkAsserts(files ...*ast.File) map[*ast.TypeAssertExpr]bool {
	out := map[*ast.TypeAssertExpr]bool{}
	for _, f := range files {
		if f == nil {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var rhs []ast.Expr
			switch x := n.(type) {
			case *ast.AssignStmt:
				if len(x.Lhs) == 2 {
					rhs = x.Rhs
				}
			case *ast.ValueSpec:
				if len(x.Names) == 2 {
					rhs = x.Values
				}
			}
			if len(rhs) == 1 {
				if ta, ok := ast.Unparen(rhs[0]).(*ast.TypeAssertExpr); ok {
					out[ta] = true
				}
			}
			return true
		})
	}
	return out
}

// boxCall is v passed through a parameter of type any, which yaegi holds
// with its type (see passLowerIfaceAssert).
func boxCall(v string) string {
	const a = helperPrefix + "_av"
	return "func(" + a + " interface{}) interface{} { return " + a + " }(" + v + ")"
}
func isTypeParam(t types.Type) bool {
	_, ok := t.(*types.TypeParam)
	return ok
}

// emptyIface reports whether t is an empty interface (not a type
// parameter, whose constraint may be one).
func emptyIface(t types.Type) bool {
	return t != nil && !isTypeParam(t) && isEmptyInterface(t)
}
