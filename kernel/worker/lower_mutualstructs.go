package worker

import (
	"go/types"
)

// mutualStructHolder reports, for a struct type e of the cells, another
// struct type of the cells that yaegi v0.16.1 builds wrongly together
// with e, or nil: e points to itself (a field *E, []*E) and to l, and l
// holds an e by value (in a field, an array or a nested struct), the
// shape of container/list's Element and List (typeparam/list2.go). yaegi
// builds such types with placeholders for the pointers and then confuses
// them: a pointer field of one gets the other's type (`l.root.next =
// &l.root` panicked "reflect.Set: value of type *struct { Xnext ...} is
// not assignable to type *struct { Xroot ...}", list2.go a nil
// dereference).
//
// Not reported: e pointing to l without a pointer to itself, which
// yaegi builds right; and struct types that only point to each other,
// one of them to itself too (a Person with a boss and a *Dept, a Dept
// with a head *Person), which yaegi builds right or not depending on the
// order of their fields and of the values made (reflect.Set panics where
// it does not), so that no rule refuses only the programs that fail.
func mutualStructHolder(e *types.Named) *types.Named {
	e = e.Origin()
	st, ok := e.Underlying().(*types.Struct)
	if !ok {
		return nil
	}
	self := false
	var targets []*types.Named
	for i := range st.NumFields() {
		for _, n := range pointedNamed(st.Field(i).Type()) {
			if n.Origin() == e {
				self = true
			} else if isCellNamed(n) {
				targets = append(targets, n.Origin())
			}
		}
	}
	if !self {
		return nil
	}
	for _, l := range targets {
		if holdsByValue(l.Underlying(), e, map[types.Type]bool{}) {
			return l
		}
	}
	return nil
}

// pointedNamed lists the named types t points to: through a pointer, or
// an array, slice, map or channel of pointers, not through another named
// type.
func pointedNamed(t types.Type) []*types.Named {
	var out []*types.Named
	var walk func(t types.Type, ptr bool)
	walk = func(t types.Type, ptr bool) {
		switch t := types.Unalias(t).(type) {
		case *types.Named:
			if ptr {
				out = append(out, t)
			}
		case *types.Pointer:
			walk(t.Elem(), true)
		case *types.Array:
			walk(t.Elem(), ptr)
		case *types.Slice:
			walk(t.Elem(), ptr)
		case *types.Map:
			walk(t.Key(), ptr)
			walk(t.Elem(), ptr)
		case *types.Chan:
			walk(t.Elem(), ptr)
		}
	}
	walk(t, false)
	return out
}

// holdsByValue reports whether a value of type t holds a value of e
// (or an instance of it) itself: as a field, an array element, or inside
// a struct it holds so.
func holdsByValue(t types.Type, e *types.Named, seen map[types.Type]bool) bool {
	switch t := types.Unalias(t).(type) {
	case *types.Named:
		if t.Origin() == e {
			return true
		}
		if seen[t] {
			return false
		}
		seen[t] = true
		return holdsByValue(t.Underlying(), e, seen)
	case *types.Array:
		return holdsByValue(t.Elem(), e, seen)
	case *types.Struct:
		for i := range t.NumFields() {
			if holdsByValue(t.Field(i).Type(), e, seen) {
				return true
			}
		}
	}
	return false
}
