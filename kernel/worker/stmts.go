package worker

import (
	"go/ast"
	"go/parser"
	"go/token"
)

// This file works around yaegi's handling of statements at a cell's top
// level. yaegi evaluates them in the global scope, and there a := (or var)
// inside a block of a top-level statement (`if _, err := os.Stat(p); err ==
// nil {...}`, `for _, x := range xs { a, b := f(x); ... }`) is mishandled:
// "undefined: err", or a nil pointer dereference in the interpreter. The
// same code in a function body works. So a run of top-level statements that
// opens a scope of its own (if, for, switch, select, a block) and defines no
// top-level variable is evaluated inside a function literal called at once:
// its := variables are locals of that function, while the cell's globals are
// read and assigned as before. Top-level := statements stay in the global
// scope: they define the cell's variables.

// stmtChunk is a run of top-level statements of a statement part,
// evaluated by one call of the interpreter.
type stmtChunk struct {
	p    part // the statements' source and position in the cell
	wrap bool // evaluate inside (func() { ... })()
}

// src returns the chunk's source to evaluate, the statements on their own
// lines and columns (see padded).
func (c stmtChunk) src() string {
	if !c.wrap {
		return padded(c.p.Src, c.p.Line, c.p.Col)
	}
	// The wrapper's head shares the first line, which yaegi prefixes with
	// its own text and which padded leaves empty; the statements keep
	// their lines.
	return "(func() {" + padded(c.p.Src, c.p.Line, c.p.Col) + "\n})()"
}

// stmtChunks splits statement part p (without its trailing expression) into
// chunks. A part that needs no wrapping, or that uses goto or a return (whose meaning a function literal would change), is one unwrapped
// chunk, as it always was.
func stmtChunks(p part) []stmtChunk {
	whole := []stmtChunk{{p: p}}
	const head = "package p;func _(){\n"
	content := head + p.Src + "\n}"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", content, parser.SkipObjectResolution)
	if err != nil || len(f.Decls) != 1 {
		return whole // the interpreter reports the error
	}
	body := f.Decls[0].(*ast.FuncDecl).Body
	if len(body.List) == 0 {
		return whole
	}
	type span struct {
		start, end int // offsets in p.Src
		define     bool
		scoped     bool
	}
	var spans []span
	anyScoped := false
	for _, st := range body.List {
		if _, ok := st.(*ast.EmptyStmt); ok {
			continue
		}
		if leavesRun(st) {
			return whole
		}
		sp := span{
			start: fset.Position(st.Pos()).Offset - len(head),
			end:   fset.Position(st.End()).Offset - len(head),
		}
		if as, ok := st.(*ast.AssignStmt); ok && as.Tok == token.DEFINE {
			sp.define = true
		}
		inner := st
		for {
			l, ok := inner.(*ast.LabeledStmt)
			if !ok {
				break
			}
			inner = l.Stmt
		}
		switch inner.(type) {
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt,
			*ast.SelectStmt, *ast.BlockStmt:
			sp.scoped = true
			anyScoped = true
		}
		if sp.start < 0 || sp.end > len(p.Src) || sp.start >= sp.end {
			return whole
		}
		spans = append(spans, sp)
	}
	if !anyScoped {
		return whole
	}
	// Group: consecutive := statements stay together in the global scope;
	// consecutive other statements form one run, wrapped when one of them
	// opens a scope.
	var chunks []stmtChunk
	for i := 0; i < len(spans); {
		j := i
		scoped := false
		for j < len(spans) && spans[j].define == spans[i].define {
			scoped = scoped || spans[j].scoped
			j++
		}
		start, end := spans[i].start, spans[j-1].end
		line, col := lineCol(p.Src, start)
		if line == 1 {
			col += p.Col - 1
		}
		line += p.Line - 1
		chunks = append(chunks, stmtChunk{
			p:    part{Kind: partStmt, Line: line, Col: col, Src: p.Src[start:end]},
			wrap: !spans[i].define && scoped,
		})
		i = j
	}
	return chunks
}

// leavesRun reports whether statement st holds a goto or a return outside
// of function literals: in a function literal of its own, a goto could not
// reach a label of another chunk and a return would end only the chunk.
func leavesRun(st ast.Stmt) bool {
	found := false
	ast.Inspect(st, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ReturnStmt:
			found = true
		case *ast.BranchStmt:
			if x.Tok == token.GOTO {
				found = true
			}
		}
		return !found
	})
	return found
}
