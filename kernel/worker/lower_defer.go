package worker

import (
	"go/ast"
	"go/types"
	"strings"
)

// passLowerDefer evaluates the function value and arguments of `defer` and
// `go` statements at the statement, as Go does: yaegi v0.16.1 evaluates
// them when the call runs, so `for i := 0; i < 3; i++ { defer
// fmt.Println(i) }` printed 3 3 3, and a method value's receiver was read
// late. The statement becomes a block that evaluates each non-constant
// operand into a temporary, in order, then defers (or starts) the call on
// the temporaries:
//
//	defer p.Show(i, s[j])  =>  { r := p; a1 := i; a2 := s[j]; defer r.Show(a1, a2) }
//
// (the temporaries are fresh __unetlab_ names). Statements among the
// cell's top-level statements are left alone: they run in their own
// function literal (stmts.go).
func (s *session) passLowerDefer(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.PreorderStack(l.c.file, nil, func(n ast.Node, stack []ast.Node) bool {
		var call *ast.CallExpr
		switch st := n.(type) {
		case *ast.DeferStmt:
			call = st.Call
		case *ast.GoStmt:
			call = st.Call
		default:
			return true
		}
		if !l.inCell(n) || inCellBody(stack) {
			return true
		}
		l.lowerDeferred(n, call, stack)
		return true
	})
	return l.done()
}

func (l *lowerer) lowerDeferred(stmt ast.Node, call *ast.CallExpr, stack []ast.Node) {
	pre, reps, ok := l.deferredOperands(call, stack)
	if !ok || len(pre) == 0 {
		return
	}
	for _, r := range reps {
		r()
	}
	kw := "defer"
	if _, ok := stmt.(*ast.GoStmt); ok {
		kw = "go"
	}
	if loops := loopsOfFunc(stack); len(loops) > 0 && l.isMethodCall(call) && (kw == "go" || !l.mayRecover(call, nil)) {
		// In a loop, yaegi reads a deferred (or started) method call's
		// receiver from the live frame when the call runs, where the
		// temporary is the last iteration's: the call goes into a closure
		// made at the statement (closureValue: in a frame of its own).
		// (Not a deferred method that may call recover, which must be the
		// deferred call itself.)
		n := l.name("dc")
		l.replace(stmt, "{ "+strings.Join(pre, "; ")+"; "+n+" := func() func() { return func() { "+l.text(call)+" } }(); "+kw+" "+n+"() }")
		return
	}
	l.insert(stmt.Pos(), "{ "+strings.Join(pre, "; ")+"; ")
	l.insert(stmt.End(), " }")
}

// isMethodCall reports whether call calls a method of a value (not a
// method expression or a function of a package).
func (l *lowerer) isMethodCall(call *ast.CallExpr) bool {
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return false
	}
	if l.c.info.Types[sel.X].IsType() {
		return false // a method expression
	}
	fn, ok := l.c.info.Uses[sel.Sel].(*types.Func)
	if !ok {
		return false
	}
	sig, ok := fn.Type().(*types.Signature)
	return ok && sig.Recv() != nil
}

// deferredOperands returns the statements that evaluate the function
// value and arguments of a deferred (or started) call into temporaries, in
// order, and the replacements of those operands by their temporaries; ok
// is false for `defer recover()`, which must stay the deferred call.
//
// A function literal is evaluated into a temporary only when it is in a
// loop of its function (stack: the statement's ancestors, nil where the
// call runs in a closure of its own) and refers to a variable declared in
// it: yaegi defers the literal over the live frame, so that it saw the
// last iteration's variables. It is evaluated in a function of its own
// (closureValue): a closure the deferring function made itself locks that
// function's frame, which its deferred calls hold (passLowerClosureFrames).
func (l *lowerer) deferredOperands(call *ast.CallExpr, stack []ast.Node) (pre []string, reps []func(), ok bool) {
	info := l.c.info
	tmp := func(x ast.Expr, kind string) string {
		n := l.name(kind)
		pre = append(pre, n+" := "+l.text(x))
		return n
	}
	fun := ast.Unparen(call.Fun)
	switch f := fun.(type) {
	case *ast.FuncLit:
		// A literal that may call recover stays the deferred call itself
		// (through a temporary, recover returned nil): it sees the
		// variables of the loop's last iteration, the one deferred last,
		// which runs first.
		if loops := loopsOfFunc(stack); len(loops) > 0 && usesLoopVar(info, f, loops) && !l.mayRecover(call, nil) {
			n := l.name("df")
			pre = append(pre, n+" := "+closureValue(l, f))
			reps = append(reps, func() { l.replace(f, n) })
		}
	case *ast.Ident:
		switch obj := info.Uses[f].(type) {
		case *types.Builtin:
			if obj.Name() == "recover" {
				// recover must be the deferred call itself.
				return nil, nil, false
			}
		case *types.Var:
			n := tmp(f, "df")
			reps = append(reps, func() { l.replace(f, n) })
		}
	case *ast.SelectorExpr:
		if id, ok := f.X.(*ast.Ident); ok {
			if _, ok := info.Uses[id].(*types.PkgName); ok {
				break
			}
		}
		if info.Types[f.X].IsType() {
			break // a method expression
		}
		switch obj := info.Uses[f.Sel].(type) {
		case *types.Func:
			sig, _ := obj.Type().(*types.Signature)
			if sig == nil || sig.Recv() == nil {
				break
			}
			xt := info.Types[f.X].Type
			_, recvPtr := sig.Recv().Type().(*types.Pointer)
			_, xPtr := xt.Underlying().(*types.Pointer)
			if recvPtr && !xPtr && !types.IsInterface(xt) {
				// A pointer method of an addressable value: the
				// receiver is its address.
				n := l.name("dr")
				pre = append(pre, n+" := &"+l.text(f.X))
				reps = append(reps, func() { l.replace(f.X, n) })
				break
			}
			if pt, ok := xt.Underlying().(*types.Pointer); ok && !recvPtr && types.Identical(pt.Elem(), sig.Recv().Type()) {
				// A value method through a pointer: the receiver is
				// the value it points to, copied at the statement.
				n := l.name("dr")
				pre = append(pre, n+" := *"+l.text(f.X))
				reps = append(reps, func() { l.replace(f.X, n) })
				break
			}
			n := tmp(f.X, "dr")
			reps = append(reps, func() { l.replace(f.X, n) })
		default:
			n := tmp(f, "df")
			reps = append(reps, func() { l.replace(f, n) })
		}
	case *ast.IndexExpr, *ast.IndexListExpr:
		if id := genericFuncIdent(f); id != nil {
			if _, ok := info.Uses[id].(*types.Func); ok {
				break
			}
		}
		n := tmp(f, "df")
		reps = append(reps, func() { l.replace(f, n) })
	default:
		n := tmp(f, "df")
		reps = append(reps, func() { l.replace(f, n) })
	}
	for _, a := range call.Args {
		tv := info.Types[a]
		if tv.Value != nil || tv.IsNil() || tv.IsType() {
			continue
		}
		if b, ok := tv.Type.(*types.Basic); ok && b.Info()&types.IsUntyped != 0 {
			continue
		}
		if _, ok := ast.Unparen(a).(*ast.FuncLit); ok {
			continue
		}
		if tup, ok := tv.Type.(*types.Tuple); ok {
			// f(g()) with several results.
			var names []string
			for range tup.Len() {
				names = append(names, l.name("da"))
			}
			pre = append(pre, strings.Join(names, ", ")+" := "+l.text(a))
			reps = append(reps, func() { l.replace(a, strings.Join(names, ", ")) })
			continue
		}
		n := tmp(a, "da")
		reps = append(reps, func() { l.replace(a, n) })
	}
	return pre, reps, true
}

// genericFuncIdent is the function name of an instantiation f[T] or
// pkg.f[T, U], or nil.
func genericFuncIdent(x ast.Expr) *ast.Ident {
	var base ast.Expr
	switch e := x.(type) {
	case *ast.IndexExpr:
		base = e.X
	case *ast.IndexListExpr:
		base = e.X
	default:
		return nil
	}
	switch b := ast.Unparen(base).(type) {
	case *ast.Ident:
		return b
	case *ast.SelectorExpr:
		return b.Sel
	}
	return nil
}
