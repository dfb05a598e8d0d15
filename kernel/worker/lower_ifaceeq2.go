package worker

import (
	"go/types"
	"strings"
)

// ifacesEqual writes the comparison x == y of two interface operands
// (types xt and yt, neither a type parameter nor error, lower-errors'),
// as Go defines it, where a cell type with methods may be the dynamic
// type of both: yaegi v0.16.1 compared its wrappers of such values as
// unequal (`var a, b I = myint(1), myint(1)`; a == b was false, and so
// was the comparison of two copies of one pointer). Each comparable cell
// type with methods (and pointer to one) that implements both interfaces
// is asked for in turn, x asserted to it and, when it holds one, y
// compared as lower-iface-compare compares an interface with a value;
// other dynamic types are compared by yaegi, which compares compiled
// values as Go does:
//
//	a == b  =>  func(x, y I) bool { if v, ok := x.(myint); ok { w, ok := y.(myint); return ok && v == w }; ...; return x == y }(a, b)
//
// only lists the cell types the code may name (lowerer.onlyTypes); false
// when there is none, or a type cannot be spelled.
func (l *lowerer) ifacesEqual(x string, xt types.Type, y string, yt types.Type) (string, bool) {
	if xt == nil || yt == nil || !types.IsInterface(xt) || !types.IsInterface(yt) || isTypeParam(xt) || isTypeParam(yt) {
		return "", false
	}
	errType := types.Universe.Lookup("error").Type()
	if types.Identical(xt, errType) || types.Identical(yt, errType) {
		return "", false
	}
	xi, _ := xt.Underlying().(*types.Interface)
	yi, _ := yt.Underlying().(*types.Interface)
	if xi == nil || yi == nil {
		return "", false
	}
	var cands []string
	list, allowed := l.cellConcreteTypes()
	for i, named := range list {
		if !allowed[i] {
			continue
		}
		for _, t := range []types.Type{named, types.NewPointer(named)} {
			if types.NewMethodSet(t).Len() == 0 || !types.Comparable(t) || !types.Implements(t, xi) || !types.Implements(t, yi) {
				continue
			}
			ts, ok := l.typeString(t)
			if !ok {
				return "", false
			}
			cands = append(cands, ts)
		}
	}
	if len(cands) == 0 {
		return "", false
	}
	xs, ok1 := l.typeString(xt)
	ys, ok2 := l.typeString(yt)
	if !ok1 || !ok2 {
		return "", false
	}
	h := helperPrefix
	a, b, v, w, ok := h+"_ex", h+"_ey", h+"_ev", h+"_ew", h+"_eok"
	var body strings.Builder
	for _, c := range cands {
		body.WriteString("if " + v + ", " + ok + " := " + a + ".(" + c + "); " + ok + " { " + w + ", " + ok + " := " + b + ".(" + c + "); return " + ok + " && " + v + " == " + w + " }; ")
	}
	// Each operand converted to its own type: a call's result passed
	// on lost its dynamic type (see ifaceEqual).
	return "func(" + a + " " + xs + ", " + b + " " + ys + ") bool { " + body.String() + "return " + a + " == " + b + " }((" + xs + ")(" + x + "), (" + ys + ")(" + y + "))", true
}
