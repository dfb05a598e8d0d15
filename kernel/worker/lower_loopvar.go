package worker

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"
)

// passLowerLoopVar gives each iteration of a for loop its own loop
// variables, as Go 1.22 and later do: yaegi v0.16.1 shares one variable
// across iterations, so closures made in a loop all saw its last value and
// &i was the same pointer each time. Only variables that can be observed
// across iterations need it: those a function literal in the loop refers
// to, whose address is taken (&i, a pointer method, a slice of an array)
// or that a go or defer statement refers to.
//
// A range loop's variables are declared again at the top of its body
// (`k, v := k, v`). A three-clause loop's too when its body never changes
// them; when it does, the loop runs on renamed variables that are copied
// into the body's and back at its end:
//
//	for i := 0; i < n; i++ { ...i... }  =>
//	for i_ := 0; i_ < n; i_++ { i := i_; ...i...; i_ = i }
//
// A body that changes such a variable and continues the loop cannot be
// lowered this way; it is refused with an error that says so. Loops over
// integers are lowered by passLowerBuiltins, which declares the variable
// in the body already.
func (s *session) passLowerLoopVar(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		switch st := n.(type) {
		case *ast.RangeStmt:
			if !l.inCell(st) || isIntRange(l.c.info, st) || isStringRange(l.c.info, st) || isFuncRange(l.c.info, st) {
				return true
			}
			switch st.Tok {
			case token.DEFINE:
				l.lowerRangeVars(st)
			case token.ASSIGN:
				l.lowerRangeAssign(st)
			}
		case *ast.ForStmt:
			if !l.inCell(st) {
				return true
			}
			l.lowerForVars(st)
		}
		return true
	})
	return l.done()
}

// loopVars are the variables an init or range clause defines.
func (l *lowerer) loopVars(lhs []ast.Expr) (ids []*ast.Ident, objs []types.Object) {
	for _, e := range lhs {
		id, ok := e.(*ast.Ident)
		if !ok || id.Name == "_" {
			continue
		}
		if obj := l.c.info.Defs[id]; obj != nil {
			ids = append(ids, id)
			objs = append(objs, obj)
		}
	}
	return ids, objs
}

func (l *lowerer) lowerRangeVars(st *ast.RangeStmt) {
	var lhs []ast.Expr
	for _, e := range []ast.Expr{st.Key, st.Value} {
		if e != nil {
			lhs = append(lhs, e)
		}
	}
	ids, objs := l.loopVars(lhs)
	var names []string
	for i, obj := range objs {
		if captured, _ := l.varUse(st.Body, obj); captured {
			names = append(names, ids[i].Name)
		}
	}
	if len(names) == 0 {
		return
	}
	list := strings.Join(names, ", ")
	l.insert(st.Body.Lbrace+1, " "+list+" := "+list+";")
}

// lowerRangeAssign lowers `for k, v = range x` (yaegi v0.16.1 left k at
// the wrong value after the loop) to fresh variables assigned at the top
// of each iteration, as Go assigns them:
// `for k_, v_ := range x { k, v = k_, v_; ... }`.
func (l *lowerer) lowerRangeAssign(st *ast.RangeStmt) {
	if st.Key == nil {
		return
	}
	var fresh, lhs, rhs []string
	for _, e := range []ast.Expr{st.Key, st.Value} {
		if e == nil {
			continue
		}
		if id, ok := e.(*ast.Ident); ok && id.Name == "_" {
			fresh = append(fresh, "_")
			continue
		}
		n := l.name("ra")
		fresh = append(fresh, n)
		lhs = append(lhs, l.text(e))
		rhs = append(rhs, n)
	}
	if len(lhs) == 0 {
		return
	}
	l.replaceSpan(st.Key.Pos(), st.TokPos+token.Pos(len(st.Tok.String())), strings.Join(fresh, ", ")+" :=")
	l.insert(st.Body.Lbrace+1, " "+strings.Join(lhs, ", ")+" = "+strings.Join(rhs, ", ")+";")
}

func (l *lowerer) lowerForVars(st *ast.ForStmt) {
	init, ok := st.Init.(*ast.AssignStmt)
	if !ok || init.Tok != token.DEFINE {
		return
	}
	ids, objs := l.loopVars(init.Lhs)
	var names []string
	changed := false
	var sel []types.Object
	for i, obj := range objs {
		captured, assigned := l.varUse(st.Body, obj)
		// The condition and post statement may hold closures too.
		for _, n := range []ast.Node{st.Cond, st.Post} {
			if n != nil {
				if c, _ := l.varUse(n, obj); c {
					captured = true
				}
			}
		}
		if captured {
			names = append(names, ids[i].Name)
			sel = append(sel, obj)
			changed = changed || assigned
		}
	}
	if len(names) == 0 {
		return
	}
	list := strings.Join(names, ", ")
	if !changed {
		l.insert(st.Body.Lbrace+1, " "+list+" := "+list+";")
		return
	}
	if continues(st) {
		l.fail(st, "cannot run faithfully: the loop variable %s is captured and changed in the body of a loop that continues; copy it into a variable of the body", names[0])
		return
	}
	outer := map[types.Object]string{}
	var outerNames []string
	for _, obj := range sel {
		n := l.name("lv")
		outer[obj] = n
		outerNames = append(outerNames, n)
	}
	for _, n := range []ast.Node{st.Init, st.Cond, st.Post} {
		if n == nil {
			continue
		}
		ast.Inspect(n, func(x ast.Node) bool {
			id, ok := x.(*ast.Ident)
			if !ok {
				return true
			}
			obj := l.c.info.Defs[id]
			if obj == nil {
				obj = l.c.info.Uses[id]
			}
			if o, ok := outer[obj]; ok {
				l.replace(id, o)
			}
			return true
		})
	}
	outs := strings.Join(outerNames, ", ")
	l.insert(st.Body.Lbrace+1, " "+list+" := "+outs+";")
	l.insert(st.Body.Rbrace, "; "+outs+" = "+list+" ")
}

// varUse reports whether obj is captured in n (referred to from a function
// literal or a go or defer statement, or its address taken) and whether n
// may change it (assigned, incremented or its address taken).
func (l *lowerer) varUse(n ast.Node, obj types.Object) (captured, assigned bool) {
	info := l.c.info
	is := func(e ast.Expr) bool {
		e = rootIdent(info, e)
		id, ok := e.(*ast.Ident)
		return ok && info.Uses[id] == obj
	}
	ast.PreorderStack(n, nil, func(x ast.Node, stack []ast.Node) bool {
		switch e := x.(type) {
		case *ast.Ident:
			if info.Uses[e] != obj {
				return true
			}
			for _, s := range stack {
				switch s.(type) {
				case *ast.FuncLit, *ast.GoStmt, *ast.DeferStmt:
					captured = true
				}
			}
		case *ast.UnaryExpr:
			if e.Op == token.AND && is(e.X) {
				captured, assigned = true, true
			}
		case *ast.SliceExpr:
			if is(e.X) {
				if _, ok := info.Types[ast.Unparen(e.X)].Type.Underlying().(*types.Array); ok {
					captured, assigned = true, true
				}
			}
		case *ast.AssignStmt:
			for _, lhs := range e.Lhs {
				if is(lhs) {
					assigned = true
				}
			}
		case *ast.IncDecStmt:
			if is(e.X) {
				assigned = true
			}
		case *ast.RangeStmt:
			if e.Tok == token.ASSIGN && ((e.Key != nil && is(e.Key)) || (e.Value != nil && is(e.Value))) {
				assigned = true
			}
		case *ast.SelectorExpr:
			// x.M() with a pointer method takes &x.
			if !is(e.X) {
				return true
			}
			if f, ok := info.Uses[e.Sel].(*types.Func); ok {
				if sig, ok := f.Type().(*types.Signature); ok && sig.Recv() != nil {
					if _, ptr := sig.Recv().Type().(*types.Pointer); ptr {
						if _, xptr := info.Types[e.X].Type.Underlying().(*types.Pointer); !xptr {
							captured, assigned = true, true
						}
					}
				}
			}
		}
		return true
	})
	return captured, assigned
}

// rootIdent is the variable an expression's storage belongs to: x for x,
// x.f (x a struct, not a pointer), x[i] (x an array), (x).
func rootIdent(info *types.Info, e ast.Expr) ast.Expr {
	for {
		switch x := e.(type) {
		case *ast.ParenExpr:
			e = x.X
		case *ast.SelectorExpr:
			t := info.Types[x.X].Type
			if t == nil {
				return e
			}
			if _, ok := t.Underlying().(*types.Struct); !ok {
				return e
			}
			e = x.X
		case *ast.IndexExpr:
			t := info.Types[x.X].Type
			if t == nil {
				return e
			}
			if _, ok := t.Underlying().(*types.Array); !ok {
				return e
			}
			e = x.X
		default:
			return e
		}
	}
}

// continues reports whether the body of st has a continue statement for
// st: an unlabelled one outside inner loops, or one with st's label.
func continues(st *ast.ForStmt) bool {
	found := false
	var walk func(n ast.Node, depth int)
	walk = func(n ast.Node, depth int) {
		ast.Inspect(n, func(x ast.Node) bool {
			switch s := x.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ForStmt:
				if x != n {
					walk(s.Body, depth+1)
					return false
				}
			case *ast.RangeStmt:
				walk(s.Body, depth+1)
				return false
			case *ast.BranchStmt:
				if s.Tok == token.CONTINUE && (s.Label != nil || depth == 0) {
					found = true
				}
			}
			return true
		})
	}
	walk(st.Body, 0)
	return found
}
