package worker

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/traefik/yaegi/interp"
)

// This file works around yaegi's handling of statements at a cell's top
// level. yaegi evaluates them in the global scope, and there a := (or var)
// inside a block of a top-level statement (`if _, err := os.Stat(p); err ==
// nil {...}`, `for _, x := range xs { a, b := f(x); ... }`) is mishandled:
// "undefined: err", or a nil pointer dereference in the interpreter. The
// same code in a function body works. So a run of top-level statements that
// opens a scope of its own (if, for, switch, select, a block) and defines no
// top-level variable is evaluated inside a function literal called at once:
// its := variables are locals of that function, while the cell's globals are
// read and assigned as before. Top-level := statements stay in the global
// scope: they define the cell's variables.

// stmtChunk is a run of top-level statements of a statement part,
// evaluated by one call of the interpreter.
type stmtChunk struct {
	p    part // the statements' source and position in the cell
	wrap bool // evaluate inside (func() { ... })()
	// ok, when not nil, is the chunk's only statement, a comma-ok :=
	// (see commaOk).
	ok *commaOkStmt
	// text, when not "", is what src evaluates before wrapping: p.Src
	// padded, with parenMulti's rewrite made on the cell's one parse.
	text string
}

// src returns the chunk's source to evaluate, the statements on their own
// lines and columns (see padded).
func (c stmtChunk) src() string {
	src := c.text
	if src == "" {
		src = parenMulti(padded(c.p.Src, c.p.Line, c.p.Col)) // see multiassign.go
	}
	if !c.wrap {
		return src
	}
	// The wrapper's head shares the first line, which yaegi prefixes with
	// its own text and which padded leaves empty; the statements keep
	// their lines.
	return "(func() {" + src + "\n})()"
}

// stmtChunks splits statement part p (without its trailing expression) into
// chunks. A part that needs neither wrapping nor a comma-ok rewrite, or
// that uses goto or return (whose meaning a function literal would change),
// is one unwrapped chunk, as it always was. (A top-level defer is lowered
// before: lower_celldefer.go.)
//
// The statements come from the cell's one parse (u.ast); p is the part as
// the lowering passes left it (u.offIn maps the parse's positions into it).
func stmtChunks(u *cellUnit, p part) []stmtChunk {
	list := u.ast.stmts(p)
	if len(list) == 0 {
		return []stmtChunk{{p: p}}
	}
	// evalText is what a chunk c, p.Src[start:] holding the statements
	// sts, evaluates (see stmtChunk.src).
	evalText := func(c part, start int, sts []ast.Stmt) string {
		nodes := make([]ast.Node, len(sts))
		for i, st := range sts {
			nodes[i] = st
		}
		text := parenMultiIn(c.Src, nodes, sts, func(n ast.Node) (int, int, bool) {
			s, e := u.offIn(p, n.Pos(), false)-start, u.offIn(p, n.End(), true)-start
			return s, e, s >= 0 && e <= len(c.Src) && s < e
		})
		return padded(text, c.Line, c.Col)
	}
	whole := []stmtChunk{{p: p, text: evalText(p, 0, list)}}
	type span struct {
		start, end int // offsets in p.Src
		st         ast.Stmt
		define     bool
		scoped     bool
		ok         *commaOkStmt
	}
	var spans []span
	anyScoped := false
	off := func(pos token.Pos) int { return u.offIn(p, pos, false) }
	for _, st := range list {
		if _, ok := st.(*ast.EmptyStmt); ok {
			continue
		}
		if leavesRun(st) {
			return whole
		}
		sp := span{start: u.offIn(p, st.Pos(), false), end: u.offIn(p, st.End(), true), st: st}
		if as, ok := st.(*ast.AssignStmt); ok && as.Tok == token.DEFINE {
			sp.define = true
			if sp.ok = commaOk(as, p.Src, off); sp.ok != nil {
				anyScoped = true
			}
		}
		if as, ok := st.(*ast.AssignStmt); ok && as.Tok == token.ASSIGN && allBlank(as.Lhs) {
			// yaegi keeps `_` as a global of the type it was first
			// defined with (`_, e := strconv.Atoi(s)`): assigning
			// another type to it at the top level panics in
			// reflect.Set. In a function literal `_` is blank again.
			sp.scoped = true
			anyScoped = true
		}
		inner := st
		for {
			l, ok := inner.(*ast.LabeledStmt)
			if !ok {
				break
			}
			inner = l.Stmt
		}
		switch inner.(type) {
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt,
			*ast.SelectStmt, *ast.BlockStmt:
			sp.scoped = true
			anyScoped = true
		}
		if sp.start < 0 || sp.end > len(p.Src) || sp.start >= sp.end {
			return whole
		}
		spans = append(spans, sp)
	}
	if !anyScoped {
		return whole
	}
	// Group: consecutive := statements stay together in the global scope;
	// consecutive other statements form one run, wrapped when one of them
	// opens a scope.
	var chunks []stmtChunk
	for i := 0; i < len(spans); {
		j := i + 1
		scoped := spans[i].scoped
		for spans[i].ok == nil && j < len(spans) && spans[j].ok == nil && spans[j].define == spans[i].define {
			scoped = scoped || spans[j].scoped
			j++
		}
		start, end := spans[i].start, spans[j-1].end
		line, col := lineCol(p.Src, start)
		if line == 1 {
			col += p.Col - 1
		}
		line += p.Line - 1
		c := part{Kind: partStmt, Line: line, Col: col, Src: p.Src[start:end]}
		var sts []ast.Stmt
		for _, sp := range spans[i:j] {
			sts = append(sts, sp.st)
		}
		chunks = append(chunks, stmtChunk{p: c, wrap: !spans[i].define && scoped, ok: spans[i].ok, text: evalText(c, start, sts)})
		i = j
	}
	return chunks
}

// allBlank reports whether every expression of lhs is the blank identifier.
func allBlank(lhs []ast.Expr) bool {
	for _, e := range lhs {
		if id, ok := e.(*ast.Ident); !ok || id.Name != "_" {
			return false
		}
	}
	return true
}

// leavesRun reports whether statement st holds a goto or a return outside
// of function literals: in a function literal of its own, a goto could not
// reach a label of another chunk and a return would end only the chunk.
func leavesRun(st ast.Stmt) bool {
	found := false
	ast.Inspect(st, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ReturnStmt:
			found = true
		case *ast.BranchStmt:
			if x.Tok == token.GOTO {
				found = true
			}
		}
		return !found
	})
	return found
}

// commaOkStmt is a top-level `v, ok := m[k]`, `v, ok := x.(T)` or `v, ok
// := <-c`. yaegi fails on these in the global scope (its global type
// analysis sees no type for the index or receive yet: a "nil type" panic of
// the interpreter, for a map of int as much as of an interpreted struct);
// the session evaluates them as a declaration at the zero value followed by
// an assignment (see session.evalCommaOk), which it handles.
type commaOkStmt struct {
	kind      token.Token // token.LBRACK (map index), token.PERIOD (type assertion), token.ARROW (receive)
	v, ok     string      // the names on the left ("_" allowed)
	rhs       string      // the right-hand side as written
	line, col int         // its position in the part's source (1-based)
	x         string      // the map, the interface value or the channel
	key       string      // the map key
	pureKey   bool        // the key has no call or receive: evaluating it twice is harmless
	typ       string      // the asserted type
}

// commaOk returns the comma-ok form of assignment as, nil when it is not
// one. off maps a position to an offset in src.
func commaOk(as *ast.AssignStmt, src string, off func(token.Pos) int) *commaOkStmt {
	if len(as.Lhs) != 2 || len(as.Rhs) != 1 {
		return nil
	}
	var names [2]string
	for i, l := range as.Lhs {
		id, ok := l.(*ast.Ident)
		if !ok {
			return nil
		}
		names[i] = id.Name
	}
	c := &commaOkStmt{v: names[0], ok: names[1], rhs: src[off(as.Rhs[0].Pos()):off(as.Rhs[0].End())]}
	c.line, c.col = lineCol(src, off(as.Rhs[0].Pos()))
	// The right-hand side as the lowering left it: a pass may have
	// made it a call (lower-iface-assert's x.(I)), which is no comma-ok
	// form; its operands are read from it.
	lowered, err := parser.ParseExpr(c.rhs)
	if err != nil {
		return nil
	}
	text := func(n ast.Node) string { return c.rhs[n.Pos()-1 : n.End()-1] }
	switch r := ast.Unparen(lowered).(type) {
	case *ast.IndexExpr:
		c.kind, c.x, c.key = token.LBRACK, text(r.X), text(r.Index)
		c.pureKey = pure(r.Index)
	case *ast.TypeAssertExpr:
		if r.Type == nil {
			return nil
		}
		c.kind, c.x, c.typ = token.PERIOD, text(r.X), text(r.Type)
	case *ast.UnaryExpr:
		if r.Op != token.ARROW {
			return nil
		}
		c.kind, c.x = token.ARROW, text(r.X)
	default:
		return nil
	}
	return c
}

// pure reports whether evaluating e has no effect: no call, no receive.
func pure(e ast.Expr) bool {
	ok := true
	ast.Inspect(e, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.CallExpr, *ast.FuncLit:
			ok = false
		case *ast.UnaryExpr:
			if x.Op == token.ARROW {
				ok = false
			}
		}
		return ok
	})
	return ok
}

// evalChunk evaluates one chunk of a statement part.
func (s *session) evalChunk(ctx context.Context, c stmtChunk) error {
	if c.ok != nil {
		return s.evalCommaOk(ctx, c)
	}
	s.setWrapped(c.wrap)
	defer s.setWrapped(false)
	_, err := s.evalCtx(ctx, c.src())
	s.globalizeVars() // also after an error or a panic: the statements before it ran
	if err != nil && !c.wrap && definitionLoop(err) {
		// Nothing ran (a compile error); yaegi's global type analysis
		// fails where it would infer the type (`c := s[i]` of a string
		// s). With the checker's types, the statements run as
		// declarations at the zero value and assignments.
		if ok, err2 := s.evalTyped(ctx, c.p); ok {
			return err2
		}
	}
	if err != nil {
		return s.evalError(err, c.p)
	}
	return nil
}

// definitionLoop reports whether err is yaegi's "definition loop" compile
// error (its failure to infer a global's type, not the cell's fault once
// the checker accepted the cell).
func definitionLoop(err error) bool {
	var p interp.Panic
	return !errors.As(err, &p) && strings.Contains(err.Error(), "definition loop")
}

// evalTyped evaluates the statements of p one by one, each top-level :=
// as `var x T` (T from the check pass) then `x = ...`. It reports false,
// having run nothing, when a defined variable's type is unknown or cannot
// be written for the interpreter.
func (s *session) evalTyped(ctx context.Context, p part) (bool, error) {
	u := s.unit
	if u == nil || u.check.skipped || u.check.defines == nil {
		return false, nil
	}
	const head = "package p;func _(){\n"
	fset := token.NewFileSet()
	f, err := parseFile(fset, "", head+p.Src+"\n}", parser.SkipObjectResolution)
	if err != nil {
		return false, nil
	}
	off := func(pos token.Pos) int { return fset.Position(pos).Offset - len(head) }
	type step struct {
		decls []string // "var x T"
		src   string
		line  int
		col   int
	}
	var steps []step
	for _, st := range f.Decls[0].(*ast.FuncDecl).Body.List {
		start, end := off(st.Pos()), off(st.End())
		if start < 0 || end > len(p.Src) {
			return false, nil
		}
		text := p.Src[start:end]
		line, col := lineCol(p.Src, start)
		if line == 1 {
			col += p.Col - 1
		}
		line += p.Line - 1
		sp := step{src: text, line: line, col: col}
		if as, ok := st.(*ast.AssignStmt); ok && as.Tok == token.DEFINE {
			for _, l := range as.Lhs {
				id, ok := l.(*ast.Ident)
				if !ok {
					return false, nil
				}
				if id.Name == "_" {
					continue
				}
				t := u.check.defines[id.Name]
				if t == nil {
					return false, nil
				}
				ts, ok := s.typeSource(t)
				if !ok {
					return false, nil
				}
				sp.decls = append(sp.decls, "var "+id.Name+" "+ts)
			}
			// := becomes = in place (same length, one space more).
			tok := off(as.TokPos) - start
			sp.src = text[:tok] + "= " + text[tok+2:]
		}
		steps = append(steps, sp)
	}
	for _, sp := range steps {
		for _, d := range sp.decls {
			if _, err := s.evalCtx(ctx, d); err != nil {
				return true, s.evalError(err, p)
			}
		}
		_, err := s.evalCtx(ctx, parenMulti(padded(sp.src, sp.line, sp.col)))
		s.globalizeVars()
		if err != nil {
			return true, s.evalError(err, part{Kind: partStmt, Line: sp.line, Col: sp.col, Src: sp.src})
		}
	}
	return true, nil
}

// evalCommaOk evaluates `v, ok := rhs` as
//
//	v := <zero value of v's type>; ok := false; v, ok = rhs
//
// evaluating the operands once. The zero value is the map's own element
// read once more with a key that has no effect (a key with effects is
// computed first), `*new(T)` for an assertion to T, and `*new(E)` for a
// receive from a channel of E (E from the interpreter's type of the
// channel).
func (s *session) evalCommaOk(ctx context.Context, c stmtChunk) error {
	o := c.ok
	line, col := o.line, o.col
	if line == 1 {
		col += c.p.Col - 1
	}
	line += c.p.Line - 1
	rhsPart := part{Kind: partStmt, Line: line, Col: col, Src: o.rhs}
	// Compile (without running) the right-hand side where it stands,
	// for errors in the cell's positions.
	if _, err := s.compile(padded(o.rhs, line, col)); err != nil {
		return s.evalError(err, rhsPart)
	}
	const tmpX, tmpKey = helperPrefix + "_okx", helperPrefix + "_okkey"
	var pre, lines []string
	var zero, rhs string
	switch o.kind {
	case token.LBRACK:
		pre = append(pre, tmpX+" := "+o.x)
		key := o.key
		if !o.pureKey {
			pre = append(pre, tmpKey+" := "+o.key)
			key = tmpKey
		}
		rhs = tmpX + "[" + key + "]"
		zero = rhs
	case token.PERIOD:
		rhs = "(" + o.x + ").(" + o.typ + ")"
		zero = "*new(" + o.typ + ")"
	case token.ARROW:
		pre = append(pre, tmpX+" := "+o.x)
		rhs = "<-" + tmpX
	}
	if len(pre) > 0 {
		if _, err := s.evalCtx(ctx, padded(strings.Join(pre, "\n"), line, col)); err != nil {
			return s.evalError(err, rhsPart)
		}
	}
	if o.kind == token.ARROW && o.v != "_" {
		elem, err := s.chanElem(tmpX)
		if err != nil {
			msg := fmt.Sprintf("cell:%d:%d: %s, %s := %s at a cell's top level: %v; declare %s first (var %s T) and assign with =, or move it into a function",
				c.p.Line, c.p.Col, o.v, o.ok, o.rhs, err, o.v, o.v)
			return compileError(msg)
		}
		zero = "*new(" + elem + ")"
	}
	if o.v != "_" {
		lines = append(lines, o.v+" := "+zero)
	}
	if o.ok != "_" {
		lines = append(lines, o.ok+" := false")
	}
	lines = append(lines, o.v+", "+o.ok+" = "+rhs)
	if o.kind != token.PERIOD {
		lines = append(lines, tmpX+" = nil") // a map or channel: let it go
	}
	if _, err := s.evalCtx(ctx, padded(strings.Join(lines, "\n"), line, col)); err != nil {
		return s.evalError(err, rhsPart)
	}
	return nil
}

// chanElem returns a type expression, valid in the interpreter, of the
// element type of the channel held in global name.
func (s *session) chanElem(name string) (string, error) {
	str, ok := s.staticType(name)
	if !ok {
		return "", fmt.Errorf("the interpreter does not tell the channel's type")
	}
	var rt reflect.Type
	if v, ok := s.globals()[name]; ok && v.IsValid() {
		rt = v.Type()
	}
	aliases := map[string]string{}
	src, _, ok := typeSource(str, rt, aliases)
	if !ok {
		return "", fmt.Errorf("its element type %s cannot be written in a cell", str)
	}
	e, err := parseExpr(src)
	if err != nil {
		return "", err
	}
	ct, ok := e.(*ast.ChanType)
	if !ok {
		return "", fmt.Errorf("%s is not a channel", str)
	}
	var b strings.Builder
	if err := printer.Fprint(&b, token.NewFileSet(), ct.Value); err != nil {
		return "", err
	}
	elem := b.String()
	// The helper aliases of typeSource are numbered per call: give each
	// path a name of its own in this interpreter.
	for path, alias := range aliases {
		stable := helperPrefix + "_okp_" + strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return r
			}
			return '_'
		}, path)
		_, _ = s.eval("import " + stable + " " + strconv.Quote(path))
		elem = regexp.MustCompile(`\b`+regexp.QuoteMeta(alias)+`\.`).ReplaceAllString(elem, stable+".")
	}
	return elem, nil
}
