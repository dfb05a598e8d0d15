package worker

import (
	"context"
	"fmt"
	"go/ast"
	"go/scanner"
	"go/token"
	"go/types"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// This file monomorphizes the generic code of the cells: yaegi v0.16.1
// runs generic functions and types wrongly or not at all (`x := Twice(3)`
// panicked, `var y []int = Twice(3)` was silently empty, generic types
// failed with "type not found: main.List[...]", type switches with
// duplicate cases after instantiation were refused). So yaegi never sees
// a generic declaration: pass lower-generic (passLowerGeneric) blanks the
// cell's generic declarations (and constraint interfaces) out of what
// yaegi evaluates, and every instance the cells use becomes a concrete
// declaration of its own, type parameters replaced by the type arguments
// (go/types' Instances, with the type arguments of instances inside
// generic code substituted):
//
//	func Twice[T any](x T) []T { return []T{x, x} }
//	y := Twice(3)
//
// runs as
//
//	func Twiceᐸintᐳ(x int) []int { return []int{x, x} }
//	y := Twiceᐸintᐳ(3)
//
// Methods of a generic type are instantiated with the type; generic code
// that uses other generic code instantiates it in turn. A type switch
// whose cases coincide once the type parameters are replaced keeps the
// first such case (Go's rule: the first matching case wins); a case
// naming a type that already had its case is dropped. The instance
// declarations are evaluated with the cell's first declaration part (or
// before its statements when it has none) and kept in the session
// (declEntry, its names the instance, the generic and the cell types of
// its type arguments), so a later cell uses them again; a cell that
// declares the generic or a type argument again drops them and
// instantiates again those that earlier cells' code still needs.
//
// Instance names: genericInstanceName builds them; genericSourceName maps
// them back to Go's spelling (List[int]) for messages, genericReflectName
// to the name Go's reflect and %T give the type (List[main.P]).
// Function-local types that are type arguments are moved to the top level
// (hoist, lower_generic_inst.go), named with localMark.

// Characters of instance names: identifier letters (Unicode Lo or Lm) in
// place of the characters of a type's Go spelling that an identifier
// cannot hold. genericSourceName maps them back.
var genericNameChars = []struct {
	goChar  rune
	idLeter rune
}{
	{'[', 'ᐸ'}, // U+1438 CANADIAN SYLLABICS PA
	{']', 'ᐳ'}, // U+1433 CANADIAN SYLLABICS PO
	{',', 'ˌ'}, // U+02CC MODIFIER LETTER LOW VERTICAL LINE
	{'.', 'ꓸ'}, // U+A4F8 LISU LETTER TONE MYA TI
	{'*', 'ᕽ'}, // U+157D CANADIAN SYLLABICS HK
	{'(', 'ᑕ'}, // U+1455 CANADIAN SYLLABICS TA
	{')', 'ᑐ'}, // U+1450 CANADIAN SYLLABICS TO
	{'{', 'ᑫ'}, // U+146B CANADIAN SYLLABICS KE
	{'}', 'ᑷ'}, // U+1477 CANADIAN SYLLABICS KWII
	{' ', 'ˑ'}, // U+02D1 MODIFIER LETTER HALF TRIANGULAR COLON
	{';', 'ː'}, // U+02D0 MODIFIER LETTER TRIANGULAR COLON
	{'<', 'ᐊ'}, // U+140A CANADIAN SYLLABICS A
	{'-', 'ᐨ'}, // U+1428 CANADIAN SYLLABICS FINAL SHORT HORIZONTAL STROKE
	{'~', 'ᔥ'}, // U+1525 CANADIAN SYLLABICS SH
	{'|', 'ǀ'}, // U+01C0 LATIN LETTER DENTAL CLICK
}

// genericEscape starts and ends the hexadecimal code of any other
// character of a type's spelling (a struct tag's quote, for instance).
const genericEscape = 'ǂ' // U+01C2 LATIN LETTER ALVEOLAR CLICK

// genericInstanceName is the identifier of the instance of generic
// declaration name with type arguments spelled args (Go's spelling, as
// types.TypeString writes them with package names; instances of cell
// generics in their Go spelling, List[int]): name, then the arguments
// between ᐸ and ᐳ with Go's punctuation replaced by identifier letters
// (see genericNameChars): List[int] is Listᐸintᐳ, Pair[string, []byte]
// is Pairᐸstringˌᐸᐳbyteᐳ, Map[time.Duration] is MapᐸtimeꓸDurationᐳ.
func genericInstanceName(name string, args []string) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteRune('ᐸ')
	for i, a := range args {
		if i > 0 {
			b.WriteRune('ˌ')
		}
		encodeGenericChars(&b, a)
	}
	b.WriteRune('ᐳ')
	return b.String()
}

func encodeGenericChars(b *strings.Builder, s string) {
	for i, r := range s {
		if r == ' ' && i > 0 && s[i-1] == ',' {
			continue // ", " is one separator
		}
		if r == '_' || r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') || string(r) == localMark {
			b.WriteRune(r)
			continue
		}
		found := false
		for _, c := range genericNameChars {
			if c.goChar == r {
				b.WriteRune(c.idLeter)
				found = true
				break
			}
		}
		if !found {
			fmt.Fprintf(b, "%c%x%c", genericEscape, r, genericEscape)
		}
	}
}

// genericSourceName maps an identifier to Go's spelling of what it names:
// an instance name (genericInstanceName) to its generic's name with its
// type arguments in brackets (Listᐸintᐳ is List[int], Pairᐸstringˌintᐳ
// is Pair[string, int]); ok is false, and the name returned as it is,
// for any other identifier. The printing of cell types (%T, %v) and error
// messages call it on the names of cell types.
func genericSourceName(id string) (string, bool) {
	i := strings.IndexRune(id, 'ᐸ')
	if i <= 0 || !strings.HasSuffix(id, "ᐳ") {
		return id, false
	}
	var b strings.Builder
	b.WriteString(id[:i])
	rs := []rune(id[i:])
	for j := 0; j < len(rs); j++ {
		r := rs[j]
		if r == genericEscape {
			k := slices.Index(rs[j+1:], genericEscape)
			if k < 0 {
				return id, false
			}
			code, err := strconv.ParseUint(string(rs[j+1:j+1+k]), 16, 32)
			if err != nil {
				return id, false
			}
			b.WriteRune(rune(code))
			j += k + 1
			continue
		}
		mapped := false
		for _, c := range genericNameChars {
			if c.idLeter == r {
				b.WriteRune(c.goChar)
				if r == 'ˌ' {
					b.WriteByte(' ')
				}
				mapped = true
				break
			}
		}
		if !mapped {
			b.WriteRune(r)
		}
	}
	return b.String(), true
}

// genState is what the session keeps of the cells' generic code.
type genState struct {
	// templates are the other lowering passes' edits inside a generic
	// declaration, by the declaration's text (declEntry.text): its
	// instances are lowered as the declaration itself would have been.
	templates map[string][]relEdit
	// insts are the instances evaluated, by name.
	insts map[string]genInst
}

// genInst is an instance as the session keeps it: what it instantiates,
// to instantiate it again when a cell declares its generic again.
type genInst struct {
	origin string   // the generic's name
	args   []string // the type arguments, as the cell spells them
}

// relEdit replaces text[start:end] of a declaration's source.
type relEdit struct {
	start, end int
	text       string
	mine       bool // lower-generic's own (not a template's)
}

// genDecl is a generic declaration of the cells (or a constraint).
type genDecl struct {
	obj    types.Object // *types.Func or *types.TypeName
	top    ast.Decl     // the top-level declaration holding it
	node   ast.Node     // *ast.FuncDecl or *ast.TypeSpec
	src    string       // the text holding it
	base   int          // offset of top in src
	off    func(token.Pos) int
	edits  []relEdit // the other passes' edits, relative to base
	inCell bool
}

// genLowerer is one cell's monomorphization.
type genLowerer struct {
	*lowerer
	s       *session
	funcs   map[types.Object]*genDecl // generic functions and types
	methods map[types.Object][]*genDecl
	sessSrc string
	// redeclared are the names the cell (re)declares: instances of
	// these are instantiated again.
	redeclared map[string]bool
	emitted    map[string]bool // instances of this cell, by name
	queue      []pendingInst
	out        []declEntry
	instInfo   map[string]genInst
	hoisted    map[types.Object]string // function-local types moved to the top level
	hoistOut   []declEntry
	hoistSpecs map[types.Object]*ast.TypeSpec
	commaOk    map[*ast.TypeAssertExpr]bool // comma-ok assertions (commaOkAsserts), once needed
}

type pendingInst struct {
	name string
	d    *genDecl
	args []types.Type
	deps []string
}

// maxInstances bounds the instances one cell makes: Go refuses an
// instantiation cycle (List[T] using List[List[T]]); so does the kernel.
const maxInstances = 500

// passLowerGeneric monomorphizes the cell's generic code (see the file
// comment). It runs last among the lowering passes: the generic
// declarations' own lowering (the other passes' edits inside them) goes
// into their instances.
func (s *session) passLowerGeneric(u *cellUnit) error {
	l := newLowerer(u)
	if l == nil {
		return nil
	}
	g := &genLowerer{lowerer: l, s: s, funcs: map[types.Object]*genDecl{}, methods: map[types.Object][]*genDecl{},
		hoistSpecs: map[types.Object]*ast.TypeSpec{}, redeclared: map[string]bool{}, emitted: map[string]bool{}, instInfo: map[string]genInst{}, sessSrc: l.c.sessSrc}
	for _, d := range u.decls {
		if d.skip && !u.rebuild {
			continue
		}
		for _, n := range d.names {
			g.redeclared[n] = true
		}
	}
	strip := g.index()
	cellInstances := false
	for id := range l.c.info.Instances {
		if obj := l.c.info.Uses[id]; obj != nil && obj.Pkg() != nil && obj.Pkg().Path() == cellPkgPath {
			cellInstances = true
		}
	}
	if len(g.funcs) == 0 && len(strip) == 0 && !cellInstances {
		return nil
	}
	// The cell's own code: instances named.
	for _, d := range l.c.file.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == bodyFunc && fd.Recv == nil && fd.Body != nil {
			for _, st := range fd.Body.List {
				if l.inCell(st) {
					g.rewriteCell(st)
				}
			}
			continue
		}
		if !l.inCell(d) || slices.Contains(strip, ast.Node(d)) {
			continue
		}
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.TYPE {
			for _, sp := range gd.Specs {
				if !slices.Contains(strip, ast.Node(sp)) {
					g.rewriteCell(sp)
				}
			}
			continue
		}
		g.rewriteCell(d)
	}
	// Instances earlier cells' code needs whose generic the cell
	// declares again.
	for _, d := range s.decls {
		if len(d.names) < 2 || !anyKnown(g.redeclared, d.names[1:]) {
			continue
		}
		gi, ok := s.gen.insts[d.names[0]]
		if !ok {
			continue
		}
		g.requeue(gi)
	}
	// The cell's generic declarations leave what yaegi sees; the other
	// passes' edits inside them go with them (into their instances).
	var templates []relEdit
	for _, n := range strip {
		start, end := l.offset(n.Pos()), l.offset(n.End())
		keep := l.u.pending[:0]
		for _, e := range l.u.pending {
			if off := offsetOf(l.u.code, e.line, e.col); off >= start && off < end {
				templates = append(templates, relEdit{start: off, end: off + e.del, text: e.text})
				continue
			}
			keep = append(keep, e)
		}
		l.u.pending = keep
		l.replace(n, strings.Repeat("\n", strings.Count(l.u.code[start:end], "\n")))
	}
	for _, gd := range g.all() {
		if !gd.inCell {
			continue
		}
		end := gd.base + len(l.source(gd.top))
		for _, e := range templates {
			if e.start >= gd.base && e.start < end {
				gd.edits = append(gd.edits, relEdit{start: e.start - gd.base, end: e.end - gd.base, text: rebaseSpans(e.text, -gd.base)})
			}
		}
	}
	// Instantiate, transitively.
	drain := func() {
		for len(g.queue) > 0 && l.err == nil {
			p := g.queue[0]
			g.queue = g.queue[1:]
			g.instantiate(p)
		}
	}
	drain()
	g.addMethods()
	drain()
	g.unhoist()
	if l.err != nil {
		return l.err
	}
	u.genInsts = orderInsts(append(g.hoistOut, g.out...))
	// The templates of the cell's generic declarations, for later cells.
	u.after = append(u.after, func() {
		if u.err != nil {
			return
		}
		if s.gen.templates == nil {
			s.gen.templates = map[string][]relEdit{}
		}
		for _, gd := range g.all() {
			if gd.inCell {
				s.gen.templates[l.source(gd.top)] = gd.edits
			}
		}
		for _, d := range g.out {
			if s.gen.insts == nil {
				s.gen.insts = map[string]genInst{}
			}
			s.gen.insts[d.names[0]] = g.instInfo[d.names[0]]
		}
	})
	return l.done()
}

// genPlace is the part whose evaluation carries the cell's instances: its
// first declaration part that is evaluated, when an instance needs a name
// the cell declares; -1: the instances are evaluated before the cell's
// parts.
func (s *session) genPlace(u *cellUnit) int {
	if len(u.genInsts) == 0 {
		return -1
	}
	declared := map[string]bool{}
	for _, d := range u.decls {
		for _, n := range d.names {
			declared[n] = true
		}
	}
	needs := false
	for _, d := range u.genInsts {
		if anyKnown(declared, d.names[1:]) {
			needs = true
		}
		// An earlier cell's generic instantiated with a type this
		// cell declares (the instance names it): after it, too.
		ids := map[string]bool{}
		identsOf(d.src, ids)
		if anyKnown(declared, slices.Collect(maps.Keys(ids))) {
			needs = true
		}
	}
	if !needs {
		return -1
	}
	di := 0
	for i, p := range u.parts {
		if p.Kind != partDecl {
			continue
		}
		d := u.decls[di]
		di++
		if !d.skip || u.rebuild {
			return i
		}
	}
	return -1
}

// genSource is the source of the cell's instances.
func genSource(u *cellUnit) string {
	var b strings.Builder
	for _, d := range u.genInsts {
		b.WriteString(d.src)
		b.WriteString("\n")
	}
	return b.String()
}

// withGen is a declaration part's padded source with the cell's instances
// before it, on its first line (empty in padded source): the part's lines
// stay where they are, and the part's types may embed instances (yaegi
// does not resolve an embedded type declared after its struct).
func withGen(src string, u *cellUnit) string {
	one, ok := oneLine([]byte(genSource(u)))
	if !ok || !strings.HasPrefix(src, "\n") {
		return src + "\n" + genSource(u)
	}
	return one + ";" + src
}

// oneLine respells Go source on one line: its tokens, with the semicolons
// Go inserts at line ends.
func oneLine(src []byte) (string, bool) {
	var s scanner.Scanner
	fset := token.NewFileSet()
	bad := false
	s.Init(fset.AddFile("", -1, len(src)), src, func(token.Position, string) { bad = true }, 0)
	var b strings.Builder
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		switch {
		case tok == token.SEMICOLON:
			b.WriteByte(';')
		case lit != "":
			b.WriteString(lit)
		default:
			b.WriteString(tok.String())
		}
	}
	return strings.TrimSuffix(b.String(), " ;"), !bad
}

// evalGen evaluates the cell's instances on their own and keeps them.
func (s *session) evalGen(ctx context.Context, u *cellUnit) error {
	if len(u.genInsts) == 0 {
		return nil
	}
	if _, err := s.evalCtx(ctx, genSource(u)); err != nil {
		s.settle()
		msg := err.Error()
		if m := genErrorRE.FindStringSubmatch(msg); m != nil {
			msg = msg[len(m[0]):]
		}
		return s.genFailure(u, msg)
	}
	s.keepGen(u)
	return nil
}

// keepGen keeps the cell's instances, evaluated, in the session.
func (s *session) keepGen(u *cellUnit) {
	for _, d := range u.genInsts {
		s.forget(d.names[:1])
		s.decls = append(s.decls, d)
	}
}

// genErrorRE finds the line of yaegi's position in an error message.
var genErrorRE = regexp.MustCompile(`^(?:[\w./-]*\.go:|cell:)?(\d+):\d+: `)

// genError is the error of evaluating declaration part p with the cell's
// instances after it: an error in the instances is lower-generic's
// ("cannot run faithfully", naming them), one in the part its own.
func (s *session) genError(err error, u *cellUnit, p part) error {
	msg := err.Error()
	if m := genErrorRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if line > 1 {
			return s.evalError(err, p)
		}
		msg = msg[len(m[0]):]
	}
	s.settle()
	return s.genFailure(u, msg)
}

// genFailure is the CompileError of instances yaegi refused.
func (s *session) genFailure(u *cellUnit, msg string) error {
	var names []string
	for _, d := range u.genInsts {
		n, _ := genericSourceName(d.names[0])
		names = append(names, n)
	}
	text := fmt.Sprintf("cell:1:1: cannot run faithfully: the instances %s of the cell's generic code: %s", strings.Join(names, ", "), msg)
	return compileError(text)
}

// orderInsts puts each instance after the instances its text names, where
// they do not name each other (yaegi does not resolve a type embedded
// before its declaration).
func orderInsts(list []declEntry) []declEntry {
	index := map[string]int{}
	for i, d := range list {
		index[d.names[0]] = i
	}
	uses := make([][]int, len(list))
	for i, d := range list {
		for _, id := range identsIn(d.src) {
			if j, ok := index[id]; ok && j != i {
				uses[i] = append(uses[i], j)
			}
		}
	}
	state := make([]int, len(list)) // 0 new, 1 visiting, 2 done
	var out []declEntry
	var visit func(i int)
	visit = func(i int) {
		if state[i] != 0 {
			return
		}
		state[i] = 1
		for _, j := range uses[i] {
			visit(j)
		}
		state[i] = 2
		out = append(out, list[i])
	}
	for i := range list {
		visit(i)
	}
	return out
}

// identsIn lists the identifiers of Go source src.
func identsIn(src string) []string {
	var sc scanner.Scanner
	fset := token.NewFileSet()
	sc.Init(fset.AddFile("", -1, len(src)), []byte(src), func(token.Position, string) {}, 0)
	var out []string
	for {
		_, tok, lit := sc.Scan()
		if tok == token.EOF {
			return out
		}
		if tok == token.IDENT {
			out = append(out, lit)
		}
	}
}

// genericReflectName is how Go's reflect (and so fmt's %T and %v of a
// type) names the type an identifier of the cells names, the package
// qualifier left out: an instance name as Go's runtime writes instances,
// type arguments joined by "," and the cells' own types in them qualified
// with "main." (Pairᐸstringˌintᐳ is Pair[string,int], Fᐸfooᐳ is
// F[main.foo]); a function-local type moved to the top level (largeᐧ73)
// as its own name (large). Any other identifier is returned as it is.
// The printing of cell types (%T, %v) calls it on the names of the cells'
// types; with "main." before it, it is what go run prints.
func genericReflectName(id string) string {
	src, ok := genericSourceName(id)
	if !ok {
		if i := strings.Index(id, localMark); i > 0 {
			return id[:i]
		}
		return id
	}
	open := strings.IndexByte(src, '[')
	var b strings.Builder
	b.WriteString(src[:open])
	args := src[open:]
	for i := 0; i < len(args); {
		c := args[i]
		switch {
		case c == ',' && i+1 < len(args) && args[i+1] == ' ':
			b.WriteByte(',')
			i += 2
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(args) && (args[j] == '_' || args[j] >= 'a' && args[j] <= 'z' || args[j] >= 'A' && args[j] <= 'Z' || args[j] >= '0' && args[j] <= '9' || strings.HasPrefix(args[j:], localMark)) {
				if strings.HasPrefix(args[j:], localMark) {
					j += len(localMark)
					continue
				}
				j++
			}
			word := args[i:j]
			qualified := j < len(args) && args[j] == '.' || i > 0 && args[i-1] == '.'
			if k := strings.Index(word, localMark); k > 0 {
				word = word[:k]
			}
			if !qualified && types.Universe.Lookup(word) == nil && !typeKeywords[word] {
				b.WriteString("main.")
			}
			b.WriteString(word)
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// typeKeywords are the keywords a type's spelling may hold.
var typeKeywords = map[string]bool{"struct": true, "interface": true, "func": true, "map": true, "chan": true}
