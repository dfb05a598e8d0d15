package worker

import (
	"go/ast"
	"go/types"
)

// passRefuseTypeNames refuses, before anything runs, what depends on the
// names and identity of the cells' types, which yaegi v0.16.1 does not
// keep: it hands reflect a cell type as its underlying type (a struct type
// literal, a float64 for `type Celsius float64`), so that two cell types
// with one underlying type are one type to it.
//
//   - encoding/xml's encoding of a value whose XML element it would name
//     after a type of the cells: xml.Marshal, MarshalIndent and
//     (*xml.Encoder).Encode name a value's element after its type
//     (<Person> for a main.Person) unless the struct has an XMLName field;
//     Marshal failed ("xml: unsupported type: struct {...}") or named the
//     element after the underlying type. A value of a cell struct type
//     with an XMLName field names its element from that field, as Go
//     does, and is let through; so are a type with a MarshalXML method,
//     which writes its own element, and EncodeElement, given its element.
//
//   - the keys of one map with an interface key type, of two types yaegi
//     holds alike there: two cell types over one type, or a cell type and
//     its underlying type, with methods or without
//     (map[any]int{A{}: 0, B{}: 0} had one key; typeparam/issue46591.go;
//     m[T(1)] and m[1] were one entry),
//     where one cell writes both (a map literal's keys, or index
//     expressions on maps of one type); keys written by different cells
//     are not seen.
//
//   - a switch on an interface with case values of two types yaegi
//     holds alike in an interface (`case F(1.0):` and `case 1.0:`, F a cell
//     type over float64 without methods), and a type switch with cases of
//     two such types, unless the tag's dynamic type is known statically
//     (lower_twintypes.go).
func (s *session) passRefuseTypeNames(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	keys := map[*types.Map][]keyUse{} // by map type: the cell types of index keys
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		if l.err != nil || n == nil || !l.inCell(n) {
			return l.err == nil
		}
		switch x := n.(type) {
		case *ast.CompositeLit:
			l.refuseTwinKeys(x)
			return true
		case *ast.IndexExpr:
			l.noteKey(x, keys)
			return true
		case *ast.SwitchStmt, *ast.TypeSwitchStmt:
			l.refuseTwinCases(x) // lower_twintypes.go
			return true
		}
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
		if !ok {
			return true
		}
		fn, ok := l.c.info.Uses[sel.Sel].(*types.Func)
		if !ok {
			return true
		}
		switch fn.FullName() {
		case "encoding/xml.Marshal", "encoding/xml.MarshalIndent", "(*encoding/xml.Encoder).Encode":
		default:
			return true
		}
		t := l.c.info.Types[call.Args[0]].Type
		if named := xmlNamedElem(t); named != nil {
			l.fail(call, "cannot run faithfully: encoding/xml names the element of a value of type %s after its type, whose name the interpreter does not keep (a struct with an XMLName field, or a MarshalXML method, names it as Go does)", types.TypeString(named, types.RelativeTo(l.c.pkg)))
		}
		return true
	})
	for _, uses := range keys {
		l.refuseTwins(uses)
	}
	return l.done()
}

// keyUse is a key expression of a map with an interface key type, of a
// concrete type.
type keyUse struct {
	at ast.Node
	t  types.Type
}

// keyType is the type a key e of a map with an interface key type has
// there (untyped constants at their default type), or nil for an
// interface or nil key.
func keyType(info *types.Info, e ast.Expr) types.Type {
	tv := info.Types[e]
	if tv.Type == nil || tv.IsNil() || types.IsInterface(tv.Type) || isTypeParam(tv.Type) {
		return nil
	}
	return types.Default(tv.Type)
}

// ifaceKeyMap is the map type of t when its key type is an interface.
func ifaceKeyMap(t types.Type) *types.Map {
	if t == nil {
		return nil
	}
	m, ok := t.Underlying().(*types.Map)
	if !ok || !types.IsInterface(m.Key()) || isTypeParam(m.Key()) {
		return nil
	}
	return m
}

// bareCellType is t when it is a named type of the cells without methods
// (one yaegi holds in an interface as its bare underlying value).
func bareCellType(t types.Type) *types.Named {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || n.Obj().Pkg() == nil || n.Obj().Pkg().Path() != cellPkgPath || types.IsInterface(n) {
		return nil
	}
	if types.NewMethodSet(types.NewPointer(n)).Len() > 0 {
		return nil
	}
	return n
}

// noteKey notes the key of m[k], m a map with an interface key type.
func (l *lowerer) noteKey(x *ast.IndexExpr, keys map[*types.Map][]keyUse) {
	m := ifaceKeyMap(l.c.info.Types[x.X].Type)
	if m == nil {
		return
	}
	if t := keyType(l.c.info, x.Index); t != nil {
		// Map types are compared by identity below: one per
		// spelling is enough for a map the cell indexes.
		for k := range keys {
			if types.Identical(k, m) {
				m = k
				break
			}
		}
		keys[m] = append(keys[m], keyUse{at: x.Index, t: t})
	}
}

// refuseTwinKeys refuses a map literal with an interface key type whose
// keys are of two cell types yaegi does not tell apart.
func (l *lowerer) refuseTwinKeys(x *ast.CompositeLit) {
	if ifaceKeyMap(l.c.info.Types[x].Type) == nil {
		return
	}
	var uses []keyUse
	for _, e := range x.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		if t := keyType(l.c.info, kv.Key); t != nil {
			uses = append(uses, keyUse{at: kv.Key, t: t})
		}
	}
	l.refuseTwins(uses)
}

// refuseTwins fails on the first of uses whose type is another than an
// earlier one's that yaegi holds alike in a map key: a cell type (with
// methods or without: a key is held bare) and its underlying type, or two
// cell types over one type.
func (l *lowerer) refuseTwins(uses []keyUse) {
	for i, a := range uses {
		for _, b := range uses[:i] {
			if (isCellNamed(a.t) || isCellNamed(b.t)) && !types.Identical(a.t, b.t) && types.Identical(heldAsKey(a.t), heldAsKey(b.t)) {
				q := types.RelativeTo(l.c.pkg)
				l.fail(a.at, "cannot run faithfully: values of the types %s and %s as keys of one map with an interface key type: they have the same underlying type, which the interpreter does not tell apart", types.TypeString(b.t, q), types.TypeString(a.t, q))
				return
			}
		}
	}
}

// heldAsKey is the type of the value yaegi holds for a key of type t in
// a map with an interface key type: a cell type's (a generic instance's
// too) underlying type, t otherwise.
func heldAsKey(t types.Type) types.Type {
	if isCellNamed(t) {
		return t.Underlying()
	}
	return t
}

// xmlNamedElem is the cell type after which encoding/xml names the
// element(s) of a value of type t (through pointers, slices and arrays),
// or nil: a named type of the cells, unless a struct with an XMLName
// field.
func xmlNamedElem(t types.Type) *types.Named {
	for depth := 0; t != nil && depth < 20; depth++ {
		switch x := types.Unalias(t).(type) {
		case *types.Pointer:
			t = x.Elem()
			continue
		case *types.Slice:
			if b, ok := x.Elem().Underlying().(*types.Basic); ok && b.Kind() == types.Byte {
				return nil // []byte is character data
			}
			t = x.Elem()
			continue
		case *types.Array:
			t = x.Elem()
			continue
		case *types.Named:
			if x.Obj().Pkg() == nil || x.Obj().Pkg().Path() != cellPkgPath {
				return nil
			}
			if types.NewMethodSet(types.NewPointer(x)).Lookup(x.Obj().Pkg(), "MarshalXML") != nil {
				return nil // it writes its own element
			}
			if st, ok := x.Underlying().(*types.Struct); ok {
				for i := range st.NumFields() {
					if st.Field(i).Name() == "XMLName" {
						return nil
					}
				}
			}
			return x
		}
		return nil
	}
	return nil
}
