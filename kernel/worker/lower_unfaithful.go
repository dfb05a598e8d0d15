package worker

import (
	"go/ast"
	"go/types"
)

// passRefuseUnfaithful refuses, before anything runs, what yaegi v0.16.1
// cannot run as Go does and no rewrite makes faithful: a type that refers
// to itself other than through a struct, that lower-self-types cannot box
// (`type Number *Number`, `type L [][]L`; lower_selftypes.go boxes
// `type F func(string) F`, `type L []L`). yaegi builds its types with
// reflect, which cannot make such a type, and panicked ("interface
// conversion: reflect.Type is nil"). (A defer among a cell's top-level
// statements is lowered: lower_celldefer.go.)
//
// So is a struct type that points to itself and to another struct type
// that holds it by value (container/list's Element and List), which yaegi
// builds wrongly (lower_mutualstructs.go).
//
// Reading an allocation count (runtime.MemStats' Mallocs and Frees,
// testing.AllocsPerRun) is refused: the interpreter allocates where the
// compiler's escape analysis allocates nothing (`newfunc allocated
// unexpectedly`, closure.go). The other statistics (HeapObjects, NumGC,
// Sys) are about what the collector kept or did and are accepted.
//
// runtime.SetFinalizer and runtime.AddCleanup are accepted: yaegi's frames
// and closures can keep the values a cell dropped reachable, so their
// finalizers and cleanups may run late or never, which Go's contract
// allows ("there is no guarantee that finalizers will run"); a program
// that tolerates it runs as under go run.
func (s *session) passRefuseUnfaithful(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.PreorderStack(l.c.file, nil, func(n ast.Node, stack []ast.Node) bool {
		if l.err != nil {
			return false
		}
		if !l.inCell(n) {
			return true
		}
		if x, ok := n.(*ast.SelectorExpr); ok && countsAllocations(l.c.info, x) {
			what := "runtime.MemStats." + x.Sel.Name
			if x.Sel.Name == "AllocsPerRun" {
				what = "testing.AllocsPerRun"
			}
			l.fail(x, "cannot run faithfully: %s counts allocations, and the interpreter allocates where compiled Go does not (closures, call frames, values boxed in interfaces), so the count would not be go run's", what)
			return false
		}
		if x, ok := n.(*ast.TypeSpec); ok {
			tn, ok := l.c.info.Defs[x.Name].(*types.TypeName)
			if !ok {
				return true
			}
			if named, ok := tn.Type().(*types.Named); ok && refersToItself(named, named.Underlying(), map[types.Type]bool{}) && !boxable(named) {
				l.fail(x, "cannot run faithfully: type %s refers to itself other than through a struct (the interpreter cannot build such a type)", tn.Name())
			} else if ok {
				if holder := mutualStructHolder(named); holder != nil { // lower_mutualstructs.go
					l.fail(x, "cannot run faithfully: struct type %[1]s points to itself and to %[2]s, which holds a value of type %[1]s (not through a pointer): the interpreter builds such mutually recursive struct types wrongly (a pointer field of one gets the other's type)", tn.Name(), holder.Obj().Name())
				}
			}
		}
		return true
	})
	return l.done()
}

// refersToItself reports whether t mentions named (or, named being
// generic, an instance of it) other than inside a struct, looking through
// the underlying types of the named types it mentions.
func refersToItself(named *types.Named, t types.Type, seen map[types.Type]bool) bool {
	switch t := t.(type) {
	case *types.Named:
		if t == named || t.Origin() == named {
			return true
		}
		if seen[t] {
			return false
		}
		seen[t] = true
		return refersToItself(named, t.Underlying(), seen)
	case *types.Alias:
		return refersToItself(named, types.Unalias(t), seen)
	case *types.Pointer:
		return refersToItself(named, t.Elem(), seen)
	case *types.Slice:
		return refersToItself(named, t.Elem(), seen)
	case *types.Array:
		return refersToItself(named, t.Elem(), seen)
	case *types.Map:
		return refersToItself(named, t.Key(), seen) || refersToItself(named, t.Elem(), seen)
	case *types.Chan:
		return refersToItself(named, t.Elem(), seen)
	case *types.Signature:
		for _, tup := range []*types.Tuple{t.Params(), t.Results()} {
			for i := range tup.Len() {
				if refersToItself(named, tup.At(i).Type(), seen) {
					return true
				}
			}
		}
	}
	return false
}

// countsAllocations reports whether sel reads an allocation count:
// the Mallocs or Frees field of runtime.MemStats, or testing.AllocsPerRun.
func countsAllocations(info *types.Info, sel *ast.SelectorExpr) bool {
	if sel.Sel.Name == "Mallocs" || sel.Sel.Name == "Frees" {
		recv := info.Types[sel.X].Type
		if p, ok := recv.(*types.Pointer); ok {
			recv = p.Elem()
		}
		named, ok := recv.(*types.Named)
		return ok && named.Obj().Pkg() != nil && named.Obj().Pkg().Path() == "runtime" && named.Obj().Name() == "MemStats"
	}
	fn, ok := info.Uses[sel.Sel].(*types.Func)
	return ok && fn.Pkg() != nil && fn.Pkg().Path() == "testing" && fn.Name() == "AllocsPerRun"
}
