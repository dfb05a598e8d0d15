package worker

import (
	"fmt"
	"go/ast"
	"go/types"
	"strings"
)

// passLowerMethodExprs lowers method expressions to function literals:
// yaegi v0.16.1 took `I.m(x)` and `interface{ m1(string) }.m1(x, "b")`
// for a call without the receiver ("too many arguments"), and `S.get` of
// a struct type S for the method value of a zero S ("reflect.Set: value
// of type func() int is not assignable to type func(struct { Xn int })
// int"). The expression becomes a function of the receiver and the
// method's parameters that calls the method:
//
//	I.m  =>  func(r I, a0 string) int { return r.m(a0) }
//
// (a variadic method passes its last parameter on with ...). A method
// expression whose types the cell cannot spell is left to yaegi.
func (s *session) passLowerMethodExprs(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
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
		if _, ok := l.c.info.Uses[sel.Sel].(*types.Func); !ok {
			return true
		}
		sig, ok := l.c.info.Types[sel].Type.(*types.Signature)
		if !ok {
			return true
		}
		if text, ok := l.methodExprFunc(sel.Sel.Name, sig); ok {
			l.replace(sel, text)
			return false
		}
		return true
	})
	return l.done()
}

// methodExprFunc writes the function literal of method expression .name
// whose function type is sig (the receiver its first parameter).
func (l *lowerer) methodExprFunc(name string, sig *types.Signature) (string, bool) {
	return methodExprText(name, sig, l.typeString)
}

// methodExprText is methodExprFunc with the types written by spell.
func methodExprText(name string, sig *types.Signature, spell func(types.Type) (string, bool)) (string, bool) {
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
	var res []string
	for i := range sig.Results().Len() {
		ts, ok := spell(sig.Results().At(i).Type())
		if !ok {
			return "", false
		}
		res = append(res, ts)
	}
	call := fmt.Sprintf("%s_a0.%s(%s)", helperPrefix, name, strings.Join(args, ", "))
	results := ""
	switch len(res) {
	case 0:
	case 1:
		results = " " + res[0]
		call = "return " + call
	default:
		results = " (" + strings.Join(res, ", ") + ")"
		call = "return " + call
	}
	// No parentheses around it: yaegi's `return (func(...) {...})`
	// panicked ("call of MakeFunc with non-Func type").
	return fmt.Sprintf("func(%s)%s { %s }", strings.Join(decl, ", "), results, call), true
}
