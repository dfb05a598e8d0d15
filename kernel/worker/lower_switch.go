package worker

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strings"
)

// caseHole stands for a case value in a comparison joinCase writes
// around it.
const caseHole = "\x01case\x01"

// passLowerSwitches lowers the expression switches yaegi v0.16.1 runs
// wrongly into tagless switches of comparisons, which it runs as Go does:
//
//   - a switch whose tag is an interface, or whose case values are not all
//     of the tag's type (`switch i { case 42, "hello": }` with i an
//     interface{}), panicked: yaegi converts the tag to each case value's
//     type ("reflect.Value.Convert: value of type interface {} cannot be
//     converted to type int") and keeps the converted tag for the next
//     case. The tag is evaluated once into a temporary and each case
//     compares it, in order:
//
//     switch init; x { case a, b: }  =>
//     switch init; { default: switch t := x; { case t == a || t == b: } }
//
//     (without init, `switch t := x; { ... }`; the extra switch keeps
//     break, fallthrough and labels meaning what they meant);
//
//   - a tagless switch, or one on a boolean, with a case of several
//     conditions (`case x == 2, x == 3:`) matched none of them: they
//     become one condition joined by ||, which evaluates them in Go's
//     order and stops at the first true one (a boolean tag is compared
//     as above);
//
//   - a tagless switch's case of an interface value (`case i:`, i an any
//     holding true) panicked ("call of reflect.Value.Bool on interface
//     Value"): it is compared with true, as Go does (true == i).
func (s *session) passLowerSwitches(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	ast.Inspect(l.c.file, func(n ast.Node) bool {
		sw, ok := n.(*ast.SwitchStmt)
		if !ok || !l.inCell(n) {
			return true
		}
		if sw.Tag == nil {
			for _, st := range sw.Body.List {
				cc, ok := st.(*ast.CaseClause)
				if !ok {
					continue
				}
				for _, e := range cc.List {
					if t := l.c.info.Types[e].Type; t != nil && types.IsInterface(t) {
						l.insert(e.Pos(), "true == ")
					}
				}
				if len(cc.List) > 1 {
					l.joinCase(cc, "", nil, nil)
				}
			}
			return true
		}
		if !l.switchNeedsLowering(sw) {
			return true
		}
		t := l.name("sw")
		if sw.Init != nil {
			l.insert(sw.Tag.Pos(), "{ default: switch "+t+" := ")
			l.insert(sw.Body.End(), " }")
		} else {
			l.insert(sw.Tag.Pos(), t+" := ")
		}
		l.insert(sw.Tag.End(), ";")
		tt := types.Default(l.c.info.Types[sw.Tag].Type)
		dyn := l.tagDynType(sw)
		// The comparisons name only the cell's own types besides those
		// it names (see cellTypesFor).
		l.onlyTypes = cellTypesFor(l.u, nil)
		defer func() { l.onlyTypes = nil }()
		for _, st := range sw.Body.List {
			if cc, ok := st.(*ast.CaseClause); ok && len(cc.List) > 0 {
				l.joinCase(cc, t, tt, dyn)
			}
		}
		return true
	})
	return l.done()
}

// switchNeedsLowering reports whether yaegi would convert the tag of sw
// to a case value's type (the tag is an interface or a case value has
// another type), or would match none of a case's several conditions (a
// boolean tag: `switch true { case x == 2, x == 3: }`).
func (l *lowerer) switchNeedsLowering(sw *ast.SwitchStmt) bool {
	tt := l.c.info.Types[sw.Tag].Type
	if tt == nil || !slices.ContainsFunc(sw.Body.List, func(st ast.Stmt) bool {
		cc, ok := st.(*ast.CaseClause)
		return ok && len(cc.List) > 0
	}) {
		return false // no case compares the tag
	}
	if types.IsInterface(tt) && !isTypeParam(tt) {
		// yaegi's own switch compares an interface tag with interface
		// case values rightly (`switch Mer(t) { case MNer(t): }`), and its
		// == of two interfaces of different types did not: only a case
		// value of a concrete type needs the comparisons.
		return slices.ContainsFunc(sw.Body.List, func(st ast.Stmt) bool {
			cc, ok := st.(*ast.CaseClause)
			return ok && slices.ContainsFunc(cc.List, func(e ast.Expr) bool {
				ct := l.c.info.Types[e].Type
				return ct == nil || !types.IsInterface(ct) || isTypeParam(ct)
			})
		})
	}
	boolean := false
	if b, ok := tt.Underlying().(*types.Basic); ok && b.Info()&types.IsBoolean != 0 {
		boolean = true
	}
	for _, st := range sw.Body.List {
		cc, ok := st.(*ast.CaseClause)
		if !ok {
			continue
		}
		if boolean && len(cc.List) > 1 {
			return true // yaegi matched none of several conditions
		}
		for _, e := range cc.List {
			ct := l.c.info.Types[e].Type
			if ct == nil || !types.Identical(types.Default(ct), types.Default(tt)) {
				return true
			}
		}
	}
	return false
}

// joinCase writes the expressions of case clause cc as one condition:
// each compared with the temporary tag (tag == e) of type tagType when
// tag is not "", joined by ||. Only a binary operation is parenthesised
// (|| is the weakest operator; yaegi took (nil) for a value of its own).
// An interface compared with a value of a cell type is written as
// lower-iface-compare writes it (ifaceEqual): that pass sees only the
// comparisons the cell wrote. dyn is the tag's dynamic type where it is
// known statically (tagDynType): a case value of another type is false.
func (l *lowerer) joinCase(cc *ast.CaseClause, tag string, tagType, dyn types.Type) {
	for i, e := range cc.List {
		if i > 0 {
			l.replaceSpan(cc.List[i-1].End(), e.Pos(), " || ")
		}
		if tag == "" {
			continue
		}
		if dyn != nil && l.knownDynEqual(dyn, e) {
			continue
		}
		if tv := l.c.info.Types[e]; !tv.IsNil() {
			if eq, ok := l.ifaceEqual(tag, tagType, caseHole, tv.Type); ok && strings.Count(eq, caseHole) == 1 {
				before, after, _ := strings.Cut(eq, caseHole)
				if l.inGenericFunc(e.Pos()) {
					// lower-generic's instances drop a case value
					// that duplicates another once the type
					// parameters are replaced: the whole comparison
					// goes with it.
					l.replace(e, before+l.text(e)+after)
					continue
				}
				// Written around e, not in its place: another pass
				// may replace e itself (lower-consts' F(2) =>
				// F(2.0)), and two replacements of one span were
				// both applied.
				l.insert(e.Pos(), before)
				l.insert(e.End(), after)
				continue
			}
		}
		if _, ok := e.(*ast.BinaryExpr); ok {
			l.insert(e.Pos(), tag+" == (")
			l.insert(e.End(), ")")
		} else {
			l.insert(e.Pos(), tag+" == ")
		}
	}
}

// inGenericFunc reports whether p lies in a generic function or a method
// of a generic type.
func (l *lowerer) inGenericFunc(p token.Pos) bool {
	for _, d := range l.c.file.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Pos() <= p && p < fd.End() {
			return isGenericFunc(fd)
		}
	}
	return false
}
