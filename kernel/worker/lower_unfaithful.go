package worker

import (
	"go/ast"
	"go/types"
	"strings"
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
// A text/template or html/template executed with data whose static type
// reaches a cell type with a String, Error or Format method (through
// pointers, slices, arrays, maps and exported fields; methodsReached) is
// refused: the template gets yaegi's underlying value, without the
// methods, so that {{.}} of a String method's type printed the bare value.
// Other methods are not asked for: {{.Method}} of a value without them
// fails with the template's own error.
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
		if x, ok := n.(*ast.CallExpr); ok {
			if what, data := templateExec(l.c.info, x); data != nil {
				if t, m := methodsReached(l.c.info.TypeOf(data), false, map[types.Type]bool{}); t != nil {
					l.fail(data, "cannot run faithfully: %s executed with a value of the cell type %s, whose methods (%s) a template does not see when it prints the value (the interpreter hands it the value without them); give the template the strings it prints", what, types.TypeString(t, types.RelativeTo(l.c.pkg)), m)
					return false
				}
			}
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

// templateExec returns the data argument of call when it calls Execute or
// ExecuteTemplate of text/template's or html/template's Template, and the
// package's path.
func templateExec(info *types.Info, call *ast.CallExpr) (string, ast.Expr) {
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok || (sel.Sel.Name != "Execute" && sel.Sel.Name != "ExecuteTemplate") || len(call.Args) < 2 {
		return "", nil
	}
	fn, ok := info.Uses[sel.Sel].(*types.Func)
	if !ok || fn.Pkg() == nil || (fn.Pkg().Path() != "text/template" && fn.Pkg().Path() != "html/template") {
		return "", nil
	}
	return fn.Pkg().Path(), call.Args[len(call.Args)-1]
}

// methodsReached returns a cell type whose String, Error or Format
// method a template would call when it prints a value of type t, or a
// value t reaches through pointers, slices, arrays, maps and exported
// fields (viaPtr: t is addressable there, reached through a pointer or a
// slice, where a template takes the pointer's methods too), with those
// methods' names; nil when none. Other
// methods are not asked for: {{.Method}} of a value without them fails
// with the template's own error.
func methodsReached(t types.Type, viaPtr bool, seen map[types.Type]bool) (types.Type, string) {
	if t == nil || seen[t] {
		return nil, ""
	}
	seen[t] = true
	switch u := types.Unalias(t).(type) {
	case *types.Named:
		if u.Obj().Pkg() == nil || u.Obj().Pkg().Path() != cellPkgPath {
			return nil, ""
		}
		var names []string
		var recv types.Type = u
		if viaPtr {
			recv = types.NewPointer(u)
		}
		ms := types.NewMethodSet(recv)
		for i := range ms.Len() {
			switch m := ms.At(i).Obj(); m.Name() {
			case "String", "Error", "Format":
				names = append(names, m.Name())
			}
		}
		if len(names) > 0 && !types.IsInterface(u) {
			return u, strings.Join(names, ", ")
		}
		return methodsReached(u.Underlying(), viaPtr, seen)
	case *types.Pointer:
		return methodsReached(u.Elem(), true, seen)
	case *types.Slice:
		return methodsReached(u.Elem(), true, seen) // elements are addressable
	case *types.Array:
		return methodsReached(u.Elem(), viaPtr, seen)
	case *types.Map:
		if t, m := methodsReached(u.Key(), false, seen); t != nil {
			return t, m
		}
		return methodsReached(u.Elem(), false, seen)
	case *types.Struct:
		for i := range u.NumFields() {
			if f := u.Field(i); f.Exported() {
				if t, m := methodsReached(f.Type(), viaPtr, seen); t != nil {
					return t, m
				}
			}
		}
	}
	return nil, ""
}
