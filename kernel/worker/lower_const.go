package worker

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"strconv"
	"strings"
	"unicode/utf8"
)

// passLowerConsts puts the values go/types computed for constants into the
// cell as literals, where yaegi v0.16.1 evaluates constants wrongly:
//
//   - a constant expression outside a const declaration (chuge > chuge-1,
//     float64(chuge), len(a) of an array) is evaluated by yaegi at run time
//     in int64 or float64, so an untyped constant beyond int64 panicked
//     ("constant 1267650600228229401496703205376 overflows int64"): it
//     becomes its exact value, a literal of the type the checker gave it
//     (`T(lit)`; untyped, the bare literal). Plain literals and names of
//     constants within int64 are left alone, as are min and max (see
//     lower-builtins);
//   - a const spec that repeats the one before it implicitly (`s =
//     string(iota + 'a'); t` was "constant definition loop") or whose
//     values use iota or integers beyond int64, index, dereference or
//     take len or cap (len(m[""]) of a map of
//     arrays evaluated m[""], len(s[10]) panicked) declares each name with
//     its value as a literal, keeping the type (`t string = "b"`, `n2 int
//     = 20`). Untyped floats stay exact
//     (a quotient of integers); a value whose type the cell cannot spell
//     is left as written.
func (s *session) passLowerConsts(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		if n == nil || !l.inCell(n) {
			return true
		}
		switch x := n.(type) {
		case *ast.GenDecl:
			if x.Tok == token.CONST {
				l.lowerConstDecl(x)
				return false
			}
		case *ast.Field:
			// A struct tag is a literal; parameters hold no constants.
		case ast.Expr:
			if call, ok := x.(*ast.CallExpr); ok && l.lowerArrayPtrLen(call) {
				return true
			}
			tv, ok := l.c.info.Types[x]
			if !ok || tv.Value == nil || !l.constNeedsLowering(x, tv) {
				return true
			}
			if text, ok := l.constLiteral(tv.Value, tv.Type, true); ok {
				l.replace(x, text)
				return false
			}
		}
		return true
	})
	return l.done()
}

// lowerArrayPtrLen lowers len(p) and cap(p) of a pointer p to an array
// that is not constant (a call or a receive): Go evaluates p and gives the
// array's length, also for a nil p; yaegi panicked ("call of
// reflect.Value.Len on zero Value"). The call becomes
// `func(*[N]T) int { return N }(p)`.
func (l *lowerer) lowerArrayPtrLen(call *ast.CallExpr) bool {
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok || len(call.Args) != 1 {
		return false
	}
	if b, ok := l.c.info.Uses[id].(*types.Builtin); !ok || (b.Name() != "len" && b.Name() != "cap") {
		return false
	}
	if tv := l.c.info.Types[call]; tv.Value != nil {
		return false
	}
	pt, ok := l.c.info.Types[call.Args[0]].Type.(*types.Pointer)
	if !ok {
		return false
	}
	at, ok := pt.Elem().Underlying().(*types.Array)
	if !ok {
		return false
	}
	ts, ok := l.typeString(pt)
	if !ok {
		return false
	}
	l.replaceSpan(call.Fun.Pos(), call.Lparen, "func(*"+strings.TrimPrefix(ts, "*")+") int { return "+strconv.FormatInt(at.Len(), 10)+" }")
	return true
}

// constNeedsLowering reports whether yaegi may evaluate the constant
// expression x wrongly.
func (l *lowerer) constNeedsLowering(x ast.Expr, tv types.TypeAndValue) bool {
	switch e := x.(type) {
	case *ast.BasicLit:
		return false
	case *ast.Ident, *ast.SelectorExpr:
		// A name: only of an integer beyond int64 (yaegi converts it in
		// int64, also to a float).
		id, _ := e.(*ast.Ident)
		if sel, ok := e.(*ast.SelectorExpr); ok {
			id = sel.Sel
		}
		val := tv.Value
		if c, ok := l.c.info.Uses[id].(*types.Const); ok {
			val = c.Val()
		}
		if val.Kind() != constant.Int {
			return false
		}
		_, exact := constant.Int64Val(val)
		if exact {
			return false
		}
		if b, ok := tv.Type.Underlying().(*types.Basic); ok && b.Info()&types.IsUnsigned != 0 {
			_, exact = constant.Uint64Val(val)
			return !exact
		}
		return true
	case *ast.UnaryExpr:
		if _, ok := e.X.(*ast.BasicLit); ok {
			return false
		}
	case *ast.CallExpr:
		if id, ok := ast.Unparen(e.Fun).(*ast.Ident); ok {
			if b, ok := l.c.info.Uses[id].(*types.Builtin); ok && (b.Name() == "min" || b.Name() == "max") {
				return false
			}
		}
	case *ast.ParenExpr, *ast.BinaryExpr:
	default:
		return false
	}
	return true
}

// lowerConstDecl writes the values of a const declaration as literals
// when one of them is not a literal already.
func (l *lowerer) lowerConstDecl(d *ast.GenDecl) {
	for _, sp := range d.Specs {
		vs, ok := sp.(*ast.ValueSpec)
		if !ok || len(vs.Names) == 0 {
			continue
		}
		if len(vs.Values) > 0 && !l.constSpecNeedsLowering(vs) {
			continue
		}
		var typ types.Type
		var lits []string
		ok = true
		for i, name := range vs.Names {
			c, _ := l.c.info.Defs[name].(*types.Const)
			var val constant.Value
			var t types.Type
			switch {
			case c != nil:
				val, t = c.Val(), c.Type()
			case i < len(vs.Values):
				tv := l.c.info.Types[vs.Values[i]]
				val, t = tv.Value, tv.Type
			}
			if val == nil || t == nil {
				ok = false
				break
			}
			if typ == nil {
				typ = t
			}
			lit, good := l.constLiteral(val, t, false)
			if !good {
				ok = false
				break
			}
			lits = append(lits, lit)
		}
		if !ok {
			continue
		}
		head := " = "
		if b, isBasic := typ.(*types.Basic); !isBasic || b.Info()&types.IsUntyped == 0 {
			ts, good := l.typeString(typ)
			if !good {
				continue
			}
			head = " " + ts + " = "
		}
		last := vs.Names[len(vs.Names)-1]
		from, to := l.offset(last.End()), l.offset(vs.End())
		pos := l.c.fset.Position(last.End())
		l.edits = append(l.edits, edit{line: pos.Line, col: pos.Column, text: head + strings.Join(lits, ", "), del: to - from})
	}
}

// constSpecNeedsLowering reports whether the values of a const spec hold
// what yaegi evaluates as code, not as a constant: an operand of len or
// cap, an index, a dereference, iota (string(iota + 'a') was "constant
// definition loop") or an integer beyond int64 (chuge - 1 overflowed).
func (l *lowerer) constSpecNeedsLowering(vs *ast.ValueSpec) bool {
	found := false
	for _, v := range vs.Values {
		ast.Inspect(v, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.IndexExpr, *ast.StarExpr:
				found = true
			case ast.Expr:
				if tv := l.c.info.Types[x]; tv.Value != nil && constant.ToInt(tv.Value).Kind() == constant.Int {
					if _, exact := constant.Int64Val(constant.ToInt(tv.Value)); !exact {
						found = true // yaegi computes in int64
					}
				}
			}
			switch x := n.(type) {
			case *ast.Ident:
				if c, ok := l.c.info.Uses[x].(*types.Const); ok && c.Parent() == types.Universe && c.Name() == "iota" {
					found = true
				}
			case *ast.CallExpr:
				if id, ok := ast.Unparen(x.Fun).(*ast.Ident); ok {
					if b, ok := l.c.info.Uses[id].(*types.Builtin); ok && (b.Name() == "len" || b.Name() == "cap") {
						found = true
					}
				}
			}
			return !found
		})
	}
	return found
}

// constLiteral writes the constant val of type t as Go source: an
// untyped literal of t's kind, converted to t when conv and t is typed.
func (l *lowerer) constLiteral(val constant.Value, t types.Type, conv bool) (string, bool) {
	b, ok := t.Underlying().(*types.Basic)
	if !ok {
		return "", false
	}
	var lit string
	switch {
	case b.Info()&types.IsBoolean != 0:
		if val.Kind() != constant.Bool {
			return "", false
		}
		lit = strconv.FormatBool(constant.BoolVal(val))
	case b.Info()&types.IsString != 0:
		if val.Kind() != constant.String {
			return "", false
		}
		lit = strconv.Quote(constant.StringVal(val))
	case b.Kind() == types.UntypedRune:
		r, exact := constant.Int64Val(constant.ToInt(val))
		if !exact {
			return "", false
		}
		lit = strconv.FormatInt(r, 10)
		if int64(rune(r)) == r && utf8.ValidRune(rune(r)) {
			lit = strconv.QuoteRune(rune(r))
		}
	case b.Info()&types.IsInteger != 0:
		iv := constant.ToInt(val)
		if iv.Kind() != constant.Int {
			return "", false
		}
		lit = iv.ExactString()
	case b.Info()&types.IsFloat != 0:
		lit, ok = floatLiteral(val, b)
		if !ok {
			return "", false
		}
	case b.Info()&types.IsComplex != 0:
		re, ok1 := floatLiteral(constant.Real(val), b)
		im, ok2 := floatLiteral(constant.Imag(val), b)
		if !ok1 || !ok2 {
			return "", false
		}
		lit = "(" + re + " + " + im + "i)"
	default:
		return "", false
	}
	if strings.HasPrefix(lit, "-") {
		lit = "(" + lit + ")"
	}
	if !conv || b.Info()&types.IsUntyped != 0 {
		return lit, true
	}
	if tb, ok := t.(*types.Basic); ok && (tb.Kind() == types.Bool || tb.Kind() == types.String) {
		// The literal's own type wherever it stands: no conversion.
		return lit, true
	}
	ts, ok := l.typeString(t)
	if !ok {
		return "", false
	}
	return ts + "(" + lit + ")", true
}

// floatLiteral writes a float constant: exactly for an untyped one (an
// integer, or a quotient of integers), else the shortest literal that
// reads back as the value of b's size.
func floatLiteral(val constant.Value, b *types.Basic) (string, bool) {
	val = constant.ToFloat(val)
	if val.Kind() != constant.Float {
		return "", false
	}
	if b.Info()&types.IsUntyped != 0 {
		num, den := constant.Num(val), constant.Denom(val)
		if num.Kind() != constant.Int || den.Kind() != constant.Int {
			return "", false
		}
		if d, exact := constant.Int64Val(den); exact && d == 1 {
			return num.ExactString() + ".0", true
		}
		return "(" + num.ExactString() + ".0 / " + den.ExactString() + ")", true
	}
	size := 64
	if b.Kind() == types.Float32 || b.Kind() == types.Complex64 {
		size = 32
	}
	f, _ := constant.Float64Val(val)
	if size == 32 {
		f32, _ := constant.Float32Val(val)
		f = float64(f32)
	}
	s := strconv.FormatFloat(f, 'g', -1, size)
	if !strings.ContainsAny(s, ".eIN") {
		s += ".0"
	}
	return s, !strings.ContainsAny(s, "IN") // no Inf or NaN constants
}
