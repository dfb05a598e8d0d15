package worker

import (
	"go/ast"
	"go/token"
	"go/types"
)

// passLowerClosureFrames evaluates a function literal as a value in a
// function of its own where yaegi v0.16.1 would run it wrongly:
//
//	f := func() { ... }  =>  f := func() func() { return func() { ... } }()
//
// yaegi makes a closure of a literal evaluated as a value with a copy of
// the frame's variables (so a variable declared again in the next
// iteration, as the loop variables are by lower-loopvar, is a new one, as
// in Go). Two cases go wrong:
//
//   - A literal handed straight to compiled code (wg.Go(func() {...}),
//     time.AfterFunc, sync.OnceFunc, a conversion to a func type, an
//     element of a compiled map or struct literal) is wrapped over the live
//     frame: run after its iteration ended, it saw the last iteration's
//     variables. Rewritten when it is in a loop of its function and refers
//     to a variable declared in that loop.
//   - A closure, once called, locks the frame of the function that made it;
//     that function's frame is locked while its deferred calls run, so a
//     closure it made, called by a deferred call (cleanup := func() {...};
//     defer cleanup()), deadlocked the cell. Rewritten in every function
//     with a defer statement of its own: the wrapper's frame is the one
//     locked.
//
// A literal called where it stands (func() {...}(), go and defer
// statements) is not wrapped: yaegi runs it on a frame of its own
// (passLowerDefer evaluates a deferred literal that refers to a loop's
// variables into a temporary, by this wrapper). Nor is a finalizer or
// cleanup literal of package runtime, which lower-finalizers makes in a
// function of its own.
func (s *session) passLowerClosureFrames(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	info := l.c.info
	hasDefer := map[ast.Node]bool{}
	ast.PreorderStack(l.c.file, nil, func(n ast.Node, stack []ast.Node) bool {
		lit, ok := n.(*ast.FuncLit)
		if !ok || len(stack) == 0 || !l.inCell(lit) || calledAt(lit, stack) || finalizerArg(info, lit, stack) {
			return true
		}
		wrap := false
		if fn := funcOf(stack); fn != nil {
			d, ok := hasDefer[fn]
			if !ok {
				d = defersIn(fn)
				hasDefer[fn] = d
			}
			wrap = d
		}
		if !wrap && liveFrameUse(info, lit, stack) {
			loops := loopsOfFunc(stack)
			wrap = len(loops) > 0 && usesLoopVar(info, lit, loops)
		}
		if wrap {
			l.replace(lit, closureValue(l, lit))
		}
		return true
	})
	return l.done()
}

// closureValue is the text that evaluates lit as a value in a function
// literal of its own.
func closureValue(l *lowerer, lit *ast.FuncLit) string {
	return "func() " + l.text(lit.Type) + " { return " + l.text(lit) + " }()"
}

// finalizerArg reports whether lit is an argument of runtime.SetFinalizer
// or runtime.AddCleanup (stack: its ancestors).
func finalizerArg(info *types.Info, lit *ast.FuncLit, stack []ast.Node) bool {
	for i := len(stack) - 1; i >= 0; i-- {
		switch p := stack[i].(type) {
		case *ast.ParenExpr:
			continue
		case *ast.CallExpr:
			sel, ok := ast.Unparen(p.Fun).(*ast.SelectorExpr)
			if !ok {
				return false
			}
			fn, ok := info.Uses[sel.Sel].(*types.Func)
			return ok && fn.Pkg() != nil && fn.Pkg().Path() == "runtime" && (fn.Name() == "SetFinalizer" || fn.Name() == "AddCleanup")
		}
		return false
	}
	return false
}

// calledAt reports whether lit is the function of the call it stands in
// (stack: its ancestors).
func calledAt(lit *ast.FuncLit, stack []ast.Node) bool {
	for i := len(stack) - 1; i >= 0; i-- {
		switch p := stack[i].(type) {
		case *ast.ParenExpr:
			continue
		case *ast.CallExpr:
			return ast.Unparen(p.Fun) == ast.Expr(lit)
		}
		return false
	}
	return false
}

// funcOf is the innermost function among stack's nodes, nil for the
// cell's own statements (whose defer statements passLowerCellDefers
// lowers).
func funcOf(stack []ast.Node) ast.Node {
	for i := len(stack) - 1; i >= 0; i-- {
		switch f := stack[i].(type) {
		case *ast.FuncLit:
			return f
		case *ast.FuncDecl:
			if f.Recv == nil && f.Name.Name == bodyFunc {
				return nil
			}
			return f
		}
	}
	return nil
}

// defersIn reports whether function fn's body (not the literals in it)
// holds a defer statement.
func defersIn(fn ast.Node) bool {
	var body *ast.BlockStmt
	switch f := fn.(type) {
	case *ast.FuncLit:
		body = f.Body
	case *ast.FuncDecl:
		body = f.Body
	}
	return body != nil && hasDefer(body) // lower_rangefunc.go
}

// liveFrameUse reports whether yaegi wraps lit over the live frame where
// it stands (stack: its ancestors): an argument of a call of anything but a function of the cell or a
// builtin, an argument of a conversion, or an element of a composite
// literal of a compiled type.
func liveFrameUse(info *types.Info, lit *ast.FuncLit, stack []ast.Node) bool {
	i := len(stack) - 1
	for i >= 0 {
		if _, ok := stack[i].(*ast.ParenExpr); !ok {
			break
		}
		i--
	}
	if i < 0 {
		return false
	}
	parent := stack[i]
	switch p := parent.(type) {
	case *ast.CallExpr:
		if tv, ok := info.Types[p.Fun]; ok && tv.IsType() {
			return true
		}
		var obj types.Object
		switch f := ast.Unparen(p.Fun).(type) {
		case *ast.Ident:
			obj = info.Uses[f]
		case *ast.SelectorExpr:
			obj = info.Uses[f.Sel]
		case *ast.IndexExpr, *ast.IndexListExpr:
			return false // an instance of a generic function of the cell (or std-generic's)
		}
		switch o := obj.(type) {
		case *types.Builtin:
			return false
		case *types.Func:
			return o.Pkg() == nil || o.Pkg().Path() != cellPkgPath
		}
		return true // a func value: wrapping is right whether it is compiled or not
	case *ast.KeyValueExpr:
		if p.Value != ast.Expr(lit) || i == 0 {
			return false
		}
		cl, ok := stack[i-1].(*ast.CompositeLit)
		return ok && compiledLit(info, cl)
	case *ast.CompositeLit:
		return compiledLit(info, p)
	}
	return false
}

// compiledLit reports whether cl is a literal of a named type of another
// package (or a pointer to one), which yaegi builds as compiled code.
func compiledLit(info *types.Info, cl *ast.CompositeLit) bool {
	t := info.TypeOf(cl)
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	named, ok := types.Unalias(t).(*types.Named)
	return ok && named.Obj().Pkg() != nil && named.Obj().Pkg().Path() != cellPkgPath
}

// loopsOfFunc are the loops among stack's nodes in the innermost function.
func loopsOfFunc(stack []ast.Node) []ast.Stmt {
	var loops []ast.Stmt
	for i := len(stack) - 1; i >= 0; i-- {
		switch x := stack[i].(type) {
		case *ast.FuncLit, *ast.FuncDecl:
			return loops
		case *ast.ForStmt:
			loops = append(loops, x)
		case *ast.RangeStmt:
			loops = append(loops, x)
		}
	}
	return loops
}

// usesLoopVar reports whether lit refers to a variable declared in one of
// loops (outside lit).
func usesLoopVar(info *types.Info, lit *ast.FuncLit, loops []ast.Stmt) bool {
	found := false
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok || found {
			return !found
		}
		v, ok := info.Uses[id].(*types.Var)
		if !ok || v.IsField() || within(v.Pos(), lit) {
			return true
		}
		for _, loop := range loops {
			if within(v.Pos(), loop) {
				found = true
			}
		}
		return true
	})
	return found
}

func within(p token.Pos, n ast.Node) bool {
	return p.IsValid() && n.Pos() <= p && p < n.End()
}
