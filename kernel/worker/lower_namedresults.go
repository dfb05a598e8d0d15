package worker

import (
	"go/ast"
	"go/types"
)

// passLowerNamedResults sets the named results of every function to their
// zero values where its body starts: yaegi v0.16.1 keeps a function's
// result in storage that outlives the call (the variable of `x = f()`, or
// the call site's own slot), and a named result started from what that
// held, not from zero (`got = f()` where f appends to its named result
// `ret` gave the old got with f's values appended; `y := f()` in a loop
// gave the previous iteration's result with the new one appended). Go's
// named results start at zero; the inserted assignments say so (on the
// body's first line, so that no line moves):
//
//	func f() (ret []int) {  =>  func f() (ret []int) { var __unetlab_nr1 []int; ret = __unetlab_nr1;
//
// A result whose type the cell cannot spell is left as it was.
func (s *session) passLowerNamedResults(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		var ft *ast.FuncType
		var body *ast.BlockStmt
		switch x := n.(type) {
		case *ast.FuncDecl:
			ft, body = x.Type, x.Body
		case *ast.FuncLit:
			ft, body = x.Type, x.Body
		default:
			return true
		}
		if body == nil || ft.Results == nil || !l.inCell(body) {
			return true
		}
		text := ""
		for _, f := range ft.Results.List {
			for _, name := range f.Names {
				obj, ok := l.c.info.Defs[name].(*types.Var)
				if !ok || name.Name == "_" {
					continue
				}
				ts, ok := l.typeString(obj.Type())
				if !ok {
					continue
				}
				z := l.name("nr")
				v := name.Name
				if types.Universe.Lookup(v) != nil {
					v = predeclaredName(v) // as lower-predeclared renames it: (error string)
				}
				text += " var " + z + " " + ts + "; " + v + " = " + z + ";"
			}
		}
		if text != "" {
			l.insert(body.Lbrace+1, text)
		}
		return true
	})
	return l.done()
}
