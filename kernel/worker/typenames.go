package worker

import (
	"go/ast"
	"go/types"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/traefik/yaegi/interp"
)

// This file names the types of the runtime errors that reflect words
// with the types yaegi gives the cell's values. yaegi v0.16.1 gives a
// value of a cell type the reflect type of its structure (main.T, a
// struct with fields a and c, is `struct { Xa int; Xc []int }` to
// reflect), so a map assignment with an unhashable key of a cell type
// panics with "hash of unhashable type: struct { Xa int; Xc []int }"
// where Go says "runtime error: hash of unhashable type main.T"; and a
// failed assertion to one of the cells' interfaces said "interface
// conversion: nil is not main.I" whatever the value.
//
// Each lowered cell notes the named types of the session (and the local
// ones of the cell) with the structure yaegi gives them (cellTypeNames);
// a runtime error's type is named by it where one cell type has that
// structure, and the error says "cannot run faithfully" where several
// types could be meant.

// cellTypeNames are the session's named cell types by the reflect type
// string yaegi gives their values.
type cellTypeNames struct {
	mu      sync.Mutex
	byName  map[string]cellTypeEntry // Go name (main.T) -> entry
	session *session
}

// cellTypeEntry is one named cell type.
type cellTypeEntry struct {
	shape   string          // the reflect type string of yaegi's type
	methods map[string]bool // the method names of the type's method set
	pshape  string          // the same for a pointer to it
	pmeths  map[string]bool
}

// typeNames is the session's registry, made on first use.
func (s *session) typeNames() *cellTypeNames {
	s.typeNamesOnce.Do(func() {
		s.names = &cellTypeNames{byName: map[string]cellTypeEntry{}, session: s}
	})
	return s.names
}

// typeNameHelpers are the session's own compiled helpers that name cell
// types (loaded into each fresh interpreter after cellHelpers, whose
// RuntimeError they replace).
func (s *session) typeNameHelpers() interp.Exports {
	n := s.typeNames()
	return interp.Exports{"unetlab/cellhelp/cellhelp": {
		"RuntimeError": reflect.ValueOf(n.runtimeErrorOf),
		"AssertFail":   reflect.ValueOf(n.assertFail),
	}}
}

// note records the named types of the lowered cell u: those of the
// session's package scope (their current declarations) and the cell's
// function-local ones.
func (n *cellTypeNames) note(u *cellUnit) {
	c := &u.check
	if c.skipped || c.pkg == nil || c.info == nil {
		return
	}
	var named []*types.Named
	sc := c.pkg.Scope()
	for _, name := range sc.Names() {
		if tn, ok := sc.Lookup(name).(*types.TypeName); ok && !tn.IsAlias() {
			if t, ok := tn.Type().(*types.Named); ok {
				named = append(named, t)
			}
		}
	}
	for id, obj := range c.info.Defs {
		if tn, ok := obj.(*types.TypeName); ok && !tn.IsAlias() && tn.Parent() != sc && c.fset.Position(id.Pos()).Filename == "cell" {
			if t, ok := tn.Type().(*types.Named); ok {
				named = append(named, t)
			}
		}
	}
	for _, inst := range c.info.Instances {
		if t, ok := inst.Type.(*types.Named); ok && t.Obj().Pkg() != nil && t.Obj().Pkg().Path() == cellPkgPath {
			named = append(named, t)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, t := range named {
		if t.TypeParams() != nil && t.TypeArgs() == nil || types.IsInterface(t) {
			continue
		}
		shape, ok := yaegiShape(t, nil)
		if !ok {
			continue
		}
		e := cellTypeEntry{shape: shape, pshape: "*" + shape, methods: methodNames(t), pmeths: methodNames(types.NewPointer(t))}
		n.byName[goTypeName(t)] = e
	}
}

// methodNames are the names of t's method set.
func methodNames(t types.Type) map[string]bool {
	ms := types.NewMethodSet(t)
	out := map[string]bool{}
	for i := range ms.Len() {
		out[ms.At(i).Obj().Name()] = true
	}
	return out
}

// candidates are the Go names of the cell types (and pointers to them)
// whose values yaegi gives the reflect type string shape, sorted, with
// their method names.
func (n *cellTypeNames) candidates(shape string) ([]string, []map[string]bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var names []string
	for name, e := range n.byName {
		switch shape {
		case e.shape:
			names = append(names, name)
		case e.pshape:
			names = append(names, "*"+name)
		}
	}
	slices.Sort(names)
	var meths []map[string]bool
	for _, name := range names {
		if p, ok := strings.CutPrefix(name, "*"); ok {
			meths = append(meths, n.byName[p].pmeths)
		} else {
			meths = append(meths, n.byName[name].methods)
		}
	}
	return names, meths
}

// nameOf is Go's name of the type whose values yaegi gives the reflect
// type string shape, in an error message: the one cell type of that
// structure where the structure is a struct's (or a pointer to one),
// which is seldom a type outside the cells (yaegi's field names of
// unexported fields start with X); false where several cell types have
// that structure. Other structures stay as yaegi gives them (a value of
// `type M int` is an int to reflect).
func (n *cellTypeNames) nameOf(shape string) (string, []string, bool) {
	if !strings.HasPrefix(strings.TrimPrefix(shape, "*"), "struct {") {
		return shape, nil, true
	}
	names, _ := n.candidates(shape)
	switch len(names) {
	case 0:
		return shape, nil, true
	case 1:
		return names[0], names, true
	}
	return "", names, false
}

// unhashableRE is the panic of a map operation with an unhashable key in
// an interface: "runtime error: hash of unhashable type T" where the key
// is hashed, "hash of unhashable type: T" (Go 1.24's maps) where a read or
// delete finds the map empty. yaegi's assignment to an empty map panics
// with the second, where Go's panics with the first: both become the
// first (so a read or delete of an empty map is worded as an assignment).
var unhashableRE = regexp.MustCompile(`^(?:runtime error: )?hash of unhashable type:? (.*)$`)

// conversionRE is yaegi's wording of a failed type assertion to a
// concrete type or an empty interface's.
var conversionRE = regexp.MustCompile(`^interface conversion: (.*) is (.*), not (.*)$`)

// goMessage rewords msg, a runtime error's message, with the names of
// the cell types it speaks of; false when it is not one this file words.
func (n *cellTypeNames) goMessage(msg string) (string, bool) {
	if m := unhashableRE.FindStringSubmatch(msg); m != nil {
		name, all, ok := n.nameOf(m[1])
		if !ok {
			return "runtime error: hash of unhashable type " + strings.Join(all, " or ") + " (cannot run faithfully: the interpreter gives these types one type)", true
		}
		return "runtime error: hash of unhashable type " + name, true
	}
	if m := conversionRE.FindStringSubmatch(msg); m != nil {
		out := make([]string, 3)
		for i, shape := range m[1:] {
			if shape == "nil" || shape == "interface {}" {
				out[i] = shape
				continue
			}
			name, all, ok := n.nameOf(shape)
			if !ok {
				return "interface conversion: cannot run faithfully: the interpreter gives " + strings.Join(all, " and ") + " one type (" + msg + ")", true
			}
			out[i] = name
		}
		return "interface conversion: " + out[0] + " is " + out[1] + ", not " + out[2], true
	}
	return "", false
}

// runtimeErrorOf is the session's __unetlab_help.RuntimeError:
// runtimeErrorOf, the cell types of its message named.
func (n *cellTypeNames) runtimeErrorOf(r any) any {
	var msg string
	switch x := r.(type) {
	case *typeAssertionError, runtimeError:
		return r
	case string:
		msg = x
	case error:
		msg = x.Error()
	default:
		return runtimeErrorOf(r)
	}
	msg = yaegiPosRE.ReplaceAllString(msg, "")
	if m, ok := n.goMessage(msg); ok {
		if rest, ok := strings.CutPrefix(m, "runtime error: "); ok {
			return runtimeError{rest}
		}
		return &typeAssertionError{m}
	}
	return runtimeErrorOf(r)
}

// assertFail is __unetlab_help.AssertFail: it panics as Go's failed
// assertion of v, of the static type from, to the interface iface of the
// cells (its method names, in Go's order, are methods). The dynamic type
// is named by its reflect type where no cell type may be meant; else the
// panic says that the kernel cannot run it faithfully.
func (n *cellTypeNames) assertFail(v any, iface string, methods []string) {
	if v == nil {
		panic(&typeAssertionError{"interface conversion: interface is nil, not " + iface})
	}
	rt := reflect.TypeOf(v)
	shape := rt.String()
	names, meths := n.candidates(shape)
	if rt.PkgPath() == yaegiInterpPath || rt.Kind() == reflect.Pointer && rt.Elem().PkgPath() == yaegiInterpPath {
		panic(&typeAssertionError{"interface conversion: cannot run faithfully: a value of a cell type is not " + iface + " (the interpreter hides its type)"})
	}
	var has func(string) bool
	name := shape
	switch {
	case len(names) == 0:
		has = func(m string) bool { _, ok := rt.MethodByName(m); return ok }
	case len(names) == 1 && strings.HasPrefix(strings.TrimPrefix(shape, "*"), "struct {"):
		name = names[0]
		has = func(m string) bool { return meths[0][m] }
	default:
		panic(&typeAssertionError{"interface conversion: cannot run faithfully: a value of " + strings.Join(append(names, shape), " or ") + " (the interpreter gives them one type) is not " + iface})
	}
	for _, m := range methods {
		if !has(m) {
			panic(&typeAssertionError{"interface conversion: " + name + " is not " + iface + ": missing method " + m})
		}
	}
	// All the names are there: the interpreter held the value without
	// its methods (a cell value assigned to an any variable), or a
	// method's signature differs.
	panic(&typeAssertionError{"interface conversion: cannot run faithfully: a value of " + name + " asserted to " + iface + ": the interpreter holds it without its methods, or a method's signature differs"})
}

// ifaceMethodOrder is the names of iface's methods in the order Go's
// runtime checks them (exported before unexported, then by name): the
// first one missing is the one its error names.
func ifaceMethodOrder(iface *types.Interface) []string {
	var names []string
	for i := range iface.NumMethods() {
		names = append(names, iface.Method(i).Name())
	}
	slices.SortFunc(names, func(a, b string) int {
		ea, eb := ast.IsExported(a), ast.IsExported(b)
		if ea != eb {
			if ea {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	return names
}

// yaegiShape is the reflect type string yaegi v0.16.1 gives a value of
// type t (see the file comment); false where it is not known (a type
// that refers to itself, struct tags, type parameters).
func yaegiShape(t types.Type, stack []*types.Named) (string, bool) {
	var b strings.Builder
	ok := writeYaegiShape(&b, t, stack)
	return b.String(), ok
}

func writeYaegiShape(b *strings.Builder, t types.Type, stack []*types.Named) bool {
	switch t := types.Unalias(t).(type) {
	case *types.Basic:
		if t.Info()&types.IsUntyped != 0 {
			return false
		}
		if t.Kind() == types.UnsafePointer {
			b.WriteString("unsafe.Pointer")
			return true
		}
		b.WriteString(types.Typ[t.Kind()].Name())
	case *types.Named:
		p := t.Obj().Pkg()
		switch {
		case p == nil:
			b.WriteString(t.Obj().Name()) // error, comparable
		case p.Path() == cellPkgPath:
			if slices.Contains(stack, t) {
				return false
			}
			return writeYaegiShape(b, t.Underlying(), append(stack, t))
		default:
			b.WriteString(p.Name() + "." + t.Obj().Name())
		}
	case *types.Pointer:
		b.WriteString("*")
		return writeYaegiShape(b, t.Elem(), stack)
	case *types.Slice:
		b.WriteString("[]")
		return writeYaegiShape(b, t.Elem(), stack)
	case *types.Array:
		b.WriteString("[" + strconv.FormatInt(t.Len(), 10) + "]")
		return writeYaegiShape(b, t.Elem(), stack)
	case *types.Map:
		b.WriteString("map[")
		if !writeYaegiShape(b, t.Key(), stack) {
			return false
		}
		b.WriteString("]")
		return writeYaegiShape(b, t.Elem(), stack)
	case *types.Chan:
		switch t.Dir() {
		case types.SendOnly:
			b.WriteString("chan<- ")
		case types.RecvOnly:
			b.WriteString("<-chan ")
		default:
			b.WriteString("chan ")
			if c, ok := t.Elem().Underlying().(*types.Chan); ok && c.Dir() == types.RecvOnly {
				b.WriteString("(")
				defer b.WriteString(")")
			}
		}
		return writeYaegiShape(b, t.Elem(), stack)
	case *types.Struct:
		if t.NumFields() == 0 {
			b.WriteString("struct {}")
			return true
		}
		b.WriteString("struct {")
		for i := range t.NumFields() {
			if t.Tag(i) != "" {
				return false
			}
			if i > 0 {
				b.WriteString(";")
			}
			f := t.Field(i)
			name := f.Name()
			if !f.Exported() {
				name = "X" + name
			}
			b.WriteString(" " + name + " ")
			if !writeYaegiShape(b, f.Type(), stack) {
				return false
			}
		}
		b.WriteString(" }")
	case *types.Signature:
		b.WriteString("func(")
		ps := t.Params()
		for i := range ps.Len() {
			if i > 0 {
				b.WriteString(", ")
			}
			pt := ps.At(i).Type()
			if t.Variadic() && i == ps.Len()-1 {
				b.WriteString("...")
				pt = pt.(*types.Slice).Elem()
			}
			if !writeYaegiShape(b, pt, stack) {
				return false
			}
		}
		b.WriteString(")")
		rs := t.Results()
		if rs.Len() > 1 {
			b.WriteString(" (")
		} else if rs.Len() == 1 {
			b.WriteString(" ")
		}
		for i := range rs.Len() {
			if i > 0 {
				b.WriteString(", ")
			}
			if !writeYaegiShape(b, rs.At(i).Type(), stack) {
				return false
			}
		}
		if rs.Len() > 1 {
			b.WriteString(")")
		}
	case *types.Interface:
		if t.NumMethods() == 0 {
			b.WriteString("interface {}")
		} else {
			b.WriteString("interp.valueInterface")
		}
	default:
		return false
	}
	return true
}

// passNoteTypeNames notes the cell's named types in the session's
// registry (see cellTypeNames).
func (s *session) passNoteTypeNames(u *cellUnit) error {
	s.typeNames().note(u)
	return nil
}

// ifaceAssertCallNamed is ifaceAssertCall of an assertion to it, one of
// the cells' interfaces, that fails as Go's does (AssertFail) rather than
// as yaegi's ("interface conversion: nil is not main.I" whatever the
// value).
func ifaceAssertCallNamed(t, v string, commaOk bool, it types.Type) string {
	call := ifaceAssertCall(t, v, commaOk)
	iface, ok := it.Underlying().(*types.Interface)
	if commaOk || !ok || mentionsTypeParam(it) {
		// (In generic code the text goes into each instance: the
		// interface's name there is not known here.)
		return call
	}
	const a = helperPrefix + "_av"
	ret := "return " + a + ".(" + t + ") }"
	if !strings.HasSuffix(call, ret+"("+v+")") {
		return call
	}
	var ms []string
	for _, m := range ifaceMethodOrder(iface) {
		ms = append(ms, strconv.Quote(m))
	}
	fail := helperPrefix + "_help.AssertFail(" + a + ", " + strconv.Quote(goTypeName(it)) + ", []string{" + strings.Join(ms, ", ") + "}); "
	i := len(call) - len(ret+"("+v+")")
	return call[:i] + fail + call[i:]
}
