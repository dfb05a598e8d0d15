package worker

import (
	"go/ast"
	"go/types"
	"regexp"
	"slices"
	"strings"
)

// passLowerCellDefers lets a cell's top-level statements defer calls, as
// if the cell were the body of a function that ends with the cell: the
// calls run once the cell's statements (and its trailing expression) have
// run or panicked, last deferred first; their function values and
// arguments are evaluated at the defer statement.
//
//	defer fmt.Println("bye", n)  =>
//	{ a1 := n; __unetlab_defers = append(__unetlab_defers, func() { fmt.Println("bye", a1) }) }
//
// yaegi ran a top-level defer when the statement's part ended and again
// after every later cell; runCellDefers (called by passRun) runs the list
// (deferSrc) when the cell ends. A deferred call that may call recover
// (lowerer.mayRecover) is refused: the cell's panic has already ended its
// statements when the deferred calls run, so recover could not stop it as
// Go's would.
func (s *session) passLowerCellDefers(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.PreorderStack(l.c.file, nil, func(n ast.Node, stack []ast.Node) bool {
		if l.err != nil {
			return false
		}
		st, ok := n.(*ast.DeferStmt)
		if !ok || !l.inCell(n) || !inCellBody(stack) {
			return true
		}
		if l.mayRecover(st.Call, s.earlierMayRecover) {
			l.fail(st, "cannot run faithfully: a deferred call among the cell's statements that may call recover: the deferred calls run once the cell's statements ended, too late to stop a panic; put the statements and their defer in a function and call it")
			return false
		}
		pre, reps, _ := l.deferredOperands(st.Call, nil)
		for _, r := range reps {
			r()
		}
		list := helperPrefix + "_defers"
		text := "{ "
		for _, p := range pre {
			text += p + "; "
		}
		text += list + " = append(" + list + ", func() { " + l.text(st.Call) + " }) }"
		l.replace(st, text)
		u.cellDefers = true
		return false
	})
	return l.done()
}

// deferSrc is evaluated in every fresh interpreter, after panicSrc: the
// list of the running cell's deferred calls (passLowerCellDefers), and the
// function that runs them, each taken off the list before it runs.
const deferSrc = `var __unetlab_defers []func()

func __unetlab_rundefers() {
	for len(__unetlab_defers) > 0 {
		f := __unetlab_defers[len(__unetlab_defers)-1]
		__unetlab_defers = __unetlab_defers[:len(__unetlab_defers)-1]
		f()
	}
}
`

// earlierMayRecover reports whether fn, a function or method an earlier
// cell declared, may call recover: its declaration mentions recover (its
// text is all the session keeps).
func (s *session) earlierMayRecover(fn *types.Func) bool {
	decl := regexp.MustCompile(`^func\s*(\([^)]*\)\s*)?` + regexp.QuoteMeta(fn.Name()) + `\b`)
	for _, d := range s.decls {
		if decl.MatchString(d.text) && strings.Contains(d.text, "recover") {
			return true
		}
	}
	return false
}

// runCellDefers runs the calls the cell's statements deferred
// (passLowerCellDefers) once its parts ran, failed or panicked, last
// first, and returns the cell's error: err, or the panic of a deferred
// call when err is nil; a deferred call's panic after the cell's own is
// added to it as Go prints a panic during a panic ("panic: first\n\tpanic:
// second"). The calls after a panicking one still run. An interrupted cell
// drops them, as a killed program runs none, and so does os.Exit, in the
// cell or in a deferred call, as in Go.
func (s *session) runCellDefers(u *cellUnit, err error) error {
	drop := func() { _, _ = s.evalQuiet(helperPrefix + "_defers = nil") }
	for {
		if cerr := u.ctx.Err(); cerr != nil {
			drop()
			if err == nil {
				err = toCellError(cerr)
			}
			return err
		}
		if err != nil && toCellError(err).EName == exitEName {
			drop()
			return err
		}
		_, derr := s.evalCtx(u.ctx, helperPrefix+"_rundefers()")
		if derr == nil {
			return err
		}
		de := toCellError(derr)
		if err == nil || de.EName == exitEName {
			err = de
			continue
		}
		ce := toCellError(err)
		if ce.EName != "panic" || de.EName != "panic" {
			continue // the cell's error stays the one reported
		}
		// Go's form: the first panic, the later ones indented under it.
		chained := *ce
		chained.EValue += "\n\tpanic: " + de.EValue
		chained.Traceback = append(slices.Clone(ce.Traceback), "\tpanic: "+de.EValue)
		err = &chained
	}
}
