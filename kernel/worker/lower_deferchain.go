package worker

import (
	"go/ast"
	"go/token"
	"go/types"
	"strconv"
	"strings"
)

// passLowerDeferChain makes a panic inside a deferred call run the
// function's other deferred calls, as Go does: yaegi v0.16.1 runs a
// frame's deferred calls in a loop that a panic leaves, so the calls
// deferred before the panicking one never ran (and could not recover the
// new panic). Each defer statement after the first one of a function
// body starts a function literal that holds it and the rest of the body,
// called at once, so that every frame has one deferred call and a panic in
// it unwinds into the frame of the calls deferred before it:
//
//	S0; defer A; S1; defer B; S2  =>  S0; defer A; S1; func() { defer B; S2 }()
//
// A return inside such a literal sets the function's results and returns
// from each literal in turn: unnamed results get names (__unetlab_rN), and
// `return a, b` becomes `{ r0, r1 = a, b; return }`. Functions whose
// defer statements are not all in the body's own statement list (in a
// loop, a branch), that use goto or labels, or whose named results are
// declared again inside the body, are left as they are.
func (s *session) passLowerDeferChain(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		switch f := n.(type) {
		case *ast.FuncDecl:
			if f.Body != nil && l.inCell(f) && (f.Name.Name != bodyFunc || f.Recv != nil) {
				l.chainDefers(f.Type, f.Body)
			}
		case *ast.FuncLit:
			if l.inCell(f) {
				l.chainDefers(f.Type, f.Body)
			}
		}
		return true
	})
	return l.done()
}

// chainDefers lowers one function body (see passLowerDeferChain).
func (l *lowerer) chainDefers(ft *ast.FuncType, body *ast.BlockStmt) {
	var at []int // indexes in body.List of the top-level defers
	for i, st := range body.List {
		if _, ok := st.(*ast.DeferStmt); ok {
			at = append(at, i)
		}
	}
	if len(at) < 2 {
		return
	}
	// Every defer and return of this function (not of literals in it).
	defers, returns, bad := 0, []*ast.ReturnStmt{}, false
	inWrapped := func(n ast.Node) bool { return n.Pos() >= body.List[at[1]].Pos() }
	var walk func(n ast.Node) bool
	walk = func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.DeferStmt:
			defers++
		case *ast.ReturnStmt:
			if inWrapped(x) {
				returns = append(returns, x)
			}
		case *ast.LabeledStmt:
			bad = true
		case *ast.BranchStmt:
			if x.Label != nil || x.Tok == token.GOTO {
				bad = true
			}
		}
		return !bad
	}
	for _, st := range body.List {
		ast.Inspect(st, walk)
	}
	if bad || defers != len(at) {
		return
	}
	// The results, named: first check, then edit.
	var names []string
	var namings []func()
	if ft.Results != nil {
		i := 0
		for _, fld := range ft.Results.List {
			if len(fld.Names) == 0 {
				n := helperPrefix + "_r" + strconv.Itoa(i)
				names = append(names, n)
				pos := fld.Type.Pos()
				namings = append(namings, func() { l.insert(pos, n+" ") })
				i++
				continue
			}
			for _, id := range fld.Names {
				n := id.Name
				if n == "_" {
					n = helperPrefix + "_r" + strconv.Itoa(i)
					namings = append(namings, func() { l.replace(id, n) })
				} else if l.redeclared(id, body) {
					return
				}
				names = append(names, n)
				i++
			}
		}
	}
	for _, f := range namings {
		f()
	}
	if len(returns) > 0 && len(names) > 0 {
		for _, r := range returns {
			if len(r.Results) == 0 {
				continue
			}
			var rs []string
			for _, e := range r.Results {
				rs = append(rs, l.text(e))
			}
			l.replace(r, "{ "+strings.Join(names, ", ")+" = "+strings.Join(rs, ", ")+"; return }")
		}
	}
	for _, i := range at[1:] {
		l.insert(body.List[i].Pos(), "func() { ")
	}
	l.insert(body.Rbrace, strings.Repeat("}(); ", len(at)-1))
}

// redeclared reports whether the name of result id is declared again
// inside body (a return there would then set the inner variable).
func (l *lowerer) redeclared(id *ast.Ident, body *ast.BlockStmt) bool {
	obj := l.c.info.Defs[id]
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if x, ok := n.(*ast.Ident); ok && x.Name == id.Name {
			if d, ok := l.c.info.Defs[x]; ok && d != nil && d != obj {
				if _, isVar := d.(*types.Var); isVar {
					found = true
				}
			}
		}
		return !found
	})
	return found
}
