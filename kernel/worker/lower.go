package worker

import (
	"go/types"
	"reflect"
	"slices"
	"strconv"
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
//
// The passes compute their edits on the cell as written, so one pass's
// edit may lie inside the span another pass replaces (lower-defer moves
// `a[i]` into a temporary, lower-bounds checks the i in it). A
// replacement's text names the cell's text it copies by a span marker
// (lowerer.text), and the edits inside a replaced span apply to its copies
// in the replacement's text, not to the cell where the span no longer is
// (see spanMarker).
func (u *cellUnit) applyEdits(edits []edit) {
	if len(edits) == 0 {
		return
	}
	code := u.code
	all := make([]offEdit, len(edits))
	for i, e := range edits {
		all[i] = offEdit{off: offsetOf(code, e.line, e.col), del: e.del, text: e.text, line: e.line, col: e.col}
	}
	for i := range u.parts {
		p := &u.parts[i]
		apply := func(src string, line, col int, exprAt int) string {
			start := offsetOf(code, line, col)
			end := start + len(src)
			var in []int
			for j, e := range all {
				// An edit where the trailing expression starts is the
				// expression's, not the statements' before it.
				if e.off >= start && e.off <= end && e.off != exprAt {
					in = append(in, j)
				}
			}
			out, top := renderEdits(code, all, src, start, in)
			for _, j := range top {
				e := all[j]
				u.edits = append(u.edits, edit{line: e.line, col: e.col, text: expandSpans(code, all, e.text), del: e.del})
			}
			return out
		}
		if p.cellLen == 0 {
			p.cellLen = len(p.Src)
		}
		exprAt := -1
		if p.Expr != "" {
			exprAt = offsetOf(code, p.ExprLine, p.ExprCol)
		}
		p.Src = apply(p.Src, p.Line, p.Col, exprAt)
		if p.Expr != "" {
			p.Expr = apply(p.Expr, p.ExprLine, p.ExprCol, -1)
		}
	}
}

// offEdit is an edit at a byte offset of the cell.
type offEdit struct {
	off, del  int
	text      string
	line, col int
}

// nestedIn reports whether edit e lies inside the span that r replaces:
// strictly inside, or a shorter replacement at its start. An insertion at
// either end of the span stays outside it.
func (e offEdit) nestedIn(r offEdit) bool {
	if r.del == 0 {
		return false
	}
	return r.off < e.off && e.off < r.off+r.del || e.off == r.off && e.del > 0 && e.del < r.del
}

// renderEdits applies the edits all[in] to src, the cell's text from
// offset base: those nested in another of them are left to that one's
// span markers. It returns the text and the edits it applied at the top.
func renderEdits(code string, all []offEdit, src string, base int, in []int) (string, []int) {
	var top []int
	for _, j := range in {
		nested := false
		for _, k := range in {
			if k != j && all[j].nestedIn(all[k]) {
				nested = true
				break
			}
		}
		if !nested {
			top = append(top, j)
		}
	}
	// Last first, so that earlier offsets stay valid; at one position a
	// replacement before the insertions, which then precede it.
	slices.SortStableFunc(top, func(a, b int) int {
		ea, eb := all[a], all[b]
		if ea.off != eb.off {
			return eb.off - ea.off
		}
		return min(eb.del, 1) - min(ea.del, 1)
	})
	for _, j := range top {
		e := all[j]
		rel := e.off - base
		src = src[:rel] + expandSpans(code, all, e.text) + src[min(rel+e.del, len(src)):]
	}
	return src, top
}

// spanMarker is how a replacement's text names the cell's text from
// offset from to offset to: it is replaced by that text with the edits
// inside the span applied. Go source holds no NUL byte.
func spanMarker(from, to int) string {
	return "\x00" + strconv.Itoa(from) + ":" + strconv.Itoa(to) + "\x00"
}

// expandSpans replaces the span markers of text.
func expandSpans(code string, all []offEdit, text string) string {
	return mapSpans(text, func(from, to int) string {
		span := offEdit{off: from, del: to - from}
		var in []int
		for k, e := range all {
			if e.nestedIn(span) {
				in = append(in, k)
			}
		}
		out, _ := renderEdits(code, all, code[from:to], from, in)
		return out
	})
}

// mapSpans replaces each span marker of text by repl of its offsets.
func mapSpans(text string, repl func(from, to int) string) string {
	if !strings.Contains(text, "\x00") {
		return text
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(text, 0)
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		j := strings.IndexByte(text[i+1:], 0)
		if j < 0 {
			b.WriteString(text)
			return b.String()
		}
		b.WriteString(text[:i])
		fs, ts, _ := strings.Cut(text[i+1:i+1+j], ":")
		from, _ := strconv.Atoi(fs)
		to, _ := strconv.Atoi(ts)
		b.WriteString(repl(from, to))
		text = text[i+1+j+1:]
	}
}
