package worker

import (
	"fmt"
	"go/ast"
	"go/types"
	"strings"
)

// passLowerMethodExprs lowers method expressions to function literals:
// yaegi v0.16.1 took `I.m(x)` and `interface{ m1(string) }.m1(x, "b")` for
// a call without the receiver ("too many arguments"), `(*S).val(&s)` of a
// value method failed ("reflect.Set: value of type *string is not
// assignable to type string"), `struct{ T }.m2` of a promoted method had
// the wrong type, and `S.get` of a struct type S was the method value of a
// zero S ("reflect.Set: value of type func() int is not assignable to type
// func(struct { Xn int }) int"). The expression becomes a function of the
// receiver and the method's parameters that calls the method:
//
//	I.m  =>  func(r I, a0 string) int { return r.m(a0) }
//
// (a variadic method passes its last parameter on with ...); a value
// method of a pointer type dereferences the receiver as Go does, a nil
// one panicking with the runtime's error. A method expression whose types
// the cell cannot spell is left to yaegi; one that involves type
// parameters of a concrete type is lower-generic's, in each instance. The
// literal is parenthesized (a statement or trailing expression that starts
// with `func` is one yaegi runs again with every later cell) except as a
// result of a return statement, where yaegi's `return (func...)` panicked
// ("call of MakeFunc with non-Func type").
func (s *session) passLowerMethodExprs(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	results := map[ast.Expr]bool{} // the results of return statements
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		if r, ok := n.(*ast.ReturnStmt); ok {
			for _, e := range r.Results {
				results[e] = true
			}
		}
		return true
	})
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok || !l.inCell(n) {
			return true
		}
		// A method expression: a type, then a method (the check keeps
		// no Selections).
		xt := l.c.info.Types[sel.X]
		if !xt.IsType() {
			return true
		}
		m, ok := l.c.info.Uses[sel.Sel].(*types.Func)
		if !ok {
			return true
		}
		sig, ok := l.c.info.Types[sel].Type.(*types.Signature)
		if !ok {
			return true
		}
		recv0 := helperPrefix + "_a0"
		pre := s.reflectExprCheck(l.c.info, sel, recv0) // lower_reflect.go
		nilCheck := ""
		if !types.IsInterface(xt.Type) && pre == "" {
			if m.Pkg() == nil || mentionsTypeParam(xt.Type) || mentionsTypeParam(sig) {
				return true
			}
			// A value method of a pointer type: the receiver is *r.
			if _, ptr := xt.Type.Underlying().(*types.Pointer); ptr {
				recv := m.Type().(*types.Signature).Recv().Type()
				if _, mptr := recv.(*types.Pointer); !mptr {
					// Go's wrapper of a method declared on the type
					// itself names it; a promoted one dereferences.
					nilCheck = helperPrefix + "_help.NilDeref()"
					if n, ok := recv.(*types.Named); ok && types.Identical(xt.Type.Underlying().(*types.Pointer).Elem(), recv) {
						nilCheck = fmt.Sprintf("%s_help.NilMethod(%q, %q)", helperPrefix, n.Obj().Name(), m.Name())
					}
				}
			}
		}
		if nilCheck != "" {
			pre = fmt.Sprintf("if %s == nil { %s }", recv0, nilCheck)
		}
		if text, ok := methodExprText(sel.Sel.Name, sig, pre, !results[sel], l.typeString); ok {
			l.replace(sel, text)
			return false
		}
		return true
	})
	return l.done()
}

// methodExprText writes the function literal of method expression .name
// whose function type is sig (the receiver its first parameter), in
// parentheses when paren is true, with the types written by spell; the
// statement pre, when not empty, runs first (a nil receiver's panic, a
// check of lower-reflect-methods).
func methodExprText(name string, sig *types.Signature, pre string, paren bool, spell func(types.Type) (string, bool)) (string, bool) {
	params := sig.Params()
	if params.Len() == 0 {
		return "", false
	}
	var decl, args []string
	for i := range params.Len() {
		ts, ok := spell(params.At(i).Type())
		if !ok {
			return "", false
		}
		p := fmt.Sprintf("%s_a%d", helperPrefix, i)
		if sig.Variadic() && i == params.Len()-1 {
			ts = "..." + strings.TrimPrefix(ts, "[]")
			args = append(args, p+"...")
		} else if i > 0 {
			args = append(args, p)
		}
		decl = append(decl, p+" "+ts)
	}
	results, call, ok := returning(sig, spell, fmt.Sprintf("%s_a0.%s(%s)", helperPrefix, name, strings.Join(args, ", ")))
	if !ok {
		return "", false
	}
	if pre != "" {
		call = pre + "; " + call
	}
	text := fmt.Sprintf("func(%s)%s { %s }", strings.Join(decl, ", "), results, call)
	if paren {
		text = "(" + text + ")"
	}
	return text, true
}

// returning spells the results of sig with spell, as a function literal's
// result list (" T", " (T, U)" or ""), and the body that calls call: the
// call returned when sig has results.
func returning(sig *types.Signature, spell func(types.Type) (string, bool), call string) (results, body string, ok bool) {
	res := make([]string, sig.Results().Len())
	for i := range res {
		if res[i], ok = spell(sig.Results().At(i).Type()); !ok {
			return "", "", false
		}
	}
	switch len(res) {
	case 0:
		return "", call, true
	case 1:
		return " " + res[0], "return " + call, true
	}
	return " (" + strings.Join(res, ", ") + ")", "return " + call, true
}
