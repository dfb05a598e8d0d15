package worker

import (
	"bytes"
	"go/ast"
	"go/printer"
	"go/scanner"
	"go/token"
	"go/types"
	"strings"
)

// passLowerGeneric instantiates the generic functions that cells declare
// where they are used: yaegi v0.16.1 runs them wrongly (`x := Twice(3)`
// panicked, `var y []int = Twice(3)` was silently empty, an inferred
// func(T) U argument was refused). Each use of such a function outside
// generic code (a call or a value, with explicit or inferred type
// arguments) becomes a function literal of its body with the type
// parameters replaced by the type arguments:
//
//	Twice(3)  =>  func(x int) []int { return []int{x, x} }(3)
//
// Uses are left to yaegi when the body calls another generic function of
// the cells (or itself), when a name the body uses means something else
// where the use stands (shadowed), or when a type argument cannot be
// spelled in the cell.
func (s *session) passLowerGeneric(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	info := l.c.info
	ast.PreorderStack(l.c.file, nil, func(n ast.Node, stack []ast.Node) bool {
		if fd, ok := n.(*ast.FuncDecl); ok && (fd.Type.TypeParams != nil || (fd.Recv != nil && recvHasTypeParams(fd))) {
			return false // generic code stays generic
		}
		id, ok := n.(*ast.Ident)
		if !ok || !l.inCell(id) {
			return true
		}
		inst, ok := info.Instances[id]
		if !ok {
			return true
		}
		fn, ok := info.Uses[id].(*types.Func)
		if !ok || fn.Pkg() == nil || fn.Pkg().Path() != cellPkgPath {
			return true
		}
		// The expression naming the instance: f, f[T] or f[T, U].
		var expr ast.Expr = id
		if len(stack) > 0 {
			switch p := stack[len(stack)-1].(type) {
			case *ast.IndexExpr:
				if p.X == id {
					expr = p
				}
			case *ast.IndexListExpr:
				if p.X == id {
					expr = p
				}
			}
		}
		if lit, ok := l.instantiate(fn, inst, id.Pos()); ok {
			l.replace(expr, lit)
		}
		return true
	})
	return l.done()
}

func recvHasTypeParams(fd *ast.FuncDecl) bool {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return false
	}
	t := fd.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	switch t.(type) {
	case *ast.IndexExpr, *ast.IndexListExpr:
		return true
	}
	return false
}

// findFuncDecl is the declaration of fn in the cell or the session file.
func (l *lowerer) findFuncDecl(fn *types.Func) *ast.FuncDecl {
	for _, f := range []*ast.File{l.c.file, l.c.sess} {
		if f == nil {
			continue
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Pos() == fn.Pos() {
				return fd
			}
		}
	}
	return nil
}

// instantiate returns the function literal of fn's instance inst, as it
// reads at pos, or false when the use is left to yaegi.
func (l *lowerer) instantiate(fn *types.Func, inst types.Instance, at token.Pos) (string, bool) {
	info := l.c.info
	fd := l.findFuncDecl(fn)
	if fd == nil || fd.Body == nil || fd.Type.TypeParams == nil {
		return "", false
	}
	tparams := map[types.Object]string{}
	i := 0
	for _, f := range fd.Type.TypeParams.List {
		for _, n := range f.Names {
			if i >= inst.TypeArgs.Len() {
				return "", false
			}
			ts, ok := l.typeString(inst.TypeArgs.At(i))
			if !ok {
				return "", false
			}
			if strings.HasPrefix(ts, "*") || strings.HasPrefix(ts, "func") || strings.Contains(ts, "chan") {
				ts = "(" + ts + ")" // T.M with T = *S is (*S).M
			}
			tparams[info.Defs[n]] = ts
			i++
		}
	}
	scope := l.c.pkg.Scope().Innermost(at)
	if scope == nil {
		return "", false
	}
	// The identifiers to rename, and whether the body can be moved.
	type rename struct {
		id   *ast.Ident
		name string
	}
	var renames []rename
	var unresolved []*ast.Ident
	movable := true
	ast.Inspect(fd, func(n ast.Node) bool {
		if !movable {
			return false
		}
		id, ok := n.(*ast.Ident)
		if !ok || id == fd.Name {
			return true
		}
		if _, ok := info.Instances[id]; ok {
			if f, ok := info.Uses[id].(*types.Func); ok && f.Pkg() != nil && f.Pkg().Path() == cellPkgPath {
				movable = false // a generic function of the cells
				return false
			}
		}
		obj := info.Uses[id]
		if obj == nil {
			obj = info.Defs[id]
			if obj == nil {
				// The symbolic variable of a type switch: its
				// objects (one per clause) are at its position.
				unresolved = append(unresolved, id)
				return true
			}
		}
		if isLocalName(obj) && obj.Pos() >= fd.Pos() && obj.Pos() < fd.End() {
			if _, isTP := tparams[obj]; !isTP {
				// The function's own names are renamed: yaegi took a
				// parameter x for a variable x of the cell ("variable
				// definition loop").
				renames = append(renames, rename{id, id.Name + "_" + helperPrefix})
				return true
			}
		}
		if ts, ok := tparams[obj]; ok {
			renames = append(renames, rename{id, ts})
			return true
		}
		// A name from outside the function must mean the same at the use.
		if obj.Parent() != nil && (obj.Parent() == l.c.pkg.Scope() || obj.Parent() == types.Universe || isFileScope(obj.Parent())) {
			_, there := scope.LookupParent(id.Name, at)
			if there == nil {
				movable = false
				return false
			}
			if pn, ok := obj.(*types.PkgName); ok {
				tn, ok := there.(*types.PkgName)
				if !ok || tn.Imported().Path() != pn.Imported().Path() {
					movable = false
				}
				return true
			}
			if there != obj {
				movable = false
			}
		}
		return true
	})
	if !movable {
		return "", false
	}
	renamedAt := map[token.Pos]string{}
	for _, r := range renames {
		if obj := info.Uses[r.id]; obj != nil {
			renamedAt[obj.Pos()] = r.name
		}
	}
	for _, id := range unresolved {
		if n, ok := renamedAt[id.Pos()]; ok {
			renames = append(renames, rename{id, n})
		}
	}
	// Print the literal with the type parameters replaced, then put the
	// declaration back as it was.
	for _, r := range renames {
		old := r.id.Name
		r.id.Name = r.name
		defer func(id *ast.Ident, name string) { id.Name = name }(r.id, old)
	}
	tp := fd.Type.TypeParams
	fd.Type.TypeParams = nil
	defer func() { fd.Type.TypeParams = tp }()
	var buf bytes.Buffer
	if err := printer.Fprint(&buf, l.c.fset, &ast.FuncLit{Type: fd.Type, Body: fd.Body}); err != nil {
		return "", false
	}
	return oneLine(buf.Bytes())
}

// isLocalName reports whether obj is a variable, constant, type or label
// a function may declare (not a field or a method of an interface).
func isLocalName(obj types.Object) bool {
	switch o := obj.(type) {
	case *types.Var:
		return !o.IsField()
	case *types.Const, *types.TypeName, *types.Label:
		return true
	}
	return false
}

// isFileScope reports whether s is a file's scope (its imports).
func isFileScope(s *types.Scope) bool {
	return s.Parent() != nil && s.Parent().Parent() == types.Universe
}

// oneLine respells Go source on one line (so the cell's lines keep their
// numbers): its tokens, with the semicolons Go inserts at line ends.
func oneLine(src []byte) (string, bool) {
	var s scanner.Scanner
	fset := token.NewFileSet()
	bad := false
	s.Init(fset.AddFile("", -1, len(src)), src, func(token.Position, string) { bad = true }, 0)
	var b strings.Builder
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		switch {
		case tok == token.SEMICOLON:
			b.WriteByte(';')
		case lit != "":
			b.WriteString(lit)
		default:
			b.WriteString(tok.String())
		}
	}
	out := strings.TrimSuffix(b.String(), " ;")
	return out, !bad
}
