package worker

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"unsafe"
)

// yaegi v0.16.1 declares the variables of a top-level `a, b := f()` (and of
// `var a, b = f()`) without marking their symbols global (its compDefineX
// leaves out the flag that its other global declarations set). Their
// values do live in the global frame, but code compiled later reaches them
// by the distance between scopes instead of through the global frame: a
// function that uses such a variable and is called from another function
// reads the caller's frame (a zero Value, or another value: "reflect: call
// of reflect.Value.Method on zero Value", "Method index out of range"), and
// `t := a` in a later cell reads nil. The session marks them global after
// each evaluation (globalizeVars), before any later code is compiled. The
// functions of a declaration part compiled together with `var a, b = f()`
// are evaluated once more after it (funcsOnly), so that they reach a and b
// through the global frame too (methods are not: yaegi would add them
// twice).

// yaegiVarSym is yaegi's sKind of a variable symbol (varSym), checked by
// TestGlobalizeAssumptions.
const yaegiVarSym = 9

// globalizeVars marks every variable symbol of the interpreter's main
// package global. It reports how many it changed; it does nothing when
// yaegi's internals are not what it expects.
func (s *session) globalizeVars() (n int) {
	defer func() {
		if recover() != nil {
			n = 0
		}
	}()
	pkgs := reflect.ValueOf(s.in).Elem().FieldByName("srcPkg")
	if !pkgs.IsValid() || pkgs.Kind() != reflect.Map {
		return 0
	}
	syms := pkgs.MapIndex(reflect.ValueOf("main"))
	if !syms.IsValid() || syms.Kind() != reflect.Map {
		return 0
	}
	iter := syms.MapRange()
	for iter.Next() {
		sym := iter.Value()
		if sym.Kind() != reflect.Pointer || sym.IsNil() {
			continue
		}
		e := sym.Elem()
		kind, global, index := e.FieldByName("kind"), e.FieldByName("global"), e.FieldByName("index")
		if !kind.IsValid() || !global.IsValid() || !index.IsValid() ||
			kind.Kind() != reflect.Uint || global.Kind() != reflect.Bool || index.Kind() != reflect.Int {
			return n
		}
		if kind.Uint() != yaegiVarSym || global.Bool() || index.Int() < 0 {
			continue
		}
		// The field is unexported: write it through its address.
		*(*bool)(unsafe.Pointer(global.UnsafeAddr())) = true
		n++
	}
	return n
}

// funcsOnly returns the padded source of declaration part p with every
// declaration but the functions (not methods) blanked out, keeping the
// functions on their lines and columns; ok is false when the part declares
// no function. init functions are left out: evaluating one runs it.
func funcsOnly(p part) (src string, ok bool) {
	full := padded(p.Src, p.Line, p.Col)
	const clause = "package p;"
	content := clause + full[1:]
	f, err := parseFile(token.NewFileSet(), "", content, parser.SkipObjectResolution)
	if err != nil {
		return "", false
	}
	b := []byte(content)
	for _, d := range f.Decls {
		if fd, isFunc := d.(*ast.FuncDecl); isFunc && fd.Recv == nil && fd.Name.Name != "init" {
			ok = true
			continue
		}
		// Positions of a file set with one file start at 1.
		for i := int(d.Pos()) - 1; i < int(d.End())-1 && i < len(b); i++ {
			if b[i] != '\n' {
				b[i] = ' '
			}
		}
	}
	return "\n" + string(b[len(clause):]), ok
}
