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
			case *ast.SliceExpr:
				if inFunc {
					if e, ok := sliceEdits(c, u.code, m); ok {
						edits = append(edits, e...)
					}
				}
			}
			return true
		})
	}
	visit(c.file, false)
	u.pending = append(u.pending, edits...)
	return nil
}

// boundsEdits returns the edits that turn ix into a checked index (see
// passLowerBounds), or false when ix is not one to rewrite.
func boundsEdits(c *checked, code string, ix *ast.IndexExpr) ([]edit, bool) {
	tv, ok := c.info.Types[ix.X]
	if !ok || !tv.IsValue() {
		return nil, false
	}
	itv, ok := c.info.Types[ix.Index]
	if !ok || !itv.IsValue() {
		return nil, false
	}
	if _, slice := tv.Type.Underlying().(*types.Slice); itv.Value != nil && !slice {
		// A constant index of an array is checked by the compiler; of
		// a string, rare enough to leave to yaegi.
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
		{line: is.Line, col: is.Column, text: helperPrefix + "_help.Index(" + length + ", int("},
		{line: ie.Line, col: ie.Column, text: "))"},
	}, true
}

// sliceEdits returns the edits that check the bounds of x[lo:hi], x a
// slice, before yaegi slices it: x[lo:hi] becomes
// x[__unetlab_help.SliceLow(len(x), cap(x), int(lo), int(hi)):hi], a
// compiled call that slices a zero-size slice of x's length and capacity
// the same way (so that the Go runtime panics with its own "slice bounds
// out of range [:5] with capacity 3") and returns lo. x and hi are
// evaluated more than once, so only names, field selections through names
// (and constants, for hi) are rewritten; three-index slices, strings and
// arrays are left to yaegi.
func sliceEdits(c *checked, code string, se *ast.SliceExpr) ([]edit, bool) {
	tv, ok := c.info.Types[se.X]
	if !ok || !tv.IsValue() || se.Slice3 || !pureOperand(se.X) {
		return nil, false
	}
	if _, ok := tv.Type.Underlying().(*types.Slice); !ok {
		return nil, false
	}
	text := func(e ast.Expr) (string, bool) {
		s, en := c.fset.Position(e.Pos()), c.fset.Position(e.End())
		if s.Filename != "cell" || en.Filename != "cell" {
			return "", false
		}
		return code[offsetOf(code, s.Line, s.Column):offsetOf(code, en.Line, en.Column)], true
	}
	x, ok := text(se.X)
	if !ok {
		return nil, false
	}
	hi := "len(" + x + ")"
	if se.High != nil {
		// hi is evaluated twice (the call's and the slice's own).
		if itv := c.info.Types[se.High]; itv.Value == nil && !pureOperand(se.High) {
			return nil, false
		}
		t, ok := text(se.High)
		if !ok {
			return nil, false
		}
		hi = "int(" + t + ")"
	}
	head := helperPrefix + "_help.SliceLow(len(" + x + "), cap(" + x + "), "
	if se.Low != nil {
		// lo stays where it is, as the call's argument: evaluated once.
		s, e := c.fset.Position(se.Low.Pos()), c.fset.Position(se.Low.End())
		return []edit{{line: s.Line, col: s.Column, text: head + "int("}, {line: e.Line, col: e.Column, text: "), " + hi + ")"}}, true
	}
	call := head + "0, " + hi + ")"
	l := c.fset.Position(se.Lbrack)
	if l.Filename != "cell" {
		return nil, false
	}
	return []edit{{line: l.Line, col: l.Column + 1, text: call}}, true
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

// sliceLow is __unetlab_help.SliceLow: lo when s[lo:hi] is in range for a
// slice s of length n and capacity c, else the Go runtime's own panic for
// that slice expression.
func sliceLow(n, c, lo, hi int) int {
	_ = make([]struct{}, n, c)[lo:hi]
	return lo
}

// boundsIndex is __unetlab_help.Index: i when 0 <= i < n, else the Go
// runtime's own panic for index i of length n.
func boundsIndex(n, i int) int {
	_ = make([]struct{}, n)[i]
	return i
}
