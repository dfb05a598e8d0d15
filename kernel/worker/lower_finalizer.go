package worker

import (
	"go/ast"
	"go/token"
	"go/types"
	"strconv"
	"strings"
)

// passLowerFinalizers lets the finalizers a cell's function sets run once
// the object is unreachable. yaegi v0.16.1 hands compiled code an
// interpreted function with the interpreter frame it was made in: a
// function literal with the whole frame of the function around it, a
// function declared in the cell with the frame of the function that passed
// it (interp.genFunctionWrapper). In runtime.SetFinalizer(x, fn) inside a
// function, that frame holds x (a local, or the temporary of the argument),
// so the object was reachable from its own finalizer and never finalized
// (of 100 objects dropped in a loop, a finalizer each, none ran).
//
// So the finalizer is made by a function declared after the enclosing
// declaration, whose frame holds only what the finalizer uses: a function
// literal's variables of the enclosing function become pointers to them,
// passed in (the literal reads and writes the same variables, as a Go
// closure does):
//
//	func f() { ...; runtime.SetFinalizer(x, func(p *T) { n++ }) }
//	=>
//	func f() { ...; runtime.SetFinalizer(x, __unetlab_fin_f_1(&n)) }
//	func __unetlab_fin_f_1(__unetlab_fv_n *int) func(p *T) { return func(p *T) { (*__unetlab_fv_n)++ } }
//
// A literal that uses a type, constant or label of the enclosing function,
// or a finalizer of another form (a method value, a variable), stays as
// written, as do finalizers set among the cell's statements (whose frame
// is the session's).
func (s *session) passLowerFinalizers(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	info := l.c.info
	for _, d := range l.c.file.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil || !l.inCell(fd) || fd.Name.Name == helperPrefix+"_cell" || fd.Type.TypeParams != nil {
			continue
		}
		if fd.Recv != nil && recvIsGeneric(info, fd) {
			continue
		}
		prefix := helperPrefix + "_fin_" + fd.Name.Name
		if fd.Recv != nil && len(fd.Recv.List) == 1 {
			prefix = helperPrefix + "_fin_" + recvName(fd.Recv.List[0].Type) + "_" + fd.Name.Name
		}
		k := 0
		var gens []string
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 || !isRuntimeFunc(info, call.Fun, "SetFinalizer") {
				return true
			}
			k++
			if gen, ok := l.finalizerGen(fd, call.Args[1], prefix+"_"+strconv.Itoa(k)); ok {
				gens = append(gens, gen)
			}
			return true
		})
		if len(gens) > 0 {
			// After the last declaration of fd's part: a literal's lines
			// then move no line of the part below them (panics' frames).
			l.insert(l.partEnd(fd), "; "+strings.Join(gens, "; "))
		}
	}
	return l.done()
}

// finalizerGen rewrites fn, the finalizer of a SetFinalizer call in fd,
// into the call of a generator named name, and returns the generator's
// declaration; false when fn stays as written.
func (l *lowerer) finalizerGen(fd *ast.FuncDecl, fn ast.Expr, name string) (string, bool) {
	info := l.c.info
	ft, ok := l.typeString(info.Types[fn].Type)
	if !ok {
		return "", false
	}
	switch f := ast.Unparen(fn).(type) {
	case *ast.Ident:
		obj, ok := info.Uses[f].(*types.Func)
		if !ok || obj.Pkg() == nil || obj.Pkg().Path() != cellPkgPath || obj.Parent() != l.c.pkg.Scope() {
			return "", false
		}
		if sig, ok := obj.Type().(*types.Signature); !ok || sig.TypeParams() != nil {
			return "", false
		}
		_ = ft
		sig := obj.Type().(*types.Signature)
		if sig.Params().Len() != 1 || sig.Variadic() {
			return "", false
		}
		pt, ok := l.typeString(sig.Params().At(0).Type())
		if !ok {
			return "", false
		}
		var rs []string
		for v := range sig.Results().Variables() {
			rt, ok := l.typeString(v.Type())
			if !ok {
				return "", false
			}
			rs = append(rs, rt)
		}
		const a = helperPrefix + "_fa"
		res, ret := "", ""
		switch len(rs) {
		case 0:
		case 1:
			res, ret = " "+rs[0], "return "
		default:
			res, ret = " ("+strings.Join(rs, ", ")+")", "return "
		}
		l.replace(fn, name)
		return "var " + name + " = func(" + a + " " + pt + ")" + res + " { " + ret + f.Name + "(" + a + ") }", true
	case *ast.FuncLit:
		// The variables of fd the literal uses, in order of first use.
		var vars []*types.Var
		seen := map[*types.Var]bool{}
		local := func(obj types.Object) bool {
			return obj != nil && obj.Pos() > fd.Pos() && obj.Pos() < fd.End() && !(obj.Pos() >= f.Pos() && obj.Pos() < f.End())
		}
		bad := false
		var uses []*ast.Ident
		ast.Inspect(f.Body, func(n ast.Node) bool {
			id, ok := n.(*ast.Ident)
			if !ok || bad {
				return !bad
			}
			obj := info.Uses[id]
			if !local(obj) {
				return true
			}
			v, isVar := obj.(*types.Var)
			if !isVar || v.IsField() {
				bad = true // a local type, constant or label
				return false
			}
			if !seen[v] {
				seen[v] = true
				vars = append(vars, v)
			}
			uses = append(uses, id)
			return true
		})
		// Labels are not in Uses: a branch to one of fd's outside the
		// literal does not compile anyway.
		if bad {
			return "", false
		}
		var params, args []string
		pname := map[*types.Var]string{}
		for _, v := range vars {
			ts, ok := l.typeString(v.Type())
			if !ok {
				return "", false
			}
			p := helperPrefix + "_fv_" + v.Name()
			pname[v] = p
			params = append(params, p+" *"+ts)
			args = append(args, "&"+v.Name())
		}
		for _, id := range uses {
			l.replace(id, "(*"+pname[info.Uses[id].(*types.Var)]+")")
		}
		gen := "var " + name + " = func(" + strings.Join(params, ", ") + ") " + ft + " { return " + l.text(f) + " }"
		// As many lines as the literal had (after the parenthesis, where
		// a newline ends no statement).
		l.replace(fn, name+"("+strings.Repeat("\n", strings.Count(l.source(f), "\n"))+strings.Join(args, ", ")+")")
		return gen, true
	}
	return "", false
}

// isRuntimeFunc reports whether fun is runtime.<name>.
func isRuntimeFunc(info *types.Info, fun ast.Expr, name string) bool {
	sel, ok := ast.Unparen(fun).(*ast.SelectorExpr)
	if !ok {
		return false
	}
	obj, ok := info.Uses[sel.Sel].(*types.Func)
	return ok && obj.Pkg() != nil && obj.Pkg().Path() == "runtime" && obj.Name() == name
}

// recvIsGeneric reports whether fd is a method of a generic type.
func recvIsGeneric(info *types.Info, fd *ast.FuncDecl) bool {
	fn, ok := info.Defs[fd.Name].(*types.Func)
	if !ok {
		return true
	}
	sig := fn.Type().(*types.Signature)
	return sig.RecvTypeParams() != nil
}

// partEnd is the end of the last declaration in the cell part that holds
// fd.
func (l *lowerer) partEnd(fd *ast.FuncDecl) token.Pos {
	at := l.offset(fd.Pos())
	end := fd.End()
	for _, p := range l.u.parts {
		start := offsetOf(l.u.code, p.Line, p.Col)
		if at < start || at >= start+p.srcLen() {
			continue
		}
		for _, d := range l.c.file.Decls {
			if l.inCell(d) && d.End() > end && l.offset(d.End()) <= start+p.srcLen() {
				end = d.End()
			}
		}
	}
	return end
}
