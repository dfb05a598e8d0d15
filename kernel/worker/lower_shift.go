package worker

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
)

// passLowerShifts makes the types of a non-constant shift's constant
// operands explicit, where yaegi v0.16.1 takes them from the constant:
//
//   - an untyped constant shifted by a variable takes the type it would
//     have without the shift (val | 1<<n with val a uint64 shifts a
//     uint64), yaegi computed an int ("reflect: call of
//     reflect.Value.SetUint on int Value"): it becomes the constant
//     converted to the type go/types gave it, uint64(1)<<n (uint where
//     the shift is itself a shift count: x << (uint(1) << n));
//   - an untyped constant shift count (x<<1., x<<(1+0i), x<<(M+0) with M
//     math.MaxUint) is an unsigned integer, yaegi took it for a float,
//     a complex or an int64 ("reflect: call of reflect.Value.Uint on int
//     Value"): it becomes uint(N), its exact value.
//
// The shift is rewritten as a whole, `(T(c) << uint(N))` (<<= keeps its
// variable), so that no other pass's rewrite of the constants is kept.
func (s *session) passLowerShifts(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	counts := map[ast.Expr]bool{} // non-constant shifts that are shift counts
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		if n == nil || !l.inCell(n) {
			return true
		}
		switch x := n.(type) {
		case *ast.BinaryExpr:
			if x.Op != token.SHL && x.Op != token.SHR {
				return true
			}
			if tv := l.c.info.Types[x]; tv.Value != nil {
				return true // a constant shift: go/types computed it
			}
			if y, ok := ast.Unparen(x.Y).(*ast.BinaryExpr); ok && (y.Op == token.SHL || y.Op == token.SHR) {
				counts[y] = true
			}
			left, lok := l.shiftOperand(x.X, counts[x])
			count, cok := l.shiftCount(x.Y)
			if !lok && !cok {
				return true
			}
			if !lok {
				left = l.text(x.X)
			}
			if !cok {
				count = l.text(x.Y)
			}
			l.replace(x, "("+left+" "+x.Op.String()+" "+count+")")
			return true // a shift in the count: lowered in the marker's copy
		case *ast.AssignStmt:
			if (x.Tok != token.SHL_ASSIGN && x.Tok != token.SHR_ASSIGN) || len(x.Rhs) != 1 {
				return true
			}
			if count, ok := l.shiftCount(x.Rhs[0]); ok {
				// The count is a constant: no edit of this pass lies in
				// it, and the left operand is still visited.
				l.replaceSpan(x.TokPos, x.Rhs[0].End(), x.Tok.String()+" "+count)
			}
		}
		return true
	})
	return l.done()
}

// shiftOperand writes the shifted operand e of a non-constant shift when
// it is a constant: its value converted to the type go/types gave it, or
// to uint where the shift is itself a shift count (count).
func (l *lowerer) shiftOperand(e ast.Expr, count bool) (string, bool) {
	tv := l.c.info.Types[e]
	if tv.Value == nil || tv.Type == nil {
		return "", false
	}
	if b, ok := tv.Type.(*types.Basic); ok && b.Info()&types.IsUntyped != 0 && count {
		// The shift is a shift count (x << (1 << n)): an unsigned
		// integer, where go/types keeps the constant untyped.
		tv.Type = types.Typ[types.Uint]
	}
	if b, ok := tv.Type.Underlying().(*types.Basic); !ok || b.Info()&types.IsUntyped != 0 || b.Info()&types.IsInteger == 0 {
		return "", false
	}
	if _, ok := e.(*ast.CallExpr); ok {
		return "", false // a conversion already: T(c)
	}
	if tv.Value.Kind() == constant.Int && types.Identical(tv.Type, types.Typ[types.Int]) {
		return "", false // the constant's own default type: yaegi takes it
	}
	return l.constLiteral(constant.ToInt(tv.Value), tv.Type, true)
}

// shiftCount writes a shift count e that is an untyped constant as
// uint(N).
func (l *lowerer) shiftCount(e ast.Expr) (string, bool) {
	tv := l.c.info.Types[e]
	if tv.Value == nil || tv.Type == nil {
		return "", false
	}
	if b, ok := tv.Type.(*types.Basic); !ok || b.Info()&types.IsUntyped == 0 {
		return "", false
	}
	v := constant.ToInt(tv.Value)
	if v.Kind() != constant.Int || constant.Sign(v) < 0 {
		return "", false
	}
	if _, exact := constant.Uint64Val(v); !exact {
		return "", false
	}
	if _, ok := e.(*ast.BasicLit); ok && tv.Value.Kind() == constant.Int {
		return "", false // an integer literal: yaegi takes it
	}
	return "uint(" + v.ExactString() + ")", true
}
