package worker

import (
	"cmp"
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"slices"
	"strconv"
	"strings"
)

// lowerer is what the Go 1.26 lowering passes (lower_*.go) share: the
// typed cell, the edits made so far and a counter for fresh names.
type lowerer struct {
	u     *cellUnit
	c     *checked
	edits []edit
	fresh int
	err   error // the first construct that cannot be lowered faithfully
	// onlyTypes, when not nil, limits the cell types a pass may name in
	// code it writes where the cell did not name them (lower-fmt-values'
	// type switches, lower-errors' method calls) to these: code kept as a
	// declaration must not depend on other cells' types (cellTypesFor).
	onlyTypes map[string]bool
	hoisted   map[types.Object]string // hoistedLocals, once computed
}

// newLowerer returns nil when the cell was not type-checked (nothing to
// lower with).
func newLowerer(u *cellUnit) *lowerer {
	c := &u.check
	if c.skipped || c.file == nil || c.info == nil {
		return nil
	}
	return &lowerer{u: u, c: c}
}

// done hands the pass's edits to lower-apply, or its error.
func (l *lowerer) done() error {
	if l.err != nil {
		return l.err
	}
	l.u.pending = append(l.u.pending, l.edits...)
	return nil
}

// inCell reports whether a node lies in the cell's own text (not in the
// scaffolding of the checked file).
func (l *lowerer) inCell(n ast.Node) bool {
	return l.c.isCellPos(n.Pos()) && l.c.isCellPos(n.End())
}

// lineRegion is a span of the checked file from a line directive's end to
// the next one's: its positions are in the file the directive names.
type lineRegion struct {
	start token.Pos
	cell  bool // the directive names the cell
}

// isCellPos reports whether p is a position of the cell's own text, as
// c.fset.Position(p).Filename == "cell" does, without resolving the line
// directives for each position: every pass asks it of most nodes.
func (c *checked) isCellPos(p token.Pos) bool {
	f := c.file
	if p < f.FileStart || p > f.FileEnd {
		return c.fset.Position(p).Filename == "cell"
	}
	if c.regions == nil {
		// The cell file's line directives are comments of its own (parseCell
		// parses with comments); each region's name is read once.
		c.regions = []lineRegion{{start: f.FileStart, cell: c.fset.Position(f.FileStart).Filename == "cell"}}
		for _, g := range f.Comments {
			for _, cm := range g.List {
				start := cm.End() // a /*line*/ directive applies right after it
				if strings.HasPrefix(cm.Text, "//line ") {
					start++ // a //line one from the next line
				} else if !strings.HasPrefix(cm.Text, "/*line ") {
					continue
				}
				c.regions = append(c.regions, lineRegion{start: start, cell: c.fset.Position(start).Filename == "cell"})
			}
		}
	}
	i, found := slices.BinarySearchFunc(c.regions, p, func(r lineRegion, p token.Pos) int { return cmp.Compare(r.start, p) })
	if !found {
		i--
	}
	in := c.regions[i].cell
	if verifyPipeline && in != (c.fset.Position(p).Filename == "cell") {
		panic(fmt.Sprintf("worker: isCellPos(%d) = %v, but its position is %s", p, in, c.fset.Position(p)))
	}
	return in
}

// offset is the byte offset of p in the cell's code.
func (l *lowerer) offset(p token.Pos) int {
	pos := l.c.fset.Position(p)
	return offsetOf(l.u.code, pos.Line, pos.Column)
}

// text is n's source as the cell has it, for an edit's text: a span
// marker that lower-apply replaces by n's source with the other passes'
// edits inside n applied (see applyEdits).
func (l *lowerer) text(n ast.Node) string {
	return spanMarker(l.offset(n.Pos()), l.offset(n.End()))
}

// source is n's source as the cell has it, before the lowering.
func (l *lowerer) source(n ast.Node) string {
	return l.u.code[l.offset(n.Pos()):l.offset(n.End())]
}

// insert puts text at p.
func (l *lowerer) insert(p token.Pos, text string) {
	pos := l.c.fset.Position(p)
	l.edits = append(l.edits, edit{line: pos.Line, col: pos.Column, text: text})
}

// replace puts text in place of n.
func (l *lowerer) replace(n ast.Node, text string) {
	pos := l.c.fset.Position(n.Pos())
	l.edits = append(l.edits, edit{line: pos.Line, col: pos.Column, text: text, del: l.offset(n.End()) - l.offset(n.Pos())})
}

// name is a fresh name for a temporary of the lowering.
func (l *lowerer) name(kind string) string {
	l.fresh++
	return fmt.Sprintf("%s_%s%d", helperPrefix, kind, l.fresh)
}

// fail records that n cannot run faithfully, in the compiler's format.
func (l *lowerer) fail(n ast.Node, format string, args ...any) {
	if l.err != nil {
		return
	}
	pos := l.c.fset.Position(n.Pos())
	msg := fmt.Sprintf("cell:%d:%d: %s", pos.Line, pos.Column, fmt.Sprintf(format, args...))
	l.err = compileError(msg)
}

// compileError is the CompileError of msg, a message in the compiler's
// format ("cell:LINE:COL: ..."), one traceback line per line of msg: what a
// pass that refuses a cell returns.
func compileError(msg string) *cellError {
	return &cellError{EName: "CompileError", EValue: msg, Traceback: strings.Split("CompileError: "+msg, "\n")}
}

// typeString writes t as the cell can spell it: cell types bare, other
// packages' under the name the cell file imports them by; false when a
// package of t is not imported there.
func (l *lowerer) typeString(t types.Type) (string, bool) {
	hoisted := l.hoistedLocals()
	if mentionsCellInstance(t, map[types.Type]bool{}) || len(hoisted) > 0 && mentionsObj(t, hoisted, map[types.Type]bool{}) {
		// Instances of the cells' generic types go by the names
		// lower-generic gives them (Listᐸintᐳ): yaegi sees no List[int].
		// So do the function-local types it moves to the top level
		// (wcᐧ9), whose local declarations it takes out.
		g := &genLowerer{lowerer: l, hoisted: hoisted}
		return g.spell(t, nil, spellKnown)
	}
	ok := true
	s := types.TypeString(t, func(p *types.Package) string {
		if p.Path() == cellPkgPath {
			return ""
		}
		for _, im := range l.c.file.Imports {
			path, _ := strconv.Unquote(im.Path.Value)
			if path != p.Path() {
				continue
			}
			if im.Name != nil {
				if im.Name.Name == "_" || im.Name.Name == "." {
					continue
				}
				return im.Name.Name
			}
			return p.Name()
		}
		ok = false
		return p.Name()
	})
	return s, ok
}

// hoistedLocals are the function-local types of the cell that
// lower-generic moves to the top level (hoist), with their names there:
// those in the type arguments of the cell's instances of generic code, and
// the local types theirs name. Computed once per pass.
func (l *lowerer) hoistedLocals() map[types.Object]string {
	if l.hoisted != nil {
		return l.hoisted
	}
	l.hoisted = map[types.Object]string{}
	var walk func(t types.Type, seen map[types.Type]bool)
	walk = func(t types.Type, seen map[types.Type]bool) {
		if t == nil || seen[t] {
			return
		}
		seen[t] = true
		switch t := types.Unalias(t).(type) {
		case *types.Named:
			obj := t.Obj()
			if obj.Pkg() != nil && obj.Pkg().Path() == cellPkgPath && obj.Parent() != nil && obj.Parent() != obj.Pkg().Scope() {
				if _, done := l.hoisted[obj]; !done {
					l.hoisted[obj] = obj.Name() + localMark + strconv.Itoa(l.c.fset.Position(obj.Pos()).Line)
					walk(t.Underlying(), seen)
				}
			}
			for a := range t.TypeArgs().Types() {
				walk(a, seen)
			}
		case *types.Pointer:
			walk(t.Elem(), seen)
		case *types.Slice:
			walk(t.Elem(), seen)
		case *types.Array:
			walk(t.Elem(), seen)
		case *types.Chan:
			walk(t.Elem(), seen)
		case *types.Map:
			walk(t.Key(), seen)
			walk(t.Elem(), seen)
		case *types.Struct:
			for i := range t.NumFields() {
				walk(t.Field(i).Type(), seen)
			}
		case *types.Signature:
			for v := range t.Params().Variables() {
				walk(v.Type(), seen)
			}
			for v := range t.Results().Variables() {
				walk(v.Type(), seen)
			}
		case *types.Interface:
			for m := range t.Methods() {
				walk(m.Type(), seen)
			}
		}
	}
	for _, inst := range l.c.info.Instances {
		for a := range inst.TypeArgs.Types() {
			walk(a, map[types.Type]bool{})
		}
	}
	return l.hoisted
}

// mentionsObj reports whether t names a type of objs.
func mentionsObj(t types.Type, objs map[types.Object]string, seen map[types.Type]bool) bool {
	if t == nil || seen[t] {
		return false
	}
	seen[t] = true
	switch t := types.Unalias(t).(type) {
	case *types.Named:
		if _, ok := objs[t.Obj()]; ok {
			return true
		}
		for a := range t.TypeArgs().Types() {
			if mentionsObj(a, objs, seen) {
				return true
			}
		}
	case *types.Pointer:
		return mentionsObj(t.Elem(), objs, seen)
	case *types.Slice:
		return mentionsObj(t.Elem(), objs, seen)
	case *types.Array:
		return mentionsObj(t.Elem(), objs, seen)
	case *types.Chan:
		return mentionsObj(t.Elem(), objs, seen)
	case *types.Map:
		return mentionsObj(t.Key(), objs, seen) || mentionsObj(t.Elem(), objs, seen)
	case *types.Struct:
		for i := range t.NumFields() {
			if mentionsObj(t.Field(i).Type(), objs, seen) {
				return true
			}
		}
	case *types.Signature:
		for v := range t.Params().Variables() {
			if mentionsObj(v.Type(), objs, seen) {
				return true
			}
		}
		for v := range t.Results().Variables() {
			if mentionsObj(v.Type(), objs, seen) {
				return true
			}
		}
	case *types.Interface:
		for m := range t.Methods() {
			if mentionsObj(m.Type(), objs, seen) {
				return true
			}
		}
	}
	return false
}

// inCellBody reports whether stack (ast.PreorderStack's) has n directly in
// the function that holds the cell's top-level statements.
func inCellBody(stack []ast.Node) bool {
	for i := len(stack) - 1; i >= 0; i-- {
		switch f := stack[i].(type) {
		case *ast.FuncLit:
			return false
		case *ast.FuncDecl:
			return f.Recv == nil && f.Name.Name == helperPrefix+"_cell"
		}
	}
	return false
}

// fmtOperands returns the operands that fmt prints with its value
// formatting (%v, %s, %q, %x, %X or a Print/Println operand) when call is
// a call of fmt's Print, Sprint, Fprint, Errorf or their ln/f forms with a
// constant format; ok is false for any other call. The lowering passes
// that change how fmt sees a cell type (lower-fmt-methods,
// lower-fmt-containers) rewrite these operands.
func fmtOperands(info *types.Info, call *ast.CallExpr) (operands []ast.Expr, ok bool) {
	if call.Ellipsis.IsValid() {
		return nil, false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return nil, false
	}
	fn, ok := info.Uses[sel.Sel].(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg().Path() != "fmt" {
		return nil, false
	}
	args := call.Args
	var verbs []rune
	switch fn.Name() {
	case "Print", "Println", "Sprint", "Sprintln":
	case "Fprint", "Fprintln":
		args = args[min(1, len(args)):]
	case "Printf", "Sprintf", "Errorf", "Fprintf":
		if fn.Name() == "Fprintf" {
			args = args[min(1, len(args)):]
		}
		if len(args) == 0 {
			return nil, false
		}
		tv := info.Types[args[0]]
		if tv.Value == nil || tv.Value.Kind() != constant.String {
			return nil, false
		}
		if verbs, ok = formatVerbs(constant.StringVal(tv.Value)); !ok {
			return nil, false
		}
		args = args[1:]
	default:
		return nil, false
	}
	for i, a := range args {
		if verbs != nil && (i >= len(verbs) || !strings.ContainsRune("vsqxX", verbs[i])) {
			continue
		}
		operands = append(operands, a)
	}
	return operands, true
}

// mentionsCellInstance reports whether t mentions an instance of a generic
// type the cells declare (List[int], []*Pair[string, P]).
func mentionsCellInstance(t types.Type, seen map[types.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t := types.Unalias(t).(type) {
	case *types.Named:
		if t.TypeArgs().Len() == 0 {
			return false
		}
		if t.Obj().Pkg() != nil && t.Obj().Pkg().Path() == cellPkgPath {
			return true
		}
		for a := range t.TypeArgs().Types() {
			if mentionsCellInstance(a, seen) {
				return true
			}
		}
	case *types.Pointer:
		return mentionsCellInstance(t.Elem(), seen)
	case *types.Slice:
		return mentionsCellInstance(t.Elem(), seen)
	case *types.Array:
		return mentionsCellInstance(t.Elem(), seen)
	case *types.Chan:
		return mentionsCellInstance(t.Elem(), seen)
	case *types.Map:
		return mentionsCellInstance(t.Key(), seen) || mentionsCellInstance(t.Elem(), seen)
	case *types.Struct:
		for i := range t.NumFields() {
			if mentionsCellInstance(t.Field(i).Type(), seen) {
				return true
			}
		}
	case *types.Signature:
		for _, tu := range []*types.Tuple{t.Params(), t.Results()} {
			for i := range tu.Len() {
				if mentionsCellInstance(tu.At(i).Type(), seen) {
					return true
				}
			}
		}
	case *types.Interface:
		for i := range t.NumMethods() {
			if mentionsCellInstance(t.Method(i).Type(), seen) {
				return true
			}
		}
	}
	return false
}

// loweredDecl is the source of declaration it of part p as the lowering
// passes left it, multiple assignments parenthesised: what a rebuild of
// the interpreter replays (the cell's own text would lose the lowering:
// `const (a = string(iota + 'a'); b)` no longer compiled, a function's
// loops lost their per-iteration variables). It is empty where the passes
// removed the declaration (a generic one: its instances are kept instead).
func (u *cellUnit) loweredDecl(p part, it declItem) string {
	if it.node == nil || !u.editedIn(p) {
		return u.ast.parenMultiDecl(it)
	}
	from, to := u.offIn(p, it.node.Pos(), false), u.offIn(p, it.node.End(), true)
	if from < 0 || to > len(p.Src) || from > to {
		return u.ast.parenMultiDecl(it)
	}
	return parenMulti(p.Src[from:to])
}

// cellConcreteTypes returns the named types of the cells (of the session
// and of this cell) that are neither aliases, generic nor interfaces, in
// the order of their names, each with whether l.onlyTypes lets the
// lowering name it (all when onlyTypes is nil).
func (l *lowerer) cellConcreteTypes() (list []*types.Named, allowed []bool) {
	sc := l.c.pkg.Scope()
	for _, n := range sc.Names() {
		tn, ok := sc.Lookup(n).(*types.TypeName)
		if !ok || tn.IsAlias() {
			continue
		}
		named, ok := tn.Type().(*types.Named)
		if !ok || named.TypeParams() != nil || types.IsInterface(named) {
			continue
		}
		list = append(list, named)
		allowed = append(allowed, l.onlyTypes == nil || l.onlyTypes[n])
	}
	return list, allowed
}
