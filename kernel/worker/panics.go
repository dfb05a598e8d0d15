package worker

import (
	"errors"
	"go/ast"
	"go/types"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// This file words a cell's runtime panic as Go does. yaegi runs index,
// field and method operations through reflect, whose panics say
// "reflect: slice index out of range" where the Go runtime says "runtime
// error: index out of range [5] with length 3". The reflect message names
// the fault; the operands come from the typed cell (the check pass) at the
// innermost frame's line, read back from the interpreter when they are
// plain names or constants of the cell's top level.

// goPanics maps yaegi's reflect panics to the Go runtime's wording.
var goPanics = []struct {
	re   *regexp.Regexp
	kind string // "index", "slice", "nil"
	msg  string
}{
	{regexp.MustCompile(`^reflect: (slice|array|string) index out of range$`), "index", "runtime error: index out of range"},
	{regexp.MustCompile(`^reflect\.Value\.Slice3?: (slice|string slice) index out of bounds$`), "slice", "runtime error: slice bounds out of range"},
	{regexp.MustCompile(`^reflect: call of reflect\.Value\.(Field|Elem|FieldByName) on zero Value$`), "nil", "runtime error: invalid memory address or nil pointer dereference"},
	{regexp.MustCompile(`^reflect: Method on nil interface value$`), "nil", "runtime error: invalid memory address or nil pointer dereference"},
	{regexp.MustCompile(`^reflect: call of reflect\.Value\.Set on zero Value$`), "deref", "runtime error: invalid memory address or nil pointer dereference"},
}

// errPanicked is the error of an evaluation that panicked.
var errPanicked = errors.New("worker: evaluation panicked")

// yaegiPosRE is the position yaegi puts before some panic values.
var yaegiPosRE = regexp.MustCompile(`^\d+:\d+: `)

// panicLine returns the cell line of the top-level statement that
// panicked: the line of the outermost frame of the cell's top level among
// frames (innermost first, "cell (cell:L:C)"); 1 when there is none.
func panicLine(frames []string) int {
	for i := len(frames) - 1; i >= 0; i-- {
		if m := frameRE.FindStringSubmatch(frames[i]); m != nil && m[1] == "cell" {
			n, _ := strconv.Atoi(m[2])
			return n
		}
	}
	return 1
}

// frameRE reads a traceback frame: "name (cell:L:C)".
var frameRE = regexp.MustCompile(`^(.*) \(cell:(\d+):(\d+)\)$`)

// goPanic returns the Go wording of panic message msg; frames are the
// cell's frames, innermost first.
func (s *session) goPanic(msg string, frames []string, u *cellUnit) string {
	msg = yaegiPosRE.ReplaceAllString(msg, "")
	if m, ok := s.typeNames().goMessage(msg); ok {
		return m // (typenames.go)
	}
	if e, ok := runtimeErrorOf(msg).(runtimeError); ok && sliceConvRE.MatchString(msg) {
		return e.Error()
	}
	for _, p := range goPanics {
		if !p.re.MatchString(msg) {
			continue
		}
		line, top := 0, false
		if len(frames) > 0 {
			if m := frameRE.FindStringSubmatch(frames[0]); m != nil {
				line, _ = strconv.Atoi(m[2])
				top = m[1] == "cell"
			}
		}
		switch p.kind {
		case "index":
			if top && u != nil {
				if d := s.indexDetail(u, line); d != "" {
					return p.msg + " " + d
				}
			}
		case "slice":
			if top && u != nil {
				if d := s.sliceDetail(u, line); d != "" {
					return p.msg + " " + d
				}
			}
		case "deref":
			// Set on a zero Value is also yaegi's own fault elsewhere:
			// only a dereference on the line is Go's nil pointer.
			if u == nil || !hasNode(u, line, func(n ast.Node) bool { _, ok := n.(*ast.StarExpr); return ok }) {
				return msg
			}
		}
		return p.msg
	}
	return msg
}

// hasNode reports whether the typed cell has a node on line for which ok.
func hasNode(u *cellUnit, line int, ok func(ast.Node) bool) bool {
	if u.check.file == nil {
		return false
	}
	found := false
	ast.Inspect(u.check.file, func(n ast.Node) bool {
		if n == nil || found {
			return false
		}
		if pos := u.check.fset.Position(n.Pos()); pos.Filename == "cell" && pos.Line == line && ok(n) {
			found = true
		}
		return !found
	})
	return found
}

// detailOnLine walks the typed cell and returns the first non-empty detail
// that f gives for a node starting on line of the cell ("" when the cell was
// not type-checked or no node gives one).
func detailOnLine(u *cellUnit, line int, f func(ast.Node) string) string {
	if u.check.file == nil || u.check.info == nil {
		return ""
	}
	var detail string
	ast.Inspect(u.check.file, func(n ast.Node) bool {
		if n == nil || detail != "" {
			return false
		}
		if pos := u.check.fset.Position(n.Pos()); pos.Filename == "cell" && pos.Line == line {
			detail = f(n)
		}
		return true
	})
	return detail
}

// indexDetail finds, on line of the cell's top level, an index expression
// whose index is out of range and returns "[i] with length n".
func (s *session) indexDetail(u *cellUnit, line int) string {
	return detailOnLine(u, line, func(n ast.Node) string {
		ix, ok := n.(*ast.IndexExpr)
		if !ok || !plain(ix.X) || !plain(ix.Index) {
			return ""
		}
		tv, ok := u.check.info.Types[ix.X]
		if !ok {
			return ""
		}
		switch t := tv.Type.Underlying().(type) {
		case *types.Slice, *types.Array, *types.Basic:
		case *types.Pointer:
			if _, ok := t.Elem().Underlying().(*types.Array); !ok {
				return ""
			}
		default:
			return ""
		}
		n1, ok1 := s.evalInt("len(" + types.ExprString(ix.X) + ")")
		i, ok2 := s.evalInt(types.ExprString(ix.Index))
		if ok1 && ok2 && (i < 0 || i >= n1) {
			return "[" + strconv.FormatInt(i, 10) + "] with length " + strconv.FormatInt(n1, 10)
		}
		return ""
	})
}

// sliceDetail finds, on line of the cell's top level, a 2-index slice
// expression whose bounds are out of range and returns Go's "[:h] with
// capacity c" or "[l:h]".
func (s *session) sliceDetail(u *cellUnit, line int) string {
	return detailOnLine(u, line, func(n ast.Node) string {
		se, ok := n.(*ast.SliceExpr)
		if !ok || se.Slice3 {
			return ""
		}
		for _, e := range []ast.Expr{se.X, se.Low, se.High} {
			if e != nil && !plain(e) {
				return ""
			}
		}
		tv, ok := u.check.info.Types[se.X]
		if !ok {
			return ""
		}
		x := types.ExprString(se.X)
		limit, what := "cap("+x+")", "capacity"
		if _, ok := tv.Type.Underlying().(*types.Slice); !ok {
			limit, what = "len("+x+")", "length"
		}
		c, ok := s.evalInt(limit)
		if !ok {
			return ""
		}
		lo, hi := int64(0), c
		los, his := "", ""
		if se.Low != nil {
			if lo, ok = s.evalInt(types.ExprString(se.Low)); !ok {
				return ""
			}
			los = strconv.FormatInt(lo, 10)
		}
		if se.High != nil {
			if hi, ok = s.evalInt(types.ExprString(se.High)); !ok {
				return ""
			}
			his = strconv.FormatInt(hi, 10)
		}
		switch {
		case hi < 0 || hi > c:
			return "[:" + his + "] with " + what + " " + strconv.FormatInt(c, 10)
		case lo < 0 || lo > hi:
			return "[" + los + ":" + his + "]"
		}
		return ""
	})
}

// plain reports whether e can be evaluated again without effects: a name,
// a selector of names, a constant.
func plain(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident, *ast.BasicLit:
		return true
	case *ast.SelectorExpr:
		return plain(e.X)
	case *ast.ParenExpr:
		return plain(e.X)
	case *ast.UnaryExpr:
		return plain(e.X)
	}
	return false
}

// evalInt evaluates an integer expression of the session's globals.
func (s *session) evalInt(expr string) (int64, bool) {
	v, err := s.evalQuiet(expr)
	if err != nil || !v.IsValid() {
		return 0, false
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return int64(v.Uint()), true
	}
	return 0, false
}

// evalQuiet evaluates src in the interpreter; a panic is an error.
func (s *session) evalQuiet(src string) (v reflect.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errPanicked
		}
	}()
	return s.in.Eval(strings.TrimSpace(src))
}
