package worker

import (
	"go/types"
	"reflect"
	"slices"
	"strings"
)

// This file holds the lowering passes (see pipeline.go): rewrites of the
// cell, with the check pass's types, into Go that yaegi runs as the Go
// toolchain would. A pass records edits (insertions at cell positions);
// applyEdits puts them into the parts' source.

// edit inserts text at a position of the cell, in place of the del bytes
// there (0: a pure insertion).
type edit struct {
	line, col int
	text      string
	del       int
}

// cellHelpers are the compiled helpers the lowering passes call, under
// import name __unetlab_help (see helperSrc).
var cellHelpers = map[string]map[string]reflect.Value{
	"unetlab/cellhelp/cellhelp": {
		"Index":    reflect.ValueOf(boundsIndex),
		"SliceLow": reflect.ValueOf(sliceLow),
	},
}

// passLowerApply puts the edits of all lowering passes into the parts'
// source, at once (each pass computed its edits on the cell as written).
func (s *session) passLowerApply(u *cellUnit) error {
	u.applyEdits(u.pending)
	u.pending = nil
	return nil
}

// methodConversion is the method of a value of static type t, a cell type
// (or pointer to one), that fmt must call: "Error", "String", or "".
func methodConversion(t types.Type) string {
	if t == nil || types.IsInterface(t) {
		return ""
	}
	n := t
	if p, ok := t.(*types.Pointer); ok {
		n = p.Elem()
	}
	named, ok := n.(*types.Named)
	if !ok || named.Obj().Pkg() == nil || named.Obj().Pkg().Path() != cellPkgPath {
		return ""
	}
	ms := types.NewMethodSet(t)
	for _, m := range []struct{ name, conv string }{{"Error", "Error"}, {"String", "String"}} {
		sel := ms.Lookup(nil, m.name)
		if sel == nil {
			continue
		}
		sig, ok := sel.Type().(*types.Signature)
		if ok && sig.Params().Len() == 0 && sig.Results().Len() == 1 && types.Identical(sig.Results().At(0).Type(), types.Typ[types.String]) {
			return m.conv
		}
	}
	return ""
}

// formatVerbs returns the verb of each operand of a format, or false when
// the format uses explicit argument indexes or * widths.
func formatVerbs(format string) ([]rune, bool) {
	var verbs []rune
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		for i < len(format) && strings.IndexByte("+-# 0123456789.", format[i]) >= 0 {
			i++
		}
		if i >= len(format) {
			break
		}
		switch format[i] {
		case '%':
			continue
		case '[', '*':
			return nil, false
		}
		verbs = append(verbs, rune(format[i]))
	}
	return verbs, true
}

// applyEdits inserts edits into the sources of the parts that hold them.
func (u *cellUnit) applyEdits(edits []edit) {
	if len(edits) == 0 {
		return
	}
	// Last first, so that earlier offsets stay valid; at one position a
	// replacement before the insertions, which then precede it.
	slices.SortStableFunc(edits, func(a, b edit) int {
		if a.line != b.line {
			return b.line - a.line
		}
		if a.col != b.col {
			return b.col - a.col
		}
		return min(b.del, 1) - min(a.del, 1)
	})
	u.edits = append(u.edits, edits...)
	code := u.code
	for i := range u.parts {
		p := &u.parts[i]
		apply := func(src string, line, col int) string {
			start := offsetOf(code, line, col)
			end := start + len(src)
			for _, e := range edits {
				off := offsetOf(code, e.line, e.col)
				if off < start || off > end {
					continue
				}
				// the source may already carry later insertions
				rel := off - start
				src = src[:rel] + e.text + src[min(rel+e.del, len(src)):]
			}
			return src
		}
		if p.cellLen == 0 {
			p.cellLen = len(p.Src)
		}
		p.Src = apply(p.Src, p.Line, p.Col)
		if p.Expr != "" {
			p.Expr = apply(p.Expr, p.ExprLine, p.ExprCol)
		}
	}
}
