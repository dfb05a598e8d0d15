package worker

import (
	"fmt"
	"go/ast"
	"go/types"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
)

// This file makes panic and recover of cells carry Go's values.
//
// yaegi v0.16.1 panics with the reflect.Value of panic's operand, so
// recover() hands the cell a reflect.Value (recover() == 1 is false, and
// v.(error) fails), and the cell's own type of the value is lost. Panics
// of yaegi's reflect operations carry reflect's strings ("reflect: slice
// index out of range"), and its failed type assertions yaegi's own
// compile-error type, where Go's recover returns a runtime.Error.
//
// passLowerPanics rewrites, in the cell's code:
//
//   - panic(x) (the builtin) into __unetlab_panic(x), an interpreted
//     function of panicSrc: x is held in an interpreted variable of type
//     any (which keeps its cell type), and a compiled panicking call
//     carries a *cellPanic that points to it;
//   - recover() (not itself deferred) into __unetlab_recovered(recover()),
//     which gives back the cell's value of a *cellPanic, and turns a panic
//     of yaegi's reflect operations into the runtime.Error Go would have
//     raised. In a cell that itself imports reflect, whose own reflect
//     calls panic with the same values, __unetlab_recoveredvalue leaves
//     them as they are.
//
// recover() stays a direct call of the deferred function, so yaegi's rule
// of which frame recovers is untouched.
func (s *session) passLowerPanics(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	info := l.c.info
	// A cell that imports reflect itself may recover reflect's own
	// panics: those stay as reflect raised them.
	recovered := helperPrefix + "_recovered"
	for _, im := range u.imports {
		if im.path == "reflect" {
			recovered = helperPrefix + "_recoveredvalue"
		}
	}
	deferred := map[*ast.CallExpr]bool{}
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.DeferStmt:
			deferred[n.Call] = true
		case *ast.GoStmt:
			deferred[n.Call] = true
		case *ast.CallExpr:
			id, ok := ast.Unparen(n.Fun).(*ast.Ident)
			if !ok || !l.inCell(n) {
				return true
			}
			b, ok := info.Uses[id].(*types.Builtin)
			if !ok {
				return true
			}
			switch b.Name() {
			case "panic":
				l.replace(id, panicFunc(l, n))
			case "recover":
				if !deferred[n] {
					l.insert(n.Pos(), recovered+"(")
					l.insert(n.End(), ")")
				}
			}
		}
		return true
	})
	return l.done()
}

// panicFunc is what replaces the builtin panic of call: the helper of
// panicSrc whose parameter has the static type that words the value as
// Go does (an error's Error, a Stringer's String). yaegi hands a value of
// a cell type to compiled code without its methods unless the static type
// there is an interface that has them, and its own assertions of an any
// to error fail for some cell types.
func panicFunc(l *lowerer, call *ast.CallExpr) string {
	plain := helperPrefix + "_panic"
	if len(call.Args) != 1 {
		return plain
	}
	tv, ok := l.c.info.Types[call.Args[0]]
	if !ok || tv.Type == nil {
		return plain
	}
	errT := types.Universe.Lookup("error").Type().Underlying().(*types.Interface)
	switch {
	case types.Implements(tv.Type, errT):
		return helperPrefix + "_panicerr"
	case types.Implements(tv.Type, stringerType):
		return helperPrefix + "_panicstr"
	}
	return plain
}

// stringerType is fmt.Stringer's method set.
var stringerType = types.NewInterfaceType([]*types.Func{
	types.NewFunc(0, nil, "String", types.NewSignatureType(nil, nil, nil, nil,
		types.NewTuple(types.NewVar(0, nil, "", types.Typ[types.String])), false)),
}, nil).Complete()

// panicSrc is evaluated in every fresh interpreter, after helperSrc: the
// interpreted half of the panic and recover lowering.
const panicSrc = `import __unetlab_sync "sync"

var (
	__unetlab_pmu   __unetlab_sync.Mutex
	__unetlab_pvals = map[int]any{}
	__unetlab_pnext int
)

func __unetlab_panic(v any) {
	if v == nil {
		__unetlab_help.PanicNil()
	}
	__unetlab_help.Panic(__unetlab_keep(v), v)
}

func __unetlab_panicerr(v error) {
	if v == nil {
		__unetlab_help.PanicNil()
	}
	__unetlab_help.Panic(__unetlab_keep(v), v)
}

func __unetlab_panicstr(v __unetlab_fmt.Stringer) {
	if v == nil {
		__unetlab_help.PanicNil()
	}
	__unetlab_help.Panic(__unetlab_keep(v), v)
}

func __unetlab_keep(v any) int {
	__unetlab_pmu.Lock()
	defer __unetlab_pmu.Unlock()
	__unetlab_pnext++
	__unetlab_pvals[__unetlab_pnext] = v
	return __unetlab_pnext
}

func __unetlab_recovered(r any) any {
	if id, ok := __unetlab_help.PanicValue(r); ok {
		__unetlab_pmu.Lock()
		v := __unetlab_pvals[id]
		delete(__unetlab_pvals, id)
		__unetlab_pmu.Unlock()
		return v
	}
	return __unetlab_help.RuntimeError(r)
}

func __unetlab_recoveredvalue(r any) any {
	if id, ok := __unetlab_help.PanicValue(r); ok {
		__unetlab_pmu.Lock()
		v := __unetlab_pvals[id]
		delete(__unetlab_pvals, id)
		__unetlab_pmu.Unlock()
		return v
	}
	return r
}
`

// cellPanic is the value a cell's panic carries through the interpreter
// and the compiled code between (see passLowerPanics).
type cellPanic struct {
	id  int // the key of the cell's value in __unetlab_pvals
	val any // the value as yaegi hands it to compiled code
}

// String is how Go prints the panic's value, "panic: " after it: also
// what the Go runtime prints when the panic ends the process.
func (p *cellPanic) String() (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("%v [its Error or String method panicked: %v]", p.val, r)
		}
	}()
	return panicPrint(p.val)
}

func init() {
	h := cellHelpers["unetlab/cellhelp/cellhelp"]
	h["Panic"] = reflect.ValueOf(func(id int, v any) {
		panic(&cellPanic{id: id, val: v})
	})
	h["PanicNil"] = reflect.ValueOf(func() {
		var v any
		panic(v) // *runtime.PanicNilError, as Go 1.21 and later raise
	})
	h["PanicValue"] = reflect.ValueOf(func(r any) (int, bool) {
		if p, ok := r.(*cellPanic); ok {
			return p.id, true
		}
		return 0, false
	})
	h["RuntimeError"] = reflect.ValueOf(runtimeErrorOf)
}

// panicPrint is Go's printing of a panic value that is neither an error
// nor a Stringer (runtime.printpanicval): basic values as print prints
// them, others as "(T) value".
func panicPrint(v any) string {
	switch x := v.(type) {
	case error:
		return x.Error()
	case fmt.Stringer:
		return x.String()
	case string:
		return x
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, uintptr,
		float32, float64, complex64, complex128:
		var b strings.Builder
		printOperand(&b, 'v', x)
		return b.String()
	}
	return fmt.Sprintf("(%T) %v", v, v)
}

// runtimeError is a runtime.Error the Go runtime raises with a message
// only it can make (errorString's wording, "runtime error: " before it).
type runtimeError struct{ msg string }

func (e runtimeError) Error() string { return "runtime error: " + e.msg }

// RuntimeError marks e as a runtime.Error.
func (runtimeError) RuntimeError() {}

// typeAssertionError is Go's *runtime.TypeAssertionError of a failed
// type assertion that yaegi reported in its own words.
type typeAssertionError struct{ msg string }

func (e *typeAssertionError) Error() string { return e.msg }

// RuntimeError marks e as a runtime.Error.
func (*typeAssertionError) RuntimeError() {}

// runtimeErrorOf is the value Go's recover would give for r, a panic value
// of yaegi or reflect: the runtime.Error of the fault they report, or r.
func runtimeErrorOf(r any) any {
	var msg string
	switch x := r.(type) {
	case nil:
		return nil
	case runtime.Error:
		return r
	case *reflect.ValueError:
		if x.Kind == reflect.Invalid {
			return nilDerefError()
		}
		return r
	case string:
		msg = x
	case error:
		msg = x.Error()
	default:
		return r
	}
	msg = yaegiPosRE.ReplaceAllString(msg, "")
	if strings.HasPrefix(msg, "interface conversion: ") {
		return &typeAssertionError{msg}
	}
	if m := sliceConvRE.FindStringSubmatch(msg); m != nil {
		return runtimeError{"cannot convert slice with length " + m[1] + " to array or pointer to array with length " + m[2]}
	}
	for _, p := range goPanics {
		if p.re.MatchString(msg) {
			if p.kind == "nil" || p.kind == "deref" {
				return nilDerefError()
			}
			return runtimeError{strings.TrimPrefix(p.msg, "runtime error: ")}
		}
	}
	return r
}

// sliceConvRE is reflect's panic converting a slice to an array or a
// pointer to one that is longer.
var sliceConvRE = regexp.MustCompile(`^reflect: cannot convert slice with length (\d+) to (?:pointer to )?array with length (\d+)$`)

// nilDerefError is the Go runtime's own error of a nil pointer
// dereference.
func nilDerefError() (err error) {
	defer func() { err, _ = recover().(error) }()
	var p *int
	_ = *p
	return nil
}

// passFrameColumns hands the cell's lowering edits, all applied by now,
// to panicWriter (under framesMu: a goroutine of an earlier cell may be
// unwinding).
func (s *session) passFrameColumns(u *cellUnit) error {
	s.framesMu.Lock()
	s.frameEdits = slices.Clone(u.edits)
	s.framesMu.Unlock()
	return nil
}

// cellColumn maps column col of line, in the source the lowering passes
// rewrote with edits, back to the cell's column: the text that the edits
// on the line before col inserted is taken off (edits whose text spans
// lines are not followed).
func cellColumn(edits []edit, line, col int) int {
	var on []edit
	for _, e := range edits {
		if e.line == line && !strings.Contains(e.text, "\n") {
			on = append(on, e)
		}
	}
	slices.SortStableFunc(on, func(a, b edit) int { return a.col - b.col })
	shift := 0
	for _, e := range on {
		if e.col+shift >= col {
			break
		}
		d := len(e.text) - e.del
		if e.col+shift+len(e.text) > col {
			// col lies in the inserted text: the edit's own position.
			return e.col
		}
		shift += d
	}
	return max(col-shift, 1)
}
