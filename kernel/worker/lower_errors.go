package worker

import (
	"fmt"
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
	// ErrEqual is errors.Is's comparison of an error with its target:
	// the cell values inside yaegi's wrappers compared, when comparable.
	cellHelpers["unetlab/cellhelp/cellhelp"]["ErrEqual"] = reflect.ValueOf(func(err, target error) bool {
		a, b := errInner(err), errInner(target)
		if a == nil || b == nil {
			return a == nil && b == nil
		}
		ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
		return ta == tb && ta.Comparable() && a == b
	})
	// Inner is the cell value inside yaegi's wrapper of it (a compiled
	// struct with an IValue field), or err itself.
	cellHelpers["unetlab/cellhelp/cellhelp"]["Inner"] = reflect.ValueOf(errInner)
	// IsMethod is what the Is method of a compiled error (not yaegi's
	// wrapper of a cell value, whose methods the walk calls itself) says
	// of target: syscall.Errno's Is(fs.ErrNotExist) for os.Open's error.
	cellHelpers["unetlab/cellhelp/cellhelp"]["IsMethod"] = reflect.ValueOf(func(err, target error) bool {
		if isWrapper(err) {
			return false
		}
		x, ok := err.(interface{ Is(error) bool })
		return ok && x.Is(target)
	})
}

// isWrapper reports whether err is yaegi's wrapper of a cell value.
func isWrapper(err error) bool {
	v := reflect.ValueOf(err)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	return v.Kind() == reflect.Struct && v.FieldByName("IValue").IsValid()
}

// errInner is the cell value inside yaegi's wrapper of it (a compiled
// struct with an IValue field), or err itself.
func errInner(err error) any {
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
	ast.PreorderStack(l.c.file, nil, func(n ast.Node, stack []ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || !l.inCell(call) || call.Ellipsis.IsValid() {
			return true
		}
		l.onlyTypes = cellTypesFor(u, stack)
		methods := l.cellErrorMethods()
		if ix, ok := ast.Unparen(call.Fun).(*ast.IndexExpr); ok && len(call.Args) == 1 {
			if id, ok := ix.X.(*ast.Ident); ok && id.Name == "errors_AsType" {
				if fn, ok := info.Uses[id].(*types.Func); ok && fn.Pkg() != nil && fn.Pkg().Path() == cellPkgPath && l.c.fset.Position(fn.Pos()).Filename != "cell" {
					if inst, ok := info.Instances[id]; ok && inst.TypeArgs.Len() == 1 {
						l.lowerErrorsAsType(call, inst.TypeArgs.At(0), methods)
					}
				}
			}
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
			if len(call.Args) == 2 {
				l.lowerErrorsAs(call, methods)
			}
		case "errors.Is":
			if len(call.Args) == 2 {
				l.lowerErrorsIs(call, methods)
			}
		case "errors.Unwrap":
			if len(call.Args) == 1 {
				l.lowerErrorsUnwrap(call, methods)
			}
		}
		return true
	})
	return l.done()
}

// cellErrMethods is a cell type whose pointer is an error with methods
// that package errors calls: Unwrap() error or Unwrap() []error, Is(error)
// bool, As(any) bool.
type cellErrMethods struct {
	ts                         string // *T, as the cell spells it
	typ                        types.Type
	unwrap, unwrapMany, is, as bool
}

// cellErrorMethods lists the cell types (of the session and the cell)
// whose pointers are errors with Unwrap, Is or As methods.
func (l *lowerer) cellErrorMethods() []cellErrMethods {
	var out []cellErrMethods
	errType := types.Universe.Lookup("error").Type().Underlying().(*types.Interface)
	list, allowed := l.cellConcreteTypes()
	for i, named := range list {
		if !allowed[i] {
			continue
		}
		pt := types.NewPointer(named)
		if !types.Implements(pt, errType) {
			continue
		}
		m := cellErrMethods{ts: "*" + named.Obj().Name(), typ: pt}
		ms := types.NewMethodSet(pt)
		sig := func(name string) *types.Signature {
			if sel := ms.Lookup(nil, name); sel != nil {
				s, _ := sel.Type().(*types.Signature)
				return s
			}
			return nil
		}
		isErr := func(t types.Type) bool { return types.Identical(t, types.Universe.Lookup("error").Type()) }
		if s := sig("Unwrap"); s != nil && s.Params().Len() == 0 && s.Results().Len() == 1 {
			r := s.Results().At(0).Type()
			if isErr(r) {
				m.unwrap = true
			} else if sl, ok := r.(*types.Slice); ok && isErr(sl.Elem()) {
				m.unwrapMany = true
			}
		}
		if s := sig("Is"); s != nil && s.Params().Len() == 1 && isErr(s.Params().At(0).Type()) && s.Results().Len() == 1 && types.Identical(s.Results().At(0).Type(), types.Typ[types.Bool]) {
			m.is = true
		}
		if s := sig("As"); s != nil && s.Params().Len() == 1 && types.IsInterface(s.Params().At(0).Type()) && s.Params().At(0).Type().Underlying().(*types.Interface).Empty() && s.Results().Len() == 1 && types.Identical(s.Results().At(0).Type(), types.Typ[types.Bool]) {
			m.as = true
		}
		if m.unwrap || m.unwrapMany || m.is || m.as {
			out = append(out, m)
		}
	}
	return out
}

// cellErrorTypes reports whether a cell type of the session (or a
// pointer to one) is an error.
func (l *lowerer) cellErrorTypes() bool {
	errType := types.Universe.Lookup("error").Type().Underlying().(*types.Interface)
	list, allowed := l.cellConcreteTypes()
	for i, named := range list {
		if allowed[i] && (types.Implements(named, errType) || types.Implements(types.NewPointer(named), errType)) {
			return true
		}
	}
	return false
}

// ambiguous names a cell type that the interpreter's type assertions do
// not tell apart from t (the same underlying type: yaegi matches the
// structure), or "".
func (l *lowerer) ambiguous(t types.Type) string {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	named, ok := t.(*types.Named)
	if !ok {
		return ""
	}
	sc := l.c.pkg.Scope()
	for _, n := range sc.Names() {
		tn, ok := sc.Lookup(n).(*types.TypeName)
		if !ok || tn.IsAlias() || tn == named.Obj() {
			continue
		}
		if o, ok := tn.Type().(*types.Named); ok && o.TypeParams() == nil && types.Identical(o.Underlying(), named.Underlying()) {
			return n
		}
	}
	return ""
}

// checkAmbiguous refuses a walk whose type assertions could match the
// wrong cell type.
func (l *lowerer) checkAmbiguous(call ast.Node, ts []types.Type) bool {
	for _, t := range ts {
		if o := l.ambiguous(t); o != "" {
			l.fail(call, "cannot run faithfully: package errors with the cell types %s and %s, which have the same structure (the interpreter's type assertions do not tell them apart); give one of them a field of its own", types.TypeString(derefType(t), types.RelativeTo(l.c.pkg)), o)
			return false
		}
	}
	return true
}

func (l *lowerer) methodTypes(methods []cellErrMethods) []types.Type {
	var ts []types.Type
	for _, m := range methods {
		ts = append(ts, m.typ)
	}
	return ts
}

// lowerErrorsAs lowers errors.As(err, target) whose target points to a
// pointer to a cell type, or any errors.As while cell types have Unwrap or
// As methods.
func (l *lowerer) lowerErrorsAs(call *ast.CallExpr, methods []cellErrMethods) {
	info := l.c.info
	pt, ok := info.Types[call.Args[1]].Type.(*types.Pointer)
	if !ok {
		return
	}
	if walker, ok := l.errorsAsWalker(call, "errors.As", pt.Elem(), methods); ok {
		l.replace(call.Fun, walker)
	}
}

// errorsAsWalker is the function literal (err error, target *elem) bool
// that does what errors.As does for a target of type *elem, where the
// compiled errors.As cannot (a cell type elem, or cell types with Unwrap or
// As methods); false where the compiled one can, or where the cell cannot
// run faithfully (l.err says so). what names the call in messages.
func (l *lowerer) errorsAsWalker(call ast.Node, what string, elem types.Type, methods []cellErrMethods) (string, bool) {
	cell := isCellType(elem)
	if !cell && len(methods) == 0 {
		return "", false
	}
	if cell {
		if _, ptr := elem.(*types.Pointer); !ptr {
			l.fail(call, "cannot run faithfully: %s with a target of the value type %s (yaegi's wrapper hides it); give its methods a pointer receiver and use *%[2]s", what, types.TypeString(elem, types.RelativeTo(l.c.pkg)))
			return "", false
		}
	} else if types.IsInterface(elem) {
		l.fail(call, "cannot run faithfully: %s with an interface target while cell types have Unwrap or As methods (yaegi's assertions do not see a cell value's methods)", what)
		return "", false
	}
	ts, ok := l.typeString(elem)
	if !ok {
		return "", false
	}
	check := append(l.methodTypes(methods), elem)
	if !l.checkAmbiguous(call, check) {
		return "", false
	}
	subject := helperPrefix + "_help.Inner(e)"
	if !cell {
		subject = "e"
	}
	return errorsWalker("target *"+ts, "if v, ok := "+subject+".("+ts+"); ok { *target = v; return true }", "As(target)", methods, false), true
}

// lowerErrorsAsType lowers errors.AsType[E](err) (the prelude's
// errors_AsType, stdgeneric.go) as errors.As(err, &t) with a t of type E.
func (l *lowerer) lowerErrorsAsType(call *ast.CallExpr, elem types.Type, methods []cellErrMethods) {
	walker, ok := l.errorsAsWalker(call, "errors.AsType", elem, methods)
	if !ok {
		return
	}
	ts, ok := l.typeString(elem)
	if !ok {
		return
	}
	l.replace(call, fmt.Sprintf("func(err error) (%s, bool) { var t %[1]s; ok := %s(err, &t); return t, ok }(%s)", ts, walker, l.text(call.Args[0])))
}

// lowerErrorsIs lowers errors.Is(err, target) whose target is a pointer
// to a cell type, or any errors.Is while cell types have Unwrap or Is
// methods.
func (l *lowerer) lowerErrorsIs(call *ast.CallExpr, methods []cellErrMethods) {
	t := l.c.info.Types[call.Args[1]].Type
	cell := isCellType(t)
	if !cell && len(methods) == 0 && !(types.IsInterface(t) && l.cellErrorTypes()) {
		// (An interface target may hold a cell error, which the
		// compiled errors.Is compares as yaegi's wrappers, made anew
		// for each conversion: errors.Is(fmt.Errorf("%w", err), err)
		// was false for an err of a cell type.)
		return
	}
	if cell {
		if _, ptr := t.(*types.Pointer); !ptr {
			l.fail(call, "cannot run faithfully: errors.Is with a target of the value type %s (yaegi's wrapper hides it); give its methods a pointer receiver and use *%[1]s", types.TypeString(t, types.RelativeTo(l.c.pkg)))
			return
		}
		ts, ok := l.typeString(t)
		if !ok {
			return
		}
		if !l.checkAmbiguous(call, append(l.methodTypes(methods), t)) {
			return
		}
		l.replace(call.Fun, errorsWalker("target "+ts, "if v, ok := "+helperPrefix+"_help.Inner(e).("+ts+"); ok && v == target { return true }", "Is(target)", methods, true))
		return
	}
	if !l.checkAmbiguous(call, l.methodTypes(methods)) {
		return
	}
	l.replace(call.Fun, errorsWalker("target error", "if "+helperPrefix+"_help.ErrEqual(e, target) { return true }", "Is(target)", methods, false))
}

// lowerErrorsUnwrap lowers errors.Unwrap(err) while cell types have
// Unwrap() error methods.
func (l *lowerer) lowerErrorsUnwrap(call *ast.CallExpr, methods []cellErrMethods) {
	var b strings.Builder
	b.WriteString("func(e error) error { ")
	n := 0
	for _, m := range methods {
		if m.unwrap {
			n++
			b.WriteString("if x, ok := " + helperPrefix + "_help.Inner(e).(" + m.ts + "); ok { return x.Unwrap() }; ")
		}
	}
	if n == 0 {
		return
	}
	if !l.checkAmbiguous(call, l.methodTypes(methods)) {
		return
	}
	b.WriteString("return " + l.text(call.Fun) + "(e) }")
	l.replace(call.Fun, b.String())
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
// err's tree as package errors does: depth first, at each error first
// match, then the Is or As method of a cell type (call: "Is(target)" or
// "As(target)"; Is with the target as an error), then its Unwrap() error or
// Unwrap() []error (a cell type's, or a compiled error's through
// Unwraps). A cell value is asserted on the value inside yaegi's wrapper
// (Inner), where yaegi's type assertions see it.
func errorsWalker(param, match, call string, methods []cellErrMethods, typedTarget bool) string {
	h := helperPrefix + "_help."
	var b strings.Builder
	b.WriteString("func(err error, " + param + ") bool { ")
	if param == "target error" {
		b.WriteString("if err == nil || target == nil { return err == target }; ") // as errors.Is
	}
	b.WriteString("stack := []error{err}; ")
	b.WriteString("for len(stack) > 0 { ")
	b.WriteString("e := stack[len(stack)-1]; stack = stack[:len(stack)-1]; ")
	b.WriteString("if e == nil { continue }; ")
	b.WriteString(match + "; ")
	b.WriteString("var kids []error; own := false; ")
	isCall := strings.HasPrefix(call, "Is")
	for _, m := range methods {
		var body []string
		if isCall && m.is {
			if typedTarget {
				body = append(body, "if x.Is(error(target)) { return true }")
			} else {
				body = append(body, "if x."+call+" { return true }")
			}
		}
		if !isCall && m.as {
			body = append(body, "if x."+call+" { return true }")
		}
		if m.unwrap {
			body = append(body, "kids = []error{x.Unwrap()}; own = true")
		}
		if m.unwrapMany {
			body = append(body, "kids = x.Unwrap(); own = true")
		}
		if len(body) == 0 {
			continue
		}
		b.WriteString("if x, ok := " + h + "Inner(e).(" + m.ts + "); ok { " + strings.Join(body, "; ") + " }; ")
	}
	if isCall && !typedTarget {
		// A compiled error's own Is method, which package errors calls
		// (os.Open's error: syscall.Errno's Is(fs.ErrNotExist)). (A
		// target of a cell type only a cell type's Is can match.)
		b.WriteString("if " + h + "IsMethod(e, target) { return true }; ")
	}
	b.WriteString("if !own { kids = " + h + "Unwraps(e) }; ")
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
