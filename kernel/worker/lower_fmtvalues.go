package worker

import (
	"context"
	"go/ast"
	"go/constant"
	"go/types"
	"strconv"
	"strings"
)

// passLowerFmtValues makes fmt (and log) print values of cell types as
// go run prints them. yaegi v0.16.1 hands compiled code a value of a cell
// type as its underlying structure: fmt.Println(p) printed the fields and
// not p.String(), %T printed "struct { X int; Y int }" and not "main.P",
// %#v lost the type names, and the String of a cell type inside a struct,
// slice or map was never called.
//
// Each operand of a printing call whose static type involves cell types
// (a cell type, or a pointer, slice, array, map or struct holding one)
// becomes a compiled stand-in (lower_fmtnode.go) built by a function
// literal from the static types: the Go name of each type, its Format,
// GoString, Error and String methods, and the parts that are cell types;
// fmt prints the stand-in through its Format method by fmt's own rules.
// An operand at a %T verb becomes the Go name of its static type (the
// verb becomes %s). An operand (or part) of an interface type goes through
// a type switch over the cell struct types that implement it (when no two
// have the same structure, which yaegi's type switch does not tell apart)
// to the stand-in of its dynamic type; a value the switch does not place
// is checked when printed: a cell value in it is printed through the
// methods of yaegi's wrapper where fmt would call them and is refused
// otherwise ("%!v(cannot run faithfully: ...)" in the output); %T of it
// panics so. A spread operand (fmt.Println(xs...)) is converted element by
// element.
//
// Not lowered: Print/Sprint/Fprint's spacing treats an operand of a cell
// type over string as a non-string; a cell value held in an interface
// value inside a compiled container (any holding []P) prints as yaegi
// passes it; %T with a format that is not a literal.
func (s *session) passLowerFmtValues(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	info := l.c.info
	ast.PreorderStack(l.c.file, nil, func(n ast.Node, stack []ast.Node) bool {
		if fd, ok := n.(*ast.FuncDecl); ok && isGenericFunc(fd) {
			return false // generic code: its operands' types are not known here
		}
		call, ok := n.(*ast.CallExpr)
		if !ok || !l.inCell(call) {
			return true
		}
		l.onlyTypes = cellTypesFor(u, stack)
		format, first, ok := printCall(info, call)
		if !ok || first > len(call.Args) {
			return true
		}
		if call.Ellipsis.IsValid() {
			l.lowerPrintSpread(call, format)
			return true
		}
		operands := call.Args[first:]
		verbs := make([]rune, len(operands)) // 0: printed with %v
		var dirs []fmtDirective
		if format >= 0 {
			tv := info.Types[call.Args[format]]
			if tv.Value == nil || tv.Value.Kind() != constant.String {
				for i := range verbs {
					verbs[i] = '?' // not known: every operand through the stand-in
				}
			} else {
				var ok bool
				dirs, ok = fmtDirectives(constant.StringVal(tv.Value))
				if !ok {
					for _, a := range operands {
						if l.fmtInvolvesCell(info.Types[a].Type) {
							l.fail(call, "cannot run faithfully: a format with explicit argument indexes printing a value of a cell type")
							return true
						}
					}
					return true
				}
				for i := range verbs {
					verbs[i] = '!' // extra operand: left as it is
				}
				for _, d := range dirs {
					if d.arg < len(verbs) {
						verbs[d.arg] = d.verb
					}
				}
			}
		}
		var typeVerbs []int
		converted := false
		defer func() {
			// Print, Sprint, Fprint put a space between operands where
			// neither is a string: a stand-in is not one, so the operands
			// are joined as the originals would be.
			if !converted || format >= 0 || !l.printSpacing(call) {
				return
			}
			var flags []string
			for _, a := range operands {
				_, isStr := info.Types[a].Type.Underlying().(*types.Basic)
				isStr = isStr && info.Types[a].Type.Underlying().(*types.Basic).Info()&types.IsString != 0 && !types.IsInterface(info.Types[a].Type)
				flags = append(flags, strconv.FormatBool(isStr))
			}
			l.insert(operands[0].Pos(), helperPrefix+"_help.FmtSprint([]bool{"+strings.Join(flags, ", ")+"}, ")
			l.insert(operands[len(operands)-1].End(), ")")
		}()
		for i, a := range operands {
			t := info.Types[a].Type
			if verbs[i] == 'T' && mentionsCell(t, map[types.Type]bool{}) && !types.IsInterface(t) {
				// (a func or chan type of cell types too)
			} else if !l.fmtInvolvesCell(t) {
				continue
			}
			switch verbs[i] {
			case '!', 'p', 'w', '*':
				continue
			case 'T':
				typeVerbs = append(typeVerbs, i)
				if types.IsInterface(t) {
					if sw, ok := l.dynTypeSwitch(t); ok {
						l.insert(a.Pos(), sw)
					} else {
						l.insert(a.Pos(), helperPrefix+"_help.FmtDynType("+l.cellShapes()+", ")
					}
				} else {
					l.insert(a.Pos(), helperPrefix+"_help.FmtTypeName("+strconv.Quote(goTypeName(t))+", ")
				}
				l.insert(a.End(), ")")
				continue
			}
			pre, ok := l.fmtConverter(a, t)
			if !ok {
				return true
			}
			converted = true
			l.insert(a.Pos(), pre)
			l.insert(a.End(), ")")
		}
		if len(typeVerbs) > 0 {
			lit, ok := ast.Unparen(call.Args[format]).(*ast.BasicLit)
			if !ok {
				l.fail(call.Args[format], "cannot run faithfully: %%T of a cell type with a format that is not a string literal")
				return true
			}
			f := constant.StringVal(info.Types[call.Args[format]].Value)
			var b strings.Builder
			last := 0
			for _, d := range dirs {
				if d.verb == 'T' && containsInt(typeVerbs, d.arg) {
					b.WriteString(f[last : d.end-1])
					b.WriteString("s")
					last = d.end
				}
			}
			b.WriteString(f[last:])
			l.replace(lit, strconv.Quote(b.String()))
		}
		return true
	})
	return l.done()
}

// resultText is the text/plain of a cell's result held in the helper
// variable v, of a type that involves cell types (not an interface), as
// %+v prints it through the stand-in (formatValue's form, with the
// String and Error methods of the cell types inside it); false when the
// stand-in cannot be built or the value is better left to formatValue.
func (s *session) resultText(ctx context.Context, typed *checked, v string) (string, bool) {
	t := typed.result.Type
	if t == nil || types.IsInterface(t) || s.unit == nil || !involvesCell(t, map[types.Type]bool{}) {
		return "", false
	}
	if b, ok := t.Underlying().(*types.Basic); ok && b.Info()&types.IsString != 0 {
		return "", false // formatValue quotes it
	}
	l := &lowerer{u: s.unit, c: typed}
	pre, ok := l.fmtConverter(typed.file, t)
	if !ok || l.err != nil {
		return "", false
	}
	r, err := s.evalCtx(ctx, helperPrefix+"_help.FmtResult("+pre+v+"))")
	if err != nil || !r.IsValid() || !r.CanInterface() {
		return "", false
	}
	text, ok := r.Interface().(string)
	return text, ok
}

// lowerPrintSpread converts the elements of a spread operand (fmt.Println(xs...))
// whose element type involves cell types, each to its stand-in.
func (l *lowerer) lowerPrintSpread(call *ast.CallExpr, format int) {
	arg := call.Args[len(call.Args)-1]
	st, ok := l.c.info.Types[arg].Type.Underlying().(*types.Slice)
	if !ok || !l.fmtInvolvesCell(st.Elem()) {
		return
	}
	if format >= 0 {
		tv := l.c.info.Types[call.Args[format]]
		if tv.Value == nil || tv.Value.Kind() != constant.String || strings.Contains(constant.StringVal(tv.Value), "T") {
			return // a %T (or a format not known) among the spread: left as it is
		}
	}
	es, ok := l.typeString(st.Elem())
	if !ok {
		return
	}
	pre, ok := l.fmtConverter(arg, st.Elem())
	if !ok {
		return
	}
	l.insert(arg.Pos(), "func(s []"+es+") []any { r := make([]any, len(s)); for i := range s { r[i] = "+pre+"s[i]) }; return r }(")
	l.insert(arg.End(), ")")
}

// cellTypesFor is lowerer.onlyTypes for code at stack: nil (every type of
// the session) in the cell's top-level statements, which run once, after
// the declarations; the types the cell itself declares inside a
// declaration of the cell, which is kept and evaluated again when the
// interpreter is rebuilt, where another cell's type may be gone or
// different.
func cellTypesFor(u *cellUnit, stack []ast.Node) map[string]bool {
	if inTopLevel(stack) {
		return nil
	}
	out := map[string]bool{}
	for _, d := range u.decls {
		for _, n := range d.names {
			out[n] = true
		}
	}
	return out
}

// inTopLevel reports whether stack has its node in the cell's top-level
// statements (a function literal there included).
func inTopLevel(stack []ast.Node) bool {
	for i := len(stack) - 1; i >= 0; i-- {
		if f, ok := stack[i].(*ast.FuncDecl); ok {
			return f.Recv == nil && f.Name.Name == helperPrefix+"_cell"
		}
	}
	return false
}

// printSpacing reports whether call is fmt's Print, Sprint, Fprint or
// log's Print, Fatal, Panic (operands spaced unless strings).
func (l *lowerer) printSpacing(call *ast.CallExpr) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	switch sel.Sel.Name {
	case "Print", "Sprint", "Fprint", "Append", "Fatal", "Panic":
		return true
	}
	return false
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// printCall recognises a call of fmt's or log's printing functions (and
// *log.Logger's): format is the index of its format argument (-1 for
// none), first the index of its first printed operand.
func printCall(info *types.Info, call *ast.CallExpr) (format, first int, ok bool) {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return 0, 0, false
	}
	fn, ok := info.Uses[sel.Sel].(*types.Func)
	if !ok || fn.Pkg() == nil {
		return 0, 0, false
	}
	sig, _ := fn.Type().(*types.Signature)
	switch fn.Pkg().Path() {
	case "fmt":
		switch fn.Name() {
		case "Print", "Println", "Sprint", "Sprintln":
			return -1, 0, true
		case "Fprint", "Fprintln", "Append", "Appendln":
			return -1, 1, true
		case "Printf", "Sprintf", "Errorf":
			return 0, 1, true
		case "Fprintf", "Appendf":
			return 1, 2, true
		}
	case "log":
		if sig != nil && sig.Recv() != nil {
			if n, ok := types.Unalias(derefType(sig.Recv().Type())).(*types.Named); !ok || n.Obj().Name() != "Logger" {
				return 0, 0, false
			}
		}
		switch fn.Name() {
		case "Print", "Println", "Fatal", "Fatalln", "Panic", "Panicln":
			return -1, 0, true
		case "Printf", "Fatalf", "Panicf":
			return 0, 1, true
		}
	}
	return 0, 0, false
}

func derefType(t types.Type) types.Type {
	if p, ok := t.(*types.Pointer); ok {
		return p.Elem()
	}
	return t
}

// fmtDirective is one verb of a format: the byte offsets of its directive
// in the format, its verb, and the operand it prints ('*' for an operand
// a * width or precision takes).
type fmtDirective struct {
	start, end int
	verb       rune
	arg        int
}

// fmtDirectives lists the directives of a format in order; false when it
// uses explicit argument indexes.
func fmtDirectives(format string) ([]fmtDirective, bool) {
	var out []fmtDirective
	arg := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		start := i
		i++
		for i < len(format) {
			c := format[i]
			if strings.IndexByte("+-# 0123456789.", c) >= 0 {
				i++
				continue
			}
			if c == '*' {
				out = append(out, fmtDirective{start, i + 1, '*', arg})
				arg++
				i++
				continue
			}
			break
		}
		if i >= len(format) {
			break
		}
		switch format[i] {
		case '%':
			continue
		case '[':
			return nil, false
		}
		r := rune(format[i])
		if r >= 0x80 {
			r = []rune(format[i:])[0]
		}
		out = append(out, fmtDirective{start, i + len(string(r)), r, arg})
		arg++
		i += len(string(r)) - 1
	}
	return out, true
}

// fmtInvolvesCell reports whether fmt prints a value of type t wrongly
// without a stand-in: t is or holds a cell type, or an interface (which
// may hold one).
func (l *lowerer) fmtInvolvesCell(t types.Type) bool {
	return involvesCell(t, map[types.Type]bool{})
}

func involvesCell(t types.Type, seen map[types.Type]bool) bool {
	if t == nil {
		return false
	}
	t = types.Unalias(t)
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t := t.(type) {
	case *types.Named:
		if t.Obj().Pkg() != nil && t.Obj().Pkg().Path() == cellPkgPath {
			return true
		}
		// a compiled type: fmt sees it as it is, unless an interface
		return types.IsInterface(t)
	case *types.Interface:
		return true
	case *types.Pointer:
		return involvesCell(t.Elem(), seen)
	case *types.Slice:
		return involvesCell(t.Elem(), seen)
	case *types.Array:
		return involvesCell(t.Elem(), seen)
	case *types.Map:
		return involvesCell(t.Key(), seen) || involvesCell(t.Elem(), seen)
	case *types.Struct:
		for i := range t.NumFields() {
			f := t.Field(i)
			if involvesCell(f.Type(), seen) || cellUnexported(f) {
				return true
			}
		}
	}
	return false
}

// cellUnexported reports whether f is an unexported field the cell
// declared (not _): yaegi names it "X"+name in the struct type compiled
// code sees, so fmt printed {Xx:1} for {x:1} under %+v and %#v.
func cellUnexported(f *types.Var) bool {
	return !f.Exported() && f.Name() != "_" && f.Pkg() != nil && f.Pkg().Path() == cellPkgPath
}

// mentionsCell reports whether the name of t names a cell type.
func mentionsCell(t types.Type, seen map[types.Type]bool) bool {
	if t == nil || seen[t] {
		return false
	}
	seen[t] = true
	switch t := types.Unalias(t).(type) {
	case *types.Named:
		if t.Obj().Pkg() != nil && t.Obj().Pkg().Path() == cellPkgPath {
			return true
		}
		if args := t.TypeArgs(); args != nil {
			for i := range args.Len() {
				if mentionsCell(args.At(i), seen) {
					return true
				}
			}
		}
	case *types.Pointer:
		return mentionsCell(t.Elem(), seen)
	case *types.Slice:
		return mentionsCell(t.Elem(), seen)
	case *types.Array:
		return mentionsCell(t.Elem(), seen)
	case *types.Chan:
		return mentionsCell(t.Elem(), seen)
	case *types.Map:
		return mentionsCell(t.Key(), seen) || mentionsCell(t.Elem(), seen)
	case *types.Struct:
		for i := range t.NumFields() {
			if mentionsCell(t.Field(i).Type(), seen) {
				return true
			}
		}
	case *types.Signature:
		for _, tu := range []*types.Tuple{t.Params(), t.Results()} {
			for i := range tu.Len() {
				if mentionsCell(tu.At(i).Type(), seen) {
					return true
				}
			}
		}
	case *types.Interface:
		for i := range t.NumMethods() {
			if mentionsCell(t.Method(i).Type(), seen) {
				return true
			}
		}
	}
	return false
}

// fmtGen writes the function literal that builds the stand-in of a value:
// one closure per type that involves cell types, declared together so
// that recursive types refer to each other.
type fmtGen struct {
	l     *lowerer
	at    ast.Node
	types []types.Type
	names []string
	specs []string // the type of each closure's parameter, spelled
	body  []string
	ok    bool
}

// fmtConverter is the text that goes before operand a (of type t), which
// then takes a closing parenthesis, so that it becomes its stand-in.
func (l *lowerer) fmtConverter(a ast.Node, t types.Type) (string, bool) {
	if types.IsInterface(t) && len(l.dynCandidates(t)) == 0 {
		return helperPrefix + "_help.FmtDyn(" + strconv.Quote(goTypeName(t)) + ", " + l.cellShapes() + ", ", true
	}
	g := &fmtGen{l: l, at: a, ok: true}
	c := g.closure(t)
	if !g.ok {
		return "", false
	}
	var b strings.Builder
	b.WriteString("func() func(" + g.specs[0] + ") any { ")
	for i := range g.types {
		b.WriteString("var " + g.names[i] + " func(" + g.specs[i] + ") any; ")
	}
	for i := range g.types {
		b.WriteString(g.names[i] + " = func(x " + g.specs[i] + ") any { " + g.body[i] + " }; ")
	}
	b.WriteString("return " + c + " }()(")
	return b.String(), true
}

// closure is the name of the closure for t, made on first use.
func (g *fmtGen) closure(t types.Type) string {
	for i, u := range g.types {
		if types.Identical(u, t) {
			return g.names[i]
		}
	}
	spec, ok := g.l.typeString(t)
	if !ok {
		g.fail("cannot run faithfully: printing a value of type %s needs the packages of its types imported in the cell", types.TypeString(t, types.RelativeTo(g.l.c.pkg)))
		return ""
	}
	i := len(g.types)
	name := helperPrefix + "_f" + strconv.Itoa(i)
	g.types = append(g.types, t)
	g.names = append(g.names, name)
	g.specs = append(g.specs, spec)
	g.body = append(g.body, "")
	g.body[i] = g.bodyOf(t)
	return name
}

func (g *fmtGen) fail(format string, args ...any) {
	if g.ok {
		g.l.fail(g.at, format, args...)
	}
	g.ok = false
}

// part is the expression for the stand-in of expr, of type t.
func (g *fmtGen) part(t types.Type, expr string) string {
	h := helperPrefix + "_help."
	if !involvesCell(t, map[types.Type]bool{}) {
		return h + "FmtLeaf(" + expr + ")"
	}
	if types.IsInterface(t) && len(g.l.dynCandidates(t)) == 0 {
		return h + "FmtDyn(" + strconv.Quote(goTypeName(t)) + ", " + g.l.cellShapes() + ", " + expr + ")"
	}
	return g.closure(t) + "(" + expr + ")"
}

// dynCandidates are the cell types (and pointers to them) a value of the
// interface type t may hold that a type switch tells apart: struct types
// that implement t, none of the same structure as another cell type
// (yaegi's type switch matches structure), t spelled in the cell. Empty
// when there are none or any is ambiguous.
func (l *lowerer) dynCandidates(t types.Type) []types.Type {
	iface, ok := t.Underlying().(*types.Interface)
	if !ok {
		return nil
	}
	if _, ok := l.typeString(t); !ok {
		return nil
	}
	var out []types.Type
	var structs []*types.Named
	list, allowed := l.cellConcreteTypes()
	for i, named := range list {
		if !allowed[i] {
			if _, isStruct := named.Underlying().(*types.Struct); isStruct {
				structs = append(structs, named) // (for the ambiguity check)
			}
			continue
		}
		if _, isStruct := named.Underlying().(*types.Struct); !isStruct {
			if types.Implements(named, iface) || types.Implements(types.NewPointer(named), iface) {
				if !iface.Empty() {
					return nil // a named basic type: its values match other types' cases
				}
			}
			continue
		}
		structs = append(structs, named)
		for _, c := range []types.Type{named, types.NewPointer(named)} {
			if types.Implements(c, iface) {
				out = append(out, c)
			}
		}
	}
	for i, a := range structs {
		for _, b := range structs[i+1:] {
			if types.Identical(a.Underlying(), b.Underlying()) {
				return nil
			}
		}
	}
	return out
}

// dynTypeSwitch is the text before a %T operand of the interface type t
// (then a closing parenthesis): the Go name of its dynamic type, from a
// type switch over dynCandidates, else FmtDynType.
func (l *lowerer) dynTypeSwitch(t types.Type) (string, bool) {
	cands := l.dynCandidates(t)
	ts, ok := l.typeString(t)
	if len(cands) == 0 || !ok {
		return "", false
	}
	var b strings.Builder
	// (yaegi's type switch without a bound variable matches nothing)
	b.WriteString("func(x " + ts + ") string { switch v := x.(type) { ")
	for _, c := range cands {
		cs, ok := l.typeString(c)
		if !ok {
			return "", false
		}
		b.WriteString("case " + cs + ": _ = v; return " + strconv.Quote(goTypeName(c)) + "; ")
	}
	b.WriteString("}; return " + helperPrefix + "_help.FmtDynType(" + l.cellShapes() + ", x) }(")
	return b.String(), true
}

// bodyOf is the body of the closure for t, over its parameter x.
func (g *fmtGen) bodyOf(t types.Type) string {
	h := helperPrefix + "_help."
	name := strconv.Quote(goTypeName(t))
	if types.IsInterface(t) {
		// The dynamic value through its own closure (dynCandidates).
		var b strings.Builder
		b.WriteString("switch v := x.(type) { ")
		for _, c := range g.l.dynCandidates(t) {
			cs, ok := g.l.typeString(c)
			if !ok {
				g.fail("cannot run faithfully: printing a value of type %s", types.TypeString(c, types.RelativeTo(g.l.c.pkg)))
				return ""
			}
			b.WriteString("case " + cs + ": return " + h + "FmtDyn(" + name + ", \"\", " + g.closure(c) + "(v)); ")
		}
		b.WriteString("}; return " + h + "FmtDyn(" + name + ", " + g.l.cellShapes() + ", x)")
		return b.String()
	}
	switch u := types.Unalias(t).(type) {
	case *types.Named:
		methods := g.methods(t)
		under := u.Underlying()
		if node, ok := g.selfNode(u); ok { // lower_selftypes.go
			return "return " + h + "FmtNamed(" + name + ", " + node + ", " + methods + ")"
		}
		var node string
		switch under.(type) {
		case *types.Pointer, *types.Interface:
			g.fail("cannot run faithfully: printing a value of the type %s (a named pointer type of the cell)", u.Obj().Name())
			return ""
		case *types.Struct:
			if !involvesCell(under, map[types.Type]bool{}) {
				node = "x"
			} else {
				node = g.structNode(under.(*types.Struct), `""`)
			}
		default:
			if !involvesCell(under, map[types.Type]bool{}) {
				node = "x"
			} else {
				node = g.closure(under) + "(x)"
			}
		}
		return "return " + h + "FmtNamed(" + name + ", " + node + ", " + methods + ")"
	case *types.Pointer:
		deref := "func() any { return " + g.part(u.Elem(), "*x") + " }"
		ptr := func(isNil, deref string) string { return h + "FmtPtr(" + name + ", x, " + isNil + ", " + deref + ")" }
		methods := g.methods(t)
		if methods == "nil, nil, nil, nil" {
			return "if x == nil { return " + ptr("true", "nil") + " }; return " + ptr("false", deref)
		}
		return "if x == nil { return " + h + "FmtNamed(" + name + ", " + ptr("true", "nil") + ", " + methods + ") }; return " + h + "FmtNamed(" + name + ", " + ptr("false", deref) + ", " + methods + ")"
	case *types.Slice:
		return "r := make([]any, len(x)); for i := range x { r[i] = " + g.part(u.Elem(), "x[i]") + " }; return " + h + "FmtSeq(" + name + ", false, x == nil, r)"
	case *types.Array:
		return "r := make([]any, len(x)); for i := range x { r[i] = " + g.part(u.Elem(), "x[i]") + " }; return " + h + "FmtSeq(" + name + ", true, false, r)"
	case *types.Map:
		return "var raw, ks, vs []any; for k, v := range x { raw = append(raw, " + h + "FmtLeaf(k)); ks = append(ks, " + g.part(u.Key(), "k") + "); vs = append(vs, " + g.part(u.Elem(), "v") + ") }; return " + h + "FmtMap(" + name + ", x == nil, raw, ks, vs)"
	case *types.Struct:
		return "return " + g.structNode(u, name)
	}
	g.fail("cannot run faithfully: printing a value of type %s", types.TypeString(t, types.RelativeTo(g.l.c.pkg)))
	return ""
}

// structNode is the stand-in of struct x.
func (g *fmtGen) structNode(st *types.Struct, name string) string {
	var names, exported, fields []string
	for i := range st.NumFields() {
		f := st.Field(i)
		if f.Name() == "_" {
			g.fail("cannot run faithfully: printing a struct with a blank (_) field")
			return ""
		}
		names = append(names, strconv.Quote(f.Name()))
		exported = append(exported, strconv.FormatBool(f.Exported()))
		fields = append(fields, g.part(f.Type(), "x."+f.Name()))
	}
	return helperPrefix + "_help.FmtStruct(" + name + ", []string{" + strings.Join(names, ", ") + "}, []bool{" + strings.Join(exported, ", ") + "}, []any{" + strings.Join(fields, ", ") + "})"
}

// methods are the arguments Format, GoString, Error, String of FmtNamed
// for a value x of type t: closures calling its methods, nil for those it
// lacks (a closure, so that a nil receiver panics when fmt calls it, as
// in Go, not when the stand-in is built).
func (g *fmtGen) methods(t types.Type) string {
	ms := types.NewMethodSet(t)
	out := []string{"nil", "nil", "nil", "nil"}
	for i, name := range []string{"Format", "GoString", "Error", "String"} {
		sel := ms.Lookup(nil, name)
		if sel == nil {
			continue
		}
		sig, ok := sel.Type().(*types.Signature)
		if !ok {
			continue
		}
		if name == "Format" {
			if sig.Params().Len() != 2 || sig.Results().Len() != 0 || !isNamed(sig.Params().At(0).Type(), "fmt", "State") || !types.Identical(sig.Params().At(1).Type(), types.Typ[types.Int32]) {
				continue
			}
			st, ok := g.l.typeString(sig.Params().At(0).Type())
			if !ok {
				out[i] = "x.Format"
				continue
			}
			out[i] = "func(s " + st + ", c rune) { x.Format(s, c) }"
			continue
		}
		if sig.Params().Len() == 0 && sig.Results().Len() == 1 && types.Identical(sig.Results().At(0).Type(), types.Typ[types.String]) {
			out[i] = "func() string { return x." + name + "() }"
		}
	}
	return strings.Join(out, ", ")
}

// cellShapes is a string literal listing the struct types of the session
// as compiled code sees a value of them (fmtShape): "{X,Y}{}".
func (l *lowerer) cellShapes() string {
	var b strings.Builder
	sc := l.c.pkg.Scope()
	seen := map[string]bool{}
	for _, n := range sc.Names() {
		tn, ok := sc.Lookup(n).(*types.TypeName)
		if !ok || tn.IsAlias() {
			continue
		}
		named, ok := tn.Type().(*types.Named)
		if !ok || named.TypeParams() != nil {
			continue
		}
		st, ok := named.Underlying().(*types.Struct)
		if !ok {
			continue
		}
		var names []string
		for i := range st.NumFields() {
			f := st.Field(i)
			if f.Exported() {
				names = append(names, f.Name())
			} else {
				names = append(names, "X"+f.Name()) // yaegi's name of it
			}
		}
		shape := "{" + strings.Join(names, ",") + "}"
		if !seen[shape] {
			seen[shape] = true
			b.WriteString(shape)
		}
	}
	return strconv.Quote(b.String())
}

func isNamed(t types.Type, pkg, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == pkg && n.Obj().Name() == name
}

// goTypeName is the name Go's reflect gives a type (what %T and %v print
// under go run): main.P for a cell type, *main.P, []main.P,
// map[string]main.P, struct { X int; Y main.P }. The lowering passes that
// rename cell types (instantiated generic types) keep the name the cell
// spelled.
var goTypeName = func(t types.Type) string {
	var b strings.Builder
	writeGoType(&b, t)
	return b.String()
}

func writeGoType(b *strings.Builder, t types.Type) {
	switch t := types.Unalias(t).(type) {
	case *types.Basic:
		b.WriteString(types.Typ[t.Kind()].Name())
	case *types.Named:
		if p := t.Obj().Pkg(); p != nil {
			if p.Path() == cellPkgPath {
				b.WriteString("main.")
			} else {
				b.WriteString(p.Name() + ".")
			}
		}
		b.WriteString(t.Obj().Name())
		if args := t.TypeArgs(); args != nil && args.Len() > 0 {
			b.WriteString("[")
			for i := range args.Len() {
				if i > 0 {
					b.WriteString(",")
				}
				writeGoType(b, args.At(i))
			}
			b.WriteString("]")
		}
	case *types.Pointer:
		b.WriteString("*")
		writeGoType(b, t.Elem())
	case *types.Slice:
		b.WriteString("[]")
		writeGoType(b, t.Elem())
	case *types.Array:
		b.WriteString("[" + strconv.FormatInt(t.Len(), 10) + "]")
		writeGoType(b, t.Elem())
	case *types.Map:
		b.WriteString("map[")
		writeGoType(b, t.Key())
		b.WriteString("]")
		writeGoType(b, t.Elem())
	case *types.Chan:
		switch t.Dir() {
		case types.SendOnly:
			b.WriteString("chan<- ")
		case types.RecvOnly:
			b.WriteString("<-chan ")
		default:
			b.WriteString("chan ")
		}
		writeGoType(b, t.Elem())
	case *types.Struct:
		if t.NumFields() == 0 {
			b.WriteString("struct {}")
			return
		}
		b.WriteString("struct {")
		for i := range t.NumFields() {
			if i > 0 {
				b.WriteString(";")
			}
			b.WriteString(" ")
			f := t.Field(i)
			if !f.Embedded() {
				b.WriteString(f.Name() + " ")
			}
			writeGoType(b, f.Type())
			if tag := t.Tag(i); tag != "" {
				b.WriteString(" " + strconv.Quote(tag))
			}
		}
		b.WriteString(" }")
	case *types.Signature:
		b.WriteString("func(")
		writeGoTuple(b, t.Params(), t.Variadic())
		b.WriteString(")")
		switch r := t.Results(); r.Len() {
		case 0:
		case 1:
			b.WriteString(" ")
			writeGoType(b, r.At(0).Type())
		default:
			b.WriteString(" (")
			writeGoTuple(b, r, false)
			b.WriteString(")")
		}
	case *types.Interface:
		if t.NumMethods() == 0 {
			b.WriteString("interface {}")
			return
		}
		b.WriteString("interface {")
		for i := range t.NumMethods() {
			if i > 0 {
				b.WriteString(";")
			}
			m := t.Method(i)
			b.WriteString(" " + m.Name())
			var s strings.Builder
			writeGoType(&s, m.Type())
			b.WriteString(strings.TrimPrefix(s.String(), "func"))
		}
		b.WriteString(" }")
	default:
		b.WriteString(types.TypeString(t, nil))
	}
}

func writeGoTuple(b *strings.Builder, tu *types.Tuple, variadic bool) {
	for i := range tu.Len() {
		if i > 0 {
			b.WriteString(", ")
		}
		t := tu.At(i).Type()
		if variadic && i == tu.Len()-1 {
			b.WriteString("...")
			t = t.(*types.Slice).Elem()
		}
		writeGoType(b, t)
	}
}
