// Package worker is the child side of the kernel's interpreter: [Main] is
// the body of `unetlab worker`, the process that runs notebook cells.
//
// The kernel process (package kernel) owns the Jupyter sockets; it starts
// the worker with package kernel/worker/host, which re-executes the running
// binary as `unetlab worker`. The child hosts one yaegi interpreter session
// (cell splitting, imports, redefinition, completion, inspection) and talks
// to the parent over pipes (package kernel/worker/proto). A panic or crash
// in the child ends only the child: the parent reports proto.ErrCrashed for
// the running request and the kernel starts a fresh worker.
//
// One goroutine at a time reads the requests (child.go): an execute
// request runs on the goroutine that read it, which first hands the
// reading on, so that a cell starts without a goroutine to wake and
// interrupts and input answers are read while it runs. Cells, their
// evaluations, completions and inspections run on goroutines kept from one
// request to the next (warm.go), whose stacks stay grown.
//
// # Cells
//
// A cell goes through the passes listed in pipeline.go (cellPasses), in
// order: it is split (go/scanner) into imports, declarations (func,
// method, type, var, const) and statements and parsed once (go/parser;
// every later pass reads that one tree); type-checked with
// go/types against the session (check.go; the packages come from the
// symbol tables through package symtypes); then evaluated by yaegi in
// order. A cell that does not type-check runs not at all; its errors are
// the Go compiler's, at the cell's own line:column ("cell:3:5: undefined:
// x"), up to 10, then "too many errors"; syntax errors are worded as gc
// words them ("cell:2:16: syntax error: unexpected ), expected
// expression", syntaxmsg.go). Runtime panics of yaegi's reflect
// operations are worded as Go's ("runtime error: index out of range [5]
// with length 3", panics.go; inside functions an index or a slice bound
// is checked by a compiled call, lower_bounds.go). State persists between
// cells; a cell that panics keeps the variables its statements before the
// panicking one defined, and those defined after it stay undefined. Re-running a cell is harmless: imports already made are
// skipped and unchanged declarations are kept. Redefining a function,
// method, type or constant rebuilds the interpreter (yaegi keeps old types
// and old function bodies otherwise) and replays the kept imports and
// declarations. Variables keep their values across the rebuild when their
// static type is made of predeclared types, types of the symbol tables and
// interpreted types that were not redefined (int, string, slices, maps,
// structs, *strings.Builder, a kept `type P`). A variable is reset, that
// is declared again at the zero value of its (new) type and listed in
// proto.ExecuteResult.Reset, when its type involves a redefined declaration,
// when the statement that assigned it or the cell that defined it uses or
// declares a redefined name (its value may come from the old code), or when
// its value holds an interpreted function or interface value of the old
// interpreter. A kept `var` declaration whose variables cannot be carried is
// evaluated again (and listed too). See carry.go. A package name used without
// import (fmt.Println, cell.Context) is imported when exactly one package
// of the symbol tables (package stdlib) has that name and member.
//
// # Imports
//
// The packages of the symbol tables (package stdlib: the standard library,
// this module, gonum and gonum/plot) are compiled in. An import of any
// other path runs the go command first (pass "fetch-modules", modules.go):
// `go get` in the kernel's own module (UNETLAB_GOMODULES, default the
// user's cache directory/unetlab/gomodules, which pins the versions first
// fetched), then `go list -deps` with the purego tag and no cgo. Each
// dependency the tables do not serve is read by yaegi as source, through a
// file system that holds only the files go list selected (yaegi v0.16.1
// alone ignores //go:build lines), and is type-checked from source for the
// check pass (cellImporter), so cells using it are checked and lowered as
// any other. The fetched code itself runs as yaegi runs it, except that
// the builtins min and max and range over an integer, which yaegi lacks,
// are lowered in its source (modules_lower.go); a package yaegi still
// cannot run is a CompileError that names it and quotes yaegi at the
// package's file and line. Build tags purego, noasm and safe pick the
// pure-Go build of packages that have assembly. A package with
// assembly and no pure-Go build, cgo, or an import of a standard package
// outside the tables (unsafe, syscall) is refused by name. Without a go
// command (PATH, then $GOROOT/bin) the import is a CompileError that names
// the package and says to install Go. Completion and inspection do not
// list the members of fetched packages yet.
//
// Top-level statements run in the interpreter's global scope, where yaegi
// mishandles a := inside a block (`if _, err := os.Stat(p); err == nil`);
// so a run of top-level statements that opens a block (if, for, switch,
// select, {}) and defines no top-level variable runs inside a function
// literal called at once (see stmts.go), unless the cell uses goto or
// return there. (A top-level defer is lowered by lower-cell-defers to a
// list the cell's end runs, last first: the cell is the body of a function
// ending with it; a deferred call that may call recover is refused.) Such a part is evaluated chunk by chunk: an
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
// over integers, strings and functions (a defer in the loop body deferred
// in the enclosing function, lower_rangefunc.go), min, max, clear, new(expr), generic
// functions and types of the cells monomorphized (lower_generic.go: each
// instance a concrete declaration, List[int] named Listᐸintᐳ, kept across
// cells; yaegi never sees a generic declaration), print and println in
// the runtime's formats on standard error (lower_print.go). A pasted
// program (package main, func main) runs main once. os.Exit ends the cell,
// not the kernel: os.Exit(0) as a cell that ran to its end, another code
// as the error "exit status N"; it unwinds like a panic, so deferred calls
// still run (exit.go). Constant expressions yaegi would compute at run
// time in int64 (beyond it, or iota repeated implicitly) become go/types'
// exact values (lower_const.go); select case variables are fresh per
// execution; &p[i] of a pointer to an array, len of a nil one, and method
// expressions of interface types (I.m) are spelled as yaegi runs them. The
// passes compose: an edit inside a span another pass moves applies to the
// moved copy (applyEdits), and a rebuild replays declarations as lowered.
// A construct a pass cannot lower faithfully is a CompileError "cannot run
// faithfully: ...".
//
// Runtime errors that name a type name a cell type as Go does where
// reflect's wording gives yaegi's structure of it (typenames.go): "hash of
// unhashable type main.T", "interface conversion: int is not main.I:
// missing method M" (yaegi said "nil is not main.I" for any value); where
// the interpreter gives several types one structure (`type M int` is an
// int), a failed assertion to a cell interface says "cannot run
// faithfully". A read or delete of an empty map with an unhashable key is
// worded as an assignment is ("runtime error: hash of unhashable type T",
// where Go 1.26 says "hash of unhashable type: T").
//
// Panics (lower_panic.go): panic(x) keeps x in the interpreter, with its
// cell type, and unwinds with a compiled value that refers to it;
// recover() gives x back (yaegi's own gave a reflect.Value), and turns the
// panics of yaegi's reflect operations into the runtime.Error Go raises
// (nil dereference, index and slice bounds, interface conversion; not in
// a cell that itself imports reflect, whose reflect calls panic alike). An
// uncaught panic is worded by x's static type (Error, String, the value).
// A top-level func() { ... }() runs once (yaegi ran it again with every
// later cell); return <-c and xs[i] = <-c (lower_recvreturn.go),
// assignments to a compiled package's variables
// (runtime.MemProfileRate = n) and range over a nil pointer to an array
// run as Go runs them. runtime.Callers, CallersFrames, FuncForPC and the
// profiles are refused: they would name the interpreter's frames.
// A panic inside a deferred call runs the calls deferred before it
// (lower_deferchain.go: each later defer statement starts a function
// literal with the rest of the body), where the defer statements are in
// the body's own statement list. Not lowered yet: defer statements in
// loops or branches with a panicking deferred call (yaegi stops its
// frame's deferred list there), `defer recover()` under a nested panic,
// and recover in functions that reflect.MakeFunc made.
//
// Values at run time: a switch on an interface or with case values of
// other types than its tag, and a case of several conditions, become
// comparisons joined by || (lower_switch.go); a cell function used as a
// value is converted to its type (lower_funcvalue.go); the constant
// operands of non-constant shifts get their types (lower_shift.go); an
// interface compared with a value of a cell type, in an expression or a
// switch, is a type assertion and a comparison (lower_ifaceeq.go);
// redeclarations of predeclared names (const len = 20) are renamed
// (lower_predeclared.go). Function, slice and channel types that refer
// to themselves (type F func() F, type T []T) have their self-reference
// boxed in an interface, converted where values move through it
// (lower_selftypes.go); other types that refer to themselves other than
// through a struct (type P *P) are refused (lower_unfaithful.go), as is
// reading an allocation count (MemStats.Mallocs). Package variables are
// initialised in Go's dependency order (lower_initorder.go); the
// fallthrough statements of a switch whose default is not last reach what
// Go reaches (lower_fallthrough.go).
// Finalizers (runtime.SetFinalizer) set in a cell's function run once
// the object is unreachable, as under go run (lower_finalizer.go): yaegi
// hands compiled code an interpreted function with the frame it was made
// in, which held the object (of 100 objects dropped in a loop, a finalizer
// each, none ran), so the finalizer is made by a function literal of a
// top-level variable, whose frame holds only pointers to the variables it
// uses (a finalizer set among the cell's statements, or a method value or
// a variable as the finalizer, stays as yaegi runs it). yaegi's frames
// still keep a function's locals until it returns, where Go's liveness
// frees them earlier (test/stackobj.go, stackobj3.go: an object collected
// later than under go run); Go does not promise when a finalizer runs.
// runtime.AddCleanup, a generic function, cells
// cannot call yet (the generic standard library, below).
//
// Cell types in the standard library: yaegi hands compiled code a value of
// a cell type as its underlying structure, without its name and methods.
// Where the static type is known, the passes build what the library
// needs from it. fmt and log (lower_fmtvalues.go, lower_fmtnode.go) print
// through a compiled stand-in: the String, Error, Format and GoString
// methods of cell types at any depth (struct fields, pointers, slices,
// arrays, maps), %T and %#v with Go's names (main.P, []main.P), %+v field
// names, unexported fields without methods, as go run prints them.
// encoding/json (lower_json.go) calls MarshalJSON, MarshalText,
// UnmarshalJSON and UnmarshalText and leaves out unexported fields. %w
// wraps cell errors; errors.Is, As and Unwrap walk the tree with the
// Unwrap, Is and As methods of cell error types (lower_errors.go).
// sort.Interface, heap.Interface, io.Reader, io.Writer and the other
// interfaces of the symbol tables are yaegi's own wrappers, which call the
// cell type's methods (testdata/cells/stdlibifaces.txt). A value held in
// an interface (var s Shape = Circle{1}) is printed as its dynamic cell
// type where yaegi's type switch places it, else through the methods of
// yaegi's wrapper where fmt calls them; where fmt would print its type or
// structure instead (%T, %#v, %d, a cell value with methods in an any
// inside a container) the output says "cannot run faithfully" (a panic
// for %T).
//
// The generic standard library (slices, maps, cmp, iter, errors.AsType,
// atomic.Pointer[T]) is the kernel's own generic code (stdgeneric.go):
// pass std-generic rewrites slices.Sort to the prelude's slices_Sort before
// the check, and lower-generic monomorphizes it as the cells' own;
// errors.AsType walks the tree as errors.As does (lower-errors). Method
// values evaluate and copy their receiver where they are written, a nil
// one panicking there (lower_methodvalue.go); method expressions of cell
// types ((*T).M, struct{ T }.M) become function literals. reflect cannot
// see the methods of cell types (yaegi gives `type M int` the reflect type
// int): Method, MethodByName and NumMethod of a reflect.Type or
// reflect.Value whose type is one the interpreter gives a cell type with
// exported methods, or yaegi's wrapper of an interpreted value, panic with
// "cannot run faithfully: ..." (lower_reflect.go); so do reflect.TypeOf
// and ValueOf of an interface holding that wrapper (a cell value with
// methods passed as an any inside a function, whose reflect type and kind
// would be the wrapper's). reflect still names a cell type by its
// structure (struct { X int } for main.P).
//
// Method sets and interfaces: the methods a cell struct type promotes
// from its embedded fields are declared on it (lower_promoted.go; yaegi's
// assertions saw only declared methods), a later cell's method shadowing
// one of them refused; an interface compared with a value of a type
// parameter's type, or with another interface that a cell type with
// methods may hold, is compared by asserting the cell types
// (lower_ifaceeq.go, lower_ifaceeq2.go); a composite literal stored into
// an interface field or element is converted to the interface first, a
// comma-ok form assigned to an interface of another type goes through
// temporaries (lower_ifacestore.go); a select's channel operands are
// evaluated into temporaries where yaegi blocked on a comma-ok receive
// from an expression (lower_selectops.go); an instance of a generic
// function used as a value is converted to its type (lower_funcvalue.go).
// encoding/xml's Marshal of a value it names after a cell type, and keys
// of two cell types of one underlying type in one interface-keyed map,
// are refused (lower_typenames.go): yaegi keeps neither the name nor the
// identity of such types.
//
// Not lowered yet: members of those packages imported under another name
// (import sl "slices": sl.Sort is undefined), or in a cell that also uses
// the package's name otherwise (a parameter named cmp); errors.As/Is with value-type cell error
// targets (refused: yaegi cannot pass such a value as an error) and with
// two cell error types of the same structure (refused: yaegi's type
// assertions match structure); a cell value held in an interface inside a
// compiled container (an any holding []P prints its elements' fields) or
// printed by a function declared before the value's type (the refusal
// knows the struct types declared up to the function); a
// named cell type over a basic type held in an interface (%T prints the
// basic type); %T with a format that is not a literal; json of embedded
// fields and of pointer-receiver Marshal methods below the top level
// (refused), encoding/xml decoding, gob and text/template with cell types; generic
// types declared in functions, a function-local type argument of generic
// code in another function.
// Inside a function or method a cell declares, the type switches of
// lower-fmt-values and the method calls of lower-errors name only the
// types that cell declares (a kept declaration must not depend on another
// cell's types when the interpreter is rebuilt): there, errors.Is/As do
// not see the Unwrap, Is and As methods of other cells' types.
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
// too), and image/png for an image.Image or a gonum *plot.Plot
// (display.Rich). Calls with no or several results
// only run.
//
// Output, input and interrupts, as the kernel sees them: see package
// kernel/worker/host.
package worker
