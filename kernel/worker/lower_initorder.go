package worker

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strings"
)

// passLowerInitOrder puts a cell's package-level variable declarations in
// the order Go initialises them (the spec's package initialisation: a
// variable is initialised once the variables its initialiser depends on,
// through the functions it calls too, are; go/types records that order as
// Info.InitOrder). yaegi v0.16.1 initialises them in source order, looking
// only at the names an initialiser mentions itself:
//
//	var n = f()
//	var called = false
//	func f() int { called = true; return 1 }
//
// left called false (Go initialises called first, then n, which sets it).
//
// Where the source order of a declaration part's initialisers differs from
// Info.InitOrder, the part's initialised variable declarations are moved,
// in that order, after the part's last declaration; each keeps its text
// (with the other passes' edits in it). A spec whose values initialise its
// variables one by one (`var a, b = x, y`) is split into one declaration
// per variable when they must be apart.
func (s *session) passLowerInitOrder(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	// The initialised package-level specs of the cell, by part.
	type specAt struct {
		spec *ast.ValueSpec
		decl *ast.GenDecl
		part int
	}
	specs := map[*types.Var]specAt{}
	partEnd := map[int]token.Pos{} // the end of each part's last declaration
	for _, d := range l.c.file.Decls {
		if !l.inCell(d) {
			continue
		}
		pi := l.partOf(d)
		if pi < 0 {
			continue
		}
		if d.End() > partEnd[pi] {
			partEnd[pi] = d.End()
		}
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, sp := range g.Specs {
			vs := sp.(*ast.ValueSpec)
			if len(vs.Values) == 0 {
				continue
			}
			for _, n := range vs.Names {
				if v, ok := l.c.info.Defs[n].(*types.Var); ok {
					specs[v] = specAt{vs, g, pi}
				}
			}
		}
	}
	if len(specs) == 0 {
		return nil
	}
	// Each part's initialisers, in Info.InitOrder.
	byPart := map[int][]*types.Initializer{}
	for _, in := range l.c.info.InitOrder {
		if len(in.Lhs) == 0 {
			continue
		}
		at, ok := specs[in.Lhs[0]]
		if !ok {
			continue
		}
		byPart[at.part] = append(byPart[at.part], in)
	}
	for pi, ins := range byPart {
		inOrder := slices.IsSortedFunc(ins, func(a, b *types.Initializer) int {
			return int(a.Lhs[0].Pos() - b.Lhs[0].Pos())
		})
		if inOrder {
			continue
		}
		// A spec moves whole when its initialisers come one after the
		// other in the order; else each of its variables moves alone.
		whole := map[*ast.ValueSpec]bool{}
		for i, in := range ins {
			vs := specs[in.Lhs[0]].spec
			n := len(vs.Names)
			if len(vs.Values) == 1 || n == 1 {
				whole[vs] = true
				continue
			}
			if vs.Names[0].Name == in.Lhs[0].Name() && i+n <= len(ins) {
				ok := true
				for k := range n {
					if specs[ins[i+k].Lhs[0]].spec != vs || ins[i+k].Lhs[0].Pos() != vs.Names[k].Pos() {
						ok = false
					}
				}
				if ok {
					whole[vs] = true
				}
			}
		}
		var moved strings.Builder
		done := map[*ast.ValueSpec]bool{}
		for _, in := range ins {
			vs := specs[in.Lhs[0]].spec
			if done[vs] {
				continue
			}
			if whole[vs] {
				done[vs] = true
				moved.WriteString("\nvar " + l.text(vs))
				continue
			}
			k := slices.IndexFunc(vs.Names, func(n *ast.Ident) bool { return n.Pos() == in.Lhs[0].Pos() })
			moved.WriteString("\nvar " + l.text(vs.Names[k]))
			if vs.Type != nil {
				moved.WriteString(" " + l.text(vs.Type))
			}
			moved.WriteString(" = " + l.text(vs.Values[k]))
		}
		// Remove the moved specs where they were: a declaration of one
		// spec whole, a spec of a group alone.
		removed := map[ast.Node]bool{}
		for _, in := range ins {
			at := specs[in.Lhs[0]]
			var n ast.Node = at.spec
			if !at.decl.Lparen.IsValid() {
				n = at.decl
			}
			if !removed[n] {
				removed[n] = true
				l.replace(n, "")
			}
		}
		l.insert(partEnd[pi], moved.String())
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
