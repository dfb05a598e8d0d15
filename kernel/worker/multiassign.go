package worker

import (
	"go/ast"
	"go/parser"
	"go/token"
	"sort"
	"strings"
)

// yaegi v0.16.1 drops values of an assignment of several values when one
// of the right-hand sides is a composite literal, a call or a receive: it
// optimises that pair to write straight into its variable and then skips the
// whole assignment's own action, which would have assigned the other pairs
// (`a, b = [3]int{1, 2, 3}, 10` leaves b at 0; also :=, and var a, b = ...).
// A parenthesised operand is not optimised, so parenMulti puts such
// operands in parentheses before the source reaches the interpreter. Only
// lines holding such an assignment change, by one column per parenthesis
// after the operand's start (error positions on them may be off by that
// much). Pinned upstream by TestYaegiUpstreamMultiAssignDropsValues.
//
// A parenthesised operand beside an untyped nil trips another yaegi bug
// (`a, b = ([]int{1}), nil` panics with "reflect: New(nil)"), so an
// assignment statement of a statement list whose right side holds nil is
// split instead: the nil pairs become assignments of their own after the
// rest (`a = []int{1}; b = nil`), which Go's two-phase assignment makes
// equivalent as long as no nil target hangs off a variable the statement
// assigns (then it is left as it was).

// parenMulti returns src (declarations or statements, as evaluated) with
// the composite literal, call and receive operands of multi-value
// assignments parenthesised; src itself when there is none or it does not
// parse.
func parenMulti(src string) string {
	if !strings.Contains(src, ",") || !strings.Contains(src, "=") {
		return src
	}
	var f *ast.File
	var prefix string
	fset := token.NewFileSet()
	for _, pre := range []string{"package p;", "package p;func _(){"} {
		content := pre + src
		if pre != "package p;" {
			content += "\n}"
		}
		var err error
		if f, err = parseFile(fset, "", content, parser.SkipObjectResolution); err == nil {
			prefix = pre
			break
		}
		f = nil
	}
	if f == nil {
		return src
	}
	return parenMultiIn(src, []ast.Node{f}, nil, func(n ast.Node) (int, int, bool) {
		start := fset.Position(n.Pos()).Offset - len(prefix)
		end := fset.Position(n.End()).Offset - len(prefix)
		return start, end, start >= 0 && end <= len(src) && start < end
	})
}

// parenMultiIn is parenMulti over nodes, the syntax of src already parsed
// (a file, or statements of the cell's one parse): span maps a node to its
// offsets in src; listed are statements that stand in a statement list
// although no node of nodes holds that list.
func parenMultiIn(src string, nodes []ast.Node, listed []ast.Stmt, span func(ast.Node) (int, int, bool)) string {
	// edit replaces src[off:end] by s; most are insertions (end == off).
	type edit struct {
		off, end int
		s        string
	}
	var ins []edit
	wrap := func(rhs []ast.Expr) {
		if len(rhs) < 2 {
			return
		}
		for _, e := range rhs {
			if !optimised(e) {
				continue
			}
			if start, end, ok := span(e); ok {
				ins = append(ins, edit{start, start, "("}, edit{end, end, ")"})
			}
		}
	}
	// Assignment statements that stand in a statement list, where one may
	// become several.
	inList := map[*ast.AssignStmt]bool{}
	for _, st := range listed {
		if as, ok := st.(*ast.AssignStmt); ok {
			inList[as] = true
		}
	}
	inspect := func(f func(ast.Node) bool) {
		for _, n := range nodes {
			ast.Inspect(n, f)
		}
	}
	inspect(func(n ast.Node) bool {
		var list []ast.Stmt
		switch x := n.(type) {
		case *ast.BlockStmt:
			list = x.List
		case *ast.CaseClause:
			list = x.Body
		case *ast.CommClause:
			list = x.Body
		}
		for _, st := range list {
			if as, ok := st.(*ast.AssignStmt); ok {
				inList[as] = true
			}
		}
		return true
	})
	inspect(func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.AssignStmt:
			if inList[x] {
				if text, ok := splitNil(x, src, span); ok {
					start, end, _ := span(x)
					ins = append(ins, edit{start, end, text})
					return false
				}
			}
			if len(x.Lhs) == len(x.Rhs) {
				wrap(x.Rhs)
			}
		case *ast.ValueSpec:
			if len(x.Names) == len(x.Values) {
				wrap(x.Values)
			}
		}
		return true
	})
	if len(ins) == 0 {
		return src
	}
	// From the end, closing before opening at the same offset. Edits do
	// not overlap: a replaced statement's operands get no insertions.
	sort.SliceStable(ins, func(i, j int) bool {
		if ins[i].off != ins[j].off {
			return ins[i].off > ins[j].off
		}
		return ins[i].s == "(" && ins[j].s == ")"
	})
	b := []byte(src)
	for _, in := range ins {
		b = append(b[:in.off], append([]byte(in.s), b[in.end:]...)...)
	}
	return string(b)
}

// optimised reports whether yaegi writes operand e of a multi-value
// assignment straight into its variable (the case that drops the others).
func optimised(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.CompositeLit, *ast.CallExpr:
		return true
	case *ast.UnaryExpr:
		return x.Op == token.ARROW
	}
	return false
}

// splitNil returns the text that replaces the assignment a = statement
// `l1, l2, ... = r1, nil, ...` when some right side is an untyped nil and
// another would be parenthesised: the other pairs first (parenthesised as
// parenMulti does when two or more remain), then one `l = nil` per nil
// pair, all on the statement's line. ok is false when the statement is not
// of that form, or a nil target is a selector on a variable the statement
// assigns (splitting would then change which value it is taken from).
func splitNil(a *ast.AssignStmt, src string, span func(ast.Node) (int, int, bool)) (string, bool) {
	if a.Tok != token.ASSIGN || len(a.Lhs) != len(a.Rhs) || len(a.Lhs) < 2 {
		return "", false
	}
	isNil := func(e ast.Expr) bool {
		id, ok := e.(*ast.Ident)
		return ok && id.Name == "nil"
	}
	var hasNil, hasOpt bool
	for _, r := range a.Rhs {
		hasNil = hasNil || isNil(r)
		hasOpt = hasOpt || optimised(r)
	}
	if !hasNil || !hasOpt {
		return "", false
	}
	// root returns the variable a target hangs off (x for x.f.g), "" when
	// it is no identifier or selector chain.
	root := func(e ast.Expr) string {
		for {
			switch x := e.(type) {
			case *ast.Ident:
				return x.Name
			case *ast.SelectorExpr:
				e = x.X
			case *ast.ParenExpr:
				e = x.X
			default:
				return ""
			}
		}
	}
	assigned := map[string]bool{}
	for _, l := range a.Lhs {
		if id, ok := l.(*ast.Ident); ok {
			assigned[id.Name] = true
		}
	}
	text := func(n ast.Node) (string, bool) {
		start, end, ok := span(n)
		if !ok {
			return "", false
		}
		return src[start:end], true
	}
	var lhs, rhs, nils []string
	var wrapped []bool // rhs[i] is an operand yaegi optimises
	for i, l := range a.Lhs {
		lt, ok := text(l)
		if !ok {
			return "", false
		}
		if !isNil(a.Rhs[i]) {
			rt, ok := text(a.Rhs[i])
			if !ok {
				return "", false
			}
			lhs, rhs = append(lhs, lt), append(rhs, rt)
			wrapped = append(wrapped, optimised(a.Rhs[i]))
			continue
		}
		if _, plain := l.(*ast.Ident); !plain {
			r := root(l)
			if r == "" || assigned[r] {
				return "", false
			}
		}
		nils = append(nils, lt+" = nil")
	}
	if len(rhs) >= 2 { // still a multi-value assignment
		for i := range rhs {
			if wrapped[i] {
				rhs[i] = "(" + rhs[i] + ")"
			}
		}
	}
	// lhs is not empty: some operand is optimised, so not nil.
	return strings.Join(append([]string{strings.Join(lhs, ", ") + " = " + strings.Join(rhs, ", ")}, nils...), "; "), true
}
