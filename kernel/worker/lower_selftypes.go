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

// passLowerSelfTypes lowers the self-referential function and slice types
// yaegi v0.16.1 cannot build (it makes its types with reflect, which has no
// recursive func or slice type): `type F func(string) F`, `type T []T`.
// The self-reference is boxed in an interface, and the code that moves a
// value through the boxed slot converts it there, so that what the program
// can observe stays Go's:
//
//	type F func(s string) F   =>  type F func(s string) any
//	f("x")                    =>  func(v any) F { x, _ := v.(F); return x }(f("x"))
//	F(a)                      =>  (a func(string) F, wrapped: nil stays a nil F)
//	type T []T                =>  type T []any
//	t[i]                      =>  func(v any) T { x, _ := v.(T); return x }(t[i])
//	ln([]T{})                 =>  ln(T{})  (a literal of the underlying type
//	                                        where a T is wanted)
//
// A value put in a boxed slot is always of the type itself (an untyped nil
// is written F(nil)), so the unboxing assertion yields what Go has there, a
// zero element included. What the boxing cannot keep Go's is refused by
// name, with the refusal of passRefuseUnfaithful: a generic self-referential
// type or one used as a type argument, a self-reference other than a
// direct parameter or result (func) or element (slice), a function with
// several results among which the type, the address of a boxed element,
// ranging over such a slice with a value, and a value of the underlying
// type (`func(string) F`, `[]T`) used where the type is wanted other than
// through a conversion (func) or as a literal (slice).
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
	if !ok || sl.types[n] {
		return
	}
	if n.Origin() != n || n.TypeParams().Len() > 0 {
		return
	}
	if refersToItself(n, n.Underlying(), map[types.Type]bool{}) {
		sl.types[n] = true
	}
}

// boxable reports whether named's self-references are all direct: the
// parameters and results of a signature, the element of a slice.
func boxable(named *types.Named) bool {
	if named.TypeParams().Len() > 0 || named.TypeArgs().Len() > 0 {
		return false
	}
	other := func(t types.Type) bool {
		return t != types.Type(named) && refersToItself(named, t, map[types.Type]bool{})
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
	}
	return false
}

// refusal is the error for a construct lower-self-types cannot keep Go's.
func (sl *selfLowerer) refusal(pos token.Pos, n *types.Named, what string) error {
	p := sl.c.fset.Position(pos)
	msg := fmt.Sprintf("cell:%d:%d: cannot run faithfully: type %s refers to itself other than through a struct, and is %s (the interpreter cannot build such a type; its self-reference is boxed, which keeps Go's meaning only where values move through the box as a direct parameter, result or element)", p.Line, p.Column, n.Obj().Name(), what)
	return &cellError{EName: "CompileError", EValue: msg, Traceback: []string{"CompileError: " + msg}}
}

func (sl *selfLowerer) fail(pos token.Pos, n *types.Named, what string) {
	if sl.err == nil {
		sl.err = sl.refusal(pos, n, what)
	}
}

// boxOf is the self-referential type whose value t is, or nil.
func (sl *selfLowerer) boxOf(t types.Type) *types.Named {
	if n, ok := t.(*types.Named); ok && sl.types[n] {
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
	if _, ok := t.(*types.Named); ok {
		return nil
	}
	for n := range sl.types {
		if types.Identical(t, n.Underlying()) {
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
		name := ub.n.Obj().Name()
		sl.insert(ub.e.Pos(), "func(v any) "+name+" { x, _ := v.("+name+"); return x }(")
		sl.insert(ub.e.End(), ")")
	}
}

// boxIn makes a value put in a boxed slot of n a value of n: an untyped
// nil typed, a literal of the underlying type made one of n.
func (sl *selfLowerer) boxIn(e ast.Expr, n *types.Named) {
	tv := sl.c.info.Types[e]
	if tv.IsNil() {
		sl.insert(e.Pos(), n.Obj().Name()+"(")
		sl.insert(e.End(), ")")
		return
	}
	sl.flowInto(e, n)
}

// flowInto handles a value e going where a value of n is wanted.
func (sl *selfLowerer) flowInto(e ast.Expr, n *types.Named) {
	tv := sl.c.info.Types[e]
	if sl.underOf(tv.Type) != n {
		return
	}
	ue := ast.Unparen(e)
	switch x := ue.(type) {
	case *ast.CompositeLit:
		if x.Type != nil {
			// A fresh value: made one of n, its elements then boxed
			// (those of the underlying type are already flowing into n,
			// see visit).
			sl.replace(x.Type, n.Obj().Name())
			for _, el := range x.Elts {
				if kv, ok := el.(*ast.KeyValueExpr); ok {
					el = kv.Value
				}
				if sl.c.info.Types[el].IsNil() {
					sl.insert(el.Pos(), n.Obj().Name()+"(")
					sl.insert(el.End(), ")")
				}
			}
			return
		}
	}
	if sig, ok := n.Underlying().(*types.Signature); ok {
		if ad, ok := sl.adapter(n, sig, tv.Type); ok {
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
func (sl *selfLowerer) adapter(n *types.Named, sig *types.Signature, u types.Type) (string, bool) {
	us, ok := u.(*types.Signature)
	if !ok {
		return "", false
	}
	ut, ok := sl.typeString(unnamedSignature(us))
	if !ok {
		return "", false
	}
	name := n.Obj().Name()
	var params, args, res []string
	for i := range sig.Params().Len() {
		t := sig.Params().At(i).Type()
		ts, arg := "any", fmt.Sprintf("func() %s { x, _ := p%d.(%s); return x }()", name, i, name)
		if t != types.Type(n) {
			if ts, ok = sl.typeString(t); !ok {
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
		if t != types.Type(n) {
			if ts, ok = sl.typeString(t); !ok {
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
		switch t := ast.Unparen(x.Type).(type) {
		case *ast.FuncType:
			for _, fl := range []*ast.FieldList{t.Params, t.Results} {
				if fl == nil {
					continue
				}
				for _, f := range fl.List {
					if info.Types[f.Type].Type == types.Type(named) {
						sl.replace(f.Type, "any")
					}
				}
			}
		case *ast.ArrayType:
			sl.replace(t.Elt, "any")
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
			if named != nil && pt == types.Type(named) {
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
			if res.At(i).Type() == types.Type(named) {
				if res.Len() > 1 {
					sl.fail(x.Pos(), named, "a result of a function with several results")
					return
				}
				sl.unbox(x, named)
			}
		}
	case *ast.IndexExpr:
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
			}
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
		if x.Value != nil && !isBlank(x.Value) {
			sl.fail(x.Value.Pos(), named, "ranged over with a value")
		}
	case *ast.AssignStmt:
		if len(x.Lhs) != len(x.Rhs) || x.Tok == token.DEFINE {
			return
		}
		for i, lhs := range x.Lhs {
			if named := sl.boxOf(sl.c.info.Types[lhs].Type); named != nil {
				if _, isIndex := lhs.(*ast.IndexExpr); !isIndex {
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
