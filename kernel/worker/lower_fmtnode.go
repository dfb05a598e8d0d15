package worker

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// This file is the compiled side of lower-fmt-values (lower_fmtvalues.go):
// fmtValue, a stand-in for a value whose static type involves cell types,
// which fmt prints (through its Format method) as Go prints the original.
// yaegi hands compiled code a value of a cell type as its underlying
// structure (no type name, no methods), so the interpreted side builds the
// stand-in from the static types: the Go name of each type, the methods
// fmt calls (Format, GoString, Error, String) as method values, and the
// structure of struct, pointer, slice, array and map values whose parts
// are cell types. The printer below follows fmt's own rules (print.go's
// handleMethods, printValue, fmtPointer and catchPanic) over that tree.

func init() {
	h := cellHelpers["unetlab/cellhelp/cellhelp"]
	h["FmtLeaf"] = reflect.ValueOf(func(v any) any { return v })
	h["FmtNamed"] = reflect.ValueOf(fmtNamed)
	h["FmtStruct"] = reflect.ValueOf(func(typ string, names []string, exported []bool, fields []any) any {
		return &fmtValue{typ: typ, kind: reflect.Struct, names: names, exported: exported, elems: fields}
	})
	h["FmtSeq"] = reflect.ValueOf(func(typ string, array, isNil bool, elems []any) any {
		k := reflect.Slice
		if array {
			k = reflect.Array
		}
		return &fmtValue{typ: typ, kind: k, isNil: isNil, elems: elems}
	})
	h["FmtMap"] = reflect.ValueOf(fmtMap)
	h["FmtPtr"] = reflect.ValueOf(func(typ string, p any, isNil bool, deref func() any) any {
		return &fmtValue{typ: typ, kind: reflect.Pointer, leaf: p, isNil: isNil, deref: deref}
	})
	h["FmtDyn"] = reflect.ValueOf(fmtDyn)
	h["FmtDynType"] = reflect.ValueOf(fmtDynType)
	h["FmtSprint"] = reflect.ValueOf(func(isString []bool, args ...any) string {
		// isString: whether each operand's static type is a string type,
		// for the stand-ins; other operands are what Print would see.
		var b strings.Builder
		prev := false
		for i, a := range args {
			str := isString[i]
			if _, ok := a.(*fmtValue); !ok {
				str = a != nil && reflect.TypeOf(a).Kind() == reflect.String
			}
			if i > 0 && !str && !prev {
				b.WriteByte(' ')
			}
			fmt.Fprint(&b, a)
			prev = str
		}
		return b.String()
	})
	h["FmtResult"] = reflect.ValueOf(func(x any) string {
		if v, ok := x.(*fmtValue); ok && (v.errorM != nil || v.stringM != nil) {
			return fmt.Sprintf("%v", x)
		}
		return fmt.Sprintf("%+v", x)
	})
	h["FmtTypeName"] = reflect.ValueOf(func(name string, _ any) string { return name })
}

// fmtValue is the compiled stand-in of a value whose type involves cell
// types. kind is the kind of its structure: Struct (names, exported,
// elems), Slice and Array (elems), Map (keys, elems), Pointer (leaf is the
// pointer, deref its element), Interface (a value of an interface type:
// leaf is the dynamic value or a *fmtValue), or Invalid: leaf is the value
// itself, with no cell types inside (a named cell type over int, or over a
// struct of compiled types only).
type fmtValue struct {
	typ  string // Go's name of the type: main.P, []main.P, *main.P
	kind reflect.Kind

	// the methods of the type that fmt calls; nil when it has none
	format   func(fmt.State, rune)
	goString func() string
	errorM   func() string
	stringM  func() string

	leaf     any
	names    []string
	exported []bool
	elems    []any
	keys     []any
	isNil    bool
	deref    func() any
}

// fmtNamed gives under (a stand-in or, for a type with no cell types in
// its structure, the value itself) the Go name typ and the methods fmt
// calls of a named cell type.
func fmtNamed(typ string, under any, format func(fmt.State, rune), goString, errorM, stringM func() string) any {
	v, ok := under.(*fmtValue)
	if !ok {
		v = &fmtValue{kind: reflect.Invalid, leaf: under}
	}
	v.typ = typ
	v.format, v.goString, v.errorM, v.stringM = format, goString, errorM, stringM
	return v
}

// fmtMap is the stand-in of a map: raw are its keys as values (the order
// fmt prints them in comes from them), keys and elems the stand-ins.
func fmtMap(typ string, isNil bool, raw, keys, elems []any) any {
	idx := make([]int, len(raw))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return fmtCompare(reflect.ValueOf(raw[a]), reflect.ValueOf(raw[b])) })
	v := &fmtValue{typ: typ, kind: reflect.Map, isNil: isNil}
	for _, i := range idx {
		v.keys = append(v.keys, keys[i])
		v.elems = append(v.elems, elems[i])
	}
	return v
}

// fmtCompare orders map keys as fmt does (package internal/fmtsort).
func fmtCompare(a, b reflect.Value) int {
	if !a.IsValid() || !b.IsValid() {
		return cmp.Compare(fmtBool(a.IsValid()), fmtBool(b.IsValid()))
	}
	if a.Type() != b.Type() {
		if a.Kind() == reflect.Interface || b.Kind() == reflect.Interface {
			return 0
		}
		return -1
	}
	switch a.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return cmp.Compare(a.Int(), b.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return cmp.Compare(a.Uint(), b.Uint())
	case reflect.String:
		return cmp.Compare(a.String(), b.String())
	case reflect.Float32, reflect.Float64:
		return cmp.Compare(a.Float(), b.Float())
	case reflect.Complex64, reflect.Complex128:
		if c := cmp.Compare(real(a.Complex()), real(b.Complex())); c != 0 {
			return c
		}
		return cmp.Compare(imag(a.Complex()), imag(b.Complex()))
	case reflect.Bool:
		return cmp.Compare(fmtBool(a.Bool()), fmtBool(b.Bool()))
	case reflect.Pointer, reflect.UnsafePointer, reflect.Chan:
		return cmp.Compare(a.Pointer(), b.Pointer())
	case reflect.Struct:
		for i := range a.NumField() {
			if c := fmtCompare(a.Field(i), b.Field(i)); c != 0 {
				return c
			}
		}
		return 0
	case reflect.Array:
		for i := range a.Len() {
			if c := fmtCompare(a.Index(i), b.Index(i)); c != 0 {
				return c
			}
		}
		return 0
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return cmp.Compare(fmtBool(!a.IsNil()), fmtBool(!b.IsNil()))
		}
		ea, eb := a.Elem(), b.Elem()
		if ea.Type() != eb.Type() {
			return cmp.Compare(ea.Type().String(), eb.Type().String())
		}
		return fmtCompare(ea, eb)
	}
	return 0
}

func fmtBool(b bool) int {
	if b {
		return 1
	}
	return 0
}

// yaegiHidden reports whether v is one of the interpreter's own values
// standing for an interpreted one (a wrapper of a standard interface
// around a cell value, or a cell value held in an interface{}), whose
// type name and fields fmt would print instead of the cell value's.
func yaegiHidden(v any) bool {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return false
	}
	pkg := t.PkgPath()
	return pkg == "github.com/traefik/yaegi/interp" || (strings.HasSuffix(pkg, "/stdlib") && strings.HasPrefix(t.Name(), "_"))
}

// fmtDyn is the stand-in of a value v of the interface type typ: v
// itself when it is a compiled value, or one that refuses to print (a
// panic that fmt prints in place of the operand, "cannot run faithfully")
// where fmt would print the interpreter's structure and not the cell
// value: yaegi's wrapper of it (whose methods fmt may still call), or a
// value whose dynamic type may be a cell struct type, which compiled code
// sees without its name and methods (shapes, fmtShape).
func fmtDyn(typ, shapes string, v any) any {
	if fv, ok := v.(*fmtValue); ok {
		return &fmtValue{typ: typ, kind: reflect.Interface, leaf: fv}
	}
	if v != nil && !yaegiHidden(v) && !fmtMaybeCell(shapes, v) {
		return v
	}
	return &fmtValue{typ: typ, kind: reflect.Interface, leaf: v, names: []string{shapes}}
}

// fmtShape is how a struct type reaches compiled code from yaegi, as
// cellShapes lists them: its field names, "{X,Y}" (yaegi names an
// unexported field x "Xx").
func fmtShape(t reflect.Type) string {
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = t.Field(i).Name
	}
	return "{" + strings.Join(names, ",") + "}"
}

// fmtMaybeCell reports whether v may be a value of a cell struct type (or
// a pointer to one): an unnamed struct with the fields of one of shapes.
func fmtMaybeCell(shapes string, v any) bool {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t != nil && t.Kind() == reflect.Struct && t.Name() == "" && strings.Contains(shapes, fmtShape(t))
}

// fmtDynType is %T of a value of an interface type.
func fmtDynType(shapes string, v any) string {
	if v == nil {
		return "<nil>"
	}
	if yaegiHidden(v) || fmtMaybeCell(shapes, v) {
		panic("cannot run faithfully: %T of a value held in an interface, whose dynamic type is a cell type (give the operand its static type)")
	}
	return reflect.TypeOf(v).String()
}

// fmtPrinter prints one operand.
type fmtPrinter struct {
	s            fmt.State
	verb         rune
	sharpV       bool
	plusV        bool
	flags        string // the directive's flags, width and precision
	flagsNoSharp string
}

// Format prints v as fmt prints the value it stands for.
func (v *fmtValue) Format(s fmt.State, verb rune) {
	p := &fmtPrinter{s: s, verb: verb}
	var f, g strings.Builder
	for _, c := range "-+# 0" {
		if s.Flag(int(c)) {
			f.WriteRune(c)
			if c != '#' && c != '+' {
				g.WriteRune(c)
			}
		}
	}
	var wp strings.Builder
	if w, ok := s.Width(); ok {
		wp.WriteString(strconv.Itoa(w))
	}
	if pr, ok := s.Precision(); ok {
		wp.WriteString("." + strconv.Itoa(pr))
	}
	p.flags = f.String() + wp.String()
	p.flagsNoSharp = g.String() + wp.String()
	if verb == 'v' {
		p.sharpV, p.plusV = s.Flag('#'), s.Flag('+')
	}
	p.value(v, 0, false)
}

func (p *fmtPrinter) write(s string) { _, _ = p.s.Write([]byte(s)) }

// directive is the operand's directive with another verb.
func (p *fmtPrinter) directive(verb rune) string { return "%" + p.flags + string(verb) }

// value prints x (a stand-in or a value without cell types) at depth (0:
// the operand itself); ro: reached through an unexported field, where fmt
// calls no methods.
func (p *fmtPrinter) value(x any, depth int, ro bool) {
	if v, ok := x.(*fmtValue); ok {
		p.node(v, depth, ro)
		return
	}
	p.leaf(x, depth, ro)
}

// leaf prints a value without cell types.
func (p *fmtPrinter) leaf(x any, depth int, ro bool) {
	if depth == 0 {
		fmt.Fprintf(p.s, p.directive(p.verb), x)
		return
	}
	rv := reflect.ValueOf(x)
	if !rv.IsValid() {
		fmt.Fprintf(p.s, p.directive(p.verb), x)
		return
	}
	if !ro && p.handled(x) {
		fmt.Fprintf(p.s, p.directive(p.verb), x)
		return
	}
	if rv.Kind() == reflect.Pointer {
		p.pointer(rv.Type().String(), rv.Pointer(), depth)
		return
	}
	if ro {
		// fmt calls no methods under an unexported field: a
		// reflect.Value that cannot be interfaced says so.
		fmt.Fprintf(p.s, p.directive(p.verb), reflect.ValueOf(fmtHolder{x}).Field(0).Elem())
		return
	}
	fmt.Fprintf(p.s, p.directive(p.verb), x)
}

// fmtHolder makes a value read-only for reflect (see leaf).
type fmtHolder struct{ v any }

// handled reports whether fmt would print x through one of its methods.
func (p *fmtPrinter) handled(x any) bool {
	if _, ok := x.(fmt.Formatter); ok {
		return true
	}
	if p.sharpV {
		_, ok := x.(fmt.GoStringer)
		return ok
	}
	switch p.verb {
	case 'v', 's', 'x', 'X', 'q':
		switch x.(type) {
		case error, fmt.Stringer:
			return true
		}
	}
	return false
}

// methods prints v through the methods fmt calls, as handleMethods does;
// false when none applies.
func (p *fmtPrinter) methods(v *fmtValue) (handled bool) {
	if v.format != nil {
		handled = true
		defer p.catchPanic(v, "Format")
		v.format(p.s, p.verb)
		return true
	}
	if p.sharpV {
		if v.goString != nil {
			handled = true
			defer p.catchPanic(v, "GoString")
			s := v.goString()
			fmt.Fprintf(p.s, "%"+p.flagsNoSharp+"s", s)
			return true
		}
		return false
	}
	switch p.verb {
	case 'v', 's', 'x', 'X', 'q':
		if v.errorM != nil {
			handled = true
			defer p.catchPanic(v, "Error")
			s := v.errorM()
			fmt.Fprintf(p.s, p.directive(p.verb), s)
			return true
		}
		if v.stringM != nil {
			handled = true
			defer p.catchPanic(v, "String")
			s := v.stringM()
			fmt.Fprintf(p.s, p.directive(p.verb), s)
			return true
		}
	}
	return false
}

// catchPanic prints a panic of a method as fmt does: "<nil>" for a nil
// pointer receiver, else %!v(PANIC=String method: ...).
func (p *fmtPrinter) catchPanic(v *fmtValue, method string) {
	err := recover()
	if err == nil {
		return
	}
	if v.kind == reflect.Pointer && v.isNil {
		fmt.Fprintf(p.s, "%"+p.flagsNoSharp+"s", "<nil>")
		return
	}
	fmt.Fprintf(p.s, "%%!%c(PANIC=%s method: %v)", p.verb, method, methodPanic(err))
}

// methodPanic is the panic value of a cell method as Go words it: yaegi's
// reflect panics of a nil dereference are the runtime's error (panics.go).
func methodPanic(err any) any {
	msg, ok := err.(string)
	if !ok {
		if e, isErr := err.(error); isErr {
			msg = e.Error()
		} else {
			return err
		}
	}
	msg = yaegiPosRE.ReplaceAllString(msg, "")
	for _, g := range goPanics {
		if (g.kind == "nil" || g.kind == "deref") && g.re.MatchString(msg) {
			return g.msg
		}
	}
	return err
}

// node prints a stand-in.
func (p *fmtPrinter) node(v *fmtValue, depth int, ro bool) {
	if !ro && p.methods(v) {
		return
	}
	switch v.kind {
	case reflect.Invalid:
		p.named(v, depth, ro)
	case reflect.Interface:
		p.iface(v, depth, ro)
	case reflect.Struct:
		if p.sharpV {
			p.write(v.typ)
		}
		p.write("{")
		for i, f := range v.elems {
			if i > 0 {
				if p.sharpV {
					p.write(", ")
				} else {
					p.write(" ")
				}
			}
			if p.plusV || p.sharpV {
				p.write(v.names[i] + ":")
			}
			p.value(f, depth+1, ro || !v.exported[i])
		}
		p.write("}")
	case reflect.Slice, reflect.Array:
		if p.sharpV {
			p.write(v.typ)
			if v.kind == reflect.Slice && v.isNil {
				p.write("(nil)")
				return
			}
			p.write("{")
			for i, e := range v.elems {
				if i > 0 {
					p.write(", ")
				}
				p.value(e, depth+1, ro)
			}
			p.write("}")
			return
		}
		p.write("[")
		for i, e := range v.elems {
			if i > 0 {
				p.write(" ")
			}
			p.value(e, depth+1, ro)
		}
		p.write("]")
	case reflect.Map:
		if p.sharpV {
			p.write(v.typ)
			if v.isNil {
				p.write("(nil)")
				return
			}
			p.write("{")
		} else {
			p.write("map[")
		}
		for i := range v.keys {
			if i > 0 {
				if p.sharpV {
					p.write(", ")
				} else {
					p.write(" ")
				}
			}
			p.value(v.keys[i], depth+1, ro)
			p.write(":")
			p.value(v.elems[i], depth+1, ro)
		}
		if p.sharpV {
			p.write("}")
		} else {
			p.write("]")
		}
	case reflect.Pointer:
		if depth == 0 && !v.isNil {
			e := v.deref()
			k := reflect.Invalid
			if ev, ok := e.(*fmtValue); ok {
				k = ev.kind
				if k == reflect.Invalid {
					k = reflect.ValueOf(ev.leaf).Kind()
				}
			} else {
				k = reflect.ValueOf(e).Kind()
			}
			switch k {
			case reflect.Array, reflect.Slice, reflect.Struct, reflect.Map:
				p.write("&")
				p.value(e, depth+1, ro)
				return
			}
		}
		var addr uintptr
		if !v.isNil {
			addr = reflect.ValueOf(v.leaf).Pointer()
		}
		p.pointer(v.typ, addr, depth)
	}
}

// named prints a named cell type with no cell types in its structure: its
// value as fmt prints it, under the type's Go name for %#v.
func (p *fmtPrinter) named(v *fmtValue, depth int, ro bool) {
	if !p.sharpV {
		p.leaf(v.leaf, max(depth, 1), true)
		return
	}
	rv := reflect.ValueOf(v.leaf)
	s := fmt.Sprintf(p.directive('v'), reflect.ValueOf(fmtHolder{v.leaf}).Field(0).Elem())
	switch rv.Kind() {
	case reflect.Struct, reflect.Slice, reflect.Array, reflect.Map:
		if rest, ok := strings.CutPrefix(s, rv.Type().String()); ok {
			s = v.typ + rest
		}
	}
	p.write(s)
}

// iface prints a value of an interface type.
func (p *fmtPrinter) iface(v *fmtValue, depth int, ro bool) {
	switch x := v.leaf.(type) {
	case nil:
		if depth == 0 {
			fmt.Fprintf(p.s, "%"+p.flagsNoSharp+"s", "<nil>")
		} else if p.sharpV {
			p.write(v.typ + "(nil)")
		} else {
			p.write("<nil>")
		}
		return
	case *fmtValue:
		if depth > 0 {
			depth++ // (the operand itself is its dynamic value)
		}
		p.node(x, depth, ro)
		return
	}
	if !yaegiHidden(v.leaf) && !fmtMaybeCell(v.names[0], v.leaf) {
		p.leaf(v.leaf, depth+1, ro)
		return
	}
	// A cell value: in yaegi's wrapper, fmt may call its methods.
	if yaegiHidden(v.leaf) && !ro && p.handled(v.leaf) {
		fmt.Fprintf(p.s, p.directive(p.verb), v.leaf)
		return
	}
	// Said in place of the value (as fmt says a bad verb), so that the
	// values around it still print.
	fmt.Fprintf(p.s, "%%!%c(cannot run faithfully: a value of type %s that holds a cell type's value; give the operand its static type)", p.verb, v.typ)
}

// pointer prints a pointer that fmt does not follow (fmtPointer).
func (p *fmtPrinter) pointer(typ string, addr uintptr, depth int) {
	switch p.verb {
	case 'v':
		if p.sharpV {
			p.write("(" + typ + ")(")
			if addr == 0 {
				p.write("nil")
			} else {
				p.write("0x" + strconv.FormatUint(uint64(addr), 16))
			}
			p.write(")")
			return
		}
		if addr == 0 {
			fmt.Fprintf(p.s, "%"+p.flagsNoSharp+"s", "<nil>")
			return
		}
		fmt.Fprintf(p.s, "%"+p.flagsNoSharp+"#x", addr)
	case 'p':
		if p.s.Flag('#') {
			fmt.Fprintf(p.s, "%"+p.flagsNoSharp+"x", addr)
		} else {
			fmt.Fprintf(p.s, "%"+p.flagsNoSharp+"#x", addr)
		}
	case 'b', 'o', 'd', 'x', 'X':
		fmt.Fprintf(p.s, p.directive(p.verb), addr)
	default:
		fmt.Fprintf(p.s, "%%!%c(%s=0x%x)", p.verb, typ, addr)
	}
}
