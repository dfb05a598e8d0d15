package worker

import (
	"go/scanner"
	"go/token"
	"strings"
)

// Syntax errors are go/parser's, worded as the Go compiler (gc, what `go
// build` prints) words them: go/parser says "expected operand, found ')'",
// gc "syntax error: unexpected ), expected expression". gcSyntax rewrites
// the messages of go/parser that have a gc counterpart, naming the token
// at the error's position as gc does (name x, literal 2, keyword for,
// newline, EOF, or the operator itself); the scanner's own errors (an
// unterminated string) keep gc's scanner wording, without the prefix.

// gcSyntax returns gc's wording of the go/parser or go/scanner error msg
// at line:col of code (the cell).
func gcSyntax(msg, code string, line, col int) string {
	const prefix = "syntax error: "
	found := func() string { return gcToken(code, line, col) }
	switch {
	case msg == "string literal not terminated":
		return "newline in string"
	case msg == "raw string literal not terminated":
		return "string not terminated"
	case msg == "rune literal not terminated":
		return "newline in rune literal"
	case strings.HasPrefix(msg, "expected declaration, found"):
		return prefix + "non-declaration statement outside function body"
	case strings.HasPrefix(msg, "missing ','"):
		// "missing ',' [before newline] in argument list"
		_, ctx, ok := strings.Cut(msg, " in ")
		if !ok {
			break
		}
		closer := ")"
		if ctx == "composite literal" {
			closer = "}"
		}
		tok := found()
		if strings.Contains(msg, "before newline") {
			tok = "newline"
		}
		return prefix + "unexpected " + tok + " in " + ctx + "; possibly missing comma or " + closer
	case strings.HasPrefix(msg, "expected "):
		want, _, _ := strings.Cut(strings.TrimPrefix(msg, "expected "), ", found")
		tok := found()
		switch want {
		case "operand":
			return prefix + "unexpected " + tok + ", expected expression"
		case "'IDENT'":
			return prefix + "unexpected " + tok + ", expected name"
		case "';'", "statement":
			if tok == "EOF" {
				return prefix + "unexpected EOF, expected }"
			}
			return prefix + "unexpected " + tok + " at end of statement"
		}
		if len(want) >= 3 && want[0] == '\'' && want[len(want)-1] == '\'' {
			return prefix + "unexpected " + tok + ", expected " + want[1:len(want)-1]
		}
		return prefix + "unexpected " + tok + ", expected " + want
	}
	return msg
}

// gcToken names the token of code at line:col as gc's messages do; "EOF"
// past the end.
func gcToken(code string, line, col int) string {
	fset := token.NewFileSet()
	file := fset.AddFile("cell", -1, len(code))
	var sc scanner.Scanner
	sc.Init(file, []byte(code), func(token.Position, string) {}, 0)
	for {
		pos, tok, lit := sc.Scan()
		p := fset.Position(pos)
		if tok == token.EOF {
			return "EOF"
		}
		if p.Line < line || p.Line == line && p.Column < col {
			continue
		}
		if p.Line != line || p.Column != col {
			// The error is between tokens (after the last one of a
			// line): the end of the line, as gc sees it.
			return "newline"
		}
		switch {
		case tok == token.SEMICOLON && lit == "\n":
			return "newline"
		case tok == token.SEMICOLON:
			return "semicolon"
		case tok == token.IDENT:
			return "name " + lit
		case tok.IsLiteral():
			return "literal " + lit
		case tok.IsKeyword():
			return "keyword " + tok.String()
		}
		return tok.String()
	}
}
