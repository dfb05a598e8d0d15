package worker

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/printer"
	"go/token"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/unetlab/unetlab/stdlib"
)

// This file carries the session's variables across a rebuild of the
// interpreter (see rebuild).
//
// Every variable a cell defines with := at its top level is recorded in
// session.vars with what its value may depend on: the identifiers of its
// statement. Sharing a cell with a declaration is no dependency: as in
// IPython, redefining a function later keeps `data := load(...)` of the
// same cell, whose value does not tie it to the old interpreter.
// When a redefinition rebuilds the interpreter, each variable is
//
//   - carried, value included, when its static type is built from
//     predeclared types, types of the symbol tables and interpreted types
//     that were not redefined, and neither its dependencies nor its value
//     (a function or interface value of the discarded interpreter) tie it to
//     the old interpreter;
//   - reset otherwise: declared again with the zero value of its type (the
//     new declaration of a redefined type) after the cell's declarations,
//     and named in ExecuteResult.Reset.
//
// The static type is the interpreter's own (yaegi's type string of the
// symbol, read through reflect: yaegi exposes no API for it), so that a
// variable of `type T int` is told apart from an int.

// varInfo is what the session knows of a variable defined by a statement.
type varInfo struct {
	deps map[string]bool // identifiers its value may depend on
}

// noteVars records the variables a statement part (its statements, list)
// defines with := (and the dependencies of those it assigns with =).
func (s *session) noteVars(list []ast.Stmt) {
	for _, st := range list {
		as, ok := st.(*ast.AssignStmt)
		if !ok || (as.Tok != token.DEFINE && as.Tok != token.ASSIGN) {
			continue
		}
		deps := map[string]bool{}
		for _, r := range as.Rhs {
			ast.Inspect(r, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok {
					deps[id.Name] = true
				}
				return true
			})
		}
		for _, l := range as.Lhs {
			id, ok := l.(*ast.Ident)
			if !ok || id.Name == "_" {
				continue
			}
			old := s.vars[id.Name]
			switch {
			case as.Tok == token.DEFINE && old == nil:
				s.vars[id.Name] = &varInfo{deps: deps}
			case as.Tok == token.DEFINE:
				// := of an existing global declares it anew.
				s.vars[id.Name] = &varInfo{deps: deps}
			case old != nil:
				for d := range deps {
					old.deps[d] = true
				}
			}
		}
	}
}

// staticType returns yaegi's string for the static type of global name
// ("int", "main.pt", "[]main.pt", "*strings.Builder", "func(int) (int,error)").
func (s *session) staticType(name string) (str string, ok bool) {
	defer func() {
		if recover() != nil {
			str, ok = "", false
		}
	}()
	pkgs := reflect.ValueOf(s.in).Elem().FieldByName("srcPkg")
	if !pkgs.IsValid() || pkgs.Kind() != reflect.Map {
		return "", false
	}
	syms := pkgs.MapIndex(reflect.ValueOf("main"))
	if !syms.IsValid() || syms.Kind() != reflect.Map {
		return "", false
	}
	sym := syms.MapIndex(reflect.ValueOf(name))
	if !sym.IsValid() || sym.IsNil() {
		return "", false
	}
	typ := sym.Elem().FieldByName("typ")
	if !typ.IsValid() || typ.IsNil() {
		return "", false
	}
	str = typ.Elem().FieldByName("str").String()
	return str, str != ""
}

// mainQualRE matches the package qualifier of interpreted types.
var mainQualRE = regexp.MustCompile(`\bmain\.`)

// predeclaredTypes are the predeclared type names.
var predeclaredTypes = map[string]bool{
	"bool": true, "byte": true, "complex64": true, "complex128": true, "error": true, "float32": true,
	"float64": true, "int": true, "int8": true, "int16": true, "int32": true, "int64": true, "rune": true,
	"string": true, "uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"uintptr": true, "any": true, "comparable": true,
}

// typeSource turns yaegi's type string into a type expression that a fresh
// interpreter accepts: interpreted types by their name (returned in
// interpreted), packages of the symbol tables under helper aliases
// (collected in aliases: path -> alias). rt, the reflect type of the value,
// disambiguates package names.
func typeSource(str string, rt reflect.Type, aliases map[string]string) (src string, interpreted []string, ok bool) {
	e, err := parseExpr(mainQualRE.ReplaceAllString(str, ""))
	if err != nil {
		return "", nil, false
	}
	named := map[string]string{} // "pkg.Name" -> import path, from rt
	if rt != nil {
		collectNamed(rt, named, map[reflect.Type]bool{})
	}
	ok = true
	ast.Inspect(e, func(n ast.Node) bool {
		if !ok {
			return false
		}
		switch x := n.(type) {
		case *ast.SelectorExpr:
			pkg, isIdent := x.X.(*ast.Ident)
			if !isIdent {
				ok = false
				return false
			}
			path, found := named[pkg.Name+"."+x.Sel.Name]
			if !found {
				path, found = packageFor(pkg.Name, x.Sel.Name)
			}
			if !found {
				path, found = fetchedFor(pkg.Name, x.Sel.Name) // modules.go
			}
			if !found {
				ok = false
				return false
			}
			if _, known := stdlib.Symbols[path+"/"+nameOfPath(path)][x.Sel.Name]; !known && !fetchedHas(path, x.Sel.Name) {
				ok = false
				return false
			}
			alias, seen := aliases[path]
			if !seen {
				alias = fmt.Sprintf("%s_p%d", helperPrefix, len(aliases))
				aliases[path] = alias
			}
			pkg.Name = alias
			return false
		case *ast.Ident:
			if !predeclaredTypes[x.Name] && !isFieldName(e, x) {
				interpreted = append(interpreted, x.Name)
			}
		}
		return true
	})
	if !ok {
		return "", nil, false
	}
	var b bytes.Buffer
	if err := printer.Fprint(&b, token.NewFileSet(), e); err != nil {
		return "", nil, false
	}
	return b.String(), interpreted, true
}

// isFieldName reports whether id names a struct field or a parameter in e.
func isFieldName(e ast.Expr, id *ast.Ident) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if f, ok := n.(*ast.Field); ok && slices.Contains(f.Names, id) {
			found = true
		}
		return !found
	})
	return found
}

// collectNamed records the named types of packages reachable in t.
func collectNamed(t reflect.Type, named map[string]string, seen map[reflect.Type]bool) {
	if seen[t] || len(seen) > 200 {
		return
	}
	seen[t] = true
	if t.Name() != "" && t.PkgPath() != "" {
		if n, ok := packageName(t.PkgPath()); ok {
			named[n+"."+t.Name()] = t.PkgPath()
		}
		return
	}
	switch t.Kind() {
	case reflect.Ptr, reflect.Slice, reflect.Array, reflect.Chan:
		collectNamed(t.Elem(), named, seen)
	case reflect.Map:
		collectNamed(t.Key(), named, seen)
		collectNamed(t.Elem(), named, seen)
	case reflect.Struct:
		for i := range t.NumField() {
			collectNamed(t.Field(i).Type, named, seen)
		}
	case reflect.Func:
		for i := range t.NumIn() {
			collectNamed(t.In(i), named, seen)
		}
		for i := range t.NumOut() {
			collectNamed(t.Out(i), named, seen)
		}
	}
}

// yaegiPath is the import path of yaegi's own (internal) types.
const yaegiPath = "github.com/traefik/yaegi"

// oldInterpreterValue reports whether v holds something that belongs to
// the interpreter it was made by: an interpreted function (a closure over
// that interpreter's globals) or an interface holding an interpreted value.
// It looks at up to budget values.
func oldInterpreterValue(v reflect.Value) bool {
	budget := 10000
	seen := map[uintptr]bool{}
	var walk func(v reflect.Value) bool
	walk = func(v reflect.Value) bool {
		if budget--; budget < 0 || !v.IsValid() {
			return false
		}
		switch v.Kind() {
		case reflect.Func:
			if v.IsNil() {
				return false
			}
			fn := runtime.FuncForPC(v.Pointer())
			return fn == nil || strings.HasPrefix(fn.Name(), "reflect.") || strings.Contains(fn.Name(), yaegiPath)
		case reflect.Interface:
			if v.IsNil() {
				return false
			}
			e := v.Elem()
			if strings.HasPrefix(e.Type().PkgPath(), yaegiPath) || (e.Type().Name() == "" && e.Kind() == reflect.Struct) {
				return true // an interpreted value boxed by yaegi, or an interpreted struct
			}
			return walk(e)
		case reflect.Ptr:
			if v.IsNil() || seen[v.Pointer()] {
				return false
			}
			seen[v.Pointer()] = true
			return walk(v.Elem())
		case reflect.Slice, reflect.Array:
			if !hasRisk(v.Type().Elem(), map[reflect.Type]bool{}) {
				return false
			}
			for i := range v.Len() {
				if walk(v.Index(i)) {
					return true
				}
			}
		case reflect.Map:
			if !hasRisk(v.Type().Key(), map[reflect.Type]bool{}) && !hasRisk(v.Type().Elem(), map[reflect.Type]bool{}) {
				return false
			}
			it := v.MapRange()
			for it.Next() {
				if walk(it.Key()) || walk(it.Value()) {
					return true
				}
			}
		case reflect.Struct:
			for i := range v.NumField() {
				if walk(v.Field(i)) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

// hasRisk reports whether values of t may hold functions or interfaces.
func hasRisk(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Func, reflect.Interface:
		return true
	case reflect.Ptr, reflect.Slice, reflect.Array, reflect.Chan:
		return hasRisk(t.Elem(), seen)
	case reflect.Map:
		return hasRisk(t.Key(), seen) || hasRisk(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if hasRisk(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}

// pendingVar is a reset variable, declared again (zero) once the cell's
// declarations are in place.
type pendingVar struct {
	name, typ string
	noted     bool // the user was told that it waits
}

// carriedVar is a variable whose value goes into the new interpreter.
type carriedVar struct {
	name, typ string
	old       reflect.Value
	info      *varInfo
}

// rebuild replaces the interpreter by a fresh one and replays the kept
// imports and declarations, leaving out those the cell redefines, and
// carries the variables over (see the comment at the top of this file). It
// returns the variables whose values were lost. renamed are package names
// the cell imports from another path than before.
func (s *session) rebuild(cellDecls []cellDecl, renamed []string) ([]string, error) {
	redefined := map[string]bool{}
	tainted := map[string]bool{} // names whose meaning changes
	for _, n := range renamed {
		tainted[n] = true
	}
	for _, d := range cellDecls {
		for _, n := range d.names {
			redefined[n] = true
		}
		for _, it := range d.items {
			if !s.keptSame(it) {
				for _, n := range it.names {
					tainted[n] = true
					if i := strings.IndexByte(n, '.'); i >= 0 {
						tainted[n[i+1:]] = true // a method: its selector
					}
				}
			}
		}
	}
	// Kept declarations that use a changed name change with it.
	for changed := true; changed; {
		changed = false
		for _, d := range s.decls {
			if anyKnown(tainted, d.names) || !usesAny(d, tainted) {
				continue
			}
			for _, n := range d.names {
				tainted[n] = true
			}
			changed = true
		}
	}
	// So do the variables computed from them.
	for changed := true; changed; {
		changed = false
		for name, info := range s.vars {
			if tainted[name] {
				continue
			}
			for d := range info.deps {
				if tainted[d] {
					tainted[name] = true
					changed = true
					break
				}
			}
		}
	}

	oldValues := s.globals()
	declVar := map[string]bool{}
	declared := map[string]bool{} // constants and the rest, replayed
	for _, d := range s.decls {
		for _, v := range d.vars {
			declVar[v] = true
		}
		for _, n := range d.names {
			declared[n] = true
		}
	}

	// Classify the variables in the old interpreter.
	aliases := map[string]string{}
	var carryNow, carryLater []carriedVar
	var pending []pendingVar
	var reset []string
	types := map[string]string{} // carried declaration variables: name -> type
	for name, v := range oldValues {
		if redefined[name] || !v.IsValid() || strings.HasPrefix(name, helperPrefix) || (declared[name] && !declVar[name]) {
			continue
		}
		str, ok := s.staticType(name)
		var src string
		var interpreted []string
		if ok {
			src, interpreted, ok = typeSource(str, v.Type(), aliases)
		}
		typeTainted := false
		for _, n := range interpreted {
			if tainted[n] || redefined[n] {
				typeTainted = true
			}
		}
		stale := oldInterpreterValue(v)
		if declVar[name] {
			if ok && len(interpreted) == 0 && !stale && !tainted[name] {
				types[name] = src
			}
			continue
		}
		info := s.vars[name]
		if info == nil {
			info = &varInfo{deps: map[string]bool{}}
		}
		switch {
		case !ok:
			reset = append(reset, name) // no type to declare it with: dropped
			fmt.Fprintf(s.opt.Stderr, "unetlab: variable %s dropped after the interpreter was rebuilt: its type %s cannot be declared in a cell\n", name, str)
		case tainted[name] || typeTainted || stale:
			reset = append(reset, name)
			pending = append(pending, pendingVar{name: name, typ: src})
		case len(interpreted) == 0:
			carryNow = append(carryNow, carriedVar{name: name, typ: src, old: v, info: info})
		default:
			carryLater = append(carryLater, carriedVar{name: name, typ: src, old: v, info: info})
		}
	}

	// Declarations: kept ones of variables only, all carried, are not
	// evaluated again (an initialiser may be a long computation).
	var keep, carriedDecls []declEntry
	for _, d := range s.decls {
		if anyKnown(redefined, d.names) {
			continue
		}
		carried := len(d.vars) > 0 && len(d.vars) == len(d.names)
		for _, v := range d.vars {
			if _, ok := types[v]; !ok {
				carried = false
			}
		}
		if carried {
			carriedDecls = append(carriedDecls, d)
		} else {
			keep = append(keep, d)
			for _, v := range d.vars {
				delete(types, v) // declared again by its own initialiser
				reset = append(reset, v)
			}
		}
	}
	for _, d := range carriedDecls {
		for _, v := range d.vars {
			carryNow = append(carryNow, carriedVar{name: v, typ: types[v], old: oldValues[v]})
		}
	}

	in, err := s.fresh()
	if err != nil {
		return nil, err
	}
	s.in = in
	s.vars = map[string]*varInfo{}
	oldImports := s.imports
	s.imports = nil
	for _, im := range oldImports {
		if slices.Contains(renamed, im.nameOrDefault()) {
			continue // the cell imports another package under that name
		}
		if err := s.importOne(im, 1, 1); err != nil {
			continue // replaced by the cell's own import of that name
		}
	}
	paths := make([]string, 0, len(aliases))
	for p := range aliases {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, path := range paths {
		_, _ = s.eval("import " + aliases[path] + " " + strconv.Quote(path))
	}
	carriedNames := map[string]bool{}
	carry := func(list []carriedVar) {
		sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
		for _, c := range list {
			if !s.declareVar(c.name, c.typ) {
				reset = append(reset, c.name)
				continue
			}
			g, ok := s.globals()[c.name]
			if ok && g.CanSet() && c.old.Type().AssignableTo(g.Type()) {
				g.Set(c.old)
				carriedNames[c.name] = true
			} else {
				reset = append(reset, c.name)
			}
			if c.info != nil {
				s.vars[c.name] = c.info
			}
		}
	}
	carry(carryNow)
	s.decls = nil
	for _, d := range carriedDecls {
		ok := true
		for _, v := range d.vars {
			ok = ok && carriedNames[v]
		}
		if ok {
			s.decls = append(s.decls, d)
		} else {
			keep = append(keep, d)
		}
	}
	// Replay now what does not depend on a redefined name; the rest waits
	// for the cell's new declarations (a failed replay would leave a
	// half-declared name behind in yaegi).
	deferred := map[string]bool{}
	for n := range redefined {
		if !strings.Contains(n, ".") { // a redefined method leaves its type in place
			deferred[n] = true
		}
	}
	var now, later []declEntry
	for changed := true; changed; {
		changed = false
		now, later = now[:0], later[:0]
		for _, d := range keep {
			if usesAny(d, deferred) {
				later = append(later, d)
				for _, n := range d.names {
					if !deferred[n] {
						deferred[n] = true
						changed = true
					}
				}
			} else {
				now = append(now, d)
			}
		}
	}
	s.pendingAfterRebuild = append(s.retry(now), later...)
	// Variables of interpreted types that were kept.
	carry(carryLater)
	// Reset variables of an earlier rebuild still waiting for their type.
	for _, p := range s.pendingVars {
		if _, ok := oldValues[p.name]; !ok && !redefined[p.name] {
			pending = append(pending, p)
		}
	}
	sort.Slice(pending, func(i, j int) bool { return pending[i].name < pending[j].name })
	s.pendingVars = pending

	sort.Strings(reset)
	return dedup(reset), nil
}

// keptSame reports whether declaration item it is kept unchanged.
func (s *session) keptSame(it declItem) bool {
	for _, d := range s.decls {
		if d.text == it.text && slices.Equal(d.names, it.names) {
			return true
		}
	}
	return false
}

// declareVar declares variable name of type typ (a source type expression)
// at its zero value; it reports success.
func (s *session) declareVar(name, typ string) bool {
	if _, err := s.eval("var " + name + " " + typ); err != nil {
		s.settle()
		return false
	}
	return true
}

// declarePending declares the reset variables (zero values) once the
// declarations they need are in place. A variable whose type does not
// compile (yet) stays pending, tried again after the next cell's
// declarations, until the cell defines that name itself.
func (s *session) declarePending() {
	var still []pendingVar
	for _, p := range s.pendingVars {
		if _, defined := s.globals()[p.name]; defined {
			continue
		}
		if !s.declareVar(p.name, p.typ) {
			if !p.noted {
				fmt.Fprintf(s.opt.Stderr, "unetlab: variable %s is undefined until its type %s compiles again\n", p.name, p.typ)
				p.noted = true
			}
			still = append(still, p)
			continue
		}
		s.vars[p.name] = &varInfo{deps: map[string]bool{}}
	}
	s.pendingVars = still
}

// settle makes yaegi size its global frame after a failed compilation,
// which may have left names without storage (Globals would panic).
func (s *session) settle() {
	defer func() { _ = recover() }()
	_, _ = s.eval("")
}
