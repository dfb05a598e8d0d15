package worker

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"image"
	"io"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/traefik/yaegi/interp"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/kernel/wire"
	"github.com/unetlab/unetlab/kernel/worker/proto"
	"github.com/unetlab/unetlab/stdlib"
)

// helperPrefix starts every name the session defines in the interpreter.
const helperPrefix = "__unetlab"

// helperSrc is evaluated in every fresh interpreter: the imports evalResult
// uses, under names cells do not use.
const helperSrc = `import (
	__unetlab_display "github.com/unetlab/unetlab/display"
	__unetlab_fmt "fmt"
	__unetlab_image "image"
	__unetlab_help "unetlab/cellhelp"
)

func __unetlab_render(r __unetlab_display.Renderer) __unetlab_display.Bundle { return r.Render() }

func __unetlab_showimage(m __unetlab_image.Image) __unetlab_display.Bundle { return __unetlab_display.Image(m) }

func __unetlab_string(s __unetlab_fmt.Stringer) string { return s.String() }
`

// declEntry is a kept top-level declaration, replayed when the interpreter
// is rebuilt.
type declEntry struct {
	names []string // "f", "T", "T.Method", "x"
	vars  []string // the variables it declares
	src   string   // padded source, as evaluated
	text  string   // the source as written in the cell
	doc   string   // its doc comment in the cell, for inspection
}

// importEntry is a kept import.
type importEntry struct {
	name, path string // name "" means the package's own name
}

// sessionOptions wires a session to the outside.
type sessionOptions struct {
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	// FrameMarkers makes the session write panic frames as markers on
	// Stderr, for the parent's crash report (the child sets it).
	FrameMarkers bool
}

// session is one interpreter state: the yaegi interpreter plus what is
// needed to rebuild it (imports and declarations in order).
type session struct {
	opt     sessionOptions
	mu      sync.Mutex // held while a cell runs
	in      *interp.Interpreter
	imports []importEntry
	decls   []declEntry
	vars    map[string]*varInfo // variables defined by := statements (see carry.go)
	// frames are the positions yaegi reported while the current cell
	// panicked, innermost first (see panicWriter).
	framesMu sync.Mutex
	frames   []string
	// wrapped is set while a chunk runs inside its function literal (see
	// stmts.go): that literal's call, on the evaluated source's first
	// line, is the cell's top level.
	wrapped bool
	// frameEdits are the running cell's lowering edits, by which
	// panicWriter gives frames the cell's columns (frame-columns).
	frameEdits []edit
	// pendingAfterRebuild holds kept declarations that failed to replay
	// after a rebuild; they are retried after each declaration of the cell
	// that caused it.
	pendingAfterRebuild []declEntry
	// pendingVars are variables a rebuild reset, declared again (zero)
	// after the declarations of the cell that caused it.
	pendingVars []pendingVar
	// unit is the running (or last) cell's pipeline state (pipeline.go).
	unit *cellUnit
	// check is what the type checker knows of the session (check.go).
	check checkState
	// gen is what lower-generic keeps of the cells' generic code.
	gen genState
	// intr is closed when the running cell is interrupted (see wait.go).
	intrMu sync.Mutex
	intr   chan struct{}

	// names: the cells' named types with the shapes yaegi gives them
	// (typenames.go), made on first use.
	typeNamesOnce sync.Once
	names         *cellTypeNames
}

// ErrInterrupted is the error of a cell stopped by an interrupt.
var ErrInterrupted = errors.New("worker: cell interrupted")

func newSession(opt sessionOptions) (*session, error) {
	s := &session{opt: opt, vars: map[string]*varInfo{}}
	in, err := s.fresh()
	if err != nil {
		return nil, err
	}
	s.in = in
	return s, nil
}

// fresh returns a new interpreter with the symbol tables and helpers.
func (s *session) fresh() (*interp.Interpreter, error) {
	in := interp.New(interp.Options{Unrestricted: true, Stdout: s.opt.Stdout, Stderr: &panicWriter{s: s, w: s.opt.Stderr}, Stdin: s.opt.Stdin,
		// Packages fetched with the go command, read as source (modules.go).
		GoPath: modulesGoPath, SourcecodeFilesystem: modulesFS{}, BuildTags: fetchTags})
	if err := in.Use(stdlib.Symbols); err != nil {
		return nil, fmt.Errorf("worker: loading symbols: %w", err)
	}
	// time.Sleep of cells ends when the cell is interrupted (wait.go).
	if err := in.Use(cellHelpers); err != nil {
		return nil, fmt.Errorf("worker: loading symbols: %w", err)
	}
	if err := in.Use(s.typeNameHelpers()); err != nil { // (typenames.go)
		return nil, fmt.Errorf("worker: loading symbols: %w", err)
	}
	// print and println write to the cell's standard error (lower_print.go).
	if err := in.Use(interp.Exports{"unetlab/cellhelp/cellhelp": printHelpers(s.opt.Stderr)}); err != nil {
		return nil, fmt.Errorf("worker: loading symbols: %w", err)
	}
	// os.Exit ends the cell, not the worker (exit.go).
	if err := in.Use(exitSymbols()); err != nil {
		return nil, fmt.Errorf("worker: loading symbols: %w", err)
	}
	if err := in.Use(interp.Exports{"time/time": {"Sleep": reflect.ValueOf(s.sleep)}}); err != nil {
		return nil, fmt.Errorf("worker: loading symbols: %w", err)
	}
	for _, src := range []string{helperSrc, panicSrc, deferSrc} {
		if _, err := in.EvalWithContext(context.Background(), src); err != nil {
			return nil, fmt.Errorf("worker: loading helpers: %w", err)
		}
	}
	return in, nil
}

// panicWriter is the interpreter's stderr. yaegi writes one line per
// frame while a panic unwinds ("4:1: panic: main.f(...)", in positions of
// the evaluated source); panicWriter rewrites them into the cell's
// positions and records them for the traceback. Other writes pass.
type panicWriter struct {
	s *session
	w io.Writer
}

var panicLineRE = regexp.MustCompile(`^(\d+):(\d+): panic: (.*?)\(\.\.\.\)\n?$`)

func (p *panicWriter) Write(b []byte) (int, error) {
	m := panicLineRE.FindSubmatch(b)
	if m == nil {
		return p.w.Write(b)
	}
	line, _ := strconv.Atoi(string(m[1]))
	fn := strings.TrimPrefix(string(m[3]), "main.")
	if fn == "main" {
		fn = "cell"
	}
	if strings.HasPrefix(fn, helperPrefix) {
		return len(b), nil // a helper of the session's (panicSrc)
	}
	p.s.framesMu.Lock()
	if p.s.wrapped && line == 1 {
		// The call of a chunk's function literal: the frame before it
		// (the literal) is the cell's top level.
		if n := len(p.s.frames); n > 0 {
			if _, pos, ok := strings.Cut(p.s.frames[n-1], " ("); ok {
				p.s.frames[n-1] = "cell (" + pos
			}
		}
		p.s.framesMu.Unlock()
		return len(b), nil
	}
	col, _ := strconv.Atoi(string(m[2]))
	col = cellColumn(p.s.frameEdits, max(line-1, 1), col)
	frame := fmt.Sprintf("%s (cell:%d:%d)", fn, max(line-1, 1), col)
	p.s.frames = append(p.s.frames, frame)
	p.s.framesMu.Unlock()
	// For the parent: not shown as output, but quoted when the panic ends
	// the process (a panic in a goroutine the cell started).
	if p.s.opt.FrameMarkers {
		_, _ = fmt.Fprintf(p.w, "%s%s%c", proto.MarkerFrame, frame, proto.MarkerEnd)
	}
	return len(b), nil
}

func (s *session) setWrapped(w bool) {
	s.framesMu.Lock()
	s.wrapped = w
	s.framesMu.Unlock()
}

// undefinedIn finds a name used in part p (statements or declarations)
// that is defined nowhere. yaegi reports such a name on the right of :=,
// or in a var or const declaration, as a "definition loop" (or "constant
// definition loop"); this gives the usual message instead.
func (s *session) undefinedIn(p part) *cellError {
	fset, unresolved := s.unresolvedIn(p)
	if fset == nil {
		return nil
	}
	known := map[string]bool{}
	for n := range s.globals() {
		known[n] = true
	}
	for _, d := range s.decls {
		for _, n := range d.names {
			known[n] = true
		}
	}
	for _, im := range s.imports {
		known[im.nameOrDefault()] = true
	}
	for _, b := range goBuiltins {
		known[b] = true
	}
	// The lowering passes' helper package, imported by helperSrc.
	known[helperPrefix+"_help"] = true
	for _, id := range unresolved {
		if known[id.Name] || s.vars[id.Name] != nil || strings.HasPrefix(id.Name, helperPrefix) {
			continue
		}
		if _, ok := packageName(id.Name); ok {
			continue
		}
		pos := fset.Position(id.Pos())
		msg := fmt.Sprintf("cell:%d:%d: undefined: %s", pos.Line, pos.Column, id.Name)
		return compileError(msg)
	}
	return nil
}

// unresolvedIn returns the identifiers of part p that the cell does not
// define, from the cell's one parse; a part the lowering passes changed
// is parsed again, as it now reads. A nil fset: p does not parse.
func (s *session) unresolvedIn(p part) (*token.FileSet, []*ast.Ident) {
	if u := s.unit; u != nil && u.ast != nil && !u.editedIn(p) {
		var out []*ast.Ident
		for _, id := range u.ast.file.Unresolved {
			if u.ast.inPart(p, id.Pos(), id.End()) {
				out = append(out, id)
			}
		}
		return u.ast.fset, out
	}
	content := "package p;func _(){" + atCell(p) + "\n}"
	if p.Kind == partDecl {
		content = "package p;" + atCell(p)
	}
	fset := token.NewFileSet()
	f, err := parseFile(fset, "cell", content, 0)
	if err != nil {
		return nil, nil
	}
	return fset, f.Unresolved
}

// globals returns the interpreter's global variables. yaegi's Globals
// panics while a variable of a cell that failed to compile has no storage
// yet; then the frame is sized (settle) and it tries again.
func (s *session) globals() (g map[string]reflect.Value) {
	g, ok := s.tryGlobals()
	if !ok {
		s.settle()
		if g, ok = s.tryGlobals(); !ok {
			return map[string]reflect.Value{}
		}
	}
	return g
}

// tryGlobals returns the interpreter's globals, or false when yaegi's
// Globals panics.
func (s *session) tryGlobals() (g map[string]reflect.Value, ok bool) {
	defer func() {
		if recover() != nil {
			g, ok = nil, false
		}
	}()
	g = s.in.Globals()
	for n := range g {
		if strings.HasPrefix(n, helperPrefix) {
			delete(g, n)
		}
	}
	return g, true
}

// cellDecl is a declaration part of the running cell and what it declares.
type cellDecl struct {
	p     part
	names []string
	vars  []string
	items []declItem // its declarations (cellAST.declItems)
	skip  bool       // unchanged re-declaration of functions, types or constants
}

func anyKnown(known map[string]bool, names []string) bool {
	for _, n := range names {
		if known[n] {
			return true
		}
	}
	return false
}

// unchanged reports whether every declaration of items (a part's) is kept
// with the same names and source.
func (s *session) unchanged(items []declItem) bool {
	for _, it := range items {
		found := false
		for _, d := range s.decls {
			if d.text == it.text && slices.Equal(d.names, it.names) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// cellError is a cell's failure in the terms of the protocol.
type cellError struct {
	EName, EValue string
	Traceback     []string
}

func (e *cellError) Error() string { return e.EName + ": " + e.EValue }

// posRE matches positions yaegi and go/scanner put in messages:
// "_.go:3:8: " or "3:8: ".
// A position already in the cell's terms ("cell:3:8: ", from go/parser or
// an earlier conversion) is matched too, and kept as it is: one "cell:"
// prefix, never two.
var posRE = regexp.MustCompile(`(cell:|[\w./-]*\.go:)?(\d+):(\d+): `)

// toCellError classifies an evaluation error. Positions already are the
// cell's own (see padded); file names are replaced by "cell".
func toCellError(err error) *cellError {
	var ce *cellError
	if errors.As(err, &ce) {
		return ce
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrInterrupted) {
		return &cellError{EName: "Interrupted", EValue: "the cell was interrupted (its context was cancelled)",
			Traceback: []string{"Interrupted: the cell was interrupted (its context was cancelled)"}}
	}
	if ex, ok := exitOf(err); ok {
		return exitError(ex.code)
	}
	var p interp.Panic
	if errors.As(err, &p) {
		if e, ok := p.Value.(error); ok && strings.Contains(e.Error(), "CFG") {
			// A panic inside yaegi's compiler: a compile error.
			return toCellError(e)
		}
		msg := fmt.Sprint(p.Value)
		return &cellError{EName: "panic", EValue: msg, Traceback: []string{"panic: " + msg}}
	}
	name := "CompileError"
	var list scanner.ErrorList
	if errors.As(err, &list) {
		name = "SyntaxError"
	}
	// The evaluated source carried one more leading line than the cell
	// (see padded).
	msg := posRE.ReplaceAllStringFunc(err.Error(), func(m string) string {
		sub := posRE.FindStringSubmatch(m)
		if sub[1] == "cell:" {
			return m
		}
		line, _ := strconv.Atoi(sub[2])
		return fmt.Sprintf("cell:%d:%s: ", max(line-1, 1), sub[3])
	})
	return &cellError{EName: name, EValue: msg, Traceback: strings.Split(name+": "+msg, "\n")}
}

// syntaxError converts a go/scanner or go/parser error whose positions are
// already those of code, the cell, into gc's wording (syntaxmsg.go): every
// error, one a line, as go build lists them.
func syntaxError(err error, code string) *cellError {
	var list scanner.ErrorList
	if !errors.As(err, &list) {
		var one *scanner.Error
		if !errors.As(err, &one) {
			msg := posRE.ReplaceAllString(err.Error(), "cell:$2:$3: ")
			return &cellError{EName: "SyntaxError", EValue: msg, Traceback: strings.Split("SyntaxError: "+msg, "\n")}
		}
		list = scanner.ErrorList{one}
	}
	list.RemoveMultiples()
	var lines []string
	for i, e := range list {
		if i == maxErrors {
			lines = append(lines, "too many errors")
			break
		}
		col := e.Pos.Column
		if e.Msg == "string literal not terminated" || e.Msg == "rune literal not terminated" {
			// gc reports the newline, go/scanner the literal's start.
			if ls := strings.Split(code, "\n"); e.Pos.Line >= 1 && e.Pos.Line <= len(ls) {
				col = len(ls[e.Pos.Line-1]) + 1
			}
		}
		lines = append(lines, fmt.Sprintf("cell:%d:%d: %s", e.Pos.Line, col, gcSyntax(e.Msg, code, e.Pos.Line, e.Pos.Column)))
	}
	msg := strings.Join(lines, "\n")
	return &cellError{EName: "SyntaxError", EValue: msg, Traceback: strings.Split("SyntaxError: "+msg, "\n")}
}

// execOutcome is what a cell produced.
type execOutcome struct {
	result display.Bundle
	reset  []string
}

// execute runs one cell. ctx cancels it.
func (s *session) execute(ctx context.Context, code string) (execOutcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.watchInterrupt(ctx)()
	s.framesMu.Lock()
	s.frames = nil
	s.framesMu.Unlock()
	var out execOutcome
	out, err := s.executeLocked(ctx, code)
	if exitedCleanly(err) {
		err = nil // os.Exit(0) (exit.go)
	}
	if err != nil {
		// A failed compilation may leave names without storage.
		s.settle()
		ce := toCellError(err)
		s.framesMu.Lock()
		if ce.EName == "panic" {
			msg := s.goPanic(ce.EValue, s.frames, s.unit)
			if msg != ce.EValue {
				ce = &cellError{EName: ce.EName, EValue: msg, Traceback: append([]string{"panic: " + msg}, ce.Traceback[1:]...)}
			}
			for _, f := range s.frames {
				ce.Traceback = append(ce.Traceback, "    at "+f)
			}
		}
		s.framesMu.Unlock()
		return out, ce
	}
	return out, nil
}

func (s *session) executeLocked(ctx context.Context, code string) (execOutcome, error) {
	return s.runPipeline(ctx, code)
}

// passRun evaluates the cell in the interpreter: the rebuild a
// redefinition needs, the imports, then each part in order (declarations,
// statement chunks, the trailing expression as the result).
func (s *session) passRun(u *cellUnit) error {
	err := s.runParts(u)
	if u.cellDefers {
		err = s.runCellDefers(u, err)
	}
	return err
}

// runParts evaluates the cell's parts in order (see passRun).
func (s *session) runParts(u *cellUnit) error {
	ctx, parts, decls, rebuild, auto := u.ctx, u.parts, u.decls, u.rebuild, u.auto
	out := &u.out
	if rebuild {
		reset, err := s.rebuild(decls, u.renamed)
		if err != nil {
			return err
		}
		out.reset = reset
	}
	for _, im := range auto {
		if err := s.importOne(im, 1, 1); err != nil {
			return toCellError(err)
		}
	}
	pending := s.pendingAfterRebuild
	s.pendingAfterRebuild = nil
	// Kept declarations that depend on what the cell redefines are
	// replayed after the cell's last declaration part.
	lastDecl := -1
	for i, p := range parts {
		if p.Kind == partDecl {
			lastDecl = i
		}
	}
	if lastDecl < 0 {
		pending = s.retry(pending)
		s.declarePending()
	}
	var cellNames []string
	for _, d := range decls {
		cellNames = append(cellNames, d.names...)
	}
	// The instances of generic code the cell needs (lower_generic.go):
	// with its first declaration part evaluated, or now.
	genWith := s.genPlace(u)
	if genWith < 0 {
		if err := s.evalGen(ctx, u); err != nil {
			return err
		}
	}
	di := 0
	for pi, p := range parts {
		if err := ctx.Err(); err != nil {
			return toCellError(err)
		}
		switch p.Kind {
		case partImport:
			ims, _ := importSpecs(p)
			for _, im := range ims {
				if err := s.importOne(im, p.Line, p.Col); err != nil {
					return toCellError(err)
				}
			}
		case partDecl:
			d := decls[di]
			di++
			if d.skip && !rebuild {
				continue
			}
			src := u.declSrc[pi]
			if pi == genWith {
				src = withGen(src, u)
			}
			_, err := s.evalCtx(ctx, src)
			if s.globalizeVars() > 0 && err == nil {
				if fsrc, ok := funcsOnly(p); ok {
					_, err = s.evalCtx(ctx, parenMulti(fsrc))
				}
			}
			if err != nil {
				if pi == genWith {
					return s.genError(err, u, p)
				}
				return s.evalError(err, p)
			}
			s.forget(d.names)
			for _, it := range d.items {
				s.decls = append(s.decls, declEntry{names: it.names, vars: it.vars,
					src: padded(u.loweredDecl(p, it), it.line, it.col), text: it.text, doc: it.doc})
			}
			if pi == genWith {
				s.keepGen(u)
			}
			if pi == lastDecl {
				pending = s.retry(pending)
				s.declarePending()
			}
		case partStmt:
			if strings.TrimSpace(p.Src) != "" {
				s.noteVars(u.ast.stmts(p))
				chunks := u.chunks[pi]
				if len(chunks) > 1 {
					// yaegi no longer sees the whole part before running
					// it: an undefined name is reported before anything
					// runs, as it was.
					if ce := s.undefinedIn(p); ce != nil {
						return ce
					}
				}
				for _, c := range chunks {
					if err := s.evalChunk(ctx, c); err != nil {
						return err
					}
				}
			}
			if p.Expr != "" {
				b, err := s.evalResult(ctx, p.Expr, p.ExprLine, p.ExprCol, &u.check)
				if err != nil {
					return s.evalError(err, part{Kind: partStmt, Line: p.ExprLine, Col: p.ExprCol, Src: p.Expr})
				}
				out.result = b
			}
		}
	}
	for _, d := range pending {
		fmt.Fprintf(s.opt.Stderr, "unetlab: declaration of %s dropped after the interpreter was rebuilt: it no longer compiles\n", strings.Join(d.names, ", "))
	}
	return nil
}

// evalError converts the error of evaluating part p. A part that uses an
// undefined name cannot compile: that is its error, whatever yaegi reports
// for it ("definition loop", "constant definition loop", "incomplete type
// x" after an earlier failure, or a panic of its compiler in a
// declaration).
func (s *session) evalError(err error, p part) error {
	ce := toCellError(err)
	if ce.EName == "CompileError" || (ce.EName == "panic" && p.Kind == partDecl) {
		s.settle()
		if better := s.undefinedIn(p); better != nil {
			return better
		}
	}
	return ce
}

// evalResult evaluates the trailing expression. A single value becomes the
// result bundle; a call with no or several results just runs. typed, when
// not nil, is the check pass of the cell whose trailing expression this is:
// its type gives the arity, a constant's value, and whether interpreted
// methods need looking for.
//
// A single value is stored in a helper variable, which keeps its static
// type, so that the interpreter itself can tell whether an interpreted type
// implements display.Renderer, image.Image or fmt.Stringer (reflect on the
// value cannot: interpreted methods are not in its reflect type).
func (s *session) evalResult(ctx context.Context, expr string, line, col int, typed *checked) (display.Bundle, error) {
	const v = helperPrefix + "_v"
	n := -1
	checked, compiledOnly := false, false
	if typed == nil || !typed.hasValue || typed.result.Type == nil {
		n = s.resultCount(expr) // the checker does not know it: parse it
	} else {
		// The checker knows the expression: its arity, and whether its
		// value may have interpreted methods (else the bare value is the
		// result, one evaluation, no helper variable).
		tv := typed.result
		switch t := tv.Type.(type) {
		case *types.Tuple:
			n = t.Len()
		default:
			n = 1
			if tv.IsVoid() {
				n = 0
			}
		}
		if n == 1 {
			if x, ok := constantResult(tv); ok {
				return resultBundle(x, nil), nil
			}
			checked, compiledOnly = true, isCompiledOnly(tv.Type, map[types.Type]bool{})
		}
	}
	if n == 0 || n > 1 {
		_, err := s.evalCtx(ctx, padded(expr, line, col))
		return nil, err
	}
	if n < 0 {
		// Unknown arity: run it and keep a value that is one.
		val, err := s.evalCtx(ctx, padded(expr, line, col))
		if err != nil || !val.IsValid() || val.Type() == noValueType || !val.CanInterface() || val.Interface() == nil {
			return nil, err
		}
		return resultBundle(val.Interface(), nil), nil
	}
	// The expression stays on its own line and column.
	define := v + " :="
	src := strings.Repeat("\n", max(line-1, 0)) + define + "\n" + strings.Repeat(" ", max(col-1, 0)) + expr
	// Compile the bare expression first: for an undefined name yaegi
	// reports "definition loop" on the right of := and leaves the name
	// half-declared; the bare expression gives the real error, cleanly.
	if !checked {
		if _, err := s.compile(padded(expr, line, col)); err != nil {
			return nil, err
		}
	}
	prog, err := s.compile(src)
	if err != nil && checked {
		// The checker accepted the expression: the failure is yaegi's
		// own with the helper variable (`v := s[i]` of a string s is
		// a "constant definition loop"), and nothing ran. The bare
		// expression gives the value, without interpreted methods.
		val, err := s.evalCtx(ctx, padded(expr, line, col))
		if err != nil || !val.IsValid() || val.Type() == noValueType || !val.CanInterface() || val.Interface() == nil {
			return nil, err
		}
		return resultBundle(val.Interface(), nil), nil
	}
	if err != nil {
		return nil, err
	}
	val, err := s.execCtx(ctx, prog)
	if err != nil {
		return nil, err
	}
	var x any
	if val.IsValid() && val.CanInterface() {
		x = val.Interface()
	}
	// implements reports whether the helper fn accepts the value: the
	// interpreter checks the method set, interpreted methods included.
	implements := func(fn string) bool {
		_, err := s.compile(fn + "(" + v + ")")
		return err == nil
	}
	call := func(fn string) (reflect.Value, bool) {
		r, err := s.evalCtx(ctx, fn+"("+v+")")
		return r, err == nil && r.IsValid() && r.CanInterface()
	}
	var b display.Bundle
	switch x.(type) {
	case display.Renderer, image.Image:
	default:
		if compiledOnly {
			break // no interpreted method to look for
		}
		if implements(helperPrefix + "_render") {
			if r, ok := call(helperPrefix + "_render"); ok {
				b, _ = r.Interface().(display.Bundle)
			}
		} else if implements(helperPrefix + "_showimage") {
			if r, ok := call(helperPrefix + "_showimage"); ok {
				b, _ = r.Interface().(display.Bundle)
			}
		} else if _, ok := x.(fmt.Stringer); !ok && implements(helperPrefix+"_string") {
			if r, ok := call(helperPrefix + "_string"); ok {
				text, _ := r.Interface().(string)
				b = display.Bundle{display.MIMEText: text}
			}
		}
	}
	if x == nil && b == nil {
		return nil, nil // a nil interface, such as a nil error: no result
	}
	if b == nil && checked && !compiledOnly {
		if _, ok := x.(fmt.Stringer); !ok {
			if text, ok := s.resultText(ctx, typed, v); ok {
				b = display.Bundle{display.MIMEText: text}
			}
		}
	}
	return resultBundle(x, b), nil
}

// compile compiles src, turning a panic of the compiler into an error.
func (s *session) compile(src string) (p *interp.Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return s.in.Compile(src)
}

// eval evaluates src without a cell context; panics (also of the
// compiler) become errors.
func (s *session) eval(src string) (reflect.Value, error) {
	v, err := s.in.EvalWithContext(context.Background(), src)
	s.globalizeVars() // replayed declarations (see globalize.go)
	return v, err
}

// noValueType is the type of what yaegi returns for a call without result.
var noValueType = reflect.TypeOf((*any)(nil))

// resultBundle builds the result of value x; b, when not nil, is its
// rendering by the interpreter.
func resultBundle(x any, b display.Bundle) display.Bundle {
	if b == nil {
		// A Renderer, an image.Image, a gonum *plot.Plot.
		b, _ = display.Rich(x)
	}
	out := display.Bundle{}
	for k, v := range b {
		out[k] = v
	}
	if _, ok := out[display.MIMEText]; !ok {
		if len(b) > 0 {
			out[display.MIMEText] = b.Text()
		} else {
			out[display.MIMEText] = formatValue(x)
		}
	}
	return out
}

// formatValue is the text/plain form of a result: strings quoted, errors
// by their message, everything else as %+v (which uses String methods).
func formatValue(x any) string {
	switch v := x.(type) {
	case string:
		return strconv.Quote(v)
	case error:
		return v.Error()
	case nil:
		return "<nil>"
	}
	return truncate(fmt.Sprintf("%+v", x))
}

// maxResultText caps the text/plain form of a result (bytes): a front end
// struggles with megabytes of text, and nobody reads them.
const maxResultText = 64 << 10

func truncate(s string) string {
	if len(s) <= maxResultText {
		return s
	}
	cut := maxResultText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s ... (%d more bytes)", s[:cut], len(s)-cut)
}

// builtinResults is the number of results of the predeclared functions.
var builtinResults = map[string]int{
	"append": 1, "cap": 1, "complex": 1, "imag": 1, "len": 1, "make": 1, "max": 1, "min": 1, "new": 1,
	"real": 1, "copy": 1, "recover": 1,
	"clear": 0, "close": 0, "delete": 0, "panic": 0, "print": 0, "println": 0,
}

// resultCount returns how many values expr has: 1 for anything but a call,
// the callee's result count for a call it can resolve, -1 when unknown.
func (s *session) resultCount(expr string) int {
	e, err := parseExpr(expr)
	if err != nil {
		return -1
	}
	for {
		p, ok := e.(*ast.ParenExpr)
		if !ok {
			break
		}
		e = p.X
	}
	c, ok := e.(*ast.CallExpr)
	if !ok {
		return 1
	}
	fun := c.Fun
	for {
		p, ok := fun.(*ast.ParenExpr)
		if !ok {
			break
		}
		fun = p.X
	}
	switch f := fun.(type) {
	case *ast.FuncLit:
		return fieldCount(f.Type.Results)
	case *ast.ArrayType, *ast.MapType, *ast.ChanType, *ast.FuncType, *ast.InterfaceType, *ast.StructType, *ast.StarExpr:
		return 1 // conversion
	case *ast.Ident:
		if n, ok := builtinResults[f.Name]; ok {
			return n
		}
		if slices.Contains(goBuiltins, f.Name) {
			return 1 // conversion to a predeclared type
		}
		if d, ok := s.funcDecl(f.Name); ok {
			return d
		}
		if v, ok := s.globals()[f.Name]; ok && v.Kind() == reflect.Func {
			return v.Type().NumOut()
		}
		return -1
	case *ast.SelectorExpr:
		if x, ok := f.X.(*ast.Ident); ok {
			if _, isVar := s.globals()[x.Name]; !isVar {
				if path, ok := s.pathOf(x.Name, f.Sel.Name); ok {
					sym, ok := stdlib.Symbols[path+"/"+nameOfPath(path)][f.Sel.Name]
					switch {
					case !ok:
						return -1
					case sym.Kind() == reflect.Func:
						return sym.Type().NumOut()
					default:
						return 1 // conversion to a package type
					}
				}
			}
			if v, ok := s.globals()[x.Name]; ok && v.IsValid() {
				for _, t := range []reflect.Type{v.Type(), reflect.PointerTo(v.Type())} {
					if m, ok := t.MethodByName(f.Sel.Name); ok {
						return m.Type.NumOut() // includes no receiver: method values of types count it
					}
				}
			}
		}
		// A method of an interpreted type: all kept methods of that name.
		n := -1
		for _, d := range s.decls {
			for _, name := range d.names {
				if strings.HasSuffix(name, "."+f.Sel.Name) {
					if k, ok := s.funcDecl(name); ok {
						if n >= 0 && n != k {
							return -1
						}
						n = k
					}
				}
			}
		}
		return n
	}
	return -1
}

// funcDecl returns the result count of the kept function or method name
// ("f" or "T.M").
func (s *session) funcDecl(name string) (int, bool) {
	for i := len(s.decls) - 1; i >= 0; i-- {
		d := s.decls[i]
		if !slices.Contains(d.names, name) {
			continue
		}
		f, err := parseFile(token.NewFileSet(), "", "package p;"+d.src[1:], parser.SkipObjectResolution)
		if err != nil {
			return 0, false
		}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			n := fd.Name.Name
			if fd.Recv != nil && len(fd.Recv.List) > 0 {
				n = recvName(fd.Recv.List[0].Type) + "." + n
			}
			if n == name {
				return fieldCount(fd.Type.Results), true
			}
		}
		return 0, false
	}
	return 0, false
}

func fieldCount(fl *ast.FieldList) int {
	if fl == nil {
		return 0
	}
	n := 0
	for _, f := range fl.List {
		n += max(len(f.Names), 1)
	}
	return n
}

// pathOf returns the import path the package name refers to in a cell:
// the imported one, or the one auto-import would choose.
func (s *session) pathOf(name, sel string) (string, bool) {
	if im, ok := s.importedAs(name); ok {
		return im.path, true
	}
	return packageFor(name, sel)
}

func nameOfPath(path string) string {
	n, _ := packageName(path)
	return n
}

// userExpression evaluates one user_expressions entry.
func (s *session) userExpression(ctx context.Context, expr string) wire.UserExpression {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.evalResult(ctx, expr, 1, 1, nil)
	if err != nil {
		ce := toCellError(err)
		return wire.UserExpression{Status: wire.StatusError,
			Error: wire.Error{EName: ce.EName, EValue: ce.EValue, Traceback: ce.Traceback}}
	}
	data := map[string]any{}
	for k, v := range b {
		data[k] = v
	}
	if b == nil {
		data[display.MIMEText] = ""
	}
	return wire.UserExpression{Status: wire.StatusOK, Data: data, Metadata: map[string]any{}}
}

// retry evaluates pending declarations again and keeps those that now
// compile; it returns the rest.
func (s *session) retry(pending []declEntry) []declEntry {
	var still []declEntry
	for _, d := range pending {
		if _, err := s.eval(d.src); err != nil {
			still = append(still, d)
			continue
		}
		s.decls = append(s.decls, d)
	}
	return still
}

// forget removes kept declarations of any of names.
func (s *session) forget(names []string) {
	drop := map[string]bool{}
	for _, n := range names {
		drop[n] = true
	}
	kept := s.decls[:0]
	for _, d := range s.decls {
		hit := false
		for _, n := range d.names {
			if drop[n] {
				hit = true
			}
		}
		if !hit {
			kept = append(kept, d)
		}
	}
	s.decls = kept
}

// usesAny reports whether declaration d mentions any of names (as an
// identifier anywhere, receiver types included).
func usesAny(d declEntry, names map[string]bool) bool {
	f, err := parseFile(token.NewFileSet(), "", "package p;"+d.src[1:], parser.SkipObjectResolution)
	if err != nil {
		return true
	}
	found := false
	ast.Inspect(f, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && names[id.Name] {
			found = true
		}
		return !found
	})
	return found
}

func dedup(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// declNames returns the names a declaration part declares ("T.M" for
// methods) and, among them, the variables.
func declNames(p part) (names, vars []string, err error) {
	items, err := declItems(p)
	for _, it := range items {
		names = append(names, it.names...)
		vars = append(vars, it.vars...)
	}
	return names, vars, err
}

// mainPos returns the position of the main declaration in part p.
func mainPos(p part) (int, int) {
	items, _ := declItems(p)
	for _, it := range items {
		if slices.Contains(it.names, "main") {
			return it.line, it.col
		}
	}
	return p.Line, p.Col
}

// declItem is one top-level declaration of a declaration part.
type declItem struct {
	names, vars []string
	text        string   // its source
	doc         string   // its doc comment
	line, col   int      // its position in the cell
	node        ast.Decl // its syntax, for the current cell's (cellAST.declItems)
}

// declItems splits a declaration part into its top-level declarations, so
// that a redefinition drops only the declaration it replaces. (The current
// cell's come from its one parse, cellAST.declItems; this parses the
// declarations of a part alone.)
func declItems(p part) ([]declItem, error) {
	content := "package p;" + atCell(p)
	fset := token.NewFileSet()
	f, err := parseFile(fset, "cell", content, parser.SkipObjectResolution|parser.ParseComments)
	if err != nil {
		return nil, err
	}
	var items []declItem
	for _, d := range f.Decls {
		it := declItemOf(d)
		start, end := fset.Position(d.Pos()), fset.Position(d.End())
		it.text = content[start.Offset:end.Offset]
		it.line, it.col = start.Line, start.Column
		items = append(items, it)
	}
	return items, nil
}

// declItemOf returns the names, variables and doc of declaration d.
func declItemOf(d ast.Decl) declItem {
	var it declItem
	switch d := d.(type) {
	case *ast.FuncDecl:
		it.doc = d.Doc.Text()
		if d.Recv != nil && len(d.Recv.List) > 0 {
			it.names = append(it.names, recvName(d.Recv.List[0].Type)+"."+d.Name.Name)
		} else if d.Name.Name != "init" && d.Name.Name != "_" {
			it.names = append(it.names, d.Name.Name)
		}
	case *ast.GenDecl:
		it.doc = d.Doc.Text()
		for _, sp := range d.Specs {
			switch sp := sp.(type) {
			case *ast.TypeSpec:
				it.names = append(it.names, sp.Name.Name)
			case *ast.ValueSpec:
				for _, n := range sp.Names {
					if n.Name == "_" {
						continue
					}
					it.names = append(it.names, n.Name)
					if d.Tok == token.VAR {
						it.vars = append(it.vars, n.Name)
					}
				}
			}
		}
	}
	return it
}

func recvName(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return "?"
		}
	}
}

// importSpecs parses an import part.
func importSpecs(p part) ([]importEntry, error) {
	f, err := parseFile(token.NewFileSet(), "cell", "package p;"+atCell(p), parser.ImportsOnly)
	if err != nil {
		return nil, err
	}
	var out []importEntry
	for _, im := range f.Imports {
		path, _ := strconv.Unquote(im.Path.Value)
		e := importEntry{path: path}
		if im.Name != nil {
			e.name = im.Name.Name
		}
		out = append(out, e)
	}
	return out, nil
}

// nameOrDefault is the name the import binds in the cell.
func (im importEntry) nameOrDefault() string {
	if im.name != "" {
		return im.name
	}
	if n, ok := packageName(im.path); ok {
		return n
	}
	if n, ok := fetchedName(im.path); ok {
		return n
	}
	return im.path[strings.LastIndexByte(im.path, '/')+1:]
}

func (s *session) importedAs(name string) (importEntry, bool) {
	for _, im := range s.imports {
		if im.nameOrDefault() == name {
			return im, true
		}
	}
	return importEntry{}, false
}

// importOne imports one package unless the same import is already there.
func (s *session) importOne(im importEntry, line, col int) error {
	for _, old := range s.imports {
		if old.path == im.path && old.nameOrDefault() == im.nameOrDefault() {
			return nil
		}
	}
	src := "import "
	if im.name != "" {
		src += im.name + " "
	}
	src += strconv.Quote(im.path)
	if _, err := s.eval(padded(src, line, col)); err != nil {
		if fp := modules.get(im.path); fp != nil {
			return fetchedImportError(fp, line, col, err) // modules.go
		}
		return err
	}
	if im.name != "_" {
		s.imports = append(s.imports, im)
	}
	return nil
}

// packages indexes the symbol tables: package name -> import paths.
var (
	pkgIndexOnce sync.Once
	pkgByName    map[string][]string
	nameByPath   map[string]string
)

func indexPackages() {
	pkgByName = map[string][]string{}
	nameByPath = map[string]string{}
	add := func(path, name string) {
		pkgByName[name] = append(pkgByName[name], path)
		nameByPath[path] = name
	}
	for key := range stdlib.Symbols {
		i := strings.LastIndexByte(key, '/')
		if i <= 0 {
			continue
		}
		add(key[:i], key[i+1:])
	}
	// Served from yaegi's own generic source.
	for _, p := range []string{"cmp", "maps", "slices"} {
		if _, ok := nameByPath[p]; !ok {
			add(p, p)
		}
	}
	for _, ps := range pkgByName {
		sort.Strings(ps)
	}
}

// packageName returns the package name of an import path in the tables.
func packageName(path string) (string, bool) {
	pkgIndexOnce.Do(indexPackages)
	n, ok := nameByPath[path]
	return n, ok
}

// packageFor returns the unique import path of a package named name that
// has member sel (or, when none has it listed, the only package of that
// name).
func packageFor(name, sel string) (string, bool) {
	pkgIndexOnce.Do(indexPackages)
	paths := pkgByName[name]
	var with []string
	for _, p := range paths {
		if syms := stdlib.Symbols[p+"/"+name]; syms != nil {
			if _, ok := syms[sel]; ok {
				with = append(with, p)
			}
		} else if _, ok := stdlib.Lookup(p, sel); ok {
			with = append(with, p)
		}
	}
	switch {
	case len(with) == 1:
		return with[0], true
	case len(with) == 0 && len(paths) == 1:
		return paths[0], true
	}
	return "", false
}

// autoImports finds package selectors X.Sel in the cell (its one parse,
// a) whose X is not defined anywhere (not imported, not a user name, not
// declared in the cell) and names exactly one package of the tables.
func (s *session) autoImports(a *cellAST, cellImports []importEntry, decls []cellDecl) []importEntry {
	defined := map[string]bool{}
	for _, im := range s.imports {
		defined[im.nameOrDefault()] = true
	}
	for _, im := range cellImports {
		defined[im.nameOrDefault()] = true
	}
	for _, d := range s.decls {
		for _, n := range d.names {
			defined[n] = true
		}
	}
	for _, d := range decls {
		for _, n := range d.names {
			defined[n] = true
		}
	}
	for n := range s.vars {
		defined[n] = true
	}
	for n := range s.globals() {
		defined[n] = true
	}
	want := map[string]string{}
	var order []string
	unresolved := map[*ast.Ident]bool{}
	for _, id := range a.file.Unresolved {
		unresolved[id] = true
	}
	ast.Inspect(a.file, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		x, ok := sel.X.(*ast.Ident)
		if !ok || !unresolved[x] || defined[x.Name] {
			return true
		}
		if _, seen := want[x.Name]; seen {
			return true
		}
		if path, ok := packageFor(x.Name, sel.Sel.Name); ok {
			want[x.Name] = path
			order = append(order, x.Name)
		}
		return true
	})
	var out []importEntry
	for _, n := range order {
		out = append(out, importEntry{path: want[n]})
	}
	return out
}
