package worker

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
)

func init() {
	h := cellHelpers["unetlab/cellhelp/cellhelp"]
	h["CellMethods"] = reflect.ValueOf(registerCellMethods)
	h["CheckReflect"] = reflect.ValueOf(checkReflectType)
	h["CheckReflectValue"] = reflect.ValueOf(checkReflectValue)
	h["ReflectArg"] = reflect.ValueOf(reflectArg)
}

// reflectArg is __unetlab_help.ReflectArg: x, the operand of reflect.TypeOf
// or reflect.ValueOf (what) of an interface type, unless it is yaegi's
// wrapper of an interpreted value (a cell value with methods passed as an
// any inside a function), whose reflect type and kind are the wrapper's:
// then it panics with "cannot run faithfully".
func reflectArg(x any, what string) any {
	t := reflect.TypeOf(x)
	if t != nil && (t.PkgPath() == yaegiInterpPath || t.Kind() == reflect.Pointer && t.Elem().PkgPath() == yaegiInterpPath) {
		panic(reflectWrapped{what: what, rtype: t})
	}
	return x
}

// reflectWrapped is reflectArg's panic.
type reflectWrapped struct {
	what  string
	rtype reflect.Type
}

func (e reflectWrapped) Error() string {
	return fmt.Sprintf("cannot run faithfully: %s of an interpreted value held in an interface: the interpreter hands reflect its own %s in place of the value (a cell value with methods, an interpreted function)", e.what, e.rtype)
}

// cellMethodTypes are, by session (its reflectID), the reflect types the
// interpreter gives the cell types that have exported methods (and
// pointers to them), with the cell types' names: reflect cannot list those
// methods (yaegi's type for `type M int` is int, without methods).
var cellMethodTypes sync.Map // reflectKey -> *cellMethodNames

type reflectKey struct {
	session int
	rtype   reflect.Type
}

type cellMethodNames struct {
	mu    sync.Mutex
	names []string
}

// reflectSessions numbers the sessions for cellMethodTypes, and keeps
// the names of the types each registered (reflectState).
var (
	reflectSessionsMu sync.Mutex
	reflectSessions   = map[*session]*reflectState{}
)

type reflectState struct {
	id         int
	registered map[string]string // type name -> its type, as registered
}

func (s *session) reflectState() *reflectState {
	reflectSessionsMu.Lock()
	defer reflectSessionsMu.Unlock()
	st := reflectSessions[s]
	if st == nil {
		st = &reflectState{id: len(reflectSessions) + 1, registered: map[string]string{}}
		reflectSessions[s] = st
	}
	return st
}

// registerCellMethods is __unetlab_help.CellMethods: p is a nil pointer to
// a cell type with exported methods, name the type's name, session the
// session's reflectID.
func registerCellMethods(session int, name string, p any) bool {
	t := reflect.TypeOf(p)
	if t == nil || t.Kind() != reflect.Pointer {
		return false
	}
	for _, rt := range []reflect.Type{t.Elem(), t} {
		v, _ := cellMethodTypes.LoadOrStore(reflectKey{session, rt}, &cellMethodNames{})
		n := v.(*cellMethodNames)
		spell := name
		if rt == t {
			spell = "*" + name
		}
		n.mu.Lock()
		if !slices.Contains(n.names, spell) {
			n.names = append(n.names, spell)
			sort.Strings(n.names)
		}
		n.mu.Unlock()
	}
	return true
}

// refuseCellMethods panics when rtype is a type the interpreter gives a
// cell type with exported methods, in session.
func refuseCellMethods(session int, rtype reflect.Type, query string) {
	if rtype.PkgPath() == yaegiInterpPath || rtype.Kind() == reflect.Pointer && rtype.Elem().PkgPath() == yaegiInterpPath {
		// yaegi's own wrapper of an interpreted value (an any
		// parameter holding a cell value): its type is hidden.
		panic(reflectMethodsRefused{query: query, rtype: rtype})
	}
	v, ok := cellMethodTypes.Load(reflectKey{session, rtype})
	if !ok {
		return
	}
	n := v.(*cellMethodNames)
	n.mu.Lock()
	names := slices.Clone(n.names)
	n.mu.Unlock()
	panic(reflectMethodsRefused{query: query, names: names, rtype: rtype})
}

// reflectMethodsRefused is the panic of a reflect method-set query on the
// type of a cell type with exported methods.
type reflectMethodsRefused struct {
	query string
	names []string
	rtype reflect.Type
}

// yaegiInterpPath is the package of yaegi's own wrapper types.
const yaegiInterpPath = "github.com/traefik/yaegi/interp"

func (e reflectMethodsRefused) Error() string {
	if len(e.names) == 0 {
		return fmt.Sprintf("cannot run faithfully: reflect %s of %s: the interpreter's wrapper of an interpreted value hides its type and methods", e.query, e.rtype)
	}
	return fmt.Sprintf("cannot run faithfully: reflect %s of %s: the interpreter gives the cell type %s the type %s, without its methods",
		e.query, e.rtype, strings.Join(e.names, " or "), e.rtype)
}

// checkReflectType is __unetlab_help.CheckReflect: it panics when x is a
// reflect.Type the interpreter gives a cell type with exported methods
// (query names the method asked: "Method", "MethodByName", "NumMethod").
func checkReflectType(session int, x any, query string) {
	if t, ok := x.(reflect.Type); ok && t != nil {
		refuseCellMethods(session, t, "Type."+query)
	}
}

// checkReflectValue is __unetlab_help.CheckReflectValue: checkReflectType
// of v's type.
func checkReflectValue(session int, v reflect.Value, query string) {
	if v.IsValid() {
		refuseCellMethods(session, v.Type(), "Value."+query)
	}
}

// reflectMethodQueries are the methods of reflect.Type and reflect.Value
// that list a method set, with the signature reflect.Type's have.
var reflectMethodQueries = map[string]bool{"Method": true, "MethodByName": true, "NumMethod": true}

// reflectQuery reports whether sel selects Method, MethodByName or
// NumMethod of reflect.Type or reflect.Value, or of an interface whose
// method has reflect.Type's signature (a value of it may be a
// reflect.Type); value is true for reflect.Value.
func reflectQuery(info *types.Info, sel *ast.SelectorExpr) (ok, value bool) {
	if !reflectMethodQueries[sel.Sel.Name] {
		return false, false
	}
	fn, isFn := info.Uses[sel.Sel].(*types.Func)
	if !isFn {
		return false, false
	}
	recv := fn.Type().(*types.Signature).Recv()
	if recv == nil {
		return false, false
	}
	rt := recv.Type()
	if p, ok := rt.(*types.Pointer); ok {
		rt = p.Elem()
	}
	if n, ok := rt.(*types.Named); ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "reflect" {
		switch n.Obj().Name() {
		case "Value":
			return true, true
		case "Type":
			return true, false
		}
		return false, false
	}
	if !types.IsInterface(rt) {
		return false, false
	}
	// An interface of the cell's with reflect.Type's method.
	sig := fn.Type().(*types.Signature)
	rtype := reflectTypeOf(fn)
	if rtype == nil {
		return false, false
	}
	m, _, _ := types.LookupFieldOrMethod(rtype, false, nil, sel.Sel.Name)
	if mf, ok := m.(*types.Func); ok && types.Identical(mf.Type().(*types.Signature).Params(), sig.Params()) && types.Identical(mf.Type().(*types.Signature).Results(), sig.Results()) {
		return true, false
	}
	return false, false
}

// reflectTypeOf finds reflect.Type among the packages fn's signature
// mentions (reflect.Method, in Method's and MethodByName's results).
func reflectTypeOf(fn *types.Func) types.Type {
	var found types.Type
	sig := fn.Type().(*types.Signature)
	for _, tu := range []*types.Tuple{sig.Params(), sig.Results()} {
		for v := range tu.Variables() {
			if n, ok := v.Type().(*types.Named); ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "reflect" {
				if o := n.Obj().Pkg().Scope().Lookup("Type"); o != nil {
					found = o.Type()
				}
			}
		}
	}
	if found == nil && fn.Name() == "NumMethod" {
		// NumMethod() int mentions no reflect type: any interface
		// with it may hold a reflect.Type.
		return types.NewInterfaceType([]*types.Func{types.NewFunc(token.NoPos, nil, "NumMethod", types.NewSignatureType(nil, nil, nil, nil, types.NewTuple(types.NewVar(token.NoPos, nil, "", types.Typ[types.Int])), false))}, nil)
	}
	return found
}

// passLowerReflectMethods makes reflect's view of the method sets of cell
// types say that it cannot run faithfully: yaegi v0.16.1 gives a cell type
// the reflect type of its structure (`type M int` is int), so
// reflect.TypeOf(m).NumMethod() was 0, Method(0) panicked ("Method index
// out of range") and MethodByName found nothing. Each declaration of a
// cell type with exported methods (or of such a method) registers the
// reflect type the interpreter gives it and its pointer
// (__unetlab_help.CellMethods); Method, MethodByName and NumMethod of a
// reflect.Type or reflect.Value (also through an interface of the cell's
// that a reflect.Type implements, and as method expressions) check their
// receiver first, and panic with "cannot run faithfully: ..." when it is
// such a type.
func (s *session) passLowerReflectMethods(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	info := l.c.info
	h := helperPrefix + "_help."
	st := s.reflectState()
	pending, mark := "", func() {}
	if l.importsReflect() {
		pending, mark = l.registerCellMethods(st)
	}
	marked := false
	// Queries.
	ast.PreorderStack(l.c.file, nil, func(n ast.Node, stack []ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok && l.inCell(n) && len(call.Args) == 1 && !call.Ellipsis.IsValid() {
			// reflect.TypeOf(x), reflect.ValueOf(x) of an interface x.
			if fsel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
				fn, _ := info.Uses[fsel.Sel].(*types.Func)
				at := info.Types[call.Args[0]].Type
				if fn != nil && fn.Pkg() != nil && fn.Pkg().Path() == "reflect" && (fn.Name() == "TypeOf" || fn.Name() == "ValueOf") &&
					at != nil && types.IsInterface(at) && !isTypeParam(at) {
					l.insert(call.Args[0].Pos(), h+"ReflectArg(")
					l.insert(call.Args[0].End(), fmt.Sprintf(", %q)", "reflect."+fn.Name()))
				}
			}
		}
		sel, ok := n.(*ast.SelectorExpr)
		if !ok || !l.inCell(n) {
			return true
		}
		q, value := reflectQuery(info, sel)
		if !q {
			return true
		}
		xt := info.Types[sel.X]
		if xt.IsType() {
			return true // a method expression: lower-method-exprs checks it
		}
		ts, ok := l.typeString(xt.Type)
		if !ok {
			return true
		}
		check := "CheckReflect"
		if value {
			check = "CheckReflectValue"
		}
		r := helperPrefix + "_rx"
		reg := ""
		if pending != "" && inTopLevel(stack) {
			reg = pending + "; "
			if !marked {
				marked = true
				l.u.after = append(l.u.after, mark)
			}
		}
		l.replace(sel.X, fmt.Sprintf("func(%s %s) %s { %s%s%s(%d, %s, %q); return %s }(%s)", r, ts, ts, reg, h, check, st.id, r, sel.Sel.Name, r, l.text(sel.X)))
		return true
	})
	return l.done()
}

// hasExportedMethods reports whether t or *t has an exported method.
func hasExportedMethods(t types.Type) bool {
	for _, mt := range []types.Type{t, types.NewPointer(t)} {
		if types.IsInterface(t) && mt != t {
			continue
		}
		ms := types.NewMethodSet(mt)
		for i := range ms.Len() {
			if ms.At(i).Obj().Exported() {
				return true
			}
		}
	}
	return false
}

// reflectExprCheck is the statement a method expression's function
// literal runs first for a reflect method-set query (see
// passLowerReflectMethods), or "".
func (s *session) reflectExprCheck(info *types.Info, sel *ast.SelectorExpr, recv string) string {
	q, value := reflectQuery(info, sel)
	if !q {
		return ""
	}
	check := "CheckReflect"
	if value {
		check = "CheckReflectValue"
	}
	return fmt.Sprintf("%s_help.%s(%d, %s, %q)", helperPrefix, check, s.reflectState().id, recv, sel.Sel.Name)
}

// importsReflect reports whether the cell or the session imports package
// reflect (a cell that does not cannot ask reflect about method sets).
func (l *lowerer) importsReflect() bool {
	for _, f := range []*ast.File{l.c.file, l.c.sess} {
		if f == nil {
			continue
		}
		for _, im := range f.Imports {
			if im.Path.Value == `"reflect"` {
				return true
			}
		}
	}
	return false
}

// registerCellMethods registers (__unetlab_help.CellMethods) each cell type
// with exported methods that the session has not registered as it is
// now: those the cell declares after their declaration (or after the
// declaration of a method that gives an earlier cell's type its first
// exported one), earlier cells' types after the cell's first declaration
// or before its first statement.
//
// With no declaration in the cell, the registrations of earlier cells'
// types are returned as statements for the cell's top-level queries, and
// mark is to run (once) after the cell when one of them took them.
func (l *lowerer) registerCellMethods(st *reflectState) (pending string, mark func()) {
	h := helperPrefix + "_help."
	reg := func(name string) string {
		return fmt.Sprintf("; var _ = %sCellMethods(%d, %q, (*%s)(nil))", h, st.id, name, name)
	}
	todo := map[string]string{} // name -> type string
	sc := l.c.pkg.Scope()
	for _, n := range sc.Names() {
		tn, ok := sc.Lookup(n).(*types.TypeName)
		if !ok || tn.IsAlias() {
			continue
		}
		named, ok := tn.Type().(*types.Named)
		if !ok || named.TypeParams() != nil || !hasExportedMethods(named) {
			continue
		}
		spell := types.TypeString(named.Underlying(), nil)
		if st.registered[n] != spell {
			todo[n] = spell
		}
	}
	if len(todo) == 0 {
		return "", nil
	}
	done := map[string]bool{}
	var first ast.Decl
	for _, d := range l.c.file.Decls {
		if !l.inCell(d) {
			continue
		}
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				if first == nil && d.Name.Name != bodyFunc {
					first = d
				}
				continue
			}
			if first == nil {
				first = d
			}
			fn, ok := l.c.info.Defs[d.Name].(*types.Func)
			if !ok {
				continue
			}
			rt := fn.Type().(*types.Signature).Recv().Type()
			if p, ok := rt.(*types.Pointer); ok {
				rt = p.Elem()
			}
			if n, ok := rt.(*types.Named); ok && todo[n.Obj().Name()] != "" && !done[n.Obj().Name()] && l.c.fset.Position(n.Obj().Pos()).Filename != "cell" {
				done[n.Obj().Name()] = true
				l.insert(d.End(), reg(n.Obj().Name()))
			}
		case *ast.GenDecl:
			if first == nil && d.Tok != token.IMPORT {
				first = d
			}
			if d.Tok != token.TYPE {
				continue
			}
			for _, sp := range d.Specs {
				name := sp.(*ast.TypeSpec).Name.Name
				if todo[name] != "" && !done[name] {
					done[name] = true
					l.insert(d.End(), reg(name))
				}
			}
		}
	}
	var rest []string
	for n := range todo {
		if !done[n] {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	var text strings.Builder
	for _, n := range rest {
		text.WriteString(reg(n))
	}
	pending = ""
	switch {
	case len(rest) == 0:
	case first != nil:
		l.insert(first.End(), text.String())
	default:
		// No declaration to follow: the cell's top-level queries
		// register them first.
		pending = strings.ReplaceAll(strings.TrimPrefix(text.String(), "; var _ = "), "; var _ = ", "; ")
	}
	mark = func() {
		// Declarations run before the statements: a panic there
		// leaves them registered.
		if l.u.err == nil || toCellError(l.u.err).EName == "panic" {
			for n, spell := range todo {
				st.registered[n] = spell
			}
		}
	}
	if pending == "" {
		l.u.after = append(l.u.after, mark)
	}
	return pending, mark
}
