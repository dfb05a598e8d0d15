package worker

import (
	"fmt"
	"go/scanner"
	"go/token"
	"strings"
)

// partKind classifies one top-level piece of a cell.
type partKind int

const (
	partImport partKind = iota // an import declaration
	partDecl                   // func, method, type, var or const declarations
	partStmt                   // statements, run in order
)

func (k partKind) String() string {
	return [...]string{"import", "decl", "stmt"}[k]
}

// part is a run of consecutive top-level items of one kind.
type part struct {
	Kind partKind
	Line int    // 1-based line of the first character in the cell
	Col  int    // 1-based column (in bytes) of the first character
	Src  string // the cell's text of the part
	// Trailing is set on the last statement part when its last statement
	// is an expression: Src holds the statements before it (maybe empty)
	// and Expr the expression, at ExprLine:ExprCol.
	Expr              string
	ExprLine, ExprCol int
	// cellLen is len(Src) as the cell has it, set when a lowering pass
	// rewrites Src (cellUnit.applyEdits); 0 while Src is the cell's text.
	cellLen int
}

// srcLen is the length of the part's span in the cell, before lowering.
func (p part) srcLen() int {
	if p.cellLen > 0 {
		return p.cellLen
	}
	return len(p.Src)
}

// padded returns src preceded by newlines and spaces so that yaegi, which
// prefixes the first line of the source it evaluates with its own text,
// reports positions one line below the cell's own line:column (see
// toCellError, which subtracts the line).
func padded(src string, line, col int) string {
	if line < 1 {
		line = 1
	}
	return strings.Repeat("\n", line) + strings.Repeat(" ", max(col-1, 0)) + src
}

// atCell returns p's source after a line directive that puts it at its
// position in the cell, file "cell": parsed after a package clause (and
// whatever else a wrapper needs), its nodes and errors have the cell's
// positions, on the first line too.
func atCell(p part) string {
	return fmt.Sprintf("/*line cell:%d:%d*/", max(p.Line, 1), max(p.Col, 1)) + p.Src
}

// item is one top-level statement or declaration of a cell.
type item struct {
	kind       partKind
	start, end int // byte offsets in the cell
}

// splitCell splits a cell into imports, declarations and statements in
// order, grouping consecutive items of the same kind (imports stay one per
// part). It tokenises with go/scanner: an item starts after a semicolon
// (explicit or automatic) at bracket depth zero. A scanner error is returned
// as the cell's syntax error in cell positions.
func splitCell(src string) ([]part, error) {
	fset := token.NewFileSet()
	file := fset.AddFile("cell", -1, len(src))
	var errs scanner.ErrorList
	var s scanner.Scanner
	s.Init(file, []byte(src), func(pos token.Position, msg string) { errs.Add(pos, msg) }, 0)

	var items []item
	depth := 0
	start := -1
	var first token.Token
	var second token.Token
	ntok := 0
	flush := func(end int) {
		if start < 0 {
			return
		}
		k := partStmt
		switch first {
		case token.IMPORT:
			k = partImport
		case token.TYPE, token.VAR, token.CONST:
			k = partDecl
		case token.FUNC:
			if second == token.IDENT {
				k = partDecl
			} else if second == token.LPAREN && isFuncDecl(src[start:end]) {
				k = partDecl // a method
			}
		}
		items = append(items, item{k, start, end})
		start = -1
		ntok = 0
	}
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			flush(len(src))
			break
		}
		off := file.Offset(pos)
		if tok == token.SEMICOLON && depth == 0 {
			end := off
			if lit == "\n" || lit == "" {
				end = off // automatic semicolon: the item ends before the newline
			}
			flush(end)
			continue
		}
		if start < 0 {
			start = off
			first = tok
			second = token.ILLEGAL
		} else if ntok == 1 {
			second = tok
		}
		ntok++
		switch tok {
		case token.LPAREN, token.LBRACE, token.LBRACK:
			depth++
		case token.RPAREN, token.RBRACE, token.RBRACK:
			if depth > 0 {
				depth--
			}
		}
	}
	if errs.Len() > 0 {
		return nil, errs.Err()
	}

	var parts []part
	for _, it := range items {
		text := strings.TrimRight(src[it.start:it.end], " \t\r\n;")
		if text == "" {
			continue
		}
		if n := len(parts); n > 0 && parts[n-1].Kind == it.kind && it.kind != partImport {
			p := &parts[n-1]
			p.Src = src[offsetOf(src, p.Line, p.Col):it.start] + text
			continue
		}
		line, col := lineCol(src, it.start)
		parts = append(parts, part{Kind: it.kind, Line: line, Col: col, Src: text})
	}
	return parts, nil
}

// isFuncDecl reports whether text (starting with "func (") is a method
// declaration rather than a func literal statement, by its tokens: a
// method's receiver list is followed by its name and its parameters'
// "(" (func (p P) Name(...)), which no func literal has after its
// parameter list (a result type, then "{").
func isFuncDecl(text string) bool {
	fset := token.NewFileSet()
	var sc scanner.Scanner
	sc.Init(fset.AddFile("", -1, len(text)), []byte(text), nil, 0)
	next := func() token.Token {
		_, tok, _ := sc.Scan()
		return tok
	}
	if next() != token.FUNC || next() != token.LPAREN {
		return false
	}
	for depth := 1; depth > 0; {
		switch next() {
		case token.LPAREN:
			depth++
		case token.RPAREN:
			depth--
		case token.EOF:
			return false
		}
	}
	return next() == token.IDENT && next() == token.LPAREN
}

// lineCol returns the 1-based line and byte column of offset off in src.
func lineCol(src string, off int) (int, int) {
	line := 1 + strings.Count(src[:off], "\n")
	col := off - (strings.LastIndexByte(src[:off], '\n') + 1) + 1
	return line, col
}

// offsetOf is the inverse of lineCol.
func offsetOf(src string, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(src[off:], '\n')
		if i < 0 {
			return len(src)
		}
		off += i + 1
	}
	return min(off+col-1, len(src))
}
