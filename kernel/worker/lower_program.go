package worker

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"strings"
)

// programMain is the name a pasted program's func main is given: the cell
// calls it once, at its end.
const programMain = helperPrefix + "_main"

// passProgram runs a pasted program as `go run` would: a cell that is a Go
// file of package main (the package clause may be left out) declaring
// func main is its declarations, then one call of main. The package
// clause is blanked (lines and columns stay) and main renamed, so the
// session does not call it after every later cell. A package clause that
// names another package, or a package main without func main, is refused
// with go run's words.
func (s *session) passProgram(u *cellUnit) error {
	code := u.code
	var sc scanner.Scanner
	fset := token.NewFileSet()
	file := fset.AddFile("cell", -1, len(code))
	sc.Init(file, []byte(code), nil, 0)
	pos, tok, _ := sc.Scan()
	hasClause := false
	if tok == token.PACKAGE {
		_, name, lit := sc.Scan()
		if name != token.IDENT {
			return nil // the checker reports the syntax error
		}
		p := file.Position(pos)
		if lit != "main" {
			msg := fmt.Sprintf("cell:%d:%d: package %s is not a main package: a cell is the body of package main", p.Line, p.Column, lit)
			return compileError(msg)
		}
		start := file.Offset(pos)
		end := strings.Index(code[start:], "main") + start + len("main")
		code = code[:start] + strings.Repeat(" ", end-start) + code[end:]
		hasClause = true
	}
	if !hasClause && !strings.Contains(code, "main") {
		return nil // no func main: not a program (and no parse spent on it)
	}
	// As a file: the prefix keeps the cell's line numbers.
	f, err := parser.ParseFile(token.NewFileSet(), "", "package main;"+code, parser.SkipObjectResolution)
	if err != nil {
		if hasClause {
			u.code = code
		}
		return nil // not a file: statements, or errors the checker reports
	}
	var mainFn *ast.FuncDecl
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "main" {
			mainFn = fd
		}
	}
	if mainFn == nil {
		if hasClause {
			msg := "cell:1:1: function main is undeclared in the main package"
			return compileError(msg)
		}
		return nil
	}
	if mainFn.Type.TypeParams != nil || mainFn.Type.Params.NumFields() > 0 || mainFn.Type.Results != nil {
		return nil // the split refuses it with its position
	}
	off := int(mainFn.Name.Pos()) - 1 - len("package main;")
	code = code[:off] + programMain + code[off+len("main"):]
	u.code = code + "\n" + programMain + "()"
	return nil
}
