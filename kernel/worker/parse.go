package worker

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"strconv"
	"strings"
	"sync/atomic"
)

// parses counts the go/parser runs of the worker (parseFile, parseExpr),
// and cellParses those of a cell's own source (parseCell), for the test
// that pins how often a cell is parsed.
var parses, cellParses atomic.Int64

// parseFile is parser.ParseFile, counted.
func parseFile(fset *token.FileSet, filename string, src any, mode parser.Mode) (*ast.File, error) {
	parses.Add(1)
	if filename == cellFileName {
		cellParses.Add(1)
	}
	return parser.ParseFile(fset, filename, src, mode)
}

// cellFileName names the file parseCell parses.
const cellFileName = helperPrefix + "_cell.go"

// parseExpr is parser.ParseExpr, counted.
func parseExpr(x string) (ast.Expr, error) {
	parses.Add(1)
	return parser.ParseExpr(x)
}

// cellAST is a cell parsed once: the one syntax tree that the passes after
// the split read (declarations, imports, auto-imports, the type check and
// the lowering passes). It is a file of package main holding the cell's
// imports and declarations at the top level and its statements and
// trailing expression in the body of func bodyFunc, each at its position
// in the cell (file "cell", through line directives); the scaffolding is
// at file helperPrefix. Identifiers are resolved within the cell
// (file.Unresolved: what the cell uses and does not define).
type cellAST struct {
	fset *token.FileSet
	file *ast.File
	// code is the cell, as the positions count it.
	code string
	// exprLine, exprCol: the trailing expression's position, 0 when none.
	exprLine, exprCol int
}

// parseCell parses the parts of code (a cell, split by splitCell) into
// one file, and splits the trailing expression (the cell's result) off
// the last part when that is a statement part ending in an expression
// statement: parts[len(parts)-1].Expr. Its error is a scanner.ErrorList
// at the cell's positions.
func parseCell(code string, parts []part) (*cellAST, error) {
	var b strings.Builder
	b.WriteString("package main\n")
	at := func(line, col int) string { return fmt.Sprintf("/*line cell:%d:%d*/", max(line, 1), max(col, 1)) }
	for _, kind := range []partKind{partImport, partDecl} {
		for _, p := range parts {
			if p.Kind == kind {
				b.WriteString(at(p.Line, p.Col) + p.Src + "\n")
			}
		}
	}
	b.WriteString("/*line " + helperPrefix + ":1:1*/func " + bodyFunc + "() {\n")
	a := &cellAST{fset: token.NewFileSet(), code: code}
	for _, p := range parts {
		if p.Kind != partStmt {
			continue
		}
		if strings.TrimSpace(p.Src) != "" {
			b.WriteString(at(p.Line, p.Col) + p.Src + "\n")
		}
		if p.Expr != "" {
			b.WriteString(at(p.ExprLine, p.ExprCol) + p.Expr + "\n")
			a.exprLine, a.exprCol = p.ExprLine, p.ExprCol
		}
	}
	b.WriteString("/*line " + helperPrefix + ":1:1*/}\n")
	f, err := parseFile(a.fset, cellFileName, b.String(), parser.ParseComments)
	if err != nil {
		var list, own scanner.ErrorList
		if errors.As(err, &list) {
			// The cell's own errors, at its positions (not those of the
			// scaffolding they cause).
			for _, e := range list {
				if e.Pos.Filename == "cell" {
					own = append(own, e)
				}
			}
			if len(own) > 0 {
				return nil, own
			}
		}
		return nil, err
	}
	a.file = f
	a.splitResult(parts)
	return a, nil
}

// splitResult moves the trailing expression statement of the last part,
// a statement part, from its Src to its Expr.
func (a *cellAST) splitResult(parts []part) {
	n := len(parts)
	if n == 0 || parts[n-1].Kind != partStmt || parts[n-1].Expr != "" {
		return
	}
	p := &parts[n-1]
	list := a.stmts(*p)
	if len(list) == 0 {
		return
	}
	es, ok := list[len(list)-1].(*ast.ExprStmt)
	if !ok {
		return
	}
	pos := a.fset.Position(es.Pos())
	start := offsetOf(a.code, pos.Line, pos.Column)
	pstart := offsetOf(a.code, p.Line, p.Col)
	p.Expr = a.text(es.Pos(), es.End())
	p.ExprLine, p.ExprCol = pos.Line, pos.Column
	a.exprLine, a.exprCol = pos.Line, pos.Column
	p.Src = strings.TrimRight(a.code[pstart:start], " \t\r\n;")
}

// inPart reports whether the node spanning pos..end lies in part p.
func (a *cellAST) inPart(p part, pos, end token.Pos) bool {
	s, e := a.fset.Position(pos), a.fset.Position(end)
	if s.Filename != "cell" || e.Filename != "cell" {
		return false
	}
	start := offsetOf(a.code, p.Line, p.Col)
	return offsetOf(a.code, s.Line, s.Column) >= start && offsetOf(a.code, e.Line, e.Column) <= start+p.srcLen()
}

// text returns the cell's source from pos to end.
func (a *cellAST) text(pos, end token.Pos) string {
	s, e := a.fset.Position(pos), a.fset.Position(end)
	return a.code[offsetOf(a.code, s.Line, s.Column):offsetOf(a.code, e.Line, e.Column)]
}

// declItems returns the top-level declarations of declaration part p.
func (a *cellAST) declItems(p part) []declItem {
	var items []declItem
	for _, d := range a.file.Decls {
		if !a.inPart(p, d.Pos(), d.End()) {
			continue
		}
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.IMPORT {
			continue
		}
		it := declItemOf(d)
		it.node = d
		it.text = a.text(d.Pos(), d.End())
		pos := a.fset.Position(d.Pos())
		it.line, it.col = pos.Line, pos.Column
		items = append(items, it)
	}
	return items
}

// importSpecs returns the imports of import part p.
func (a *cellAST) importSpecs(p part) []importEntry {
	var out []importEntry
	for _, im := range a.file.Imports {
		if !a.inPart(p, im.Pos(), im.End()) {
			continue
		}
		path, _ := strconv.Unquote(im.Path.Value)
		e := importEntry{path: path}
		if im.Name != nil {
			e.name = im.Name.Name
		}
		out = append(out, e)
	}
	return out
}

// stmts returns the top-level statements of statement part p (not its
// trailing expression), in order.
func (a *cellAST) stmts(p part) []ast.Stmt {
	var out []ast.Stmt
	for _, d := range a.file.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != bodyFunc || fd.Recv != nil || fd.Body == nil {
			continue
		}
		for _, st := range fd.Body.List {
			if a.inPart(p, st.Pos(), st.End()) {
				out = append(out, st)
			}
		}
	}
	return out
}

// offIn maps pos, a position of the cell's parse, to an offset in p.Src
// as the lowering passes left it (their insertions before pos, at cell
// positions in u.edits, shift it; end: an insertion at pos itself belongs
// before it, as the end of a node).
func (u *cellUnit) offIn(p part, pos token.Pos, end bool) int {
	at := u.ast.fset.Position(pos)
	base := offsetOf(u.code, p.Line, p.Col)
	orig := offsetOf(u.code, at.Line, at.Column)
	off := orig - base
	for _, e := range u.edits {
		eo := offsetOf(u.code, e.line, e.col)
		if eo >= base && (eo < orig || end && eo == orig) {
			off += len(e.text) - e.del
		}
	}
	return off
}

// editedIn reports whether a lowering pass changed the source of part p
// (an edit inside its span, at cell positions).
func (u *cellUnit) editedIn(p part) bool {
	base := offsetOf(u.code, p.Line, p.Col)
	for _, e := range u.edits {
		if eo := offsetOf(u.code, e.line, e.col); eo >= base && eo <= base+p.srcLen() {
			return true
		}
	}
	return false
}

// parenMultiDecl returns it.text with parenMulti's rewrite (multiassign.go)
// made on its syntax from the cell's parse.
func (a *cellAST) parenMultiDecl(it declItem) string {
	if it.node == nil {
		return parenMulti(it.text)
	}
	base := offsetOf(a.code, it.line, it.col)
	return parenMultiIn(it.text, []ast.Node{it.node}, nil, func(n ast.Node) (int, int, bool) {
		s, e := a.fset.Position(n.Pos()), a.fset.Position(n.End())
		so, eo := offsetOf(a.code, s.Line, s.Column)-base, offsetOf(a.code, e.Line, e.Column)-base
		return so, eo, s.Filename == "cell" && so >= 0 && eo <= len(it.text) && so < eo
	})
}
