package worker

import (
	"go/ast"
	"go/token"
	"go/types"
)

// passLowerArrayPtrIndex spells out the dereference of an indexed pointer
// to an array whose element's address is taken: yaegi v0.16.1 refused
// `&p[i]` ("cannot take address of int") where p is a *[N]T, and takes
// `&(*p)[i]`, which is what p[i] means in Go.
func (s *session) passLowerArrayPtrIndex(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		ue, ok := n.(*ast.UnaryExpr)
		if !ok || ue.Op != token.AND || !l.inCell(n) {
			return true
		}
		// &p[i], &p[i].f, &p[i][j] of an array of arrays.
		x := ast.Unparen(ue.X)
		for {
			switch e := x.(type) {
			case *ast.SelectorExpr:
				x = ast.Unparen(e.X)
				continue
			case *ast.IndexExpr:
				if pt, ok := l.c.info.Types[e.X].Type.Underlying().(*types.Pointer); ok {
					if _, ok := pt.Elem().Underlying().(*types.Array); ok {
						l.replace(e.X, "(*"+l.text(e.X)+")")
						return true
					}
				}
				if _, ok := l.c.info.Types[e.X].Type.Underlying().(*types.Array); ok {
					x = ast.Unparen(e.X)
					continue
				}
			}
			return true
		}
	})
	return l.done()
}
