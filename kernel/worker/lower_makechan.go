package worker

import (
	"go/ast"
	"go/types"
)

// passLowerMakeChan makes a channel of a send-only or receive-only type
// as a bidirectional one converted to it: Go's make(<-chan int) is a
// channel nothing can send on, and yaegi v0.16.1 panicked in it
// ("reflect.MakeChan: unidirectional channel type"):
//
//	make(Recv, n)  =>  Recv(make(chan int, n))
//
// A type the cell cannot spell is left as it was.
func (s *session) passLowerMakeChan(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || !l.inCell(n) || len(call.Args) == 0 {
			return true
		}
		id, ok := ast.Unparen(call.Fun).(*ast.Ident)
		if !ok {
			return true
		}
		if b, ok := l.c.info.Uses[id].(*types.Builtin); !ok || b.Name() != "make" {
			return true
		}
		t := l.c.info.Types[call.Args[0]].Type
		if t == nil || isTypeParam(t) {
			return true
		}
		ch, ok := t.Underlying().(*types.Chan)
		if !ok || ch.Dir() == types.SendRecv {
			return true
		}
		elem, ok := l.typeString(ch.Elem())
		if !ok {
			return true
		}
		size := ""
		if len(call.Args) > 1 {
			size = ", " + l.text(call.Args[1])
		}
		l.replace(call, "("+l.text(call.Args[0])+")(make(chan "+parenType(elem)+size+"))")
		return true
	})
	return l.done()
}
