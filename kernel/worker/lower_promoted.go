package worker

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"
)

// passLowerPromotedMethods declares the promoted methods of the cells'
// struct types: yaegi v0.16.1 does not count a method promoted from an
// embedded field in the method set its type assertions and type switches
// check (`x.(getter)` of an any holding an A that embeds a B with method
// get panicked "interface conversion: nil is not main.getter"; `case
// getter:` matched nothing), while it finds a method the type declares.
// So each method of the cells that a named struct type of the cells
// promotes (Go's method set of *T, less T's own methods) is declared on
// the type, as Go defines it: a call of the method through the embedded
// fields' path, with the receiver T where the method is in T's method set
// and *T otherwise:
//
//	type A struct{ B }  =>  type A struct{ B }; func (r *A) get() string { return r.B.get() }
//
// The declarations follow the type's declaration on its last line. The
// instances of the cells' generic struct types get theirs from
// lower-generic (promotedInstanceMethods). Methods of other packages'
// types (an embedded sync.Mutex) are left as they are. A later cell that
// declares, on an earlier cell's type, a method of the name of one it
// promotes is refused: yaegi keeps the first declaration of a method, the
// promoted one (declare it in the type's cell, or run that cell again).
func (s *session) passLowerPromotedMethods(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	for _, d := range l.c.file.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && l.inCell(fd) {
			l.refuseShadowing(fd)
			continue
		}
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE || !l.inCell(gd) {
			continue
		}
		var methods []string
		for _, sp := range gd.Specs {
			ts := sp.(*ast.TypeSpec)
			if ts.TypeParams != nil || ts.Assign.IsValid() {
				continue
			}
			tn, ok := l.c.info.Defs[ts.Name].(*types.TypeName)
			if !ok {
				continue
			}
			named, ok := tn.Type().(*types.Named)
			if !ok {
				continue
			}
			methods = append(methods, promotedMethods(named, ts.Name.Name, l.typeString)...)
		}
		if len(methods) > 0 {
			l.insert(gd.End(), "; "+strings.Join(methods, "; "))
		}
	}
	return l.done()
}

// promotedInstanceMethods is the declarations of the promoted methods of
// the instance name of generic type d with type arguments args (see
// passLowerPromotedMethods), each on a line of its own after a newline;
// "" when it has none.
func (g *genLowerer) promotedInstanceMethods(d *genDecl, args []types.Type, name string) string {
	tn, ok := d.obj.(*types.TypeName)
	if !ok {
		return ""
	}
	if _, ok := tn.Type().(*types.Named); !ok {
		return ""
	}
	inst, err := types.Instantiate(nil, tn.Type(), args, false)
	if err != nil {
		return ""
	}
	named, ok := inst.(*types.Named)
	if !ok {
		return ""
	}
	methods := promotedMethods(named, name, func(t types.Type) (string, bool) { return g.spell(t, nil, spellEmit) })
	if len(methods) == 0 {
		return ""
	}
	return "\n" + strings.Join(methods, "\n")
}

// promotedMethods writes the declarations, on type named (spelled
// recvName), of the cells' methods its fields promote; spell spells a
// type (and an embedded field's name, the name of its type).
func promotedMethods(named *types.Named, recvName string, spell func(types.Type) (string, bool)) []string {
	st, ok := named.Underlying().(*types.Struct)
	if !ok {
		return nil
	}
	embeds := false
	for i := range st.NumFields() {
		embeds = embeds || st.Field(i).Embedded()
	}
	if !embeds {
		return nil
	}
	vset := types.NewMethodSet(named)
	pset := types.NewMethodSet(types.NewPointer(named))
	var out []string
	for i := range pset.Len() {
		sel := pset.At(i)
		index := sel.Index()
		fn, ok := sel.Obj().(*types.Func)
		if !ok || len(index) < 2 || fn.Pkg() == nil || fn.Pkg().Path() != cellPkgPath {
			continue
		}
		sig, ok := sel.Type().(*types.Signature)
		if !ok {
			continue
		}
		path, ok := embeddedPath(st, index[:len(index)-1], spell)
		if !ok {
			continue
		}
		const r = helperPrefix + "_pr"
		recv := "*" + recvName
		if vset.Lookup(fn.Pkg(), fn.Name()) != nil {
			recv = recvName
		}
		var params, args []string
		for j := range sig.Params().Len() {
			ts, ok := spell(sig.Params().At(j).Type())
			if !ok {
				params = nil
				break
			}
			p := fmt.Sprintf("%s_pa%d", helperPrefix, j)
			if sig.Variadic() && j == sig.Params().Len()-1 {
				ts = "..." + strings.TrimPrefix(ts, "[]")
				args = append(args, p+"...")
			} else {
				args = append(args, p)
			}
			params = append(params, p+" "+ts)
		}
		if len(params) != sig.Params().Len() {
			continue
		}
		results, body, ok := returning(sig, spell, r+path+"."+fn.Name()+"("+strings.Join(args, ", ")+")")
		if !ok {
			continue
		}
		out = append(out, fmt.Sprintf("func (%s %s) %s(%s)%s { %s }", r, recv, fn.Name(), strings.Join(params, ", "), results, body))
	}
	return out
}

// embeddedPath is the selector path (".B.C") of the embedded fields index
// walks from struct st: each field's name, an embedded instance of a
// generic type by the instance's name (spell's).
func embeddedPath(st *types.Struct, index []int, spell func(types.Type) (string, bool)) (string, bool) {
	var b strings.Builder
	for k, i := range index {
		if st == nil || i >= st.NumFields() {
			return "", false
		}
		f := st.Field(i)
		name := f.Name()
		ft := f.Type()
		if p, ok := ft.(*types.Pointer); ok {
			ft = p.Elem()
		}
		if n, ok := types.Unalias(ft).(*types.Named); ok && n.TypeArgs().Len() > 0 {
			s, ok := spell(n)
			if !ok {
				return "", false
			}
			name = s
		}
		b.WriteString("." + name)
		if k < len(index)-1 {
			st, _ = derefStruct(f.Type())
		}
	}
	return b.String(), true
}

// refuseShadowing fails on method fd when its receiver's type is an
// earlier cell's struct type that promotes a method of the cells of fd's
// name (declared on it by passLowerPromotedMethods, which yaegi keeps).
func (l *lowerer) refuseShadowing(fd *ast.FuncDecl) {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return
	}
	fn, ok := l.c.info.Defs[fd.Name].(*types.Func)
	if !ok {
		return
	}
	recv := fn.Type().(*types.Signature).Recv()
	if recv == nil {
		return
	}
	t := recv.Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	named, ok := t.(*types.Named)
	if !ok || named.TypeParams().Len() > 0 || l.c.fset.Position(named.Obj().Pos()).Filename == "cell" {
		return
	}
	st, ok := named.Underlying().(*types.Struct)
	if !ok {
		return
	}
	obj, index, _ := types.LookupFieldOrMethod(types.NewPointer(st), true, fn.Pkg(), fn.Name())
	if m, ok := obj.(*types.Func); ok && len(index) > 1 && m.Pkg() != nil && m.Pkg().Path() == cellPkgPath {
		l.fail(fd.Name, "cannot run faithfully: method %s.%s declared after its type, which promotes %[2]s from an embedded field (the interpreter keeps the promoted method); declare it in the cell that declares %[1]s", named.Obj().Name(), fn.Name())
	}
}
