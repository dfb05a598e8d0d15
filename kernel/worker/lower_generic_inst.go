package worker

import (
	"fmt"
	"go/ast"
	"go/scanner"
	"go/token"
	"go/types"
	"slices"
	"strconv"
	"strings"
)

// This file is lower-generic's instantiation (see lower_generic.go): the
// generic declarations found, their instances written, types spelled and
// substituted.

// all is every generic declaration found, functions and types first.
func (g *genLowerer) all() []*genDecl {
	var out []*genDecl
	for _, d := range g.funcs {
		out = append(out, d)
	}
	for _, ms := range g.methods {
		out = append(out, ms...)
	}
	return out
}

// index finds the generic declarations of the cell and the session file;
// it returns the cell's nodes yaegi must not see (generic declarations,
// constraint interfaces).
func (g *genLowerer) index() (strip []ast.Node) {
	c := g.c
	cellOff := func(p token.Pos) int { return g.offset(p) }
	sessOff := func(p token.Pos) int { return c.fset.Position(p).Offset }
	for _, f := range []*ast.File{c.file, c.sess} {
		if f == nil {
			continue
		}
		inCell := f == c.file
		src, off := g.sessSrc, sessOff
		if inCell {
			src, off = g.u.code, cellOff
		}
		for _, d := range f.Decls {
			if inCell && !g.inCell(d) {
				continue
			}
			mk := func(obj types.Object, node ast.Node) *genDecl {
				gd := &genDecl{obj: obj, top: d, node: node, src: src, base: off(d.Pos()), off: off, inCell: inCell}
				if !inCell {
					text := src[gd.base:off(d.End())]
					gd.edits = g.s.gen.templates[text]
				}
				return gd
			}
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Type.TypeParams != nil {
					if obj := c.info.Defs[d.Name]; obj != nil {
						g.funcs[obj] = mk(obj, d)
						if inCell {
							strip = append(strip, d)
						}
					}
				} else if d.Recv != nil && recvHasTypeParams(d) {
					if id := recvBase(d); id != nil {
						if obj := c.info.Uses[id]; obj != nil {
							g.methods[obj] = append(g.methods[obj], mk(c.info.Defs[d.Name], d))
						}
					}
					if inCell {
						strip = append(strip, d)
					}
				}
			case *ast.GenDecl:
				if d.Tok != token.TYPE {
					continue
				}
				var specs []ast.Node
				for _, sp := range d.Specs {
					ts := sp.(*ast.TypeSpec)
					obj := c.info.Defs[ts.Name]
					if obj == nil {
						continue
					}
					if ts.TypeParams != nil {
						g.funcs[obj] = mk(obj, ts)
						specs = append(specs, ts)
					} else if it, ok := obj.Type().Underlying().(*types.Interface); ok && !it.IsMethodSet() {
						specs = append(specs, ts) // a constraint: no value has it
					}
				}
				if inCell && len(specs) > 0 {
					if !d.Lparen.IsValid() || len(specs) == len(d.Specs) {
						strip = append(strip, d)
					} else {
						strip = append(strip, specs...)
					}
				}
			}
		}
	}
	return strip
}

// isGenericFunc reports whether fd declares a generic function or a
// method of a generic type: code whose operands' types are known only in
// its instances.
func isGenericFunc(fd *ast.FuncDecl) bool {
	return fd.Type.TypeParams != nil || recvHasTypeParams(fd)
}

// recvHasTypeParams reports whether fd is a method of a generic type
// (its receiver type is written with type parameters).
func recvHasTypeParams(fd *ast.FuncDecl) bool {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return false
	}
	t := ast.Unparen(fd.Recv.List[0].Type)
	if s, ok := t.(*ast.StarExpr); ok {
		t = ast.Unparen(s.X)
	}
	switch t.(type) {
	case *ast.IndexExpr, *ast.IndexListExpr:
		return true
	}
	return false
}

// recvBase is the type name of a method's receiver, or nil.
func recvBase(fd *ast.FuncDecl) *ast.Ident {
	t := ast.Unparen(fd.Recv.List[0].Type)
	if s, ok := t.(*ast.StarExpr); ok {
		t = ast.Unparen(s.X)
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	id, _ := t.(*ast.Ident)
	return id
}

// rewriteCell names the instances in n, the cell's non-generic code.
func (g *genLowerer) rewriteCell(n ast.Node) {
	r := &genRewriter{g: g, src: g.u.code, off: g.offset}
	r.walk(n)
	for _, e := range r.edits {
		line, col := lineColOf(g.u.code, e.start)
		g.edits = append(g.edits, edit{line: line, col: col, text: e.text, del: e.end - e.start})
	}
}

// lineColOf is the line and column (1-based, bytes) of offset off in src.
func lineColOf(src string, off int) (int, int) {
	line := 1 + strings.Count(src[:off], "\n")
	col := off - (strings.LastIndexByte(src[:off], '\n') + 1) + 1
	return line, col
}

// requeue instantiates again an instance that earlier cells' code uses,
// when the cell declares its generic (or a type argument) again.
func (g *genLowerer) requeue(gi genInst) {
	obj := g.c.pkg.Scope().Lookup(gi.origin)
	if obj == nil || g.funcs[obj] == nil {
		return
	}
	var args []types.Type
	for _, a := range gi.args {
		tv, err := types.Eval(g.c.fset, g.c.pkg, token.NoPos, a)
		if err != nil || !tv.IsType() {
			return
		}
		args = append(args, tv.Type)
	}
	g.need(obj, args, nil)
}

// need is the name of the instance of generic obj with args, queued for
// instantiation unless the session has it.
func (g *genLowerer) need(obj types.Object, args []types.Type, at ast.Node) string {
	for _, a := range args {
		if !g.hoistIn(a, at) {
			return obj.Name()
		}
	}
	var disp, cell []string
	for _, a := range args {
		d, ok := g.spell(a, nil, spellDisplay)
		c, ok2 := g.spell(a, nil, spellGo)
		if !ok || !ok2 {
			g.failAt(at, "cannot run faithfully: type argument %s of %s cannot be spelled at the cell's top level", types.TypeString(a, nil), obj.Name())
			return obj.Name()
		}
		disp, cell = append(disp, d), append(cell, c)
	}
	name := genericInstanceName(obj.Name(), disp)
	if g.emitted[name] {
		return name
	}
	for _, d := range g.s.decls {
		if len(d.names) > 0 && d.names[0] == name && !anyKnown(g.redeclared, d.names[1:]) {
			return name
		}
	}
	d := g.funcs[obj]
	if d == nil {
		g.failAt(at, "cannot run faithfully: the declaration of generic %s is not found", obj.Name())
		return name
	}
	if len(g.emitted) >= maxInstances {
		g.failAt(at, "cannot run faithfully: more than %d instances of generic code (an instantiation cycle?)", maxInstances)
		return name
	}
	g.emitted[name] = true
	// The instance goes with its generic; a type argument declared again
	// is the instance's own text replayed (carry.go).
	deps := []string{obj.Name()}
	g.instInfo[name] = genInst{origin: obj.Name(), args: cell}
	g.queue = append(g.queue, pendingInst{name: name, d: d, args: args, deps: deps})
	return name
}

// failAt is fail at n, or at the cell's start.
func (g *genLowerer) failAt(n ast.Node, format string, args ...any) {
	if n == nil || !g.inCell(n) {
		if g.err == nil {
			msg := "cell:1:1: " + fmt.Sprintf(format, args...)
			g.err = compileError(msg)
		}
		return
	}
	g.fail(n, format, args...)
}

// instantiate writes instance p: the declaration with its type parameters
// replaced, and for a type its methods.
func (g *genLowerer) instantiate(p pendingInst) {
	d := p.d
	env := map[*types.TypeParam]types.Type{}
	var tps *types.TypeParamList
	switch o := d.obj.(type) {
	case *types.Func:
		tps = o.Type().(*types.Signature).TypeParams()
	case *types.TypeName:
		if n, ok := o.Type().(*types.Named); ok {
			tps = n.TypeParams()
		} else if a, ok := o.Type().(*types.Alias); ok {
			tps = a.TypeParams()
		}
	}
	if tps == nil || tps.Len() != len(p.args) {
		g.failAt(nil, "cannot run faithfully: instance %s of %s", p.name, d.obj.Name())
		return
	}
	for i := range tps.Len() {
		env[tps.At(i)] = p.args[i]
	}
	var b strings.Builder
	switch n := d.node.(type) {
	case *ast.FuncDecl:
		b.WriteString(g.instanceText(d, env, func(r *genRewriter) {
			r.replace(n.Name, p.name)
			r.replace(n.Type.TypeParams, "")
		}))
	case *ast.TypeSpec:
		b.WriteString(g.instanceText(d, env, func(r *genRewriter) {
			r.replace(n.Name, p.name)
			r.replace(n.TypeParams, "")
		}))
		for _, m := range g.methods[d.obj] {
			// The instance goes with each method of its generic too.
			p.deps = append(p.deps, d.obj.Name()+"."+m.node.(*ast.FuncDecl).Name.Name)
			b.WriteString("\n")
			b.WriteString(g.methodText(m, env, p.args, p.name))
		}
		b.WriteString(g.promotedInstanceMethods(d, p.args, p.name))
	}
	g.out = append(g.out, declEntry{names: append([]string{p.name}, p.deps...), src: "\n" + b.String()})
}

// methodText is method m of generic type instance name (type arguments
// args, env the type's own substitution).
func (g *genLowerer) methodText(m *genDecl, env map[*types.TypeParam]types.Type, args []types.Type, name string) string {
	fd := m.node.(*ast.FuncDecl)
	menv := maps2(env)
	if fn, ok := m.obj.(*types.Func); ok {
		rtps := fn.Type().(*types.Signature).RecvTypeParams()
		for i := range min(rtps.Len(), len(args)) {
			menv[rtps.At(i)] = args[i]
		}
	}
	return g.instanceText(m, menv, func(r *genRewriter) {
		t := fd.Recv.List[0].Type
		if s, ok := ast.Unparen(t).(*ast.StarExpr); ok {
			t = s.X
		}
		r.replace(t, name)
	})
}

// addMethods instantiates, for the instances the session has, the methods
// the cell adds to their generic type (a method new to it): yaegi takes a
// method declared after its type.
func (g *genLowerer) addMethods() {
	known := map[string]bool{}
	for _, d := range g.s.decls {
		for _, n := range d.names {
			known[n] = true
		}
	}
	for obj, ms := range g.methods {
		for _, m := range ms {
			if !m.inCell {
				continue
			}
			mname := obj.Name() + "." + m.node.(*ast.FuncDecl).Name.Name
			if known[mname] {
				continue // a redefinition: its instances are made again
			}
			named, ok := obj.Type().(*types.Named)
			if !ok {
				continue
			}
			for _, d := range g.s.decls {
				if len(d.names) < 2 || d.names[1] != obj.Name() || strings.Contains(d.names[0], ".") || g.emitted[d.names[0]] {
					continue
				}
				gi, ok := g.s.gen.insts[d.names[0]]
				if !ok || len(gi.args) != named.TypeParams().Len() {
					continue
				}
				var args []types.Type
				env := map[*types.TypeParam]types.Type{}
				for i, a := range gi.args {
					tv, err := types.Eval(g.c.fset, g.c.pkg, token.NoPos, a)
					if err != nil || !tv.IsType() {
						args = nil
						break
					}
					args = append(args, tv.Type)
					env[named.TypeParams().At(i)] = tv.Type
				}
				if len(args) != len(gi.args) {
					continue
				}
				g.out = append(g.out, declEntry{names: []string{d.names[0] + "." + m.node.(*ast.FuncDecl).Name.Name, obj.Name(), mname},
					src: "\n" + g.methodText(m, env, args, d.names[0])})
			}
		}
	}
}

func maps2(m map[*types.TypeParam]types.Type) map[*types.TypeParam]types.Type {
	out := make(map[*types.TypeParam]types.Type, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// instanceText is d's top-level declaration with env's substitution, the
// edits pre makes, and d's templates.
func (g *genLowerer) instanceText(d *genDecl, env map[*types.TypeParam]types.Type, pre func(*genRewriter)) string {
	r := &genRewriter{g: g, env: env, src: d.src, off: d.off}
	pre(r)
	r.walk(d.node)
	top := d.src[d.base:d.off(d.top.End())]
	var edits []relEdit
	for _, e := range r.edits {
		edits = append(edits, relEdit{start: e.start - d.base, end: e.end - d.base, text: rebaseSpans(e.text, -d.base), mine: true})
	}
	names := map[string]string{}
	for tp, t := range env {
		if s, ok := g.spell(t, env, spellEmit); ok {
			names[tp.Obj().Name()] = parenType(s)
		}
	}
	for _, e := range d.edits {
		e.text = substNames(g.resolveTypeMarks(d, e.text, env), names)
		edits = append(edits, e)
	}
	if ts, ok := d.node.(*ast.TypeSpec); ok {
		// The spec alone, after "type".
		start := d.off(ts.Pos()) - d.base
		end := d.off(ts.End()) - d.base
		var in []relEdit
		for _, e := range edits {
			if e.start >= start && e.end <= end {
				e.start -= start
				e.end -= start
				e.text = rebaseSpans(e.text, -start)
				in = append(in, e)
			}
		}
		return "type " + applyRel(top[start:end], in)
	}
	return applyRel(top, edits)
}

// applyRel applies edits to src (a declaration's text), as applyEdits
// applies a cell's: an edit inside another's replaced span goes into that
// replacement's copies of the span (its span markers, relative to src), or
// nowhere when the replacement holds none. Where lower-generic and another
// pass replace the same span, lower-generic's edit wins.
func applyRel(src string, edits []relEdit) string {
	var all []offEdit
	for _, e := range edits {
		if e.start < 0 || e.end > len(src) || e.start > e.end {
			continue
		}
		same := false
		for _, o := range edits {
			if !e.mine && o.mine && o.end > o.start && o.start == e.start && o.end == e.end {
				same = true
			}
		}
		if !same {
			all = append(all, offEdit{off: e.start, del: e.end - e.start, text: e.text})
		}
	}
	in := make([]int, len(all))
	for k := range in {
		in[k] = k
	}
	out, _ := renderEdits(src, all, src, 0, in)
	return out
}

// rebaseSpans shifts the offsets of text's span markers by delta: the
// markers of an edit made relative to a declaration (relEdit).
func rebaseSpans(text string, delta int) string {
	return mapSpans(text, func(from, to int) string { return spanMarker(from+delta, to+delta) })
}

// substNames replaces the identifiers of text named in names.
func substNames(text string, names map[string]string) string {
	if len(names) == 0 {
		return text
	}
	var s scanner.Scanner
	fset := token.NewFileSet()
	f := fset.AddFile("", -1, len(text))
	s.Init(f, []byte(text), func(token.Position, string) {}, 0)
	type rep struct {
		off, n int
		text   string
	}
	var reps []rep
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.IDENT {
			if r, ok := names[lit]; ok {
				reps = append(reps, rep{f.Offset(pos), len(lit), r})
			}
		}
	}
	for i := len(reps) - 1; i >= 0; i-- {
		r := reps[i]
		text = text[:r.off] + r.text + text[r.off+r.n:]
	}
	return text
}

// parenType puts a type's spelling in parentheses where it would not
// read as one type in every position (*T, func, chan).
func parenType(s string) string {
	if strings.HasPrefix(s, "*") || strings.HasPrefix(s, "func") || strings.HasPrefix(s, "chan") || strings.HasPrefix(s, "<-") {
		return "(" + s + ")"
	}
	return s
}

// genRewriter collects lower-generic's edits in one piece of code.
type genRewriter struct {
	g       *genLowerer
	env     map[*types.TypeParam]types.Type
	src     string
	off     func(token.Pos) int
	edits   []relEdit
	done    map[ast.Node]bool
	spanned map[ast.Node]bool // statement lists given a span marker (spanStmts)
}

// replace puts text in place of n (nothing when n is nil).
func (r *genRewriter) replace(n ast.Node, text string) {
	if n == nil || isNilNode(n) {
		return
	}
	if r.done == nil {
		r.done = map[ast.Node]bool{}
	}
	r.done[n] = true
	r.edits = append(r.edits, relEdit{start: r.off(n.Pos()), end: r.off(n.End()), text: text})
}

func isNilNode(n ast.Node) bool {
	switch x := n.(type) {
	case *ast.FieldList:
		return x == nil
	case *ast.Ident:
		return x == nil
	}
	return false
}

// span is a span marker for n's text with every edit inside it applied:
// lower-generic's own (n walked first unless walked is set, as its
// enclosing statement was) and the other passes' (the declaration's
// templates), where sub has lower-generic's only.
func (r *genRewriter) span(n ast.Node, walked bool) string {
	if !walked {
		r.walk(n)
	}
	return spanMarker(r.off(n.Pos()), r.off(n.End()))
}

// spanStmts is span for a non-empty statement list, walked once however
// often its marker is written.
func (r *genRewriter) spanStmts(list []ast.Stmt) string {
	if r.spanned == nil {
		r.spanned = map[ast.Node]bool{}
	}
	if !r.spanned[list[0]] {
		r.spanned[list[0]] = true
		for _, st := range list {
			r.walk(st)
		}
	}
	return spanMarker(r.off(list[0].Pos()), r.off(list[len(list)-1].End()))
}

// sub is the text of n with this rewriter's substitution.
func (r *genRewriter) sub(n ast.Node) string {
	s := &genRewriter{g: r.g, env: r.env, src: r.src, off: r.off}
	s.walk(n)
	start := r.off(n.Pos())
	var edits []relEdit
	for _, e := range s.edits {
		edits = append(edits, relEdit{start: e.start - start, end: e.end - start, text: rebaseSpans(e.text, -start), mine: true})
	}
	return applyRel(r.src[start:r.off(n.End())], edits)
}

// cellGeneric is obj's generic declaration when obj is a generic function
// or type of the cells.
func (g *genLowerer) cellGeneric(obj types.Object) bool {
	return obj != nil && obj.Pkg() != nil && obj.Pkg().Path() == cellPkgPath && g.funcs[obj] != nil
}

// walk collects the edits of n.
func (r *genRewriter) walk(root ast.Node) {
	info := r.g.c.info
	ast.Inspect(root, func(n ast.Node) bool {
		if n == nil || r.g.err != nil {
			return false
		}
		if r.done[n] {
			return false
		}
		switch x := n.(type) {
		case *ast.IndexExpr, *ast.IndexListExpr:
			id := genericFuncIdent(x.(ast.Expr))
			if id == nil {
				return true
			}
			if inst, ok := info.Instances[id]; ok && r.g.cellGeneric(info.Uses[id]) {
				r.replace(x, r.instance(info.Uses[id], inst, x))
				return false
			}
		case *ast.Ident:
			obj := info.Uses[x]
			if inst, ok := info.Instances[x]; ok && r.g.cellGeneric(obj) {
				r.replace(x, r.instance(obj, inst, x))
				return false
			}
			if _, ok := info.Instances[x]; ok && obj != nil && obj.Pkg() != nil && obj.Pkg().Path() == cellPkgPath && !r.g.cellGeneric(obj) {
				r.g.failAt(x, "cannot run faithfully: generic %s is declared in a function (only the cells' top-level generic code is instantiated)", x.Name)
				return false
			}
			switch o := obj.(type) {
			case *types.TypeName:
				if tp, ok := o.Type().(*types.TypeParam); ok {
					t, ok := r.env[tp]
					if !ok {
						r.g.failAt(x, "cannot run faithfully: type parameter %s outside its generic code", x.Name)
						return false
					}
					s, ok := r.g.spell(t, r.env, spellEmit)
					if !ok {
						r.g.failAt(x, "cannot run faithfully: type argument %s cannot be spelled", types.TypeString(t, nil))
						return false
					}
					r.replace(x, parenType(s))
				}
			case *types.Var:
				if o.Embedded() && o.IsField() {
					ft := subst(o.Type(), r.env)
					if p, ok := ft.(*types.Pointer); ok {
						ft = p.Elem()
					}
					if nt, ok := types.Unalias(ft).(*types.Named); ok && nt.TypeArgs().Len() > 0 && r.g.cellGeneric(nt.Origin().Obj()) && o.Name() == nt.Obj().Name() {
						if s, ok := r.g.spell(nt, r.env, spellEmit); ok {
							r.replace(x, s)
						}
					}
				}
			}
		case *ast.SelectorExpr:
			// A method expression whose types hold type parameters
			// (lower-method-exprs writes the others).
			if xt := info.Types[x.X]; len(r.env) > 0 && xt.IsType() {
				sig, isSig := info.Types[x].Type.(*types.Signature)
				if _, isFunc := info.Uses[x.Sel].(*types.Func); isFunc && isSig && subst(sig, r.env) != types.Type(sig) {
					text, ok := methodExprText(x.Sel.Name, subst(sig, r.env).(*types.Signature), "", false, func(t types.Type) (string, bool) {
						return r.g.spell(t, r.env, spellEmit)
					})
					if ok {
						r.replace(x, text)
						return false
					}
				}
			}
		case *ast.CallExpr:
			if len(r.env) > 0 {
				if r.constLen(x) {
					return false
				}
				r.printOperands(x)
				r.fmtOperands(x)
			}
		case *ast.SwitchStmt:
			if len(r.env) > 0 && r.dedupCases(x) {
				return false
			}
		case *ast.CompositeLit:
			if len(r.env) > 0 && r.dedupKeys(x) {
				return false
			}
		case *ast.TypeAssertExpr:
			// x.(T) that cannot hold once T is known is no error in
			// generic code (it fails when run); yaegi refuses it.
			if len(r.env) > 0 && x.Type != nil {
				xt, tt := subst(info.Types[x.X].Type, r.env), subst(info.Types[x.Type].Type, r.env)
				if it, ok := xt.Underlying().(*types.Interface); ok && tt != nil && !types.AssertableTo(it, tt) {
					r.edits = append(r.edits, relEdit{start: r.off(x.X.Pos()), end: r.off(x.X.Pos()), text: "any("},
						relEdit{start: r.off(x.X.End()), end: r.off(x.X.End()), text: ")"})
				}
				// x.(T) of an empty interface, T an interface of the
				// cells: as lower-iface-assert writes it.
				if isTypeParam(info.Types[x.Type].Type) && isEmptyInterface(xt) && !isTypeParam(tt) && interpretedIface(tt) {
					if r.g.commaOk == nil {
						r.g.commaOk = commaOkAsserts(r.g.c.file, r.g.c.sess)
					}
					r.edits = append(r.edits, relEdit{start: r.off(x.Pos()), end: r.off(x.End()),
						text: ifaceAssertCall(spanMarker(r.off(x.Type.Pos()), r.off(x.Type.End())), spanMarker(r.off(x.X.Pos()), r.off(x.X.End())), r.g.commaOk[x])})
				}
			}
		case *ast.TypeSwitchStmt:
			if len(r.env) == 0 {
				return true
			}
			if x.Init != nil {
				r.walk(x.Init)
			}
			r.walk(x.Assign)
			if r.ifChain(x) {
				return false
			}
			r.keepCases(r.typeSwitchCases(x))
			return false
		}
		return true
	})
}

// keepCases writes the clauses of a type switch with the cases kept.
func (r *genRewriter) keepCases(cases []typeSwitchCase) {
	for _, c := range cases {
		cc := c.cc
		switch {
		case c.isDefault || len(c.kept) == len(cc.List):
			r.walk(cc)
		case len(c.kept) == 0:
			r.edits = append(r.edits, relEdit{start: r.off(cc.Pos()), end: r.off(cc.End()), text: ""})
		default:
			var parts []string
			for _, e := range c.kept {
				parts = append(parts, r.sub(e))
			}
			r.edits = append(r.edits, relEdit{start: r.off(cc.List[0].Pos()), end: r.off(cc.List[len(cc.List)-1].End()), text: strings.Join(parts, ", ")})
			for _, st := range cc.Body {
				r.walk(st)
			}
		}
	}
}

// typeSwitchCases are the cases of a type switch in generic code that
// remain once its type parameters are replaced: of each clause, the
// types (nil for the nil case) not matched by an earlier clause; the
// default clause has kept nil and isDefault set.
type typeSwitchCase struct {
	cc        *ast.CaseClause
	kept      []ast.Expr
	types     []types.Type
	isDefault bool
}

func (r *genRewriter) typeSwitchCases(x *ast.TypeSwitchStmt) []typeSwitchCase {
	info := r.g.c.info
	var out []typeSwitchCase
	var seen []types.Type
	sawNil := false
	for _, st := range x.Body.List {
		cc := st.(*ast.CaseClause)
		if cc.List == nil {
			out = append(out, typeSwitchCase{cc: cc, isDefault: true})
			continue
		}
		c := typeSwitchCase{cc: cc}
		for _, e := range cc.List {
			tv := info.Types[e]
			if tv.IsNil() {
				if !sawNil {
					c.kept = append(c.kept, e)
					c.types = append(c.types, nil)
				}
				sawNil = true
				continue
			}
			t := subst(tv.Type, r.env)
			if slices.ContainsFunc(seen, func(s types.Type) bool { return types.Identical(s, t) }) {
				continue
			}
			seen = append(seen, t)
			c.kept = append(c.kept, e)
			c.types = append(c.types, t)
		}
		out = append(out, c)
	}
	return out
}

// ifChain rewrites a type switch of generic code that has an interface
// case (or one of an unnamed struct type) into a chain of type
// assertions, in the order of its cases: yaegi tries the concrete cases
// first (f[any](6) with `case T: ... case int:` took the int case). It
// reports whether it did.
func (r *genRewriter) ifChain(x *ast.TypeSwitchStmt) bool {
	cases := r.typeSwitchCases(x)
	chain := false
	for _, c := range cases {
		for _, t := range c.types {
			if t == nil {
				continue
			}
			_, unnamedStruct := types.Unalias(t).(*types.Struct)
			// yaegi's type switch matches no value to a case of an
			// unnamed struct type (its type assertion does).
			if types.IsInterface(t) || unnamedStruct {
				chain = true
			}
		}
	}
	if !chain {
		return false
	}
	var operand ast.Expr
	sym := ""
	switch a := x.Assign.(type) {
	case *ast.ExprStmt:
		operand = ast.Unparen(a.X).(*ast.TypeAssertExpr).X
	case *ast.AssignStmt:
		operand = ast.Unparen(a.Rhs[0]).(*ast.TypeAssertExpr).X
		sym = a.Lhs[0].(*ast.Ident).Name
	default:
		return false
	}
	v := r.g.name("ts")
	// v.(t): where v is an empty interface and t an interface of the
	// cells, as lower-iface-assert writes it (yaegi's own loses it).
	emptySrc := isEmptyInterface(subst(r.g.c.info.Types[operand].Type, r.env))
	assert := func(t types.Type, text string, commaOk bool) string {
		if emptySrc && interpretedIface(t) {
			return ifaceAssertCall(text, v, commaOk)
		}
		return v + ".(" + text + ")"
	}
	var b strings.Builder
	b.WriteString("{ ")
	if x.Init != nil {
		b.WriteString(r.span(x.Init, false) + "; ")
	}
	fmt.Fprintf(&b, "%s := %s; switch { default: ", v, r.span(operand, false))
	body := func(cc *ast.CaseClause, bind string) {
		b.WriteString("{ ")
		if sym != "" && sym != "_" {
			if bind != "" {
				b.WriteString(bind + "; ")
			}
			fmt.Fprintf(&b, "_ = %s\n", sym)
		}
		if len(cc.Body) > 0 {
			b.WriteString(r.spanStmts(cc.Body) + "\n")
		}
		b.WriteString("}")
	}
	var def, nilCase *ast.CaseClause
	for _, c := range cases {
		if c.isDefault {
			def = c.cc
		}
		if slices.Contains(c.types, nil) && !c.isDefault {
			nilCase = c.cc
		}
	}
	// A nil operand matches the nil case only (yaegi's v.(I) panics on
	// it): tested first.
	fmt.Fprintf(&b, "if %s == nil ", v)
	switch {
	case nilCase != nil:
		body(nilCase, sym+" := "+v)
	case def != nil:
		body(def, sym+" := "+v)
	default:
		b.WriteString("{ }")
	}
	first := false
	for _, c := range cases {
		if c.isDefault {
			def = c.cc
			continue
		}
		if len(c.kept) == 0 || len(c.kept) == 1 && c.types[0] == nil {
			continue
		}
		if !first {
			b.WriteString(" else ")
		}
		first = false
		if len(c.kept) == 1 && c.types[0] != nil && !isEmptyInterface(c.types[0]) {
			ok := r.g.name("ok")
			bind := ""
			lhs := "_"
			if sym != "" && sym != "_" {
				lhs = sym
			}
			fmt.Fprintf(&b, "if %s, %s := %s; %s ", lhs, ok, assert(c.types[0], r.sub(c.kept[0]), true), ok)
			body(c.cc, bind)
			continue
		}
		var conds []string
		for i, e := range c.kept {
			if c.types[i] == nil {
				continue // tested first
			}
			if isEmptyInterface(c.types[i]) {
				// yaegi's v.(any) fails on a non-nil value.
				conds = append(conds, v+" != nil")
				continue
			}
			conds = append(conds, fmt.Sprintf("func() bool { _, ok := %s; return ok }()", assert(c.types[i], r.sub(e), true)))
		}
		fmt.Fprintf(&b, "if %s ", strings.Join(conds, " || "))
		body(c.cc, sym+" := "+v)
	}
	if def != nil {
		if !first {
			b.WriteString(" else ")
		}
		body(def, sym+" := "+v)
	}
	b.WriteString(" } }")
	r.edits = append(r.edits, relEdit{start: r.off(x.Pos()), end: r.off(x.End()), text: b.String()})
	return true
}

// instance is the name of the instance an identifier (or f[T]) names.
func (r *genRewriter) instance(obj types.Object, inst types.Instance, at ast.Node) string {
	var args []types.Type
	for a := range inst.TypeArgs.Types() {
		args = append(args, subst(a, r.env))
	}
	return r.g.need(obj, args, at)
}

// spellMode is how spell writes a type.
type spellMode int

const (
	spellEmit    spellMode = iota // for yaegi: instances by their names, packages as the cell imports them
	spellGo                       // Go as the cell would write it (List[int])
	spellDisplay                  // for instance names: package names, instances as List[int]
	// spellKnown is spellEmit for the other passes' text: instances by
	// their names, none queued (their types are the cell's or the
	// session's, so lower-generic makes or has made them).
	spellKnown
)

// spell writes t; false when it cannot be written at the cell's top level
// (a package not imported, an unexported type of another package).
func (g *genLowerer) spell(t types.Type, env map[*types.TypeParam]types.Type, mode spellMode) (string, bool) {
	var b strings.Builder
	ok := true
	var w func(t types.Type, depth int)
	tuple := func(tu *types.Tuple, variadic bool, depth int) {
		b.WriteByte('(')
		for i := range tu.Len() {
			if i > 0 {
				b.WriteString(", ")
			}
			t := tu.At(i).Type()
			if variadic && i == tu.Len()-1 {
				b.WriteString("...")
				if s, isSlice := t.(*types.Slice); isSlice {
					t = s.Elem()
				}
			}
			w(t, depth+1)
		}
		b.WriteByte(')')
	}
	w = func(t types.Type, depth int) {
		if depth > 50 || !ok {
			ok = false
			return
		}
		switch t := t.(type) {
		case *types.Basic:
			if t.Info()&types.IsUntyped != 0 {
				t = types.Default(t).(*types.Basic)
			}
			if t.Kind() == types.UnsafePointer {
				b.WriteString("unsafe.Pointer")
				return
			}
			b.WriteString(t.Name())
		case *types.Pointer:
			b.WriteByte('*')
			w(t.Elem(), depth+1)
		case *types.Slice:
			b.WriteString("[]")
			w(t.Elem(), depth+1)
		case *types.Array:
			fmt.Fprintf(&b, "[%d]", t.Len())
			w(t.Elem(), depth+1)
		case *types.Map:
			b.WriteString("map[")
			w(t.Key(), depth+1)
			b.WriteByte(']')
			w(t.Elem(), depth+1)
		case *types.Chan:
			switch t.Dir() {
			case types.SendRecv:
				b.WriteString("chan ")
				if c, isChan := t.Elem().(*types.Chan); isChan && c.Dir() == types.RecvOnly {
					b.WriteByte('(')
					w(t.Elem(), depth+1)
					b.WriteByte(')')
					return
				}
			case types.SendOnly:
				b.WriteString("chan<- ")
			case types.RecvOnly:
				b.WriteString("<-chan ")
			}
			w(t.Elem(), depth+1)
		case *types.Signature:
			b.WriteString("func")
			tuple(t.Params(), t.Variadic(), depth)
			switch t.Results().Len() {
			case 0:
			case 1:
				b.WriteByte(' ')
				w(t.Results().At(0).Type(), depth+1)
			default:
				b.WriteByte(' ')
				tuple(t.Results(), false, depth)
			}
		case *types.Struct:
			b.WriteString("struct{")
			for i := range t.NumFields() {
				if i > 0 {
					b.WriteString("; ")
				}
				f := t.Field(i)
				if !f.Embedded() {
					b.WriteString(f.Name() + " ")
				}
				w(f.Type(), depth+1)
				if tag := t.Tag(i); tag != "" {
					b.WriteString(" " + strconv.Quote(tag))
				}
			}
			b.WriteByte('}')
		case *types.Interface:
			if t.Empty() {
				b.WriteString("interface{}")
				return
			}
			b.WriteString("interface{")
			first := true
			sep := func() {
				if !first {
					b.WriteString("; ")
				}
				first = false
			}
			for i := range t.NumEmbeddeds() {
				sep()
				w(t.EmbeddedType(i), depth+1)
			}
			for i := range t.NumExplicitMethods() {
				sep()
				m := t.ExplicitMethod(i)
				b.WriteString(m.Name())
				sig := m.Type().(*types.Signature)
				s, sok := g.spell(types.NewSignatureType(nil, nil, nil, sig.Params(), sig.Results(), sig.Variadic()), env, mode)
				if !sok {
					ok = false
				}
				b.WriteString(strings.TrimPrefix(s, "func"))
			}
			b.WriteByte('}')
		case *types.Union:
			for i := range t.Len() {
				if i > 0 {
					b.WriteString(" | ")
				}
				if t.Term(i).Tilde() {
					b.WriteByte('~')
				}
				w(t.Term(i).Type(), depth+1)
			}
		case *types.Alias:
			if t.Obj().Pkg() == nil && t.Obj().Name() == "any" {
				b.WriteString("any")
				return
			}
			w(types.Unalias(t), depth+1)
		case *types.TypeParam:
			if a, found := env[t]; found {
				w(a, depth+1)
				return
			}
			ok = false
		case *types.Named:
			obj := t.Obj()
			if obj.Pkg() == nil { // error, comparable
				b.WriteString(obj.Name())
				return
			}
			if obj.Pkg().Path() == cellPkgPath {
				if t.TypeArgs().Len() > 0 {
					var args []types.Type
					for a := range t.TypeArgs().Types() {
						args = append(args, subst(a, env))
					}
					if mode == spellEmit {
						b.WriteString(g.need(t.Origin().Obj(), args, nil))
						return
					}
					if mode == spellKnown {
						var disp []string
						for _, a := range args {
							d, dok := g.spell(a, nil, spellDisplay)
							if !dok {
								ok = false
								return
							}
							disp = append(disp, d)
						}
						b.WriteString(genericInstanceName(t.Origin().Obj().Name(), disp))
						return
					}
					b.WriteString(obj.Name() + "[")
					for i, a := range args {
						if i > 0 {
							b.WriteString(", ")
						}
						w(a, depth+1)
					}
					b.WriteByte(']')
					return
				}
				if obj.Parent() != nil && obj.Parent() != obj.Pkg().Scope() {
					// A function's own type: hoisted (see hoist), or
					// one of the generic code being instantiated.
					switch h, found := g.hoisted[obj]; {
					case mode == spellDisplay:
						b.WriteString(obj.Name() + localMark + strconv.Itoa(g.c.fset.Position(obj.Pos()).Line))
					case found:
						b.WriteString(h)
					case mode == spellEmit || mode == spellKnown:
						b.WriteString(obj.Name())
					default:
						ok = false
					}
					return
				}
				b.WriteString(obj.Name())
				return
			}
			if !obj.Exported() {
				ok = false
				return
			}
			if mode == spellDisplay {
				b.WriteString(obj.Pkg().Name())
			} else {
				q, found := g.importName(obj.Pkg())
				if !found {
					ok = false
					return
				}
				b.WriteString(q)
			}
			b.WriteString("." + obj.Name())
			if t.TypeArgs().Len() > 0 {
				b.WriteByte('[')
				for i := range t.TypeArgs().Len() {
					if i > 0 {
						b.WriteString(", ")
					}
					w(subst(t.TypeArgs().At(i), env), depth+1)
				}
				b.WriteByte(']')
			}
		default:
			ok = false
		}
	}
	w(t, 0)
	return b.String(), ok
}

// importName is the name the cell's file imports p by.
func (g *genLowerer) importName(p *types.Package) (string, bool) {
	for _, f := range []*ast.File{g.c.file, g.c.sess} {
		if f == nil {
			continue
		}
		for _, im := range f.Imports {
			path, _ := strconv.Unquote(im.Path.Value)
			if path != p.Path() {
				continue
			}
			if im.Name != nil {
				if im.Name.Name == "_" || im.Name.Name == "." {
					continue
				}
				return im.Name.Name, true
			}
			return p.Name(), true
		}
	}
	return "", false
}

// subst is t with the type parameters of env replaced.
func subst(t types.Type, env map[*types.TypeParam]types.Type) types.Type {
	if len(env) == 0 || t == nil {
		return t
	}
	return substDepth(t, env, 0)
}

func substDepth(t types.Type, env map[*types.TypeParam]types.Type, depth int) types.Type {
	if depth > 50 {
		return t
	}
	s := func(t types.Type) types.Type { return substDepth(t, env, depth+1) }
	tuple := func(tu *types.Tuple) *types.Tuple {
		if tu == nil {
			return nil
		}
		vars := make([]*types.Var, tu.Len())
		for i := range tu.Len() {
			v := tu.At(i)
			vars[i] = types.NewParam(v.Pos(), v.Pkg(), v.Name(), s(v.Type()))
		}
		return types.NewTuple(vars...)
	}
	switch t := t.(type) {
	case *types.TypeParam:
		if a, ok := env[t]; ok {
			return a
		}
		return t
	case *types.Pointer:
		return types.NewPointer(s(t.Elem()))
	case *types.Slice:
		return types.NewSlice(s(t.Elem()))
	case *types.Array:
		return types.NewArray(s(t.Elem()), t.Len())
	case *types.Map:
		return types.NewMap(s(t.Key()), s(t.Elem()))
	case *types.Chan:
		return types.NewChan(t.Dir(), s(t.Elem()))
	case *types.Signature:
		return types.NewSignatureType(nil, nil, nil, tuple(t.Params()), tuple(t.Results()), t.Variadic())
	case *types.Tuple:
		return tuple(t)
	case *types.Struct:
		fields := make([]*types.Var, t.NumFields())
		tags := make([]string, t.NumFields())
		for i := range t.NumFields() {
			f := t.Field(i)
			fields[i] = types.NewField(f.Pos(), f.Pkg(), f.Name(), s(f.Type()), f.Embedded())
			tags[i] = t.Tag(i)
		}
		return types.NewStruct(fields, tags)
	case *types.Interface:
		if t.NumExplicitMethods() == 0 && t.NumEmbeddeds() == 0 {
			return t
		}
		var ms []*types.Func
		for i := range t.NumExplicitMethods() {
			m := t.ExplicitMethod(i)
			ms = append(ms, types.NewFunc(m.Pos(), m.Pkg(), m.Name(), s(m.Type()).(*types.Signature)))
		}
		var emb []types.Type
		for i := range t.NumEmbeddeds() {
			emb = append(emb, s(t.EmbeddedType(i)))
		}
		return types.NewInterfaceType(ms, emb).Complete()
	case *types.Union:
		terms := make([]*types.Term, t.Len())
		for i := range t.Len() {
			terms[i] = types.NewTerm(t.Term(i).Tilde(), s(t.Term(i).Type()))
		}
		return types.NewUnion(terms)
	case *types.Alias:
		return s(types.Unalias(t))
	case *types.Named:
		if t.TypeArgs().Len() == 0 {
			return t
		}
		args := make([]types.Type, t.TypeArgs().Len())
		changed := false
		for i := range t.TypeArgs().Len() {
			args[i] = s(t.TypeArgs().At(i))
			if args[i] != t.TypeArgs().At(i) {
				changed = true
			}
		}
		if !changed {
			return t
		}
		n, err := types.Instantiate(nil, t.Origin(), args, false)
		if err != nil {
			return t
		}
		return n
	}
	return t
}

func isEmptyInterface(t types.Type) bool {
	it, ok := t.Underlying().(*types.Interface)
	return ok && it.Empty()
}

// localMark joins a type declared in a function to the line of its
// declaration in the name of its top-level copy (see hoist): large
// declared on line 73 is largeᐧ73.
const localMark = "ᐧ" // U+1427 CANADIAN SYLLABICS FINAL MIDDLE DOT

// hoistIn hoists the cell's function-local types in t (see hoist); false
// (and the lowering's error) when one cannot be.
func (g *genLowerer) hoistIn(t types.Type, at ast.Node) bool {
	ok := true
	var walk func(t types.Type, depth int)
	walk = func(t types.Type, depth int) {
		if depth > 20 || !ok {
			return
		}
		switch t := t.(type) {
		case *types.Named:
			obj := t.Obj()
			if obj.Pkg() != nil && obj.Pkg().Path() == cellPkgPath && obj.Parent() != nil && obj.Parent() != obj.Pkg().Scope() {
				if _, done := g.hoisted[obj]; !done && !g.hoist(obj) {
					g.failAt(at, "cannot run faithfully: type argument %s is declared in a function and cannot be moved to the cell's top level", obj.Name())
					ok = false
					return
				}
			}
			for a := range t.TypeArgs().Types() {
				walk(a, depth+1)
			}
		case *types.Alias:
			walk(types.Unalias(t), depth+1)
		case *types.Pointer:
			walk(t.Elem(), depth+1)
		case *types.Slice:
			walk(t.Elem(), depth+1)
		case *types.Array:
			walk(t.Elem(), depth+1)
		case *types.Chan:
			walk(t.Elem(), depth+1)
		case *types.Map:
			walk(t.Key(), depth+1)
			walk(t.Elem(), depth+1)
		case *types.Signature:
			for v := range t.Params().Variables() {
				walk(v.Type(), depth+1)
			}
			for v := range t.Results().Variables() {
				walk(v.Type(), depth+1)
			}
		case *types.Struct:
			for v := range t.Fields() {
				walk(v.Type(), depth+1)
			}
		}
	}
	walk(t, 0)
	return ok
}

// hoist moves a type declared in a function of the cell (not generic
// code) to the top level, where instances of generic code can name it:
// the top-level copy is named after it (localMark) and the local
// declaration becomes an alias of it (`type large = largeᐧ73`), the same
// type. A local type that uses other local names (constants, variables)
// stays; false.
func (g *genLowerer) hoist(tn *types.TypeName) bool {
	var spec *ast.TypeSpec
	var fn *ast.FuncDecl
	for _, d := range g.c.file.Decls {
		fd, isFunc := d.(*ast.FuncDecl)
		if !isFunc || fd.Body == nil {
			continue
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			if ts, isSpec := n.(*ast.TypeSpec); isSpec && g.c.info.Defs[ts.Name] == tn {
				spec, fn = ts, fd
			}
			return spec == nil
		})
		if spec != nil {
			break
		}
	}
	if spec == nil || !g.inCell(spec) || spec.TypeParams != nil || spec.Assign.IsValid() || isGenericFunc(fn) {
		return false
	}
	name := tn.Name() + localMark + strconv.Itoa(g.c.fset.Position(tn.Pos()).Line)
	if g.hoisted == nil {
		g.hoisted = map[types.Object]string{}
	}
	g.hoisted[tn] = name
	r := &genRewriter{g: g, src: g.u.code, off: g.offset}
	ok := true
	pkgScope := g.c.pkg.Scope()
	ast.Inspect(spec.Type, func(n ast.Node) bool {
		id, isIdent := n.(*ast.Ident)
		if !isIdent || !ok {
			return ok
		}
		obj := g.c.info.Uses[id]
		if obj == nil || obj.Parent() == nil || obj.Parent() == pkgScope || obj.Parent() == types.Universe || isFileScope(obj.Parent()) {
			return true
		}
		if _, isField := obj.(*types.Var); isField && obj.(*types.Var).IsField() {
			return true
		}
		other, isType := obj.(*types.TypeName)
		if !isType {
			ok = false
			return false
		}
		if _, done := g.hoisted[other]; !done && !g.hoist(other) {
			ok = false
			return false
		}
		r.replace(id, g.hoisted[other])
		return true
	})
	if !ok {
		delete(g.hoisted, tn)
		return false
	}
	r.walk(spec.Type)
	start := r.off(spec.Type.Pos())
	var edits []relEdit
	for _, e := range r.edits {
		edits = append(edits, relEdit{start: e.start - start, end: e.end - start, text: e.text, mine: true})
	}
	text := applyRel(g.u.code[start:r.off(spec.Type.End())], edits)
	g.hoistOut = append(g.hoistOut, declEntry{names: []string{name}, src: "\ntype " + name + " " + text})
	g.hoistSpecs[tn] = spec
	return true
}

// unhoist takes the hoisted types' local declarations out of the cell and
// names their top-level copies where the cell names them (yaegi has no
// local aliases).
func (g *genLowerer) unhoist() {
	if len(g.hoisted) == 0 {
		return
	}
	var stmts []ast.Node
	for tn, spec := range g.hoistSpecs {
		var decl ast.Node
		ast.Inspect(g.c.file, func(n ast.Node) bool {
			if ds, ok := n.(*ast.DeclStmt); ok {
				if gd := ds.Decl.(*ast.GenDecl); len(gd.Specs) == 1 && gd.Specs[0] == spec {
					decl = ds
				}
			}
			return decl == nil
		})
		if decl == nil {
			g.failAt(spec, "cannot run faithfully: type %s, declared in a group in a function, as a type argument", tn.Name())
			return
		}
		stmts = append(stmts, decl)
		text := g.source(decl)
		g.replace(decl, strings.Repeat("\n", strings.Count(text, "\n")))
	}
	inside := func(off int) bool {
		for _, e := range g.edits {
			s := offsetOf(g.u.code, e.line, e.col)
			if e.del > 0 && off >= s && off < s+e.del {
				return true
			}
		}
		return false
	}
	var reps []edit
	ast.Inspect(g.c.file, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok || !g.inCell(id) {
			return true
		}
		tn, ok := g.c.info.Uses[id].(*types.TypeName)
		if !ok {
			return true
		}
		if name, found := g.hoisted[tn]; found && !inside(g.offset(id.Pos())) {
			pos := g.c.fset.Position(id.Pos())
			reps = append(reps, edit{line: pos.Line, col: pos.Column, text: name, del: len(id.Name)})
		}
		return true
	})
	g.edits = append(g.edits, reps...)
}

// isFileScope reports whether s is a file's scope (its imports).
func isFileScope(s *types.Scope) bool {
	return s.Parent() != nil && s.Parent().Parent() == types.Universe
}

// constKey identifies a constant case value or map key of generic code
// once its type parameters are replaced (T(0) with T int is int(0)).
func (r *genRewriter) constKey(e ast.Expr) (string, bool) {
	info := r.g.c.info
	tv := info.Types[e]
	if tv.Value != nil {
		ts, ok := r.g.spell(subst(tv.Type, r.env), r.env, spellGo)
		return ts + ":" + tv.Value.ExactString(), ok
	}
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok || len(call.Args) != 1 || !info.Types[call.Fun].IsType() {
		return "", false
	}
	av := info.Types[call.Args[0]].Value
	if av == nil {
		return "", false
	}
	ts, ok := r.g.spell(subst(info.Types[call.Fun].Type, r.env), r.env, spellGo)
	return ts + ":" + av.ExactString(), ok
}

// dedupCases drops the constant case values of a switch of generic code
// that an earlier case has once the type parameters are replaced (Go
// allows them there; the first matching case wins). It reports whether
// it rewrote the switch (then its parts are walked).
func (r *genRewriter) dedupCases(x *ast.SwitchStmt) bool {
	seen := map[string]bool{}
	type clause struct {
		cc   *ast.CaseClause
		kept []ast.Expr
	}
	var cs []clause
	dup := false
	for _, st := range x.Body.List {
		cc := st.(*ast.CaseClause)
		c := clause{cc: cc}
		for _, e := range cc.List {
			if k, ok := r.constKey(e); ok {
				if seen[k] {
					dup = true
					continue
				}
				seen[k] = true
			}
			c.kept = append(c.kept, e)
		}
		cs = append(cs, c)
	}
	if !dup {
		return false
	}
	if x.Init != nil {
		r.walk(x.Init)
	}
	if x.Tag != nil {
		r.walk(x.Tag)
	}
	for _, c := range cs {
		switch {
		case len(c.kept) == len(c.cc.List):
			r.walk(c.cc)
		case len(c.kept) == 0:
			r.edits = append(r.edits, relEdit{start: r.off(c.cc.Pos()), end: r.off(c.cc.End()), text: ""})
		default:
			var parts []string
			for _, e := range c.kept {
				parts = append(parts, r.sub(e))
			}
			r.edits = append(r.edits, relEdit{start: r.off(c.cc.List[0].Pos()), end: r.off(c.cc.List[len(c.cc.List)-1].End()), text: strings.Join(parts, ", ")})
			for _, st := range c.cc.Body {
				r.walk(st)
			}
		}
	}
	return true
}

// dedupKeys drops the elements of a map literal of generic code whose
// constant key a later element has once the type parameters are replaced
// (the later one is the map's), when their value has no effect.
func (r *genRewriter) dedupKeys(x *ast.CompositeLit) bool {
	info := r.g.c.info
	if _, ok := subst(info.Types[x].Type, r.env).Underlying().(*types.Map); !ok || len(x.Elts) < 2 {
		return false
	}
	last := map[string]int{}
	keys := make([]string, len(x.Elts))
	for i, e := range x.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok {
			return false
		}
		if k, ok := r.constKey(kv.Key); ok {
			keys[i] = k
			last[k] = i
		}
	}
	var kept []string
	dropped := false
	for i, e := range x.Elts {
		kv := e.(*ast.KeyValueExpr)
		if keys[i] != "" && last[keys[i]] != i && info.Types[kv.Value].Value != nil {
			dropped = true
			continue
		}
		kept = append(kept, r.sub(e))
	}
	if !dropped {
		return false
	}
	if x.Type != nil {
		r.walk(x.Type)
	}
	r.edits = append(r.edits, relEdit{start: r.off(x.Elts[0].Pos()), end: r.off(x.Elts[len(x.Elts)-1].End()), text: strings.Join(kept, ", ")})
	return true
}

// fmtOperands makes fmt print an operand of a type parameter's type as
// go run prints its type argument, through lower-fmt-values' stand-in
// (lower_fmtvalues.go) where the instance's type is or holds a cell type.
func (r *genRewriter) fmtOperands(call *ast.CallExpr) {
	info := r.g.c.info
	operands, ok := fmtOperands(info, call)
	if !ok {
		return
	}
	for _, a := range operands {
		t := info.Types[a].Type
		if _, isTP := t.(*types.TypeParam); !isTP {
			continue
		}
		st := subst(t, r.env)
		if !r.g.fmtInvolvesCell(st) {
			continue
		}
		pre, ok := r.g.fmtConverter(a, st)
		if !ok {
			return
		}
		r.edits = append(r.edits, relEdit{start: r.off(a.Pos()), end: r.off(a.Pos()), text: pre},
			relEdit{start: r.off(a.End()), end: r.off(a.End()), text: ")"})
	}
}

// constLen writes len(a) and cap(a) of generic code as the constant they
// are in an instance where a is an array or a pointer to one (Go does
// not evaluate a then, nor dereference the pointer; yaegi's len of a nil
// *[16]byte panicked), when a holds no call or receive (which Go would
// evaluate). It reports whether it did.
func (r *genRewriter) constLen(call *ast.CallExpr) bool {
	info := r.g.c.info
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok || len(call.Args) != 1 {
		return false
	}
	if b, ok := info.Uses[id].(*types.Builtin); !ok || b.Name() != "len" && b.Name() != "cap" {
		return false
	}
	if info.Types[call].Value != nil {
		return false // constant in the generic code already
	}
	t := subst(info.Types[call.Args[0]].Type, r.env).Underlying()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem().Underlying()
	}
	arr, ok := t.(*types.Array)
	if !ok {
		return false
	}
	pure := true
	ast.Inspect(call.Args[0], func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.CallExpr:
			if !info.Types[x.Fun].IsType() {
				pure = false
			}
		case *ast.UnaryExpr:
			if x.Op == token.ARROW {
				pure = false
			}
		}
		return pure
	})
	if !pure {
		return false
	}
	r.replace(call, "int("+strconv.FormatInt(arr.Len(), 10)+")")
	return true
}

// printOperands lowers print and println of generic code with an operand
// of a type parameter's type, which lower-print leaves (it cannot tell
// how the runtime prints it), as lower-print does once the type is known.
func (r *genRewriter) printOperands(call *ast.CallExpr) {
	info := r.g.c.info
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok {
		return
	}
	b, ok := info.Uses[id].(*types.Builtin)
	if !ok || b.Name() != "print" && b.Name() != "println" {
		return
	}
	tp := false
	var kinds []byte
	for _, a := range call.Args {
		t := info.Types[a].Type
		if _, ok := t.(*types.Tuple); ok {
			return
		}
		if isTypeParam(t) {
			tp = true
		}
		k := printKind(subst(t, r.env))
		if k == 0 || k == '?' {
			return
		}
		kinds = append(kinds, k)
	}
	if !tp {
		return // lower-print's
	}
	r.replace(call.Fun, helperPrefix+"_help.Print")
	r.edits = append(r.edits, relEdit{start: r.off(call.Lparen + 1), end: r.off(call.Lparen + 1), text: strconv.Quote(string(kinds)) + ", " + strconv.FormatBool(b.Name() == "println") + ", "})
}
