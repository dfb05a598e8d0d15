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
		if f, err = parser.ParseFile(fset, "", content, parser.SkipObjectResolution); err == nil {
			prefix = pre
			break
		}
		f = nil
	}
	if f == nil {
		return src
	}
	type insert struct {
		off int
		s   string
	}
	var ins []insert
	wrap := func(rhs []ast.Expr) {
		if len(rhs) < 2 {
			return
		}
		for _, e := range rhs {
			switch x := e.(type) {
			case *ast.CompositeLit, *ast.CallExpr:
			case *ast.UnaryExpr:
				if x.Op != token.ARROW {
					continue
				}
			default:
				continue
			}
			start := fset.Position(e.Pos()).Offset - len(prefix)
			end := fset.Position(e.End()).Offset - len(prefix)
			if start < 0 || end > len(src) || start >= end {
				continue
			}
			ins = append(ins, insert{start, "("}, insert{end, ")"})
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.AssignStmt:
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
	// From the end, closing before opening at the same offset.
	sort.SliceStable(ins, func(i, j int) bool {
		if ins[i].off != ins[j].off {
			return ins[i].off > ins[j].off
		}
		return ins[i].s == "(" && ins[j].s == ")"
	})
	b := []byte(src)
	for _, in := range ins {
		b = append(b[:in.off], append([]byte(in.s), b[in.off:]...)...)
	}
	return string(b)
}
