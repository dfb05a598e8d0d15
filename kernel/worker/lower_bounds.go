package worker

import (
	"go/ast"
	"go/types"
	"strconv"
)

// passLowerBounds makes an index out of range inside a function panic as
// Go does: "runtime error: index out of range [7] with length 3". yaegi
// indexes through reflect, whose panic names neither the index nor the
// length, and inside a function the operands are locals that cannot be
// read back once the panic unwound (at the top level panics.go reads
// them). So, in the bodies of the cell's functions and function literals,
// an index x[i] of a slice, array, pointer to array or string becomes
// x[__unetlab_help.Index(len(x), int(i))] (the constant length for
// arrays): a compiled call that indexes
// a zero-size slice of length len(x) at i, so that the Go runtime itself
// panics with its own error (a runtime.Error) when i is out of range, and
// otherwise returns i. A slice or string x is evaluated twice, so only
// such operands without side effects are rewritten: names and selections
// of fields through names (p.xs), in parentheses or not.
func (s *session) passLowerBounds(u *cellUnit) error {
	c := &u.check
	if c.skipped || c.file == nil || c.info == nil {
		return nil
	}
	var edits []edit
	var visit func(n ast.Node, inFunc bool)
	visit = func(n ast.Node, inFunc bool) {
		ast.Inspect(n, func(m ast.Node) bool {
			switch m := m.(type) {
			case *ast.FuncDecl:
				if m == n {
					return true
				}
				if m.Body != nil {
					visit(m.Body, m.Name.Name != bodyFunc || m.Recv != nil)
				}
				return false
			case *ast.FuncLit:
				visit(m.Body, true)
				return false
			case *ast.IndexExpr:
				if inFunc {
					if e, ok := boundsEdits(c, u.code, m); ok {
						edits = append(edits, e...)
					}
				}
			}
			return true
		})
	}
	visit(c.file, false)
	u.applyEdits(edits)
	return nil
}

// boundsEdits returns the edits that turn ix into a checked index (see
// passLowerBounds), or false when ix is not one to rewrite.
func boundsEdits(c *checked, code string, ix *ast.IndexExpr) ([]edit, bool) {
	tv, ok := c.info.Types[ix.X]
	if !ok || !tv.IsValue() {
		return nil, false
	}
	if itv, ok := c.info.Types[ix.Index]; !ok || !itv.IsValue() || itv.Value != nil {
		// A constant index is checked by the compiler (arrays, strings
		// of constant length) or rare enough to leave to yaegi.
		return nil, false
	}
	length := "" // an array's length is a constant: x is not evaluated again
	switch t := tv.Type.Underlying().(type) {
	case *types.Slice:
	case *types.Array:
		length = strconv.FormatInt(t.Len(), 10)
	case *types.Basic:
		if t.Info()&types.IsString == 0 {
			return nil, false
		}
	case *types.Pointer:
		a, ok := t.Elem().Underlying().(*types.Array)
		if !ok {
			return nil, false
		}
		length = strconv.FormatInt(a.Len(), 10)
	default:
		return nil, false // maps, generic instantiations
	}
	if length == "" && !pureOperand(ix.X) {
		return nil, false
	}
	xs, xe := c.fset.Position(ix.X.Pos()), c.fset.Position(ix.X.End())
	is, ie := c.fset.Position(ix.Index.Pos()), c.fset.Position(ix.Index.End())
	for _, p := range []struct{ file string }{{xs.Filename}, {xe.Filename}, {is.Filename}, {ie.Filename}} {
		if p.file != "cell" {
			return nil, false
		}
	}
	if length == "" {
		length = "len(" + code[offsetOf(code, xs.Line, xs.Column):offsetOf(code, xe.Line, xe.Column)] + ")"
	}
	return []edit{
		{is.Line, is.Column, helperPrefix + "_help.Index(" + length + ", int("},
		{ie.Line, ie.Column, "))"},
	}, true
}

// pureOperand reports whether evaluating e twice is evaluating it once:
// a name, or a field selection through names, in parentheses or not.
func pureOperand(e ast.Expr) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		return true
	case *ast.SelectorExpr:
		return pureOperand(e.X)
	}
	return false
}

// boundsIndex is __unetlab_help.Index: i when 0 <= i < n, else the Go
// runtime's own panic for index i of length n.
func boundsIndex(n, i int) int {
	_ = make([]struct{}, n)[i]
	return i
}
