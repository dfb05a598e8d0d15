package worker

import (
	"go/ast"
	"go/types"
)

// passLowerFuncValues converts the cell's functions used as values to
// their own type: yaegi v0.16.1 gave the name of a function declared in a
// cell, used other than in a call (`return f`, `var e any = f`, `v := f`,
// p(f)), the interpreter's node for a value, so that an interface held a
// *interp.node (a type switch or assertion on func(int) any failed) and
// an assignment to a variable of the function's type panicked
// ("reflect.Set: value of type *interp.node is not assignable"). The
// conversion (func(int) any)(f) makes the function value:
//
//	return f  =>  return (func(int) any)(f)
//
// The type is written without parameter names, which would otherwise
// stand in the cell's text (a parameter len that lower-predeclared
// renames, a parameter named as another parameter's type).
//
// Generic functions (instantiated by lower-generic) and functions whose
// type the cell cannot spell are left alone.
func (s *session) passLowerFuncValues(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	calls := map[*ast.Ident]bool{} // the names in call position
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
				calls[id] = true
			}
		}
		return true
	})
	for id, obj := range l.c.info.Uses {
		fn, ok := obj.(*types.Func)
		if !ok || calls[id] || fn.Pkg() == nil || fn.Pkg().Path() != cellPkgPath || !l.inCell(id) {
			continue
		}
		sig, ok := fn.Type().(*types.Signature)
		if !ok || sig.Recv() != nil || sig.TypeParams().Len() > 0 || fn.Parent() != fn.Pkg().Scope() {
			continue
		}
		if tv, ok := l.c.info.Types[id]; !ok || !tv.IsValue() {
			continue
		}
		ts, ok := l.typeString(unnamedSignature(sig))
		if !ok {
			continue
		}
		l.insert(id.Pos(), "("+ts+")(")
		l.insert(id.End(), ")")
	}
	return l.done()
}

// unnamedSignature is the type of a function of signature sig (no
// receiver, no type parameters) without its parameter and result names.
func unnamedSignature(sig *types.Signature) *types.Signature {
	unnamed := func(t *types.Tuple) *types.Tuple {
		vars := make([]*types.Var, t.Len())
		for i := range vars {
			v := t.At(i)
			vars[i] = types.NewParam(v.Pos(), v.Pkg(), "", v.Type())
		}
		return types.NewTuple(vars...)
	}
	return types.NewSignatureType(nil, nil, nil, unnamed(sig.Params()), unnamed(sig.Results()), sig.Variadic())
}
