package worker

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strconv"
	"strings"
)

// passLowerSelfTypes lowers the self-referential function, slice and
// channel types yaegi v0.16.1 cannot build (it makes its types with
// reflect, which has no recursive func, slice or chan type):
// `type F func(string) F`, `type T []T`, `type C[T any] chan C[T]`. The
// self-reference is boxed in an interface, and the code that moves a value
// through the boxed slot converts it there, so that what the program can
// observe stays Go's:
//
//	type F func(s string) F   =>  type F func(s string) any
//	f("x")                    =>  func(v any) F { x, _ := v.(F); return x }(f("x"))
//	F(a)                      =>  (a func(string) F, wrapped: nil stays a nil F)
//	type T []T                =>  type T []any
//	t[i]                      =>  func(v any) T { x, _ := v.(T); return x }(t[i])
//	ln([]T{})                 =>  ln(T{})  (a literal of the underlying type
//	                                        where a T is wanted)
//	<-c, c <- nil             =>  (unboxed), c <- C(nil)
//
// A value put in a boxed slot is always of the type itself (an untyped nil
// is written F(nil), an element literal of elided type gets its type), so
// the unboxing assertion yields what Go has there, a zero element
// included; fmt prints such a slice as Go does (selfNode). In a generic
// declaration the types are written as type marks that lower-generic
// spells in each instance (resolveTypeMarks).
//
// What the boxing cannot keep Go's is refused by name: a self-referential
// type used as a type argument (the generic code would move its values
// through the box unconverted), a self-reference other than a direct
// parameter or result (func) or element (slice, chan), a pointer type
// (`type P *P`: the box would not alias), a function with several results
// among which the type, the address of a boxed element, ranging over such
// a slice or channel with a value, a receive of one in a select or with
// comma-ok, and a value of the underlying type (`func(string) F`, `[]T`)
// used where the type is wanted other than through a conversion or
// assignment (func) or as a fresh literal or make (slice, chan).
func (s *session) passLowerSelfTypes(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	sl := &selfLowerer{lowerer: l, types: map[*types.Named]bool{}}
	// The self-referential types the cell declares or uses.
	for _, tv := range l.c.info.Types {
		sl.note(tv.Type)
	}
	for _, obj := range l.c.info.Defs {
		if obj != nil {
			sl.note(obj.Type())
		}
	}
	if len(sl.types) == 0 {
		return nil
	}
	for _, inst := range l.c.info.Instances {
		for a := range inst.TypeArgs.Types() {
			for n := range sl.types {
				if refersToItself(n, a, map[types.Type]bool{}) {
					sl.refuse = n
				}
			}
		}
	}
	if sl.refuse != nil {
		return sl.refusal(sl.refuse.Obj().Pos(), sl.refuse, "used as a type argument")
	}
	ast.PreorderStack(l.c.file, nil, func(n ast.Node, stack []ast.Node) bool {
		if l.err != nil {
			return false
		}
		if !l.inCell(n) {
			return true
		}
		sl.visit(n, stack)
		return true
	})
	sl.writeUnboxes()
	return l.done()
}

// selfLowerer is one run of lower-self-types.
type selfLowerer struct {
	*lowerer
	types  map[*types.Named]bool // the boxable self-referential types
	refuse *types.Named
	// unboxes are the reads of boxed slots, written at the end
	unboxes []unboxAt
}

// note records t when it is a self-referential named type.
func (sl *selfLowerer) note(t types.Type) {
	n, ok := t.(*types.Named)
	if !ok {
		return
	}
	n = n.Origin()
	if sl.types[n] {
		return
	}
	if refersToItself(n, n.Underlying(), map[types.Type]bool{}) {
		sl.types[n] = true
	}
}

// boxable reports whether named's self-references are all direct: the
// parameters and results of a signature, the element of a slice.
func boxable(named *types.Named) bool {
	named = named.Origin()
	other := func(t types.Type) bool {
		return !isSelf(t, named) && refersToItself(named, t, map[types.Type]bool{})
	}
	switch u := named.Underlying().(type) {
	case *types.Signature:
		if u.Recv() != nil || u.TypeParams().Len() > 0 {
			return false
		}
		if u.Variadic() && refersToItself(named, u.Params().At(u.Params().Len()-1).Type(), map[types.Type]bool{}) {
			return false
		}
		for _, tup := range []*types.Tuple{u.Params(), u.Results()} {
			for v := range tup.Variables() {
				if other(v.Type()) {
					return false
				}
			}
		}
		return true
	case *types.Slice:
		return !other(u.Elem())
	case *types.Chan:
		return !other(u.Elem())
	}
	return false
}

// isSelf reports whether t is named (or, named being generic, an instance
// of it: inside its own declaration, with its type parameters).
func isSelf(t types.Type, named *types.Named) bool {
	n, ok := t.(*types.Named)
	return ok && n.Origin() == named.Origin()
}

// spell writes t for code at node at: as the cell can spell it, or, t
// involving type parameters (code inside a generic declaration, which
// lower-generic instantiates), as a type mark: its Go spelling inside the
// declaration, which lower-generic writes as the instance's type
// (resolveTypeMarks).
func (sl *selfLowerer) spell(t types.Type, at ast.Node) (string, bool) {
	if !mentionsTypeParam(t) {
		return sl.typeString(t)
	}
	ok := true
	s := types.TypeString(t, func(p *types.Package) string {
		if p.Path() == cellPkgPath {
			return ""
		}
		for _, im := range sl.c.file.Imports {
			if path, _ := strconv.Unquote(im.Path.Value); path == p.Path() && im.Name == nil {
				return p.Name()
			}
		}
		ok = false
		return p.Name()
	})
	return typeMarkSep + s + typeMarkSep, ok
}

// typeMarkSep delimits a type mark in an edit's text.
const typeMarkSep = "\x01"

// resolveTypeMarks writes the type marks of text, an edit of generic
// declaration d, as their types' spelling in the instance of substitution
// env: each is evaluated in d's scope (where its type parameters are).
func (g *genLowerer) resolveTypeMarks(d *genDecl, text string, env map[*types.TypeParam]types.Type) string {
	if !strings.Contains(text, typeMarkSep) {
		return text
	}
	pos := d.node.Pos()
	switch n := d.node.(type) {
	case *ast.FuncDecl:
		if n.Body != nil {
			pos = n.Body.Lbrace + 1
		}
	case *ast.TypeSpec:
		pos = n.Type.Pos()
	}
	parts := strings.Split(text, typeMarkSep)
	for i := 1; i < len(parts); i += 2 {
		tv, err := types.Eval(g.c.fset, g.c.pkg, pos, parts[i])
		var s string
		ok := err == nil && tv.IsType()
		if ok {
			s, ok = g.spell(tv.Type, env, spellEmit)
		}
		if !ok {
			g.failAt(nil, "cannot run faithfully: type %s in an instance of %s", parts[i], d.obj.Name())
		}
		parts[i] = s
	}
	return strings.Join(parts, "")
}

// name2 spells t for code at node at, or records that it cannot.
func (sl *selfLowerer) name2(t types.Type, at ast.Node) string {
	s, ok := sl.spell(t, at)
	if !ok {
		sl.lowerer.fail(at, "cannot run faithfully: type %s cannot be spelled where a self-referential type is boxed", types.TypeString(t, types.RelativeTo(sl.c.pkg)))
	}
	return s
}

// name spells n for code at node at, or records that it cannot.
func (sl *selfLowerer) name(n *types.Named, at ast.Node) string {
	s, ok := sl.spell(n, at)
	if !ok {
		sl.fail(at.Pos(), n, "used inside generic code where its spelling is not at hand")
	}
	return s
}

// refusal is the error for a construct lower-self-types cannot keep Go's.
func (sl *selfLowerer) refusal(pos token.Pos, n *types.Named, what string) error {
	p := sl.c.fset.Position(pos)
	msg := fmt.Sprintf("cell:%d:%d: cannot run faithfully: type %s refers to itself other than through a struct, and is %s (the interpreter cannot build such a type; its self-reference is boxed, which keeps Go's meaning only where values move through the box as a direct parameter, result or element)", p.Line, p.Column, n.Obj().Name(), what)
	return compileError(msg)
}

func (sl *selfLowerer) fail(pos token.Pos, n *types.Named, what string) {
	if sl.err == nil {
		sl.err = sl.refusal(pos, n, what)
	}
}

// boxOf is the self-referential type whose value t is, or nil.
func (sl *selfLowerer) boxOf(t types.Type) *types.Named {
	if n, ok := t.(*types.Named); ok && sl.types[n.Origin()] {
		return n
	}
	return nil
}

// underOf is the self-referential type whose underlying type t is (a
// value of the unnamed type, such as func(string) F or []T), or nil.
func (sl *selfLowerer) underOf(t types.Type) *types.Named {
	if t == nil {
		return nil
	}
	var slots []types.Type // where the type would be
	switch u := t.(type) {
	case *types.Slice:
		slots = append(slots, u.Elem())
	case *types.Chan:
		slots = append(slots, u.Elem())
	case *types.Signature:
		for _, tup := range []*types.Tuple{u.Params(), u.Results()} {
			for v := range tup.Variables() {
				slots = append(slots, v.Type())
			}
		}
	}
	for _, st := range slots {
		if n := sl.boxOf(st); n != nil && types.Identical(t, n.Underlying()) {
			return n
		}
	}
	return nil
}

// unbox writes the read of a boxed slot e as a value of n.
func (sl *selfLowerer) unbox(e ast.Expr, n *types.Named) {
	sl.unboxes = append(sl.unboxes, unboxAt{e, n})
}

// unboxAt is a read of a boxed slot.
type unboxAt struct {
	e ast.Expr
	n *types.Named
}

// writeUnboxes records the reads' edits: of those starting at one
// position, the innermost first (an insertion recorded later goes before
// one recorded earlier at the same position).
func (sl *selfLowerer) writeUnboxes() {
	slices.SortStableFunc(sl.unboxes, func(a, b unboxAt) int {
		if a.e.Pos() != b.e.Pos() {
			return int(a.e.Pos() - b.e.Pos())
		}
		return int(a.e.End() - b.e.End())
	})
	for _, ub := range sl.unboxes {
		name := sl.name(ub.n, ub.e)
		sl.insert(ub.e.Pos(), "func(v any) "+name+" { x, _ := v.("+name+"); return x }(")
		sl.insert(ub.e.End(), ")")
	}
	// An unboxed value that is a statement of its own (`f(1)(2)`) is
	// assigned to the blank identifier: as an expression statement of
	// a cell, yaegi evaluated the call again in every later cell.
	// (Recorded last: it goes before the unboxes at its position.)
	stmts := map[ast.Expr]ast.Expr{} // by the statement's unparenthesised expression
	ast.Inspect(sl.c.file, func(n ast.Node) bool {
		if es, ok := n.(*ast.ExprStmt); ok {
			stmts[ast.Unparen(es.X)] = es.X
		}
		return true
	})
	done := map[ast.Expr]bool{}
	for _, ub := range sl.unboxes {
		if x, ok := stmts[ub.e]; ok && !done[ub.e] {
			done[ub.e] = true
			sl.insert(x.Pos(), "_ = ")
		}
	}
}

// boxIn makes a value put in a boxed slot of n a value of n: an untyped
// nil typed, a literal of the underlying type made one of n.
func (sl *selfLowerer) boxIn(e ast.Expr, n *types.Named) {
	if cl, ok := e.(*ast.CompositeLit); ok && cl.Type == nil {
		// An element's literal of elided type: the box's type is any.
		sl.insert(e.Pos(), sl.name(n, e))
		return
	}
	tv := sl.c.info.Types[e]
	if tv.IsNil() {
		sl.insert(e.Pos(), sl.name(n, e)+"(")
		sl.insert(e.End(), ")")
		return
	}
	sl.flowInto(e, n)
}

// flowInto handles a value e going where a value of n is wanted.
func (sl *selfLowerer) flowInto(e ast.Expr, n *types.Named) {
	tv := sl.c.info.Types[e]
	if un := sl.underOf(tv.Type); un == nil || !isSelf(un, n) {
		return
	}
	ue := ast.Unparen(e)
	switch x := ue.(type) {
	case *ast.CallExpr:
		// make(chan C) where a C is wanted: made a C.
		if b, ok := sl.c.info.Uses[calleeIdent(x.Fun)].(*types.Builtin); ok && b.Name() == "make" && len(x.Args) > 0 {
			sl.replace(x.Args[0], sl.name(n, x))
			return
		}
	case *ast.CompositeLit:
		if x.Type != nil {
			// A fresh value: made one of n, its elements then boxed
			// (those of the underlying type are already flowing into n,
			// see visit).
			sl.replace(x.Type, sl.name(n, x))
			for _, el := range x.Elts {
				if kv, ok := el.(*ast.KeyValueExpr); ok {
					el = kv.Value
				}
				if sl.c.info.Types[el].IsNil() {
					sl.insert(el.Pos(), sl.name(n, x)+"(")
					sl.insert(el.End(), ")")
				} else if cl, ok := el.(*ast.CompositeLit); ok && cl.Type == nil {
					sl.insert(el.Pos(), sl.name(n, x))
				}
			}
			return
		}
	}
	if sig, ok := n.Underlying().(*types.Signature); ok {
		if ad, ok := sl.adapter(n, sig, tv.Type, e); ok {
			sl.insert(e.Pos(), ad+"(")
			sl.insert(e.End(), ")")
			return
		}
	}
	sl.fail(e.Pos(), n, "used through a value of its underlying type ("+types.TypeString(tv.Type, types.RelativeTo(n.Obj().Pkg()))+")")
}

// adapter is a function converting a value of u (the unnamed signature
// identical to n's underlying) to n: nil stays nil, a function is called
// through a function of n's boxed signature.
func (sl *selfLowerer) adapter(n *types.Named, sig *types.Signature, u types.Type, at ast.Node) (string, bool) {
	us, ok := u.(*types.Signature)
	if !ok {
		return "", false
	}
	ut, ok := sl.spell(unnamedSignature(us), at)
	if !ok {
		if ut, ok = sl.spell(us, at); !ok {
			return "", false
		}
	}
	name, ok := sl.spell(n, at)
	if !ok {
		return "", false
	}
	var params, args, res []string
	for i := range sig.Params().Len() {
		t := sig.Params().At(i).Type()
		ts, arg := "any", fmt.Sprintf("func() %s { x, _ := p%d.(%s); return x }()", name, i, name)
		if !isSelf(t, n) {
			if ts, ok = sl.spell(t, at); !ok {
				return "", false
			}
			arg = fmt.Sprintf("p%d", i)
		}
		if sig.Variadic() && i == sig.Params().Len()-1 {
			ts = "..." + strings.TrimPrefix(ts, "[]")
			arg += "..."
		}
		params = append(params, fmt.Sprintf("p%d %s", i, ts))
		args = append(args, arg)
	}
	for i := range sig.Results().Len() {
		t := sig.Results().At(i).Type()
		ts := "any"
		if !isSelf(t, n) {
			if ts, ok = sl.spell(t, at); !ok {
				return "", false
			}
		}
		res = append(res, ts)
	}
	body := "f(" + strings.Join(args, ", ") + ")"
	if len(res) > 0 {
		body = "return " + body
	}
	rs := strings.Join(res, ", ")
	if len(res) > 1 {
		rs = "(" + rs + ")"
	}
	return fmt.Sprintf("func(f %s) %s { if f == nil { return nil }; return func(%s) %s { %s } }", ut, name, strings.Join(params, ", "), rs, body), true
}

// visit lowers one node.
func (sl *selfLowerer) visit(n ast.Node, stack []ast.Node) {
	info := sl.c.info
	switch x := n.(type) {
	case *ast.TypeSpec:
		named := sl.boxOf(typeOfDef(info, x.Name))
		if named == nil {
			return
		}
		if !boxable(named) {
			sl.fail(x.Pos(), named, "not boxable (a self-reference nested in another type, a generic type)")
			return
		}
		// The whole type expression is written again (lower-generic
		// replaces the self-references of a generic type by its instance
		// names, and its edit of a span wins over another pass's).
		switch t := ast.Unparen(x.Type).(type) {
		case *ast.FuncType:
			fields := func(fl *ast.FieldList) []string {
				var out []string
				for _, f := range fl.List {
					var names []string
					for _, n := range f.Names {
						names = append(names, n.Name)
					}
					ts := sl.text(f.Type)
					if ft := info.Types[f.Type].Type; isSelf(ft, named) {
						ts = "any"
					} else if mentionsTypeParam(ft) {
						// (lower-generic's edits inside it would not
						// come into this one's text)
						if el, variadic := f.Type.(*ast.Ellipsis); variadic {
							ts = "..." + sl.name2(info.Types[el.Elt].Type, f.Type)
						} else {
							ts = sl.name2(ft, f.Type)
						}
					}
					if len(names) > 0 {
						ts = strings.Join(names, ", ") + " " + ts
					}
					out = append(out, ts)
				}
				return out
			}
			text := "func(" + strings.Join(fields(t.Params), ", ") + ")"
			if t.Results != nil && len(t.Results.List) > 0 {
				res := fields(t.Results)
				if len(res) == 1 && len(t.Results.List[0].Names) == 0 {
					text += " " + res[0]
				} else {
					text += " (" + strings.Join(res, ", ") + ")"
				}
			}
			sl.replace(x.Type, text)
		case *ast.ArrayType:
			sl.replace(x.Type, "[]any")
		case *ast.ChanType:
			dir := "chan "
			switch t.Dir {
			case ast.SEND:
				dir = "chan<- "
			case ast.RECV:
				dir = "<-chan "
			}
			sl.replace(x.Type, dir+"any")
		default:
			sl.fail(x.Pos(), named, "declared through another type's name")
		}
	case *ast.CallExpr:
		ft := info.Types[x.Fun]
		if ft.IsType() {
			// A conversion to n of a value of its underlying type.
			if named := sl.boxOf(ft.Type); named != nil && len(x.Args) == 1 {
				sl.flowInto(x.Args[0], named)
			}
			return
		}
		if b, ok := info.Uses[calleeIdent(x.Fun)].(*types.Builtin); ok && b.Name() == "append" && len(x.Args) > 0 {
			named := sl.boxOf(info.Types[x.Args[0]].Type)
			if named == nil {
				// append(s, f) of a slice of the type ([]F): a value of
				// the underlying type is converted.
				if st, ok := types.Unalias(info.Types[x.Args[0]].Type).(*types.Slice); ok && !x.Ellipsis.IsValid() {
					if en := sl.boxOf(st.Elem()); en != nil {
						for _, a := range x.Args[1:] {
							sl.flowInto(a, en)
						}
					}
				}
				return
			}
			if _, ok := named.Underlying().(*types.Slice); !ok {
				return
			}
			if x.Ellipsis.IsValid() {
				if len(x.Args) == 2 && sl.underOf(info.Types[x.Args[1]].Type) == named {
					sl.fail(x.Args[1].Pos(), named, "appended from a slice of its underlying type")
				}
				return
			}
			for _, a := range x.Args[1:] {
				sl.boxIn(a, named)
			}
			return
		}
		sig, _ := ft.Type.Underlying().(*types.Signature)
		if sig == nil {
			return
		}
		// Arguments: to a boxed parameter, typed; of the underlying type
		// where n is wanted, converted.
		named := sl.boxOf(ft.Type)
		params := sig.Params()
		for i, a := range x.Args {
			var pt types.Type
			switch {
			case sig.Variadic() && i >= params.Len()-1 && !x.Ellipsis.IsValid():
				pt = params.At(params.Len() - 1).Type().(*types.Slice).Elem()
			case i < params.Len():
				pt = params.At(i).Type()
			}
			if pt == nil {
				continue
			}
			if named != nil && isSelf(pt, named) {
				sl.boxIn(a, named)
			} else if pn := sl.boxOf(pt); pn != nil {
				sl.flowInto(a, pn)
			}
		}
		if named == nil {
			return
		}
		res := sig.Results()
		for i := range res.Len() {
			if isSelf(res.At(i).Type(), named) {
				if res.Len() > 1 {
					sl.fail(x.Pos(), named, "a result of a function with several results")
					return
				}
				sl.unbox(x, named)
			}
		}
	case *ast.IndexExpr:
		if !info.Types[x].IsValue() {
			return // an instance's name (Tree[T])
		}
		named := sl.boxOf(sl.c.info.Types[x.X].Type)
		if named == nil {
			return
		}
		if _, ok := named.Underlying().(*types.Slice); !ok {
			return
		}
		parent := stack[len(stack)-1]
		switch p := parent.(type) {
		case *ast.UnaryExpr:
			if p.Op == token.AND {
				sl.fail(x.Pos(), named, "an element whose address is taken")
				return
			}
		case *ast.AssignStmt:
			for i, lhs := range p.Lhs {
				if lhs == x {
					if len(p.Lhs) == len(p.Rhs) {
						if p.Tok == token.ASSIGN {
							sl.boxIn(p.Rhs[i], named)
						}
						return
					}
					sl.fail(x.Pos(), named, "an element assigned several values at once")
					return
				}
			}
		case *ast.IncDecStmt:
			return
		case *ast.RangeStmt:
			if p.Key == x || p.Value == x {
				sl.fail(x.Pos(), named, "an element assigned by range")
				return
			}
		}
		sl.unbox(x, named)
	case *ast.CompositeLit:
		named := sl.boxOf(sl.c.info.Types[x].Type)
		if named == nil {
			// A literal of the underlying type: its elements are of the
			// type.
			if un := sl.underOf(sl.c.info.Types[x].Type); un != nil {
				if _, ok := un.Underlying().(*types.Slice); ok {
					for _, e := range x.Elts {
						if kv, ok := e.(*ast.KeyValueExpr); ok {
							e = kv.Value
						}
						sl.flowInto(e, un)
					}
				}
				return
			}
			sl.literalSlots(x)
			return
		}
		if _, ok := named.Underlying().(*types.Slice); !ok {
			return
		}
		for _, e := range x.Elts {
			if kv, ok := e.(*ast.KeyValueExpr); ok {
				e = kv.Value
			}
			sl.boxIn(e, named)
		}
	case *ast.RangeStmt:
		named := sl.boxOf(sl.c.info.Types[x.X].Type)
		if named == nil {
			return
		}
		if _, isChan := named.Underlying().(*types.Chan); isChan && x.Key != nil && !isBlank(x.Key) {
			sl.fail(x.Key.Pos(), named, "ranged over with a value")
		}
		if x.Value != nil && !isBlank(x.Value) {
			sl.fail(x.Value.Pos(), named, "ranged over with a value")
		}
	case *ast.UnaryExpr:
		if x.Op != token.ARROW {
			return
		}
		named := sl.boxOf(sl.c.info.Types[x.X].Type)
		if named == nil {
			return
		}
		// In a select's case or a comma-ok receive, the receive cannot
		// be wrapped.
		for i := len(stack) - 1; i >= 0; i-- {
			switch p := stack[i].(type) {
			case *ast.CommClause:
				if p.Comm != nil && p.Comm.Pos() <= x.Pos() && x.End() <= p.Comm.End() {
					sl.fail(x.Pos(), named, "received in a select")
					return
				}
			case *ast.AssignStmt:
				if len(p.Rhs) == 1 && len(p.Lhs) == 2 && ast.Unparen(p.Rhs[0]) == x {
					sl.fail(x.Pos(), named, "received with comma-ok")
					return
				}
			case *ast.ValueSpec:
				if len(p.Values) == 1 && len(p.Names) == 2 && ast.Unparen(p.Values[0]) == x {
					sl.fail(x.Pos(), named, "received with comma-ok")
					return
				}
			}
		}
		sl.unbox(x, named)
	case *ast.SendStmt:
		if named := sl.boxOf(sl.c.info.Types[x.Chan].Type); named != nil {
			sl.boxIn(x.Value, named)
		} else if ct, ok := sl.c.info.Types[x.Chan].Type.Underlying().(*types.Chan); ok {
			// A send on a channel of the type (chan F).
			if en := sl.boxOf(ct.Elem()); en != nil {
				sl.flowInto(x.Value, en)
			}
		}
	case *ast.AssignStmt:
		if len(x.Lhs) != len(x.Rhs) || x.Tok == token.DEFINE {
			return
		}
		for i, lhs := range x.Lhs {
			if named := sl.boxOf(sl.c.info.Types[lhs].Type); named != nil {
				// An element of a boxed slice is the IndexExpr case's;
				// one of a map or slice of the type (m[k] = f, with m a
				// map[K]F) is a slot of the type.
				if ix, isIndex := ast.Unparen(lhs).(*ast.IndexExpr); !isIndex || !sl.boxedSlice(ix.X) {
					sl.flowInto(x.Rhs[i], named)
				}
			}
		}
	case *ast.ValueSpec:
		if x.Type == nil {
			return
		}
		if named := sl.boxOf(sl.c.info.Types[x.Type].Type); named != nil {
			for _, v := range x.Values {
				sl.flowInto(v, named)
			}
		}
	case *ast.ReturnStmt:
		sig := enclosingSig(sl.c.info, stack)
		if sig == nil || sig.Results().Len() != len(x.Results) {
			return
		}
		for i, r := range x.Results {
			if named := sl.boxOf(sig.Results().At(i).Type()); named != nil {
				sl.flowInto(r, named)
			}
		}
	}
}

// boxedSlice reports whether x is a value of a boxed self-referential
// slice type (its elements are boxed slots).
func (sl *selfLowerer) boxedSlice(x ast.Expr) bool {
	named := sl.boxOf(sl.c.info.Types[x].Type)
	if named == nil {
		return false
	}
	_, ok := named.Underlying().(*types.Slice)
	return ok
}

// literalSlots converts, in the composite literal x of a struct, map,
// slice or array type that is not a boxed type, each element (field, map
// key or value) of the underlying type of a self-referential type whose
// slot is of that type (H{f: g} with the field f an F and g a
// func(int) F): yaegi refused it ("cannot use type func(int) main.F as
// type main.F in struct literal").
func (sl *selfLowerer) literalSlots(x *ast.CompositeLit) {
	lt := sl.c.info.Types[x].Type
	if lt == nil {
		return
	}
	flow := func(e ast.Expr, slot types.Type) {
		if n := sl.boxOf(slot); n != nil {
			sl.flowInto(e, n)
		}
	}
	switch u := lt.Underlying().(type) {
	case *types.Struct:
		for i, e := range x.Elts {
			if kv, ok := e.(*ast.KeyValueExpr); ok {
				if id, ok := kv.Key.(*ast.Ident); ok {
					if f, ok := sl.c.info.Uses[id].(*types.Var); ok {
						flow(kv.Value, f.Type())
					}
				}
				continue
			}
			if i < u.NumFields() {
				flow(e, u.Field(i).Type())
			}
		}
	case *types.Map:
		for _, e := range x.Elts {
			if kv, ok := e.(*ast.KeyValueExpr); ok {
				flow(kv.Key, u.Key())
				flow(kv.Value, u.Elem())
			}
		}
	case *types.Slice, *types.Array:
		elem := u.(interface{ Elem() types.Type }).Elem()
		for _, e := range x.Elts {
			if kv, ok := e.(*ast.KeyValueExpr); ok {
				e = kv.Value
			}
			flow(e, elem)
		}
	}
}

// typeOfDef is the type an identifier declares, or nil.
func typeOfDef(info *types.Info, id *ast.Ident) types.Type {
	if obj := info.Defs[id]; obj != nil {
		return obj.Type()
	}
	return nil
}

// calleeIdent is the identifier a call's function is, or nil.
func calleeIdent(fun ast.Expr) *ast.Ident {
	id, _ := ast.Unparen(fun).(*ast.Ident)
	return id
}

// isBlank reports whether e is the blank identifier.
func isBlank(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "_"
}

// selfNode is the stand-in lower-fmt-values prints for x, a value of n
// when n is a self-referential slice type that lower-self-types boxes:
// its elements are read out of the box (the underlying type's closure
// would take a []T, which the boxed T is not).
func (g *fmtGen) selfNode(n *types.Named) (string, bool) {
	st, ok := n.Underlying().(*types.Slice)
	if !ok || !refersToItself(n, st, map[types.Type]bool{}) || !boxable(n) {
		return "", false
	}
	ts, ok := g.l.typeString(n)
	if !ok {
		return "", false
	}
	return "func() any { r := make([]any, len(x)); for i := range x { y, _ := x[i].(" + ts + "); r[i] = " + g.part(n, "y") + " }; return " +
		helperPrefix + "_help.FmtSeq(" + strconv.Quote(goTypeName(st)) + ", false, x == nil, r) }()", true
}
