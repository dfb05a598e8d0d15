package worker

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"reflect"
	"strings"
)

func init() {
	cellHelpers["unetlab/cellhelp/cellhelp"]["RangeContinued"] = reflect.ValueOf(func() {
		panic(rangeContinued{})
	})
}

// rangeContinued is the runtime error of a yield called after the loop
// body stopped the loop.
type rangeContinued struct{}

func (rangeContinued) RuntimeError() {}

func (rangeContinued) Error() string {
	return "runtime error: range function continued iteration after function for loop body returned false"
}

// passLowerRangeFunc lowers Go 1.23's range over functions, which yaegi
// v0.16.1 lacks ("nil type"): the loop body becomes the yield function.
//
//	for k, v := range seq { body }  =>
//	{ var done bool; seq(func(k K, v V) bool { if done { panic(...) }; body'; return true }); done = true }
//
// In body', `continue` is `return true` and `break` is `return false` (for
// this loop); a `return` of the enclosing function stores its results,
// stops the iteration and is done after the call. A yield called again
// after the body stopped the loop panics with Go's message. A `defer` in
// the body defers its call in the enclosing function, as Go 1.23 does:
// the outermost such loop of a function keeps a list of the calls its
// bodies (its own and those of the ranges over functions inside it)
// deferred, and defers, where the loop starts, a call that defers each
// of them in turn (so they run in reverse order, between the calls the
// function deferred after the loop and those it deferred before):
//
//	defer f(x)  =>  rfdefers = append(rfdefers, func() { f(x) })
//
// (x evaluated at the statement: lower-defer-args). Among the cell's
// statements, the cell is the enclosing function: lower-cell-defers puts
// such a call in the cell's list. A body that uses goto
// or a label outside it, returns from inside another range over a
// function, or defers a call that may recover (which would not be called
// by the deferred call itself), is refused with an error that says so.
func (s *session) passLowerRangeFunc(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	defers := map[*ast.RangeStmt]string{} // an outermost loop -> its list of deferred calls
	ast.PreorderStack(l.c.file, nil, func(n ast.Node, stack []ast.Node) bool {
		st, ok := n.(*ast.RangeStmt)
		if !ok || !l.inCell(st) || !isFuncRange(l.c.info, st) {
			return true
		}
		l.lowerRangeFunc(st, stack, defers)
		return true
	})
	return l.done()
}

// isFuncRange reports whether st ranges over a function.
func isFuncRange(info *types.Info, st *ast.RangeStmt) bool {
	t := info.Types[st.X].Type
	if t == nil {
		return false
	}
	_, ok := t.Underlying().(*types.Signature)
	return ok
}

func (l *lowerer) lowerRangeFunc(st *ast.RangeStmt, stack []ast.Node, defers map[*ast.RangeStmt]string) {
	info := l.c.info
	sig := info.Types[st.X].Type.Underlying().(*types.Signature)
	if sig.Params().Len() != 1 {
		return
	}
	yield, ok := sig.Params().At(0).Type().Underlying().(*types.Signature)
	if !ok {
		return
	}
	done := l.name("rfdone")
	// The yield function's parameters.
	var params, assign, lhs []string
	vars := []ast.Expr{st.Key, st.Value}
	for i := range yield.Params().Len() {
		ts, ok := l.typeString(yield.Params().At(i).Type())
		if !ok {
			l.fail(st, "cannot run faithfully: range over a function yielding %s, which the cell cannot name", yield.Params().At(i).Type())
			return
		}
		name := "_"
		if e := vars[i]; e != nil {
			id, isIdent := e.(*ast.Ident)
			switch {
			case isIdent && id.Name == "_":
			case st.Tok == token.DEFINE:
				name = id.Name
			default:
				name = l.name("rfp")
				lhs = append(lhs, l.text(e))
				assign = append(assign, name)
			}
		}
		params = append(params, name+" "+ts)
	}
	// The enclosing function, for return.
	var results *types.Tuple // nil for none
	inFunc := false
	for i := len(stack) - 1; i >= 0; i-- {
		switch f := stack[i].(type) {
		case *ast.FuncLit:
			if s, ok := info.Types[f].Type.(*types.Signature); ok {
				results, inFunc = s.Results(), true
			}
		case *ast.FuncDecl:
			if obj, ok := info.Defs[f.Name].(*types.Func); ok && !inCellBody(stack[:i+1]) {
				results, inFunc = obj.Type().(*types.Signature).Results(), true
			}
		default:
			continue
		}
		break
	}
	own := ""
	if len(stack) > 0 {
		if ls, ok := stack[len(stack)-1].(*ast.LabeledStmt); ok {
			own = ls.Label.Name
		}
	}
	stop := "{ " + done + " = true; return false }"
	inner := map[string]bool{}
	ast.Inspect(st.Body, func(n ast.Node) bool {
		if ls, ok := n.(*ast.LabeledStmt); ok {
			inner[ls.Label.Name] = true
		}
		return true
	})
	var retVars []string
	retFlag := ""
	var walk func(n ast.Node, loops, breakers int)
	walk = func(root ast.Node, loops, breakers int) {
		ast.Inspect(root, func(n ast.Node) bool {
			if n == root {
				return true
			}
			switch x := n.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ForStmt:
				walk(x.Body, loops+1, breakers+1)
				for _, c := range []ast.Node{x.Init, x.Cond, x.Post} {
					if c != nil {
						walk(c, loops, breakers)
					}
				}
				return false
			case *ast.RangeStmt:
				if isFuncRange(info, x) {
					if hasReturn(x.Body) {
						l.fail(x, "cannot run faithfully: return inside a range over a function nested in another")
					}
					return false
				}
				walk(x.Body, loops+1, breakers+1)
				return false
			case *ast.SwitchStmt, *ast.TypeSwitchStmt, *ast.SelectStmt:
				var body *ast.BlockStmt
				switch s := x.(type) {
				case *ast.SwitchStmt:
					body = s.Body
				case *ast.TypeSwitchStmt:
					body = s.Body
				case *ast.SelectStmt:
					body = s.Body
				}
				walk(body, loops, breakers+1)
				return false
			case *ast.DeferStmt:
				if !inFunc {
					return false // a defer of the cell's: lower-cell-defers
				}
				if l.mayRecover(x.Call, nil) {
					l.fail(x, "cannot run faithfully: a deferred call that may recover, in the body of a range over a function")
					return false
				}
				list := l.deferList(st, stack, defers)
				l.replaceSpan(x.Defer, x.Call.End(), list+" = append("+list+", func() { "+l.text(x.Call)+" })")
				return false
			case *ast.BranchStmt:
				switch {
				case x.Label != nil && inner[x.Label.Name]:
				case x.Label != nil && x.Label.Name == own && x.Tok == token.CONTINUE:
					l.replace(x, "return true")
				case x.Label != nil && x.Label.Name == own && x.Tok == token.BREAK:
					l.replace(x, stop)
				case x.Label != nil:
					l.fail(x, "cannot run faithfully: %s %s out of a range over a function", x.Tok, x.Label.Name)
				case x.Tok == token.CONTINUE && loops == 0:
					l.replace(x, "return true")
				case x.Tok == token.BREAK && breakers == 0:
					l.replace(x, stop)
				case x.Tok == token.GOTO:
					l.fail(x, "cannot run faithfully: goto in the body of a range over a function")
				}
			case *ast.ReturnStmt:
				if !inFunc {
					l.fail(x, "cannot run faithfully: return from the body of a range over a function among the cell's statements")
					return false
				}
				if retFlag == "" {
					retFlag = l.name("rfret")
					for i := range results.Len() {
						retVars = append(retVars, l.name("rfv"))
						_ = i
					}
				}
				text := "{ " + retFlag + " = true; " + done + " = true; "
				if len(x.Results) > 0 {
					var rs []string
					for _, r := range x.Results {
						rs = append(rs, l.text(r))
					}
					text += strings.Join(retVars, ", ") + " = " + strings.Join(rs, ", ") + "; "
				} else if len(retVars) > 0 {
					// A bare return of named results.
					var names []string
					for i := range results.Len() {
						names = append(names, results.At(i).Name())
					}
					text += strings.Join(retVars, ", ") + " = " + strings.Join(names, ", ") + "; "
				}
				l.replace(x, text+"return false }")
				return false
			}
			return true
		})
	}
	walk(st.Body, 0, 0)
	if l.err != nil {
		return
	}
	var head strings.Builder
	fmt.Fprintf(&head, "{ var %s bool; ", done)
	if hasDefer(st.Body) && inFunc {
		// (Among the cell's statements, lower-cell-defers has them.)
		l.deferList(st, stack, defers) // st's own, where it is the owner
	}
	if list, ok := defers[st]; ok {
		// Each call deferred by its own frame of a recursive literal:
		// one that panics does not stop the others.
		r := l.name("rfrun")
		fmt.Fprintf(&head, "var %s []func(); defer func() { var %s func([]func()); %s = func(fs []func()) { if len(fs) > 0 { defer fs[0](); %s(fs[1:]) } }; %s(%s) }(); ", list, r, r, r, r, list)
	}
	if retFlag != "" {
		fmt.Fprintf(&head, "var %s bool; ", retFlag)
		for i, v := range retVars {
			ts, ok := l.typeString(results.At(i).Type())
			if !ok {
				l.fail(st, "cannot run faithfully: a result of type %s, which the cell cannot name", results.At(i).Type())
				return
			}
			fmt.Fprintf(&head, "var %s %s; ", v, ts)
		}
	}
	seq := l.text(ast.Unparen(st.X))
	switch ast.Unparen(st.X).(type) {
	case *ast.Ident, *ast.SelectorExpr, *ast.CallExpr, *ast.IndexExpr, *ast.IndexListExpr:
		// Bare: yaegi's call of a parenthesised function name panics
		// ("reflect: call of reflect.Value.Call on ptr Value").
	default:
		seq = "(" + seq + ")"
	}
	fmt.Fprintf(&head, "%s(func(%s) bool { if %s { %s_help.RangeContinued() }; ",
		seq, strings.Join(params, ", "), done, helperPrefix)
	if len(lhs) > 0 {
		fmt.Fprintf(&head, "%s = %s; ", strings.Join(lhs, ", "), strings.Join(assign, ", "))
	}
	l.replaceSpan(st.For, st.Body.Lbrace+1, head.String())
	tail := "; return true }); " + done + " = true; "
	if retFlag != "" {
		tail += "if " + retFlag + " { return " + strings.Join(retVars, ", ") + " }; "
	}
	l.replaceSpan(st.Body.Rbrace, st.Body.Rbrace+1, tail+"}")
}

// hasReturn reports whether n holds a return statement outside function
// literals.
func hasReturn(n ast.Node) bool { return holdsOutsideLits[*ast.ReturnStmt](n) }

// deferList is the name of the list of deferred calls that a defer in the
// body of st appends to: that of the outermost range over a function
// whose body holds st, in the same function (see passLowerRangeFunc),
// made on first use. The owner is lowered before st (preorder), its head
// written after its body was walked.
func (l *lowerer) deferList(st *ast.RangeStmt, stack []ast.Node, defers map[*ast.RangeStmt]string) string {
	owner := st
	for i := len(stack) - 1; i >= 0; i-- {
		switch x := stack[i].(type) {
		case *ast.FuncLit, *ast.FuncDecl:
			i = 0
		case *ast.RangeStmt:
			if isFuncRange(l.c.info, x) {
				owner = x
			}
		}
	}
	name, ok := defers[owner]
	if !ok {
		name = l.name("rfdefers")
		defers[owner] = name
	}
	return name
}

// mayRecover reports whether the deferred call may call recover itself:
// recover, a function literal that calls it, or a function of the cells
// whose body calls it (a function value: unknown, so true). earlier, when
// not nil, tells it for a function an earlier cell declared (nil: true).
func (l *lowerer) mayRecover(call *ast.CallExpr, earlier func(*types.Func) bool) bool {
	calls := func(body ast.Node) bool {
		found := false
		ast.Inspect(body, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.FuncLit:
				return false
			case *ast.CallExpr:
				if id, ok := ast.Unparen(x.Fun).(*ast.Ident); ok {
					if b, ok := l.c.info.Uses[id].(*types.Builtin); ok && b.Name() == "recover" {
						found = true
					}
				}
			}
			return !found
		})
		return found
	}
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.FuncLit:
		return calls(f.Body)
	case *ast.Ident:
		switch obj := l.c.info.Uses[f].(type) {
		case *types.Builtin:
			return obj.Name() == "recover"
		case *types.Func:
			return l.funcCallsRecover(obj, calls, earlier)
		case *types.Var:
			return true
		}
	case *ast.SelectorExpr:
		if fn, ok := l.c.info.Uses[f.Sel].(*types.Func); ok {
			if sig, ok := fn.Type().(*types.Signature); ok && sig.Recv() != nil && types.IsInterface(sig.Recv().Type()) {
				// An interface's method: a cell type's method of that
				// name may be the one called.
				for _, d := range l.c.file.Decls {
					if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv != nil && fd.Name.Name == fn.Name() && (fd.Body == nil || calls(fd.Body)) {
						return true
					}
				}
				if earlier != nil {
					return earlier(fn)
				}
				return fn.Pkg() != nil && fn.Pkg().Path() == cellPkgPath
			}
			if fn.Pkg() != nil && fn.Pkg().Path() != cellPkgPath {
				return false // compiled: its recover is not the cell's
			}
			return l.funcCallsRecover(fn, calls, earlier)
		}
		return true
	}
	return true
}

// funcCallsRecover reports whether the declaration of fn, a function or
// method, calls recover in its body; true where it is not in the checked
// file (another cell's: unknown).
func (l *lowerer) funcCallsRecover(fn *types.Func, calls func(ast.Node) bool, earlier func(*types.Func) bool) bool {
	if fn.Pkg() == nil || fn.Pkg().Path() != cellPkgPath {
		return false
	}
	fn = fn.Origin() // a method of a generic type's instance: its declaration
	for _, d := range l.c.file.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && l.c.info.Defs[fd.Name] == fn {
			return fd.Body == nil || calls(fd.Body)
		}
	}
	return earlier == nil || earlier(fn)
}

// hasDefer reports whether n holds a defer statement outside function
// literals.
func hasDefer(n ast.Node) bool { return holdsOutsideLits[*ast.DeferStmt](n) }

// holdsOutsideLits reports whether n holds a node of type T outside the
// function literals in it (their statements are another function's).
func holdsOutsideLits[T ast.Node](n ast.Node) bool {
	found := false
	ast.Inspect(n, func(x ast.Node) bool {
		if _, ok := x.(*ast.FuncLit); ok {
			return false
		}
		if _, ok := x.(T); ok {
			found = true
		}
		return !found
	})
	return found
}
