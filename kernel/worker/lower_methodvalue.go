package worker

import (
	"fmt"
	"go/ast"
	"go/types"
	"reflect"
	"strings"
)

func init() {
	cellHelpers["unetlab/cellhelp/cellhelp"]["NilDeref"] = reflect.ValueOf(nilDeref)
	cellHelpers["unetlab/cellhelp/cellhelp"]["NilMethod"] = reflect.ValueOf(func(typ, method string) {
		panic(nilMethodError{typ, method})
	})
}

// nilMethodError is the runtime error of a value method called through a
// nil pointer by a method expression ((*T).M(nil)): typ is the receiver's
// type name, method the method's.
type nilMethodError struct{ typ, method string }

func (nilMethodError) RuntimeError() {}

func (e nilMethodError) Error() string {
	return "value method " + cellPkgPath + "." + e.typ + "." + e.method + " called using nil *" + e.typ + " pointer"
}

// nilPointer is nil: nilDeref reads through it.
var nilPointer *int

// nilDeref is __unetlab_help.NilDeref: the Go runtime's own panic for a
// nil pointer dereference (a runtime.Error: "invalid memory address or nil
// pointer dereference"). It never returns.
func nilDeref() {
	_ = *nilPointer
}

// passLowerMethodValues lowers method values x.M (a method selected and
// not called) of the cell's methods and of interface methods to function
// literals with Go's evaluation: yaegi v0.16.1 bound the receiver
// variable, not its value (t.x changed after f := t.V changed what f()
// returned), and a method value of a nil pointer with a value method, or
// of a nil interface, did not panic where it is evaluated ("not
// panicking"). The receiver is evaluated where the method value is, each
// implicit step through an embedded field with it (a nil embedded pointer
// panics there), copied for a value method and addressed for a pointer
// method:
//
//	t.V  =>  func(r T) func() int { v := r; return func() int { return v.V() } }(t)
//	p.V  =>  func(r *T) func() int { if r == nil { NilDeref() }; v := *r; ... }(p)
//
// A method value whose types the cell cannot spell, or that involves type
// parameters, is left to yaegi.
func (s *session) passLowerMethodValues(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	called := map[*ast.SelectorExpr]bool{}
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
				called[sel] = true
			}
		}
		return true
	})
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok || called[sel] || !l.inCell(n) {
			return true
		}
		if text, ok := l.methodValueFunc(sel); ok {
			l.replace(sel, text)
			// The receiver's own method values are lowered in its text
			// (span markers), so go on into it.
		}
		return true
	})
	return l.done()
}

// methodValueFunc writes the function literal that method value sel
// evaluates to, or false when sel is not one to lower.
func (l *lowerer) methodValueFunc(sel *ast.SelectorExpr) (string, bool) {
	xt, ok := l.c.info.Types[sel.X]
	if !ok || !xt.IsValue() {
		return "", false
	}
	m, ok := l.c.info.Uses[sel.Sel].(*types.Func)
	if !ok {
		return "", false
	}
	sig, ok := l.c.info.Types[sel].Type.(*types.Signature)
	if !ok || sig.Recv() != nil {
		return "", false
	}
	obj, index, _ := types.LookupFieldOrMethod(xt.Type, true, m.Pkg(), m.Name())
	if obj != m || len(index) == 0 {
		return "", false
	}
	if mentionsTypeParam(xt.Type) || mentionsTypeParam(sig) {
		return "", false
	}
	// The receiver as the method sees it: its static type after each
	// embedded field of the path.
	h := helperPrefix
	r0 := h + "_r"
	cur, curT := r0, xt.Type
	var walk []string
	nilCheck := func(v string) {
		walk = append(walk, "if "+v+" == nil { "+h+"_help.NilDeref() }")
	}
	path := index[:len(index)-1]
	// A pointer method of a value reached without a pointer step needs
	// the address of x itself.
	recvPtr := false
	if mrecv := m.Type().(*types.Signature).Recv(); mrecv != nil {
		_, recvPtr = mrecv.Type().(*types.Pointer)
	}
	argText := l.text(sel.X)
	paramT := xt.Type
	if _, isPtr := xt.Type.Underlying().(*types.Pointer); !isPtr && recvPtr && !types.IsInterface(xt.Type) {
		viaPtr := false
		t := xt.Type
		for _, i := range path {
			st, ok := derefStruct(t)
			if !ok {
				return "", false
			}
			t = st.Field(i).Type()
			if _, p := t.Underlying().(*types.Pointer); p {
				viaPtr = true
				break
			}
		}
		if !viaPtr {
			argText = "&(" + argText + ")"
			paramT = types.NewPointer(xt.Type)
			curT = paramT
		}
	}
	// Only the cell's own methods and interface methods: yaegi binds
	// compiled methods through reflect, which evaluates as Go does.
	lower := m.Pkg() != nil && m.Pkg().Path() == cellPkgPath
	for _, i := range path {
		if _, p := curT.Underlying().(*types.Pointer); p {
			nilCheck(cur)
		}
		st, ok := derefStruct(curT)
		if !ok {
			return "", false
		}
		f := st.Field(i)
		if !f.Exported() && (f.Pkg() == nil || f.Pkg().Path() != cellPkgPath) {
			return "", false
		}
		name := f.Name()
		if f.Embedded() && mentionsCellInstance(f.Type(), map[types.Type]bool{}) {
			// An embedded instance of a cell generic: its field goes by
			// the instance's name (Stackᐸintᐳ), as lower-generic spells it.
			ft := f.Type()
			if p, ok := ft.(*types.Pointer); ok {
				ft = p.Elem()
			}
			if name, ok = l.typeString(ft); !ok {
				return "", false
			}
		}
		cur, curT = cur+"."+name, f.Type()
	}
	rv := h + "_rv"
	_, curPtr := curT.Underlying().(*types.Pointer)
	switch {
	case types.IsInterface(curT):
		lower = true
		nilCheck(cur)
		walk = append(walk, rv+" := "+cur)
	case recvPtr && !curPtr:
		walk = append(walk, rv+" := &"+cur)
	case !recvPtr && curPtr:
		nilCheck(cur)
		walk = append(walk, rv+" := *"+cur)
	default:
		walk = append(walk, rv+" := "+cur)
	}
	if !lower {
		return "", false
	}
	pt, ok := l.typeString(paramT)
	if !ok {
		return "", false
	}
	ft, call, ok := l.funcTypeCall(sig, rv+"."+m.Name())
	if !ok {
		return "", false
	}
	fnType := "func" + ft.sig
	return fmt.Sprintf("func(%s %s) %s { %s; return func%s { %s } }(%s)",
		r0, pt, fnType, strings.Join(walk, "; "), ft.decl, call, argText), true
}

// funcSig is a signature as the cell spells it: sig is the type's
// parameters and results, decl the same with parameter names.
type funcSig struct{ sig, decl string }

// funcTypeCall spells sig, and the statement that calls fun with the
// parameters of decl and returns its results.
func (l *lowerer) funcTypeCall(sig *types.Signature, fun string) (funcSig, string, bool) {
	params := sig.Params()
	var types_, decl, args []string
	for i := range params.Len() {
		ts, ok := l.typeString(params.At(i).Type())
		if !ok {
			return funcSig{}, "", false
		}
		p := fmt.Sprintf("%s_a%d", helperPrefix, i)
		if sig.Variadic() && i == params.Len()-1 {
			ts = "..." + strings.TrimPrefix(ts, "[]")
			args = append(args, p+"...")
		} else {
			args = append(args, p)
		}
		types_ = append(types_, ts)
		decl = append(decl, p+" "+ts)
	}
	results, call, ok := returning(sig, l.typeString, fun+"("+strings.Join(args, ", ")+")")
	if !ok {
		return funcSig{}, "", false
	}
	return funcSig{
		sig:  "(" + strings.Join(types_, ", ") + ")" + results,
		decl: "(" + strings.Join(decl, ", ") + ")" + results,
	}, call, true
}

// derefStruct is the struct type of t or of what t points to.
func derefStruct(t types.Type) (*types.Struct, bool) {
	if p, ok := t.Underlying().(*types.Pointer); ok {
		t = p.Elem()
	}
	st, ok := t.Underlying().(*types.Struct)
	return st, ok
}

// mentionsTypeParam reports whether t mentions a type parameter.
func mentionsTypeParam(t types.Type) bool {
	found := false
	var visit func(t types.Type, depth int)
	visit = func(t types.Type, depth int) {
		if found || depth > 20 {
			return
		}
		switch t := t.(type) {
		case *types.TypeParam:
			found = true
		case *types.Alias:
			visit(types.Unalias(t), depth+1)
		case *types.Named:
			for a := range t.TypeArgs().Types() {
				visit(a, depth+1)
			}
		case *types.Pointer:
			visit(t.Elem(), depth+1)
		case *types.Slice:
			visit(t.Elem(), depth+1)
		case *types.Array:
			visit(t.Elem(), depth+1)
		case *types.Chan:
			visit(t.Elem(), depth+1)
		case *types.Map:
			visit(t.Key(), depth+1)
			visit(t.Elem(), depth+1)
		case *types.Struct:
			for i := range t.NumFields() {
				visit(t.Field(i).Type(), depth+1)
			}
		case *types.Tuple:
			for i := range t.Len() {
				visit(t.At(i).Type(), depth+1)
			}
		case *types.Signature:
			visit(t.Params(), depth+1)
			visit(t.Results(), depth+1)
		case *types.Interface:
			for i := range t.NumMethods() {
				visit(t.Method(i).Type(), depth+1)
			}
		}
	}
	visit(t, 0)
	return found
}
