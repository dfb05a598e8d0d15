package worker

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/traefik/yaegi/interp"
)

// os.Exit in a cell ends the cell, as `go run` ends a program: the rest of
// the cell is skipped and the cell ends as go run reports the program's
// end: os.Exit(0) silently, as a cell that ran to its end (its output
// stays), another code as the cell's error "exit status N" (EName
// "exit"). The worker process and the session's state are kept: a
// notebook's os.Exit ends the program the cell is, not the kernel.
//
// os.Exit unwinds the goroutine that called it as a panic does (a cell
// cannot end a goroutine otherwise): unlike Go, the deferred calls pending
// in it run, and a recover in one of them stops the exit. In a goroutine
// other than the cell's own, it ends the worker as an unrecovered panic
// does.

// exitEName is the EName of a cell that called os.Exit with a non-zero
// code.
const exitEName = "exit"

// cellExit is the panic value of os.Exit in a cell.
type cellExit struct{ code int }

func (e *cellExit) Error() string { return fmt.Sprintf("os.Exit(%d) called", e.code) }

// exitSymbols replaces os.Exit for the session's cells.
func exitSymbols() map[string]map[string]reflect.Value {
	return map[string]map[string]reflect.Value{"os/os": {"Exit": reflect.ValueOf(osExit)}}
}

// osExit is os.Exit for cells.
func osExit(code int) { panic(&cellExit{code}) }

// exitOf returns the os.Exit that err, an evaluation's error, is.
func exitOf(err error) (*cellExit, bool) {
	var p interp.Panic
	if errors.As(err, &p) {
		if ex, ok := p.Value.(*cellExit); ok {
			return ex, true
		}
	}
	var ex *cellExit
	if errors.As(err, &ex) {
		return ex, true
	}
	return nil, false
}

// exitError is the cell's error for an os.Exit with code.
func exitError(code int) *cellError {
	msg := fmt.Sprintf("exit status %d", code)
	why := fmt.Sprintf("os.Exit(%d) ended the cell (as go run reports it); the kernel and the session's variables remain", code)
	return &cellError{EName: exitEName, EValue: msg, Traceback: []string{msg, why}}
}

// exitedCleanly reports whether err is the error of os.Exit(0): the cell
// ended without error.
func exitedCleanly(err error) bool {
	if err == nil {
		return false
	}
	ce := toCellError(err)
	return ce.EName == exitEName && ce.EValue == "exit status 0"
}
