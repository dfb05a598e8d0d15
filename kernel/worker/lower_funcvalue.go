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
// An instance of a generic function used as a value (assert[T], or one
// whose type arguments are inferred) is converted to its instantiated
// type; functions whose type the cell cannot spell are left alone.
func (s *session) passLowerFuncValues(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	calls := map[*ast.Ident]bool{}       // the names in call position
	indexed := map[*ast.Ident]ast.Expr{} // generic names with their type arguments (f[int])
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.CallExpr:
			fun := ast.Unparen(x.Fun)
			if ix, ok := fun.(*ast.IndexExpr); ok {
				fun = ix.X
			} else if ix, ok := fun.(*ast.IndexListExpr); ok {
				fun = ix.X
			}
			if id, ok := ast.Unparen(fun).(*ast.Ident); ok {
				calls[id] = true
			}
		case *ast.IndexExpr:
			if id, ok := x.X.(*ast.Ident); ok {
				indexed[id] = x
			}
		case *ast.IndexListExpr:
			if id, ok := x.X.(*ast.Ident); ok {
				indexed[id] = x
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
		if !ok || sig.Recv() != nil || fn.Parent() != fn.Pkg().Scope() {
			continue
		}
		var val ast.Expr = id
		if sig.TypeParams().Len() > 0 {
			// An instance used as a value (return assert[T]): its
			// instantiated type, type parameters spelled by name (the
			// edits inside generic code go into its instances with them
			// replaced).
			if _, ok := l.c.info.Instances[id]; !ok {
				continue
			}
			if ix, ok := indexed[id]; ok {
				val = ix
			}
			if sig, ok = l.c.info.Types[val].Type.(*types.Signature); !ok || sig.TypeParams().Len() > 0 {
				continue
			}
		}
		if tv, ok := l.c.info.Types[val]; !ok || !tv.IsValue() {
			continue
		}
		ts, ok := l.typeString(unnamedSignature(sig))
		if !ok {
			continue
		}
		l.insert(val.Pos(), "("+ts+")(")
		l.insert(val.End(), ")")
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
