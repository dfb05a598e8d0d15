package worker

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"
)

// passLowerInitOrder makes yaegi initialise a cell's package-level
// variables in the order Go does (the spec's package initialisation: a
// variable is initialised once the variables its initialiser depends on,
// through the functions it calls too, are; go/types records that order as
// Info.InitOrder). yaegi v0.16.1 initialises them in source order, putting
// off a variable only while its initialiser itself names a variable not
// yet initialised:
//
//	var n = f()
//	var called = false
//	func f() int { called = true; return 1 }
//
// left called false (Go initialises called first, then n, which sets it).
//
// Where a variable must wait for one declared after it (or for one the
// lowering put off), its initialiser names that one, in a function literal that yaegi looks into and that
// returns the value as it was:
//
//	var n = func() int { _ = &called; return f() }()
//
// The declarations stay where they are (a later rebuild of the interpreter
// replays each with its own text).
func (s *session) passLowerInitOrder(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	// The cell's initialised package-level variables, by part.
	part := map[*types.Var]int{}
	for _, d := range l.c.file.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR || !l.inCell(d) {
			continue
		}
		pi := l.partOf(d)
		if pi < 0 {
			continue
		}
		for _, sp := range g.Specs {
			vs := sp.(*ast.ValueSpec)
			if len(vs.Values) == 0 {
				continue
			}
			for _, n := range vs.Names {
				if v, ok := l.c.info.Defs[n].(*types.Var); ok {
					part[v] = pi
				}
			}
		}
	}
	if len(part) == 0 {
		return nil
	}
	var order []*types.Initializer
	rank := map[*types.Var]int{}
	for _, in := range l.c.info.InitOrder {
		if len(in.Lhs) == 0 {
			continue
		}
		if _, ok := part[in.Lhs[0]]; !ok {
			continue
		}
		for _, v := range in.Lhs {
			rank[v] = len(order)
		}
		order = append(order, in)
	}
	waiting := map[*types.Var]bool{} // put off by the lowering
	for i, in := range order {
		first := in.Lhs[0]
		// The variables of its part that Go initialises before it and
		// that are declared after it, or that the lowering put off
		// (yaegi would initialise them after this one).
		var waits []string
		for _, prev := range order[:i] {
			for _, w := range prev.Lhs {
				if w.Name() != "_" && part[w] == part[first] && (w.Pos() > first.Pos() || waiting[w]) {
					waits = append(waits, w.Name())
				}
			}
		}
		if len(waits) == 0 {
			continue
		}
		for _, v := range in.Lhs {
			waiting[v] = true
		}
		var results []string
		for _, v := range in.Lhs {
			ts, ok := l.typeString(v.Type())
			if !ok {
				l.fail(in.Rhs, "cannot run faithfully: package variable %s must be initialised after %s, and its type cannot be written here", first.Name(), strings.Join(waits, ", "))
				return l.err
			}
			results = append(results, ts)
		}
		rs := strings.Join(results, ", ")
		if len(results) > 1 {
			rs = "(" + rs + ")"
		}
		var names strings.Builder
		for _, w := range waits {
			names.WriteString("_ = &" + w + "; ")
		}
		l.replace(in.Rhs, "func() "+rs+" { "+names.String()+"return "+l.text(in.Rhs)+" }()")
	}
	return l.done()
}

// partOf is the index of the part of the cell that holds n, or -1.
func (l *lowerer) partOf(n ast.Node) int {
	from, to := l.offset(n.Pos()), l.offset(n.End())
	for i, p := range l.u.parts {
		start := offsetOf(l.u.code, p.Line, p.Col)
		if from >= start && to <= start+p.srcLen() {
			return i
		}
	}
	return -1
}
