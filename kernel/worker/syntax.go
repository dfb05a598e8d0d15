package worker

import (
	"fmt"
	"go/ast"
	"go/token"
	"os"
)

// syntax is a set of the kinds of syntax a checked cell file holds, for
// the passes that rewrite only these (when).
type syntax uint16

const (
	synDefer  syntax = 1 << iota // defer statements
	synGo                        // go statements
	synFor                       // for statements without range
	synRange                     // range statements
	synSelect                    // select statements
	synSwitch                    // expression switch statements
	synShift                     // << and >>, as operators or assignments
	synEqual                     // == and !=
	synAddr                      // &x
	synRecv                      // <-x
	synAssert                    // x.(T), and x.(type) of a type switch
)

// holds reports whether the cell's checked file holds any of want. A cell
// that was not checked holds nothing (the lowering passes have nothing to
// lower with).
func (u *cellUnit) holds(want syntax) bool {
	if !u.syntaxRead {
		u.syntaxRead = true
		if u.check.file != nil {
			u.syntax = syntaxOf(u.check.file)
		}
	}
	return u.syntax&want != 0
}

// syntaxOf is the syntax f holds, in one walk.
func syntaxOf(f *ast.File) syntax {
	var s syntax
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.DeferStmt:
			s |= synDefer
		case *ast.GoStmt:
			s |= synGo
		case *ast.ForStmt:
			s |= synFor
		case *ast.RangeStmt:
			s |= synRange
		case *ast.SelectStmt:
			s |= synSelect
		case *ast.SwitchStmt:
			s |= synSwitch
		case *ast.BinaryExpr:
			switch x.Op {
			case token.SHL, token.SHR:
				s |= synShift
			case token.EQL, token.NEQ:
				s |= synEqual
			}
		case *ast.AssignStmt:
			if x.Tok == token.SHL_ASSIGN || x.Tok == token.SHR_ASSIGN {
				s |= synShift
			}
		case *ast.TypeAssertExpr:
			s |= synAssert
		case *ast.UnaryExpr:
			switch x.Op {
			case token.AND:
				s |= synAddr
			case token.ARROW:
				s |= synRecv
			}
		}
		return true
	})
	return s
}

// verifyPipeline makes the pipeline check its shortcuts against the long
// way: a skipped pass runs all the same and must change nothing, and
// isCellPos must agree with the file set; a disagreement panics. The
// package's tests set it, and a worker started with the environment
// variable UNETLAB_VERIFY_PIPELINE set (bench/gotests does so).
var verifyPipeline = os.Getenv("UNETLAB_VERIFY_PIPELINE") != ""

// when is run for a pass that rewrites only the syntax in needs: a cell
// whose checked file holds none of it skips the pass (most cells hold no
// loop, select, defer or shift). With verifyPipeline the pass runs all the
// same and must change nothing.
func when(needs syntax, run func(*session, *cellUnit) error) func(*session, *cellUnit) error {
	return func(s *session, u *cellUnit) error {
		if u.holds(needs) {
			return run(s, u)
		}
		if verifyPipeline {
			verifySkipped(s, u, needs, run)
		}
		return nil
	}
}

// verifySkipped runs a pass the pipeline skipped for u and panics when it
// would have changed the cell: its needs miss syntax it rewrites.
func verifySkipped(s *session, u *cellUnit, needs syntax, run func(*session, *cellUnit) error) {
	type mark struct {
		pending, after, genInsts, edits int
		cellDefers                      bool
	}
	at := func() mark { return mark{len(u.pending), len(u.after), len(u.genInsts), len(u.edits), u.cellDefers} }
	before := at()
	err := run(s, u)
	if err != nil || at() != before {
		panic(fmt.Sprintf("worker: pass %s was skipped (the cell holds none of its syntax %b, it holds %b) but changes the cell: err %v, %+v -> %+v",
			u.pass, needs, u.syntax, err, before, at()))
	}
}
