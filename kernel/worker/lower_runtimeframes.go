package worker

import (
	"go/ast"
	"go/types"
)

// runtimeFrameFuncs are the functions of package runtime whose answers name
// the program's own functions, files and lines: in a cell they would name
// the interpreter's (yaegi's run loop, reflect), never the cell's.
var runtimeFrameFuncs = map[string]bool{
	"Callers":       true,
	"CallersFrames": true,
	"FuncForPC":     true,
	"MemProfile":    true,
	"BlockProfile":  true,
	"MutexProfile":  true,
}

// passLowerRuntimeFrames refuses a cell that uses one of
// runtimeFrameFuncs: it cannot run faithfully, so it is an error before
// anything runs rather than a different answer.
func (s *session) passLowerRuntimeFrames(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	info := l.c.info
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok || !l.inCell(sel) {
			return true
		}
		f, ok := info.Uses[sel.Sel].(*types.Func)
		if ok && f.Pkg() != nil && f.Pkg().Path() == "runtime" && runtimeFrameFuncs[f.Name()] {
			l.fail(sel, "cannot run faithfully: runtime.%s reports the interpreter's own functions, files and lines, not the cell's", f.Name())
		}
		return true
	})
	return l.done()
}
