package worker

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

func init() {
	// clear(x) of a map or slice: reflect's Clear on the value yaegi
	// passes (its maps and slices are reflect values of real types).
	// DecodeRune is utf8.DecodeRuneInString, for ranges over strings.
	cellHelpers["unetlab/cellhelp/cellhelp"]["DecodeRune"] = reflect.ValueOf(utf8.DecodeRuneInString)
	cellHelpers["unetlab/cellhelp/cellhelp"]["Clear"] = reflect.ValueOf(func(x any) {
		v := reflect.ValueOf(x)
		if v.Kind() == reflect.Map || v.Kind() == reflect.Slice {
			v.Clear()
		}
	})
}

// passLowerBuiltins lowers what Go 1.21 and 1.22 added that yaegi v0.16.1
// lacks:
//
//   - `for i := range n` over an integer n becomes a three-clause loop on a
//     hidden counter, n evaluated once, i declared afresh in the body:
//     `for c, m := T(0), n; c < m; c++ { i := c; ... }`;
//   - `for i, r := range s` over a string decodes with
//     utf8.DecodeRuneInString: yaegi advanced by the width of the rune it
//     decoded, 3 bytes for each invalid byte (U+FFFD), instead of 1;
//   - min and max: a constant call becomes its value; another a call of a
//     function literal over the operands' type that compares them as Go
//     does (a NaN wins, min(-0.0, 0.0) is -0.0);
//   - clear(m) and clear(s) call the compiled helper Clear (reflect's
//     Value.Clear on the map or slice yaegi passes);
//   - Go 1.26's new(expr) becomes a call of `func(v T) *T { return &v }`.
func (s *session) passLowerBuiltins(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		if n == nil || !l.inCell(n) {
			return true
		}
		switch x := n.(type) {
		case *ast.RangeStmt:
			if isIntRange(l.c.info, x) {
				l.lowerIntRange(x)
			} else if isStringRange(l.c.info, x) {
				l.lowerStringRange(x)
			}
		case *ast.CallExpr:
			id, ok := ast.Unparen(x.Fun).(*ast.Ident)
			if !ok {
				return true
			}
			b, ok := l.c.info.Uses[id].(*types.Builtin)
			if !ok {
				return true
			}
			switch b.Name() {
			case "min", "max":
				if l.lowerMinMax(x, b.Name()) {
					return false
				}
			case "clear":
				l.replace(x.Fun, helperPrefix+"_help.Clear")
			case "new":
				l.lowerNewExpr(x)
			}
		}
		return true
	})
	return l.done()
}

// isIntRange reports whether st ranges over an integer.
func isIntRange(info *types.Info, st *ast.RangeStmt) bool {
	t := info.Types[st.X].Type
	if t == nil {
		return false
	}
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsInteger != 0
}

// isStringRange reports whether st ranges over a string.
func isStringRange(info *types.Info, st *ast.RangeStmt) bool {
	t := info.Types[st.X].Type
	if t == nil {
		return false
	}
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsString != 0
}

// lowerStringRange lowers a range over a string to a three-clause loop
// that decodes each rune (continue still advances by its width):
// `for s, i, w := x, 0, 0; i < len(s); i += w { var r rune; r, w =
// DecodeRune(s[i:]); k, v := i, r; ... }`.
func (l *lowerer) lowerStringRange(st *ast.RangeStmt) {
	sv, iv, wv, rv := l.name("ss"), l.name("si"), l.name("sw"), l.name("sr")
	head := fmt.Sprintf("for %s, %s, %s := %s, 0, 0; %s < len(%s); %s += %s ", sv, iv, wv, l.text(st.X), iv, sv, iv, wv)
	l.replaceSpan(st.For, st.Body.Lbrace, head)
	body := fmt.Sprintf(" var %s rune; %s, %s = %s_help.DecodeRune(%s[%s:]); _ = %s;", rv, rv, wv, helperPrefix, sv, iv, rv)
	var lhs, rhs []string
	for i, e := range []ast.Expr{st.Key, st.Value} {
		if e == nil {
			continue
		}
		if id, ok := e.(*ast.Ident); ok && id.Name == "_" {
			continue
		}
		lhs = append(lhs, l.text(e))
		rhs = append(rhs, []string{iv, rv}[i])
	}
	if len(lhs) > 0 {
		op := " := "
		if st.Tok == token.ASSIGN {
			op = " = "
		}
		body += " " + strings.Join(lhs, ", ") + op + strings.Join(rhs, ", ") + ";"
	}
	l.insert(st.Body.Lbrace+1, body)
}

func (l *lowerer) lowerIntRange(st *ast.RangeStmt) {
	info := l.c.info
	t := info.Types[st.X].Type
	if b, ok := t.(*types.Basic); ok && b.Info()&types.IsUntyped != 0 {
		t = types.Typ[types.Int]
		if st.Key != nil && st.Tok == token.ASSIGN {
			// for i = range 10: the counter has i's type.
			if kt := info.Types[st.Key].Type; kt != nil {
				t = kt
			}
		}
	}
	ts, ok := l.typeString(t)
	if !ok {
		l.fail(st, "cannot run faithfully: range over a value of type %s, which the cell cannot name", t)
		return
	}
	c, m := l.name("rc"), l.name("rn")
	head := fmt.Sprintf("for %s, %s := %s(0), %s; %s < %s; %s++ ", c, m, ts, l.text(st.X), c, m, c)
	// Replace "for ... range X " up to the body.
	l.replaceSpan(st.For, st.Body.Lbrace, head)
	if st.Key != nil {
		if id, ok := st.Key.(*ast.Ident); !ok || id.Name != "_" {
			op := " := "
			if st.Tok == token.ASSIGN {
				op = " = "
			}
			l.insert(st.Body.Lbrace+1, " "+l.text(st.Key)+op+c+";")
		}
	}
}

// replaceSpan puts text in place of the source from from to to.
func (l *lowerer) replaceSpan(from, to token.Pos, text string) {
	pos := l.c.fset.Position(from)
	l.edits = append(l.edits, edit{line: pos.Line, col: pos.Column, text: text, del: l.offset(to) - l.offset(from)})
}

// lowerMinMax replaces a min or max call; false when it left it (and its
// operands) alone.
func (l *lowerer) lowerMinMax(call *ast.CallExpr, name string) bool {
	tv := l.c.info.Types[call]
	if tv.Value != nil {
		lit, ok := constLiteral(tv.Value)
		if !ok {
			l.fail(call, "cannot run faithfully: constant %s of kind %s", name, tv.Value.Kind())
			return true
		}
		if b, isBasic := tv.Type.(*types.Basic); !isBasic || b.Info()&types.IsUntyped == 0 {
			ts, ok := l.typeString(tv.Type)
			if !ok {
				l.fail(call, "cannot run faithfully: %s of type %s, which the cell cannot name", name, tv.Type)
				return true
			}
			lit = ts + "(" + lit + ")"
		}
		l.replace(call, "("+lit+")")
		return true
	}
	ts, ok := l.typeString(tv.Type)
	if !ok {
		l.fail(call, "cannot run faithfully: %s of type %s, which the cell cannot name", name, tv.Type)
		return true
	}
	if len(call.Args) == 1 {
		l.replace(call.Fun, "") // min(x) is x
		return false
	}
	b, _ := tv.Type.Underlying().(*types.Basic)
	isFloat := b != nil && b.Info()&types.IsFloat != 0
	var params []string
	for i := range call.Args {
		params = append(params, fmt.Sprintf("a%d", i))
	}
	var body strings.Builder
	body.WriteString("r := a0; ")
	for _, p := range params[1:] {
		switch {
		case isFloat && name == "min":
			fmt.Fprintf(&body, "if %[1]s != %[1]s || r != r { r = r + %[1]s } else if %[1]s < r || (%[1]s == 0 && r == 0 && 1/%[1]s < 0) { r = %[1]s }; ", p)
		case isFloat:
			fmt.Fprintf(&body, "if %[1]s != %[1]s || r != r { r = r + %[1]s } else if %[1]s > r || (%[1]s == 0 && r == 0 && 1/r < 0) { r = %[1]s }; ", p)
		case name == "min":
			fmt.Fprintf(&body, "if %[1]s < r { r = %[1]s }; ", p)
		default:
			fmt.Fprintf(&body, "if %[1]s > r { r = %[1]s }; ", p)
		}
	}
	body.WriteString("return r")
	l.replace(call.Fun, fmt.Sprintf("func(%s %s) %s { %s }", strings.Join(params, ", "), ts, ts, body.String()))
	return false
}

// constLiteral spells a constant as Go source.
func constLiteral(v constant.Value) (string, bool) {
	switch v.Kind() {
	case constant.Int:
		return v.ExactString(), true
	case constant.Float:
		f, _ := constant.Float64Val(v)
		s := strconv.FormatFloat(f, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEnN") {
			s += ".0"
		}
		return s, true
	case constant.String:
		return strconv.Quote(constant.StringVal(v)), true
	}
	return "", false
}

// lowerNewExpr lowers new(expr) (not new(T)).
func (l *lowerer) lowerNewExpr(call *ast.CallExpr) {
	if len(call.Args) != 1 || l.c.info.Types[call.Args[0]].IsType() {
		return
	}
	pt, ok := l.c.info.Types[call].Type.(*types.Pointer)
	if !ok {
		return
	}
	ts, ok := l.typeString(pt.Elem())
	if !ok {
		l.fail(call, "cannot run faithfully: new of a value of type %s, which the cell cannot name", pt.Elem())
		return
	}
	l.replace(call.Fun, "func(v "+ts+") *"+ts+" { return &v }")
}
