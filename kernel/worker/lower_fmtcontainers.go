package worker

import (
	"go/ast"
	"go/types"
)

// passLowerFmtContainers extends lower-fmt-methods to slices, arrays and
// maps whose elements are cell types with String() string or Error()
// string: yaegi hands fmt their elements as plain structs, so
// fmt.Println(ps) printed [{1 2} {3 4}] where go run prints [(1,2)
// (3,4)]. Such an operand (of Print, Println, Sprint, Sprintln, Fprint,
// Fprintln, or of a %v %s %q %x %X verb of the Printf family) becomes a
// slice (or map with the same keys) of compiled fmt.Stringer or error
// values calling the method, which fmt prints as Go prints the original.
func (s *session) passLowerFmtContainers(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	info := l.c.info
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || !l.inCell(call) {
			return true
		}
		operands, ok := fmtOperands(info, call)
		if !ok {
			return true
		}
		for _, a := range operands {
			if lit, ok := l.containerProxy(info.Types[a].Type); ok {
				l.insert(a.Pos(), lit+"(")
				l.insert(a.End(), ")")
			}
		}
		return true
	})
	return l.done()
}

// containerProxy is the function literal that turns a value of type t (a
// slice, array or map of a cell type with String or Error) into one fmt
// prints as Go would print the original; false for other types.
func (l *lowerer) containerProxy(t types.Type) (string, bool) {
	if t == nil {
		return "", false
	}
	if _, named := t.(*types.Named); named {
		return "", false // a named container may have methods of its own
	}
	var elem, key types.Type
	isMap, isSlice := false, false
	switch c := t.Underlying().(type) {
	case *types.Slice:
		elem, isSlice = c.Elem(), true
	case *types.Array:
		elem = c.Elem()
	case *types.Map:
		elem, key, isMap = c.Elem(), c.Key(), true
	default:
		return "", false
	}
	conv := methodConversion(elem)
	if conv == "" {
		return "", false
	}
	if _, ptr := elem.(*types.Pointer); ptr {
		return "", false // a nil element prints <nil>; left alone
	}
	ts, ok := l.typeString(t)
	if !ok {
		return "", false
	}
	iface := "fmt.Stringer"
	if conv == "Error" {
		iface = "error"
	}
	if !l.fmtImported() && iface == "fmt.Stringer" {
		return "", false
	}
	es, ok := l.typeString(elem)
	if !ok {
		return "", false
	}
	// Each element through a call, so that the method value binds the
	// call's own copy (yaegi shared one variable across iterations).
	h := "func(v " + es + ") " + iface + " { return " + helperPrefix + "_help." + conv + "(v." + conv + ") }"
	if isMap {
		ks, ok := l.typeString(key)
		if !ok {
			return "", false
		}
		return "func(m " + ts + ") map[" + ks + "]" + iface + " { r := make(map[" + ks + "]" + iface + ", len(m)); for k, v := range m { r[k] = " + h + "(v) }; return r }", true
	}
	nilCheck := ""
	if isSlice {
		nilCheck = "if s == nil { return nil }; "
	}
	return "func(s " + ts + ") []" + iface + " { " + nilCheck + "r := make([]" + iface + ", len(s)); for i, v := range s { r[i] = " + h + "(v) }; return r }", true
}

// fmtImported reports whether the cell file imports fmt as fmt.
func (l *lowerer) fmtImported() bool {
	for _, im := range l.c.file.Imports {
		if im.Path.Value == `"fmt"` && (im.Name == nil || im.Name.Name == "fmt") {
			return true
		}
	}
	return false
}
