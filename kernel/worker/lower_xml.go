package worker

import (
	"go/ast"
	"go/types"
)

// passRefuseXMLNames refuses encoding/xml's encoding of a value whose XML
// element encoding/xml would name after a type of the cells: xml.Marshal,
// MarshalIndent and (*xml.Encoder).Encode name a value's element after its
// type (<Person> for a main.Person) unless the struct has an XMLName
// field, and yaegi v0.16.1 hands reflect the cells' types without their
// names (a struct type literal, a float64 for `type Celsius float64`), so
// that Marshal failed ("xml: unsupported type: struct {...}") or named
// the element after the underlying type. A value of a cell struct type
// with an XMLName field names its element from that field, as Go does,
// and is let through; so are a type with a MarshalXML method, which
// writes its own element, and EncodeElement, given its element.
func (s *session) passRefuseXMLNames(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || l.err != nil || !l.inCell(n) || len(call.Args) == 0 {
			return l.err == nil
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
	return l.done()
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
