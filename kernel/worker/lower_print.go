package worker

import (
	"fmt"
	"go/ast"
	"go/types"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// passLowerPrint makes the builtins print and println print as the Go
// runtime does, on the cell's standard error: yaegi v0.16.1 wrote them to
// standard output with fmt's %v ("<nil>", "[]", "map[]" for nil
// pointers, slices and maps, "+1.5" style floats of fmt) and println left
// a trailing space before its newline. Each call becomes a call of the
// session's compiled helper Print (printHelpers), which is told the
// static category of each operand, since the runtime's format depends on
// it:
//
//	println(e, s, p)  =>  __unetlab_help.Print("esp", true, e, s, p)
//
// An interface prints as the runtime's (type word, data word) pair,
// "(0x0,0x0)" when nil (the words of a non-nil one are addresses, as in
// Go, whose values no program can rely on); a pointer, channel, map or
// function as its address in hexadecimal ("0x0" when nil); a slice as
// "[len/cap]" and the address of its array; numbers in the runtime's
// formats (floats in the shortest form that reads back, as strconv's 'g'
// with precision -1, which Go 1.25's runtime uses); strings as their bytes.
// println puts spaces between operands and a newline at the end; print
// neither. An operand of another type (a struct, an array) is gc's
// error "illegal types for operand: print" (go/types accepts it).
func (s *session) passLowerPrint(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || !l.inCell(n) {
			return true
		}
		id, ok := ast.Unparen(call.Fun).(*ast.Ident)
		if !ok {
			return true
		}
		b, ok := l.c.info.Uses[id].(*types.Builtin)
		if !ok || (b.Name() != "print" && b.Name() != "println") {
			return true
		}
		kinds := make([]byte, 0, len(call.Args))
		for _, a := range call.Args {
			t := l.c.info.Types[a].Type
			if tu, ok := t.(*types.Tuple); ok {
				// println(f()) of a function with several results
				// (yaegi printed the first): through a function
				// literal whose parameters take them.
				if text, ok := l.printTuple(tu, a, b.Name() == "println"); ok {
					l.replace(call, text)
				}
				return true
			}
			k := printKind(t)
			if k == 0 {
				// gc's words, for println too.
				if l.err == nil {
					pos := l.c.fset.Position(a.Pos())
					msg := fmt.Sprintf("cell:%d:%d: illegal types for operand: print\n\t%s", pos.Line, pos.Column, types.TypeString(t, func(p *types.Package) string {
						if p.Path() == cellPkgPath {
							return ""
						}
						return p.Name()
					}))
					l.err = compileError(msg)
				}
				return false
			}
			if k == '?' {
				return true // a type parameter: left to yaegi
			}
			kinds = append(kinds, k)
		}
		l.replace(call.Fun, helperPrefix+"_help.Print")
		l.insert(call.Lparen+1, strconv.Quote(string(kinds))+", "+strconv.FormatBool(b.Name() == "println")+", ")
		return true
	})
	return l.done()
}

// printKind is the category of an operand of print of static type t, as
// the helper Print reads it: 'e' an interface, 'p' a pointer, channel,
// map or function, 's' a slice, 'v' a boolean, number or string (its
// dynamic kind says which), '?' a type parameter, 0 a type print does not
// take.
func printKind(t types.Type) byte {
	if t == nil {
		return 0
	}
	if _, ok := t.(*types.TypeParam); ok {
		return '?'
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Kind() == types.UnsafePointer:
			return 'p'
		case u.Kind() == types.UntypedNil || u.Kind() == types.Invalid:
			return 0
		}
		return 'v'
	case *types.Interface:
		return 'e'
	case *types.Pointer, *types.Chan, *types.Map, *types.Signature:
		return 'p'
	case *types.Slice:
		return 's'
	}
	return 0
}

// printHelpers are the session's helpers of passLowerPrint, writing to w.
func printHelpers(w io.Writer) map[string]reflect.Value {
	return map[string]reflect.Value{
		"Print": reflect.ValueOf(func(kinds string, ln bool, args ...any) {
			var b strings.Builder
			for i, a := range args {
				if ln && i > 0 {
					b.WriteByte(' ')
				}
				k := byte('v')
				if i < len(kinds) {
					k = kinds[i]
				}
				printOperand(&b, k, a)
			}
			if ln {
				b.WriteByte('\n')
			}
			io.WriteString(w, b.String())
		}),
	}
}

// printOperand writes a as the runtime prints an operand of category k
// (see printKind).
func printOperand(b *strings.Builder, k byte, a any) {
	hex := func(p uintptr) {
		b.WriteString("0x")
		b.WriteString(strconv.FormatUint(uint64(p), 16))
	}
	v := reflect.ValueOf(a)
	switch k {
	case 'e':
		if !v.IsValid() {
			b.WriteString("(0x0,0x0)")
			return
		}
		// The type word: the address of the dynamic type's descriptor;
		// the data word: the pointer itself for pointer-shaped values,
		// else the address of a boxed copy.
		b.WriteByte('(')
		hex(reflect.ValueOf(v.Type()).Pointer())
		b.WriteByte(',')
		switch v.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
			hex(v.Pointer())
		default:
			box := reflect.New(v.Type())
			box.Elem().Set(v)
			hex(box.Pointer())
		}
		b.WriteByte(')')
		return
	case 'p':
		if !v.IsValid() {
			b.WriteString("0x0")
			return
		}
		hex(v.Pointer())
		return
	case 's':
		if !v.IsValid() || v.Kind() != reflect.Slice {
			b.WriteString("[0/0]0x0")
			return
		}
		b.WriteString("[" + strconv.Itoa(v.Len()) + "/" + strconv.Itoa(v.Cap()) + "]")
		hex(v.Pointer())
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32:
		b.WriteString(strconv.FormatFloat(v.Float(), 'g', -1, 32))
	case reflect.Float64:
		b.WriteString(strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case reflect.Complex64:
		b.WriteString(strconv.FormatComplex(v.Complex(), 'g', -1, 64))
	case reflect.Complex128:
		b.WriteString(strconv.FormatComplex(v.Complex(), 'g', -1, 128))
	case reflect.String:
		b.WriteString(v.String())
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		hex(v.Pointer())
	case reflect.Invalid:
		b.WriteString("0x0")
	default:
		b.WriteString("?")
	}
}

// printTuple is print(f()) or println(f()), f's results tu, as a call of
// a function literal that prints its parameters; false when a result's
// type cannot be spelled or printed.
func (l *lowerer) printTuple(tu *types.Tuple, arg ast.Expr, ln bool) (string, bool) {
	var params, names []string
	var kinds []byte
	for i := range tu.Len() {
		t := tu.At(i).Type()
		k := printKind(t)
		ts, ok := l.typeString(t)
		if k == 0 || k == '?' || !ok {
			return "", false
		}
		n := fmt.Sprintf("%s_p%d", helperPrefix, i)
		params = append(params, n+" "+ts)
		names = append(names, n)
		kinds = append(kinds, k)
	}
	return fmt.Sprintf("func(%s) { %s_help.Print(%s, %t, %s) }(%s)", strings.Join(params, ", "), helperPrefix, strconv.Quote(string(kinds)), ln, strings.Join(names, ", "), l.text(arg)), true
}
