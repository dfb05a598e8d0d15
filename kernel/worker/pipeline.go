package worker

import (
	"context"
	"fmt"
	"go/ast"
	"slices"
	"strings"
)

// This file is the cell pipeline: the passes every cell goes through, in
// order, listed once in cellPasses. Each pass reads and extends the
// cellUnit; an error stops the cell (before anything ran, for the passes up
// to and including the check).
//
// The cell is parsed once, in "split" (parse.go): every later pass reads
// that one tree (cellUnit.ast, and the check's typed copy of it), never the
// source again. A pass that rewrites the source records its edits at cell
// positions (cellUnit.applyEdits), through which the later passes map the
// tree's positions into the rewritten parts (cellUnit.offIn).
//
// Where a new rewrite goes:
//
//   - a change of what Go code means (lowering Go constructs yaegi lacks or
//     runs wrongly into ones it runs faithfully, with the type information
//     of the check pass: cellUnit.check.info over cellUnit.check.file) goes
//     in the lowering section, after "check" and before the yaegi passes;
//   - a workaround of a yaegi bug that keeps the meaning (parentheses,
//     chunking, comma-ok) goes in "yaegi-workarounds";
//   - how the session drives the interpreter goes in "yaegi-run".
//
// A lowering pass that rewrites only some kinds of syntax (loops, selects,
// defers, shifts...) is listed as when(kinds, pass) (syntax.go): cells
// without any of them skip it. The package's tests (and bench/gotests) run
// skipped passes all the same and fail when one would have changed the
// cell, so a kind missing from the list shows at once.

// cellUnit is one cell on its way through the passes.
type cellUnit struct {
	ctx  context.Context
	code string

	// split
	parts   []part
	ast     *cellAST      // the cell parsed once (parse.go)
	decls   []cellDecl    // the declaration parts, in order
	imports []importEntry // the cell's own imports
	rebuild bool          // a redefinition: the interpreter is rebuilt
	renamed []string      // package names the cell imports from another path

	// auto-import
	auto []importEntry

	// lowering: the edits applied to the parts' sources, at cell positions
	edits []edit

	// check
	check checked

	// lowering: the edits of the lowering passes, applied by lower-apply
	// (then recorded in edits)
	pending []edit
	// lower-cell-defers: the cell's top-level statements defer calls
	cellDefers bool
	// lower-generic: the instances of generic code the cell needs
	// (lower_generic.go), evaluated before its first part
	genInsts []declEntry

	// yaegi-workarounds: per part, what the interpreter evaluates
	declSrc []string      // declaration parts: padded source, multi-assign parenthesised
	chunks  [][]stmtChunk // statement parts: their chunks (stmts.go)

	pass string // the name of the pass at work
	// the syntax the checked file holds (holds), read on first use
	syntax     syntax
	syntaxRead bool

	out execOutcome
	// err is the cell's error, set before the after functions run.
	err error
	// after runs once the cell ended (ran, failed or panicked), in order.
	after []func()
}

// pass is one named step of the pipeline.
type pass struct {
	name string
	run  func(s *session, u *cellUnit) error
}

// cellPasses is the pipeline, in order.
var cellPasses = []pass{
	// Front end: one cell, split into imports, declarations and
	// statements (split.go) and parsed once (parse.go, its trailing
	// expression split off), the names it declares and redefines.
	// A pasted program (package main, func main) runs main once.
	{"program", (*session).passProgram},
	{"std-generic", (*session).passStdGeneric},
	{"split", (*session).passSplit},
	// Imports the symbol tables do not serve: fetched with the go
	// command and read as source (modules.go), or an error saying why not.
	{"fetch-modules", (*session).passFetch},
	// Package names used without import (fmt.Println) get their import.
	{"auto-import", (*session).passAutoImport},
	// go/types against the session (check.go): the compiler's errors, all
	// of them, before anything runs.
	{"check", (*session).passCheck},

	// Lowering passes (lower.go, lower_*.go), in order; new ones go here.
	{"lower-fmt-values", (*session).passLowerFmtValues},
	{"lower-json", (*session).passLowerJSON},
	{"lower-errors", (*session).passLowerErrors},
	{"lower-defer-args", when(synDefer|synGo, (*session).passLowerDefer)},
	{"lower-cell-defers", when(synDefer, (*session).passLowerCellDefers)},
	{"lower-range-func", when(synRange, (*session).passLowerRangeFunc)},
	{"lower-loopvar", when(synFor|synRange, (*session).passLowerLoopVar)},
	{"lower-closure-frames", when(synFor|synRange|synDefer, (*session).passLowerClosureFrames)},
	{"lower-builtins", (*session).passLowerBuiltins},
	{"lower-print", (*session).passLowerPrint},
	{"lower-consts", (*session).passLowerConsts},
	{"lower-select-vars", when(synSelect, (*session).passLowerSelectVars)},
	{"lower-array-ptr-index", when(synAddr, (*session).passLowerArrayPtrIndex)},
	{"lower-method-exprs", (*session).passLowerMethodExprs},
	{"lower-method-values", (*session).passLowerMethodValues},
	{"lower-reflect-methods", (*session).passLowerReflectMethods},
	{"lower-bounds", (*session).passLowerBounds},
	{"refuse-unfaithful", (*session).passRefuseUnfaithful},
	{"refuse-type-names", (*session).passRefuseTypeNames},
	{"lower-panics", (*session).passLowerPanics},
	{"lower-funclit-stmts", (*session).passLowerFuncLitStmts},
	{"lower-compiled-vars", (*session).passLowerCompiledVars},
	{"lower-runtime-frames", (*session).passLowerRuntimeFrames},
	{"lower-range-array-ptr", when(synRange, (*session).passLowerRangeArrayPtr)},
	{"lower-recv-return", when(synRecv, (*session).passLowerRecvReturn)},
	{"lower-defer-chain", (*session).passLowerDeferChain},
	{"lower-iface-assert", (*session).passLowerIfaceAssert},
	{"lower-named-results", (*session).passLowerNamedResults},
	{"lower-make-chan", (*session).passLowerMakeChan},
	{"lower-select-recv", when(synSelect, (*session).passLowerSelectRecv)},
	{"lower-select-operands", when(synSelect, (*session).passLowerSelectOperands)},
	{"lower-switches", when(synSwitch, (*session).passLowerSwitches)},
	{"lower-func-values", (*session).passLowerFuncValues},
	{"lower-self-types", (*session).passLowerSelfTypes},
	{"lower-default-fallthrough", when(synSwitch, (*session).passLowerDefaultFallthrough)},
	{"lower-shifts", when(synShift, (*session).passLowerShifts)},
	{"lower-predeclared", (*session).passLowerPredeclared},
	{"lower-iface-compare", when(synEqual|synAssert, (*session).passLowerIfaceCompare)},
	{"lower-iface-stores", (*session).passLowerIfaceStores},
	{"lower-promoted-methods", (*session).passLowerPromotedMethods},
	{"lower-init-order", (*session).passLowerInitOrder},
	{"note-type-names", (*session).passNoteTypeNames},
	{"lower-finalizers", (*session).passLowerFinalizers},
	// Generic code monomorphized, the other passes' edits inside generic
	// declarations going into their instances: last before lower-apply.
	{"lower-generic", (*session).passLowerGeneric},
	{"lower-apply", (*session).passLowerApply},

	// Back end: yaegi v0.16.1.
	{"yaegi-workarounds", (*session).passWorkarounds},
	{"frame-columns", (*session).passFrameColumns},
	{"yaegi-run", (*session).passRun},
}

// runPipeline runs code through cellPasses.
func (s *session) runPipeline(ctx context.Context, code string) (execOutcome, error) {
	u := &cellUnit{ctx: ctx, code: code}
	s.unit = u
	defer func() {
		for _, f := range u.after {
			f()
		}
	}()
	for _, p := range cellPasses {
		u.pass = p.name
		if err := p.run(s, u); err != nil {
			u.err = err
			return u.out, err
		}
	}
	return u.out, nil
}

// passSplit splits the cell and classifies its declarations: unchanged,
// new, or redefinitions (which rebuild the interpreter).
func (s *session) passSplit(u *cellUnit) error {
	parts, err := splitCell(u.code)
	if err != nil {
		return syntaxError(err, u.code)
	}
	u.parts = parts
	if u.ast, err = parseCell(u.code, parts); err != nil {
		return syntaxError(err, u.code)
	}
	known := map[string]bool{}
	for _, d := range s.decls {
		for _, n := range d.names {
			known[n] = true
		}
	}
	for _, p := range parts {
		switch p.Kind {
		case partDecl:
			items := u.ast.declItems(p)
			var names, vars []string
			line, col := 0, 0
			for _, it := range items {
				names = append(names, it.names...)
				vars = append(vars, it.vars...)
				if slices.Contains(it.names, "main") {
					line, col = it.line, it.col
				}
			}
			if line > 0 {
				msg := fmt.Sprintf("cell:%d:%d: a cell cannot declare main: the interpreter would call it after every cell; give the function another name", line, col)
				return compileError(msg)
			}
			d := cellDecl{p: p, names: names, vars: vars, items: items}
			switch {
			case !anyKnown(known, names):
			case s.unchanged(items):
				// The same declarations again (the cell is re-run):
				// keep them; only variables are initialised again.
				d.skip = len(vars) == 0
			case len(vars) == len(names):
				// Variables only: yaegi declares them again in place.
			default:
				u.rebuild = true
			}
			u.decls = append(u.decls, d)
		case partImport:
			ims := u.ast.importSpecs(p)
			for _, im := range ims {
				if old, ok := s.importedAs(im.nameOrDefault()); ok && old.path != im.path {
					u.rebuild = true
					u.renamed = append(u.renamed, im.nameOrDefault())
				}
			}
			u.imports = append(u.imports, ims...)
		}
	}
	return nil
}

func (s *session) passAutoImport(u *cellUnit) error {
	u.auto = s.autoImports(u.ast, u.imports, u.decls)
	return nil
}

// passCheck type-checks the cell; once the cell ended, the session's
// checker learns what it declared and defined.
func (s *session) passCheck(u *cellUnit) error {
	u.check = s.checkCell(u.ast, u.parts, u.decls, u.imports, u.auto)
	if len(u.check.errs) > 0 {
		return compileErrors(unmangleStdGeneric(u.check.errs))
	}
	u.after = append(u.after, func() {
		if u.check.skipped {
			s.check.noteOpaque(topDefines(u.parts))
			return
		}
		var names []string
		for _, d := range u.decls {
			names = append(names, d.names...)
		}
		s.check.noteDecls(names)
		defines := u.check.defines
		if u.err != nil && toCellError(u.err).EName == "panic" {
			// The statements after the one that panicked did not run:
			// the variables they define stay undefined, not defined and
			// empty (yaegi declared them all before running the cell).
			// Those defined before it, and variables the session had,
			// keep what the cell gave them.
			s.framesMu.Lock()
			stop := panicLine(s.frames)
			s.framesMu.Unlock()
			defines = s.check.ranBefore(&u.check, defines, stop)
		}
		s.check.noteDefines(defines)
	})
	return nil
}

// passWorkarounds prepares what yaegi evaluates for each part: multiple
// assignments parenthesised (multiassign.go), statement parts cut into
// chunks, wrapped in a function literal or rewritten for comma-ok
// (stmts.go).
func (s *session) passWorkarounds(u *cellUnit) error {
	u.declSrc = make([]string, len(u.parts))
	u.chunks = make([][]stmtChunk, len(u.parts))
	for i, p := range u.parts {
		switch p.Kind {
		case partDecl:
			var nodes []ast.Node
			for _, d := range u.ast.file.Decls {
				if u.ast.inPart(p, d.Pos(), d.End()) {
					nodes = append(nodes, d)
				}
			}
			src := parenMultiIn(p.Src, nodes, nil, func(n ast.Node) (int, int, bool) {
				s, e := u.offIn(p, n.Pos(), false), u.offIn(p, n.End(), true)
				return s, e, s >= 0 && e <= len(p.Src) && s < e
			})
			u.declSrc[i] = padded(src, p.Line, p.Col)
		case partStmt:
			if strings.TrimSpace(p.Src) != "" {
				u.chunks[i] = stmtChunks(u, p)
			}
		}
	}
	return nil
}
