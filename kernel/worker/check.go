package worker

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/unetlab/unetlab/kernel/worker/symtypes"
	"github.com/unetlab/unetlab/stdlib"
)

// This file type-checks a cell with go/types before anything of it runs
// (the "check" pass of pipeline.go), so that compile errors are the Go
// compiler's, at the cell's line:column, all of them at once.
//
// A cell is checked as two files of one package main:
//
//   - the session file: the kept declarations of earlier cells (those the
//     cell does not declare again), one `var x T` for each variable an
//     earlier cell defined with := (T from that cell's check), and the
//     imports; its errors are not the cell's and are dropped;
//   - the cell file: the cell's imports and declarations at package level,
//     its statements (and last expression) in the body of one function,
//     each part behind a /*line cell:L:C*/ directive so positions are the
//     cell's own.
//
// The check is lenient where the kernel supports what Go refuses: unused
// variables and imports of the cell are no error, nor a last expression
// whose value is not used (it is the cell's result); a declaration may
// redefine one of an earlier cell. The check is skipped, and yaegi alone
// judges the cell, when the cell mentions a name the session cannot model
// (a variable whose type the checker never saw, a package that is served
// from yaegi's own source such as slices, or an import not in the
// tables), or when the check itself fails to run.

// typesImporter is built once per process and shared by every session:
// packages are converted from the symbol tables on first import; packages
// fetched with the go command are checked from their source (modules.go).
var typesImporter = sync.OnceValue(func() cellImporter {
	tables := make(map[string]map[string]reflect.Value, len(stdlib.Symbols)+len(cellHelpers))
	maps.Copy(tables, stdlib.Symbols)
	maps.Copy(tables, cellHelpers)
	return cellImporter{symtypes.New(tables)} // and fetched packages (modules.go)
})

// sessionVar is a variable an earlier cell defined with :=, as the checker
// saw it.
type sessionVar struct {
	typ     string            // its type, in source form for the session file
	imports map[string]string // alias -> path the type string uses
	order   int               // definition order among session names
}

// checkState is what the session keeps for the checker.
type checkState struct {
	vars    map[string]sessionVar
	opaque  map[string]bool // variables of unknown type
	order   map[string]int  // last definition order of kept declaration names
	counter int
	parsed  parsedSession // the session file of the last check
	// stdGeneric: a cell used the generic standard library (stdgeneric.go),
	// whose declarations the session file holds from then on.
	stdGeneric bool
}

// parsedSession is the session file as parsed for an earlier cell: its
// text changes only when the declarations or variables do (or with the
// names a cell redeclares), so a run of cells mostly parses it once. Its
// positions start at sessionBase, past any of a cell's file set, so the
// file joins each cell's file set as it is (token.FileSet.AddExistingFiles).
type parsedSession struct {
	src  string
	file *ast.File
	tf   *token.File
}

// sessionBase is where the positions of a cached session file start.
const sessionBase = 1 << 30

// sessionFile returns the parsed session file of text src, added to fset;
// it parses src only when it differs from the text of the cached file.
// The callers hold the session's mu.
func (cs *checkState) sessionFile(fset *token.FileSet, src string) (*ast.File, error) {
	c := &cs.parsed
	if c.file == nil || c.src != src {
		own := token.NewFileSet()
		own.AddFile("", -1, sessionBase) // the cells' positions
		f, err := parseFile(own, helperPrefix+"_session.go", src, parser.SkipObjectResolution)
		if err != nil {
			*c = parsedSession{}
			return nil, err
		}
		*c = parsedSession{src: src, file: f, tf: own.File(f.FileStart)}
	}
	fset.AddExistingFiles(c.tf)
	return c.file, nil
}

// checked is the outcome of the check pass for one cell.
type checked struct {
	skipped bool     // the check did not run (see the file comment)
	errs    []string // compile errors, "cell:L:C: msg", in position order
	// defines are the variables the cell's statements define at their top
	// level, recorded in the session once the cell ran.
	defines map[string]types.Type
	// The typed cell, for the lowering passes: the cell file (its
	// statements in the body of func __unetlab_cell), its package and the
	// checker's facts about it.
	// result is the type (and constant value) of the cell's trailing
	// expression, when it has one.
	result   types.TypeAndValue
	hasValue bool
	generic  bool // the expression is a call of an instantiated generic function
	fset     *token.FileSet
	file     *ast.File
	sess     *ast.File // the session file: earlier cells' declarations (lower_generic.go)
	sessSrc  string    // its source
	pkg      *types.Package
	info     *types.Info
	// regions are the spans of file that its line directives give a file
	// name, in order (isCellPos), found on first use.
	regions []lineRegion
}

// maxErrors is how many errors go build lists before "too many errors".
const maxErrors = 10

// cellPkgPath is the package path of checked cells.
const cellPkgPath = "main"

// qualifiedAlias is the import name the session file gives path when a
// variable's type mentions it.
func qualifiedAlias(path string) string {
	var b strings.Builder
	b.WriteString(helperPrefix + "_q_")
	for _, r := range path {
		if r < 128 && (r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// checkCell type-checks the cell (its one parse a, its parts) against the
// session. decls are the cell's declaration parts, imports the cell's own,
// auto the imports the session adds for it.
func (s *session) checkCell(a *cellAST, parts []part, decls []cellDecl, imports, auto []importEntry) (out checked) {
	defer func() {
		if r := recover(); r != nil {
			out = checked{skipped: true}
		}
	}()
	im := typesImporter()
	cs := &s.check

	// Names the cell declares at package level, and the names it mentions.
	declared := map[string]bool{}
	for _, d := range decls {
		for _, n := range d.names {
			declared[n] = true
		}
	}
	cellImport := map[string]bool{}
	for _, ci := range imports {
		if !im.Has(ci.path) {
			return checked{skipped: true}
		}
		cellImport[ci.nameOrDefault()] = true
	}
	mentioned := map[string]bool{}
	for _, p := range parts {
		identsOf(p.Src, mentioned)
		identsOf(p.Expr, mentioned)
	}
	for n := range cs.opaque {
		if mentioned[n] {
			return checked{skipped: true}
		}
	}

	// Session imports usable by the checker; one that is not (a package
	// of yaegi's own source) makes its name opaque.
	var sessImports []importEntry
	for _, si := range append(slices.Clone(s.imports), auto...) {
		name := si.nameOrDefault()
		if !im.Has(si.path) {
			if mentioned[name] {
				return checked{skipped: true}
			}
			continue
		}
		sessImports = append(sessImports, si)
	}

	// The session file.
	var sess strings.Builder
	sess.WriteString("package main\n")
	packageNames := map[string]bool{}
	keptNames := map[string]bool{}
	for _, d := range s.decls {
		if anyKnown(declared, d.names) || s.check.newerVar(d.names) {
			continue
		}
		for _, n := range d.names {
			keptNames[n] = true
			packageNames[strings.SplitN(n, ".", 2)[0]] = true
		}
	}
	aliases := map[string]string{}
	for n, v := range cs.vars {
		if !declared[n] && !keptNames[n] {
			packageNames[n] = true
			for a, p := range v.imports {
				aliases[a] = p
			}
		}
	}
	writeImports := func(b *strings.Builder, skip map[string]bool) {
		for _, si := range sessImports {
			name := si.nameOrDefault()
			if skip[name] || packageNames[name] || declared[name] || name == "_" || name == "." {
				continue
			}
			fmt.Fprintf(b, "import %s %s\n", name, strconv.Quote(si.path))
		}
	}
	writeImports(&sess, nil)
	// Kept declarations carry the lowering passes' calls (lower.go).
	sess.WriteString("import " + helperPrefix + "_help \"unetlab/cellhelp\"\n")
	if cs.stdGeneric {
		sess.WriteString(stdGenericPrelude)
	}
	for a, p := range aliases {
		fmt.Fprintf(&sess, "import %s %s\n", a, strconv.Quote(p))
	}
	for _, d := range s.decls {
		if anyKnown(declared, d.names) || s.check.newerVar(d.names) {
			continue
		}
		sess.WriteString(d.text + "\n")
	}
	writeVars := func(b *strings.Builder, vars map[string]sessionVar) {
		names := make([]string, 0, len(vars))
		for n := range vars {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			if !declared[n] && !keptNames[n] {
				fmt.Fprintf(b, "var %s %s\n", n, vars[n].typ)
			}
		}
	}
	writeVars(&sess, cs.vars)

	// The cell file: the cell's one parse, after the session's imports
	// (declarations added to a copy of the file, without positions).
	var sessDecls []ast.Decl
	var sessSpecs []*ast.ImportSpec
	for _, si := range sessImports {
		name := si.nameOrDefault()
		if cellImport[name] || packageNames[name] || declared[name] || name == "_" || name == "." {
			continue
		}
		spec := &ast.ImportSpec{Name: ast.NewIdent(name), Path: &ast.BasicLit{Kind: token.STRING, Value: strconv.Quote(si.path)}}
		sessSpecs = append(sessSpecs, spec)
		sessDecls = append(sessDecls, &ast.GenDecl{Tok: token.IMPORT, Specs: []ast.Spec{spec}})
	}
	cf := *a.file
	cf.Decls = append(sessDecls, a.file.Decls...)
	cf.Imports = append(sessSpecs, a.file.Imports...)
	fset := a.fset
	exprLine, exprCol := a.exprLine, a.exprCol

	var typed checked
	run := func(extra map[string]sessionVar) (errs []types.Error, defines map[string]types.Type, ok bool) {
		var sf *ast.File
		var err error
		sessSrc := sess.String()
		if len(extra) == 0 {
			sf, err = cs.sessionFile(fset, sessSrc)
		} else {
			var b strings.Builder
			writeVars(&b, extra)
			sessSrc += b.String()
			sf, err = parseFile(fset, helperPrefix+"_session.go", sessSrc, parser.SkipObjectResolution)
		}
		if err != nil {
			return nil, nil, false
		}
		info := &types.Info{
			Types:     map[ast.Expr]types.TypeAndValue{},
			Defs:      map[*ast.Ident]types.Object{},
			Uses:      map[*ast.Ident]types.Object{},
			Implicits: map[ast.Node]types.Object{},
			Instances: map[*ast.Ident]types.Instance{},
			Scopes:    map[ast.Node]*types.Scope{},
		}
		conf := types.Config{
			Importer:                 im,
			DisableUnusedImportCheck: true,
			Error: func(err error) {
				if te, ok := err.(types.Error); ok {
					errs = append(errs, te)
				}
			},
		}
		pkg, _ := conf.Check(cellPkgPath, fset, []*ast.File{sf, &cf}, info)
		defines = map[string]types.Type{}
		for _, d := range cf.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Name.Name != bodyFunc || fd.Recv != nil {
				continue
			}
			if sc := info.Scopes[fd.Type]; sc != nil {
				for _, n := range sc.Names() {
					if v, ok := sc.Lookup(n).(*types.Var); ok {
						defines[n] = v.Type()
					}
				}
			}
		}
		typed = checked{fset: fset, file: &cf, sess: sf, sessSrc: sessSrc, pkg: pkg, info: info}
		return errs, defines, true
	}
	errs, defines, ok := run(nil)
	if !ok {
		return checked{skipped: true}
	}
	// A declaration of the cell may use a variable its statements define
	// (yaegi's top level is global): declare those at package level too.
	extra := map[string]sessionVar{}
	for _, e := range errs {
		if name, ok := strings.CutPrefix(e.Msg, "undefined: "); ok && defines[name] != nil {
			if v, ok := s.check.varOf(defines[name]); ok {
				extra[name] = v
			}
		}
	}
	if len(extra) > 0 {
		if errs, defines, ok = run(extra); !ok {
			return checked{skipped: true}
		}
	}
	out = typed
	out.defines = defines
	if exprLine > 0 && typed.file != nil {
		if x := trailingExpr(typed.file, bodyFunc); x != nil {
			if pos := typed.fset.Position(x.Pos()); pos.Filename == "cell" && pos.Line == exprLine && pos.Column == exprCol {
				out.result, out.hasValue = typed.info.Types[x], true
				out.generic = genericCall(x, typed.info)
			}
		}
	}

	type posErr struct {
		line, col int
		msg       string
	}
	var list []posErr
	for _, e := range errs {
		pos := e.Fset.Position(e.Pos)
		if pos.Filename != "cell" {
			continue // the session's own declarations, or scaffolding
		}
		if e.Soft && strings.Contains(e.Msg, "declared and not used") {
			continue
		}
		if pos.Line == exprLine && pos.Column == exprCol && strings.HasSuffix(e.Msg, "is not used") {
			continue // the cell's result
		}
		list = append(list, posErr{pos.Line, pos.Column, e.Msg})
	}
	slices.SortStableFunc(list, func(a, b posErr) int {
		if a.line != b.line {
			return a.line - b.line
		}
		return a.col - b.col
	})
	for i, e := range list {
		if i == maxErrors {
			out.errs = append(out.errs, "too many errors")
			break
		}
		out.errs = append(out.errs, fmt.Sprintf("cell:%d:%d: %s", e.line, e.col, e.msg))
	}
	return out
}

// trailingExpr returns the expression of the last statement of the body of
// function fn in f, if that statement is one.
func trailingExpr(f *ast.File, fn string) ast.Expr {
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv != nil || fd.Name.Name != fn || fd.Body == nil || len(fd.Body.List) == 0 {
			continue
		}
		if es, ok := fd.Body.List[len(fd.Body.List)-1].(*ast.ExprStmt); ok {
			return es.X
		}
	}
	return nil
}

// genericCall reports whether x calls an instance of a generic function.
func genericCall(x ast.Expr, info *types.Info) bool {
	call, ok := ast.Unparen(x).(*ast.CallExpr)
	if !ok {
		return false
	}
	fun := ast.Unparen(call.Fun)
	switch f := fun.(type) {
	case *ast.IndexExpr:
		fun = f.X
	case *ast.IndexListExpr:
		fun = f.X
	}
	var id *ast.Ident
	switch f := fun.(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	}
	if id == nil {
		return false
	}
	_, ok = info.Instances[id]
	return ok
}

// compileErrors is the cell error of a failed check.
func compileErrors(errs []string) *cellError {
	msg := strings.Join(errs, "\n")
	return compileError(msg)
}

// newerVar reports whether a variable defined by := is newer than the kept
// declaration of names.
func (cs *checkState) newerVar(names []string) bool {
	for _, n := range names {
		if v, ok := cs.vars[n]; ok && v.order > cs.order[n] {
			return true
		}
	}
	return false
}

// noteDecls records that the cell declared names (after it ran).
func (cs *checkState) noteDecls(names []string) {
	if cs.order == nil {
		cs.order = map[string]int{}
	}
	for _, n := range names {
		cs.counter++
		cs.order[n] = cs.counter
		delete(cs.opaque, n)
		if v, ok := cs.vars[n]; ok && v.order < cs.order[n] {
			delete(cs.vars, n)
		}
	}
}

// bodyFunc is the function of the checked cell file whose body holds the
// cell's statements.
const bodyFunc = helperPrefix + "_cell"

// ranBefore returns the entries of defines that the cell could have
// declared before its top-level statement at line stops (a panic there):
// those declared on an earlier line, and those naming a variable the
// session already has.
func (cs *checkState) ranBefore(c *checked, defines map[string]types.Type, stop int) map[string]types.Type {
	lines := map[string]int{}
	if c.file != nil && c.info != nil {
		for _, d := range c.file.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Name.Name != bodyFunc || fd.Recv != nil {
				continue
			}
			if sc := c.info.Scopes[fd.Type]; sc != nil {
				for _, n := range sc.Names() {
					if pos := c.fset.Position(sc.Lookup(n).Pos()); pos.Filename == "cell" {
						lines[n] = pos.Line
					}
				}
			}
		}
	}
	out := map[string]types.Type{}
	for n, t := range defines {
		_, had := cs.vars[n]
		if l, ok := lines[n]; had || cs.opaque[n] || ok && l < stop {
			out[n] = t
		}
	}
	return out
}

// noteDefines records the variables a cell's statements defined. A
// variable whose type cannot be written in the session file becomes
// opaque.
func (cs *checkState) noteDefines(defines map[string]types.Type) {
	if cs.vars == nil {
		cs.vars = map[string]sessionVar{}
	}
	if cs.opaque == nil {
		cs.opaque = map[string]bool{}
	}
	for n, t := range defines {
		if n == "_" {
			continue
		}
		v, ok := cs.varOf(t)
		if !ok {
			delete(cs.vars, n)
			cs.opaque[n] = true
			continue
		}
		cs.counter++
		v.order = cs.counter
		cs.vars[n] = v
		delete(cs.opaque, n)
	}
}

// noteOpaque marks names defined by a cell that was not checked.
func (cs *checkState) noteOpaque(names []string) {
	if cs.opaque == nil {
		cs.opaque = map[string]bool{}
	}
	for _, n := range names {
		delete(cs.vars, n)
		cs.opaque[n] = true
	}
}

// varOf writes t in source form for the session file, or reports that it
// cannot (a type local to a function, or of a package outside the tables).
func (cs *checkState) varOf(t types.Type) (sessionVar, bool) {
	im := typesImporter()
	v := sessionVar{imports: map[string]string{}}
	ok := true
	v.typ = types.TypeString(t, func(p *types.Package) string {
		if p.Path() == cellPkgPath {
			return ""
		}
		if !im.Has(p.Path()) {
			ok = false
		}
		a := qualifiedAlias(p.Path())
		v.imports[a] = p.Path()
		return a
	})
	if !ok || localNamed(t, map[types.Type]bool{}) || strings.Contains(v.typ, "invalid type") {
		return v, false
	}
	return v, true
}

// localNamed reports whether t mentions a type declared inside a function,
// or an untyped one.
func localNamed(t types.Type, seen map[types.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t := t.(type) {
	case *types.Basic:
		return t.Info()&types.IsUntyped != 0 || t.Kind() == types.Invalid
	case *types.Named:
		obj := t.Obj()
		if obj.Pkg() != nil && obj.Pkg().Path() == cellPkgPath && obj.Parent() != obj.Pkg().Scope() {
			return true
		}
		// An instance of a generic type is modelled (lower_generic.go
		// monomorphizes those of the cells) when its type arguments are.
		for a := range t.TypeArgs().Types() {
			if localNamed(a, seen) {
				return true
			}
		}
		return false
	case *types.Pointer:
		return localNamed(t.Elem(), seen)
	case *types.Slice:
		return localNamed(t.Elem(), seen)
	case *types.Array:
		return localNamed(t.Elem(), seen)
	case *types.Map:
		return localNamed(t.Key(), seen) || localNamed(t.Elem(), seen)
	case *types.Chan:
		return localNamed(t.Elem(), seen)
	case *types.Signature:
		for i := 0; i < t.Params().Len(); i++ {
			if localNamed(t.Params().At(i).Type(), seen) {
				return true
			}
		}
		for i := 0; i < t.Results().Len(); i++ {
			if localNamed(t.Results().At(i).Type(), seen) {
				return true
			}
		}
	case *types.Struct:
		for i := 0; i < t.NumFields(); i++ {
			if localNamed(t.Field(i).Type(), seen) {
				return true
			}
		}
	case *types.Tuple:
		return true
	}
	return false
}

// identsOf adds the identifiers of Go source src to into (go/scanner: no
// parse, so a part that is not a file on its own is still read).
func identsOf(src string, into map[string]bool) {
	var sc scanner.Scanner
	fset := token.NewFileSet()
	sc.Init(fset.AddFile("", -1, len(src)), []byte(src), nil, 0)
	for {
		_, tok, lit := sc.Scan()
		if tok == token.EOF {
			return
		}
		if tok == token.IDENT {
			into[lit] = true
		}
	}
}

// topDefines returns the names statement parts define with := at their
// top level.
func topDefines(parts []part) []string {
	var names []string
	for _, p := range parts {
		if p.Kind != partStmt || strings.TrimSpace(p.Src) == "" {
			continue
		}
		f, err := parseFile(token.NewFileSet(), "", "package p;func _(){\n"+p.Src+"\n}", parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		for _, st := range f.Decls[0].(*ast.FuncDecl).Body.List {
			if as, ok := st.(*ast.AssignStmt); ok && as.Tok == token.DEFINE {
				for _, l := range as.Lhs {
					if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
						names = append(names, id.Name)
					}
				}
			}
		}
	}
	return names
}

// isCompiledOnly reports whether a value of static type t can only have
// methods of compiled code: no interface and no type declared in a cell
// anywhere in it. Such a result is shown from its reflect value alone.
func isCompiledOnly(t types.Type, seen map[types.Type]bool) bool {
	if seen[t] {
		return true
	}
	seen[t] = true
	switch t := t.(type) {
	case *types.Basic:
		return t.Kind() != types.Invalid && t.Kind() != types.UntypedNil
	case *types.Named:
		if t.Obj().Pkg() == nil || t.Obj().Pkg().Path() == cellPkgPath || t.TypeArgs().Len() > 0 {
			return false
		}
		_, isIface := t.Underlying().(*types.Interface)
		return !isIface
	case *types.Pointer:
		return isCompiledOnly(t.Elem(), seen)
	case *types.Slice:
		return isCompiledOnly(t.Elem(), seen)
	case *types.Array:
		return isCompiledOnly(t.Elem(), seen)
	case *types.Map:
		return isCompiledOnly(t.Key(), seen) && isCompiledOnly(t.Elem(), seen)
	case *types.Chan:
		return isCompiledOnly(t.Elem(), seen)
	case *types.Struct:
		for i := 0; i < t.NumFields(); i++ {
			if !isCompiledOnly(t.Field(i).Type(), seen) {
				return false
			}
		}
		return true
	}
	return false
}

// constantResult is the value of a constant result of a predeclared type,
// as the Go value of its (default) type.
func constantResult(tv types.TypeAndValue) (any, bool) {
	b, ok := tv.Type.(*types.Basic)
	if !ok || tv.Value == nil {
		return nil, false
	}
	v := tv.Value
	switch types.Default(b).(*types.Basic).Kind() {
	case types.Int:
		if i, exact := constant.Int64Val(v); exact {
			return int(i), true
		}
	case types.Float64:
		if f, exact := constant.Float64Val(constant.ToFloat(v)); exact || f != 0 {
			return f, true
		}
	case types.String:
		return constant.StringVal(v), true
	case types.Bool:
		return constant.BoolVal(v), true
	case types.Int32:
		if i, exact := constant.Int64Val(v); exact {
			return int32(i), true
		}
	}
	return nil, false
}

// typeSource writes t as the interpreter's session can read it: packages
// by the names the session imported them under, cell types unqualified.
// It reports false for a type it cannot write that way.
func (s *session) typeSource(t types.Type) (string, bool) {
	if localNamed(t, map[types.Type]bool{}) {
		return "", false
	}
	ok := true
	str := types.TypeString(t, func(p *types.Package) string {
		if p.Path() == cellPkgPath {
			return ""
		}
		for _, im := range s.imports {
			if im.path == p.Path() && im.name != "_" && im.name != "." {
				return im.nameOrDefault()
			}
		}
		ok = false
		return p.Name()
	})
	return str, ok && !strings.Contains(str, "invalid type")
}
