package worker

import (
	"go/ast"
	"go/constant"
	"go/types"
	"reflect"
	"strings"
)

func init() {
	// Unwraps is the errors an error wraps, as errors.Is and As walk them:
	// a compiled error's Unwrap() error or Unwrap() []error.
	cellHelpers["unetlab/cellhelp/cellhelp"]["Unwraps"] = reflect.ValueOf(func(err error) []error {
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			return []error{u.Unwrap()}
		case interface{ Unwrap() []error }:
			return u.Unwrap()
		}
		return nil
	})
	// Inner is the cell value inside yaegi's wrapper of it (a compiled
	// struct with an IValue field), or err itself.
	cellHelpers["unetlab/cellhelp/cellhelp"]["Inner"] = reflect.ValueOf(func(err error) any {
		v := reflect.ValueOf(err)
		if v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem()
		}
		if v.Kind() == reflect.Struct {
			if f := v.FieldByName("IValue"); f.IsValid() && f.CanInterface() {
				return f.Interface()
			}
		}
		return err
	})
}

// passLowerErrors makes errors of cell types wrap and match as compiled
// ones do. yaegi v0.16.1 passes a cell value to fmt.Errorf's ...any as a
// plain struct (no Error method: "%!w(...)"), and compiled errors.As and
// errors.Is cannot see a cell type ("errors: *target must be interface or
// implement error", or a panic comparing yaegi's uncomparable wrappers).
//
//   - An operand of %w whose static type is a cell type with Error() is
//     converted to error first, which yaegi wraps with its method.
//   - errors.As(err, target) whose target points to a pointer to a cell
//     type, and errors.Is(err, target) whose target is a pointer to a cell
//     type, call a function
//     literal instead that walks the tree of wrapped errors as package
//     errors does (depth first, Unwrap() error and Unwrap() []error, the
//     Is and As methods of cell types) with yaegi's own type assertions,
//     which see through its wrappers. A value-type target (whose wrapper
//     yaegi's assertions do not see through) is refused with an error that
//     says so.
func (s *session) passLowerErrors(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	info := l.c.info
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || !l.inCell(call) || call.Ellipsis.IsValid() {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		fn, ok := info.Uses[sel.Sel].(*types.Func)
		if !ok || fn.Pkg() == nil {
			return true
		}
		switch fn.Pkg().Path() + "." + fn.Name() {
		case "fmt.Errorf":
			l.lowerErrorfWrap(call)
		case "errors.As":
			if len(call.Args) != 2 {
				return true
			}
			pt, ok := info.Types[call.Args[1]].Type.(*types.Pointer)
			if !ok || !isCellType(pt.Elem()) {
				return true
			}
			if _, ptr := pt.Elem().(*types.Pointer); !ptr {
				l.fail(call, "cannot run faithfully: errors.As with a target of the value type %s (yaegi's wrapper hides it); give its methods a pointer receiver and use *%[1]s", types.TypeString(pt.Elem(), types.RelativeTo(l.c.pkg)))
				return true
			}
			ts, ok := l.typeString(pt.Elem())
			if !ok {
				return true
			}
			l.replace(call.Fun, errorsWalker("target *"+ts, ts, "*target = v; return true"))
		case "errors.Is":
			if len(call.Args) != 2 {
				return true
			}
			t := info.Types[call.Args[1]].Type
			if !isCellType(t) {
				return true
			}
			if _, ptr := t.(*types.Pointer); !ptr {
				l.fail(call, "cannot run faithfully: errors.Is with a target of the value type %s (yaegi's wrapper hides it); give its methods a pointer receiver and use *%[1]s", types.TypeString(t, types.RelativeTo(l.c.pkg)))
				return true
			}
			ts, ok := l.typeString(t)
			if !ok {
				return true
			}
			l.replace(call.Fun, errorsWalker("target "+ts, ts, "if v == target { return true }"))
		}
		return true
	})
	return l.done()
}

// isCellType reports whether t is a type the cell declared (or a pointer
// to one), and not an interface.
func isCellType(t types.Type) bool {
	if t == nil || types.IsInterface(t) {
		return false
	}
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := t.(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == cellPkgPath
}

// errorsWalker is a function literal (err error, <param>) bool that walks
// err's tree, depth first, and on an error of type ts runs match (v is the
// error as ts). It unwraps through compiled code (Unwraps), so the Unwrap,
// Is and As methods of cell types are not seen (documented in api.go).
func errorsWalker(param, ts, match string) string {
	h := helperPrefix + "_help."
	var b strings.Builder
	b.WriteString("func(err error, " + param + ") bool { ")
	b.WriteString("stack := []error{err}; ")
	b.WriteString("for len(stack) > 0 { ")
	b.WriteString("e := stack[len(stack)-1]; stack = stack[:len(stack)-1]; ")
	b.WriteString("if e == nil { continue }; ")
	b.WriteString("if v, ok := " + h + "Inner(e).(" + ts + "); ok { " + match + " }; ")
	b.WriteString("kids := " + h + "Unwraps(e); ")
	b.WriteString("for i := len(kids) - 1; i >= 0; i-- { stack = append(stack, kids[i]) } ")
	b.WriteString("}; return false }")
	return b.String()
}

// lowerErrorfWrap converts the %w operands of cell types to error.
func (l *lowerer) lowerErrorfWrap(call *ast.CallExpr) {
	if len(call.Args) == 0 {
		return
	}
	tv := l.c.info.Types[call.Args[0]]
	if tv.Value == nil || tv.Value.Kind() != constant.String {
		return
	}
	verbs, ok := formatVerbs(constant.StringVal(tv.Value))
	if !ok {
		return
	}
	for i, a := range call.Args[1:] {
		if i >= len(verbs) || verbs[i] != 'w' {
			continue
		}
		if methodConversion(l.c.info.Types[a].Type) != "Error" {
			continue
		}
		l.insert(a.Pos(), "func(e error) error { return e }(")
		l.insert(a.End(), ")")
	}
}
