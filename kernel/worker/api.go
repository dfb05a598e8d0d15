// Package worker runs notebook cells in a child process and is the kernel's
// only way to reach the interpreter.
//
// The kernel process (package kernel) owns the Jupyter sockets; it starts the
// worker with [Start], which re-executes the running binary as
// `unetlab worker`. The child hosts one yaegi interpreter session (cell
// splitting, imports, redefinition, completion, inspection) and talks to the
// parent over pipes. A panic or crash in the child ends only the child: the
// parent reports [ErrCrashed] for the running request and the kernel starts a
// fresh worker.
//
// This file is the contract between the two sides: the types below are what
// the kernel sees.
//
// # Cells
//
// A cell goes through the passes listed in pipeline.go (cellPasses), in
// order: it is split (go/scanner, go/parser) into imports, declarations
// (func, method, type, var, const) and statements; type-checked with
// go/types against the session (check.go; the packages come from the
// symbol tables through package symtypes); then evaluated by yaegi in
// order. A cell that does not type-check runs not at all; its errors are
// the Go compiler's, at the cell's own line:column ("cell:3:5: undefined:
// x"), up to 10, then "too many errors". Runtime panics of yaegi's reflect
// operations are worded as Go's ("runtime error: index out of range [5]
// with length 3", panics.go). State persists
// between cells. Re-running a cell is harmless: imports already made are
// skipped and unchanged declarations are kept. Redefining a function,
// method, type or constant rebuilds the interpreter (yaegi keeps old types
// and old function bodies otherwise) and replays the kept imports and
// declarations. Variables keep their values across the rebuild when their
// static type is made of predeclared types, types of the symbol tables and
// interpreted types that were not redefined (int, string, slices, maps,
// structs, *strings.Builder, a kept `type P`). A variable is reset, that
// is declared again at the zero value of its (new) type and listed in
// [ExecuteResult.Reset], when its type involves a redefined declaration,
// when the statement that assigned it or the cell that defined it uses or
// declares a redefined name (its value may come from the old code), or when
// its value holds an interpreted function or interface value of the old
// interpreter. A kept `var` declaration whose variables cannot be carried is
// evaluated again (and listed too). See carry.go. A package name used without
// import (fmt.Println, cell.Context) is imported when exactly one package
// of the symbol tables (package stdlib) has that name and member.
//
// Top-level statements run in the interpreter's global scope, where yaegi
// mishandles a := inside a block (`if _, err := os.Stat(p); err == nil`);
// so a run of top-level statements that opens a block (if, for, switch,
// select, {}) and defines no top-level variable runs inside a function
// literal called at once (see stmts.go), unless the cell uses goto, return
// or a top-level defer there. Such a part is evaluated chunk by chunk: an
// undefined name is still reported before anything runs, but a type error
// in a later chunk only once the chunks before it have run.
// A top-level comma-ok `v, ok := m[k]` (also `x.(T)`, `<-c`), on which
// yaegi panics with "nil type" in the global scope, runs as `v := zero;
// ok := false; v, ok = m[k]`, each operand evaluated once. The variables
// of a top-level `a, b := f()` or `var a, b = f()` are made global symbols
// after each evaluation (yaegi leaves them local to the cell's frame, so a
// function called from a function read them wrongly: "reflect: call of
// reflect.Value.Method on zero Value"); see globalize.go.
//
// # Go 1.26 on yaegi v0.16.1
//
// The lowering passes (lower_*.go, listed in cellPasses) rewrite a typed
// cell into Go that yaegi runs as the Go toolchain would: per-iteration
// loop variables, defer and go operands evaluated at the statement, range
// over integers, strings and functions, min, max, clear, new(expr), generic
// functions of the cells instantiated where used, %w and errors.Is/As with
// cell error types, fmt of slices, arrays and maps of cell types with
// String or Error. A pasted program (package main, func main) runs main
// once. A construct a pass cannot lower faithfully is a CompileError
// "cannot run faithfully: ...". Not lowered yet: fmt of cell types inside
// structs or interfaces (their String is not seen; %T prints the
// underlying struct), errors.As/Is with value-type cell error targets (refused)
// and the Unwrap/Is/As methods of cell types, the generic standard library
// beyond yaegi's own slices/maps/cmp, generic code calling other generic
// functions of the cells (left to yaegi).
//
// # Known limitations (yaegi v0.16.1)
//
//   - In an assignment of several values, a composite literal, a call or a
//     receive on the right makes yaegi drop the other values: `a, b =
//     [3]int{1, 2, 3}, 10` leaves b at 0 (also with := and var). The
//     session puts such operands in parentheses, which yaegi evaluates
//     correctly (multiassign.go); on such a line an error's column may be
//     off by the parentheses added before it. Code run by other means
//     (yaegi's own tools) still has the bug: pinned by
//     TestYaegiUpstreamMultiAssignDropsValues.
//   - A parenthesised operand beside an untyped nil panics in yaegi
//     (`a, b = ([]int{1}), nil`: "reflect: New(nil)"), so such a statement
//     is split into `a = []int{1}; b = nil` instead, where it stands in a
//     statement list; in an if/for/switch init it still panics.
//
// The trailing expression of a cell is its result: text/plain always, plus
// the bundle of a display.Renderer (interpreted types that implement it
// too) and image/png for an image.Image. Calls with no or several results
// only run.
//
// # Output, input, interrupts
//
// The child's fd 1 and 2 are pipes to the parent, so interpreted and
// compiled code (and the Go runtime's panic report) write to the same
// streams; text is delivered at most 50 ms after it is written, in order
// with display, comm and input events (the child writes a sync marker on
// both pipes before each event). fmt.Scan, Scanln and Scanf read the
// front end through [InputEvent] when the request allows stdin, and fail
// with [github.com/unetlab/unetlab/kernel/cell.ErrStdinNotAllowed]
// otherwise (errors.Is finds it in the cell, whichever process refused).
// On Linux, reads of os.Stdin itself (bufio.NewReader(os.Stdin), fd 0) reach the front end too: fd 0 is a
// blocking pipe and a watcher answers a thread blocked reading it; without
// allow_stdin such a read sees end of file and a note on stderr.
//
// Output belongs to the request the child serves when it is written, from
// whichever goroutine: the running cell ([Process.Execute]), else the
// front-end comm message whose handler runs ([Process.Comm] waits for the
// handler, as Execute waits for the cell), else nobody. What nobody waits
// for, such as what a goroutine prints, shows or sends on a comm after
// its cell ended, goes to the function set with [Process.OnIdle] as soon
// as it is read, with the same order guarantees, and ahead of the next
// request's events; without one it waits for the next Execute. Output is
// told apart by time, not by goroutine: a goroutine of an earlier cell
// that prints while a later cell runs shows in the later cell. A panic
// in a comm handler is written to stderr, as the handler's output, and
// the worker goes on.
//
// Each cell runs with a context that [Process.Interrupt] cancels; cells and
// the library reach it with kernel/cell's cell.Context(). Interpreted code
// (even `for {}`) stops at its next step, time.Sleep at once, other
// compiled calls when they check the context. A cell in a compiled call
// that ignores the context is not reported finished while the call runs
// (the next cell would run beside it): its answer waits for the call to
// return, and the kernel restarts the worker on a second interrupt (see
// wait.go). A panic in the cell is the cell's error; a panic in a
// goroutine the cell started ends the child: Execute returns an error
// wrapping [ErrCrashed] with the panic text.
package worker

import (
	"errors"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/kernel/wire"
)

// ErrCrashed is returned (wrapped, with the exit status and the last lines of
// the child's stderr) when the worker process died while serving a request.
// The interpreter state is lost; the caller starts a fresh worker.
var ErrCrashed = errors.New("worker: interpreter process died; its state was reset")

// ExecuteRequest is one cell to run.
type ExecuteRequest struct {
	Code            string
	Silent          bool              // no output, no execute_result
	StoreHistory    bool              // count the cell and keep it in history
	AllowStdin      bool              // reading os.Stdin may ask the front end
	UserExpressions map[string]string // name -> expression, evaluated after the cell
	ExecutionCount  int               // the count the kernel gives this cell
}

// ExecuteResult is the outcome of a cell.
type ExecuteResult struct {
	// Status is "ok", "error" or "aborted".
	Status string
	// Result is the rich bundle of the cell's trailing expression, nil when
	// the cell ends in a statement. It always holds text/plain when non-nil;
	// binary image entries hold []byte.
	Result display.Bundle
	// For Status "error": exception name, value and traceback lines (ANSI
	// colours allowed), positions given in the cell's own line:column.
	EName     string
	EValue    string
	Traceback []string
	// UserExpressions maps each requested name to its Jupyter expression
	// result: a MIME bundle, or an error.
	UserExpressions map[string]wire.UserExpression
	// Reset names the variables whose values were lost because a
	// redefinition rebuilt the interpreter (the cell still ran). They stay
	// defined: at the zero value of their type, or at their var
	// declaration's initial value, evaluated again.
	Reset []string
}

// CompleteResult answers a complete_request.
type CompleteResult struct {
	Matches     []string
	CursorStart int // in Unicode code points, as the protocol counts
	CursorEnd   int
	Types       []wire.CompletionType // one per match, for JupyterLab
}

// InspectResult answers an inspect_request.
type InspectResult struct {
	Found bool
	Data  display.Bundle // text/plain (and optionally text/markdown)
}

// IsCompleteResult answers an is_complete_request.
type IsCompleteResult struct {
	Status string // "complete", "incomplete", "invalid" or "unknown"
	Indent string // for "incomplete": the indent of the next line
}

// Event is something the worker emits: during a cell or a comm handler,
// for the Execute or Comm call, or while idle, for the OnIdle function.
// Exactly one of the pointer fields is set.
type Event struct {
	Stream  *StreamEvent
	Display *DisplayEvent
	Clear   *ClearEvent
	Input   *InputEvent
	Comm    *CommEvent
}

// StreamEvent is text the cell (or compiled code it called) wrote to
// os.Stdout or os.Stderr. The worker batches writes, at most ~50 ms old.
type StreamEvent struct {
	Name string // "stdout" or "stderr"
	Text string
}

// DisplayEvent is a display.Show, ShowLive or Update from the cell.
type DisplayEvent struct {
	Data      display.Bundle
	Metadata  map[string]any
	DisplayID string // "" for none
	Update    bool   // true: update_display_data for DisplayID
}

// ClearEvent is a display.Clear from the cell.
type ClearEvent struct{ Wait bool }

// InputEvent asks the front end for a line of input (input_request). The
// kernel answers with [Process.Input]: the user's line, or an error when
// stdin is not allowed or the request was abandoned.
type InputEvent struct {
	Prompt   string
	Password bool
}

// CommEvent is a comm message sent by cell code (package comm):
// Type is "comm_open", "comm_msg" or "comm_close"; Content is the message
// content as the protocol defines it.
type CommEvent struct {
	Type    string
	Content map[string]any
}
