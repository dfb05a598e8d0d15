package kernel

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepliesAreTyped fails on a map literal given as the content of a
// message the kernel sends (reply, publish, wire.NewMessage): contents are
// the typed structs of package wire, which mirror the messaging spec.
// Comm contents relayed from the interpreter are maps by nature and are
// not literals here.
func TestRepliesAreTyped(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			switch sel.Sel.Name {
			case "reply", "publish", "NewMessage":
			default:
				return true
			}
			checked++
			if lit, ok := call.Args[len(call.Args)-1].(*ast.CompositeLit); ok {
				if _, isMap := lit.Type.(*ast.MapType); isMap {
					t.Errorf("%s: %s sends a map literal: use a typed content of package wire", fset.Position(lit.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
	}
	if checked < 20 {
		t.Errorf("only %d sends checked: has the code moved?", checked)
	}
}
