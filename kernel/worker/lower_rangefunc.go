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
// after the body stopped the loop panics with Go's message. A body that
// defers, uses goto or a label outside it, or returns from inside another
// range over a function, is refused with an error that says so.
func (s *session) passLowerRangeFunc(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.PreorderStack(l.c.file, nil, func(n ast.Node, stack []ast.Node) bool {
		st, ok := n.(*ast.RangeStmt)
		if !ok || !l.inCell(st) || !isFuncRange(l.c.info, st) {
			return true
		}
		l.lowerRangeFunc(st, stack)
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

func (l *lowerer) lowerRangeFunc(st *ast.RangeStmt, stack []ast.Node) {
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
				l.fail(x, "cannot run faithfully: defer in the body of a range over a function")
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
	fmt.Fprintf(&head, "(%s)(func(%s) bool { if %s { %s_help.RangeContinued() }; ",
		l.text(st.X), strings.Join(params, ", "), done, helperPrefix)
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
func hasReturn(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(x ast.Node) bool {
		switch x.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ReturnStmt:
			found = true
		}
		return !found
	})
	return found
}
