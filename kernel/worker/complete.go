package worker

import (
	"fmt"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"reflect"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/kernel/wire"
	"github.com/unetlab/unetlab/kernel/worker/proto"
	"github.com/unetlab/unetlab/stdlib"
)

// goKeywords are completed anywhere an identifier can start.
var goKeywords = []string{"break", "case", "chan", "const", "continue", "default", "defer", "else",
	"fallthrough", "for", "func", "go", "goto", "if", "import", "interface", "map", "package", "range",
	"return", "select", "struct", "switch", "type", "var"}

// goBuiltins are the predeclared functions, types and constants.
var goBuiltins = []string{"any", "append", "bool", "byte", "cap", "clear", "close", "comparable", "complex",
	"complex128", "complex64", "copy", "delete", "error", "false", "float32", "float64", "imag", "int",
	"int16", "int32", "int64", "int8", "iota", "len", "make", "max", "min", "new", "nil", "panic", "print",
	"println", "real", "recover", "rune", "string", "true", "uint", "uint16", "uint32", "uint64", "uint8",
	"uintptr"}

// byteOffset converts a cursor in code points to a byte offset in code.
func byteOffset(code string, cursor int) int {
	if cursor <= 0 {
		return 0
	}
	n := 0
	for i := range code {
		if n == cursor {
			return i
		}
		n++
	}
	return len(code)
}

func isIdentRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// wordBefore returns the start byte offset of the identifier ending at off.
func wordBefore(code string, off int) int {
	start := off
	for start > 0 {
		r, size := utf8.DecodeLastRuneInString(code[:start])
		if !isIdentRune(r) {
			break
		}
		start -= size
	}
	return start
}

// chainBefore returns the selector chain (a.b.c) that ends at off, where
// off is just after a dot or inside the last name.
func chainBefore(code string, off int) string {
	start := off
	for {
		w := wordBefore(code, start)
		if w == start {
			break
		}
		start = w
		if start > 0 && code[start-1] == '.' {
			start--
			continue
		}
		break
	}
	return strings.Trim(code[start:off], ".")
}

// completion is one candidate.
type completion struct{ text, kind string }

// complete returns the completions at cursor (code points).
func (s *session) complete(code string, cursor int) proto.CompleteResult {
	off := byteOffset(code, cursor)
	start := wordBefore(code, off)
	prefix := code[start:off]
	var cands []completion
	if q, ok := importPathAt(code, off); ok {
		start, prefix = q, code[q:off]
		pkgIndexOnce.Do(indexPackages)
		for path := range nameByPath {
			if strings.HasPrefix(path, prefix) {
				cands = append(cands, completion{path, "module"})
			}
		}
	} else if start > 0 && code[start-1] == '.' {
		recv := chainBefore(code, start-1)
		cands = s.memberCompletions(recv, prefix)
	} else {
		cands = s.nameCompletions(prefix)
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].text < cands[j].text })
	res := proto.CompleteResult{
		CursorStart: utf8.RuneCountInString(code[:start]),
		CursorEnd:   utf8.RuneCountInString(code[:off]),
		Matches:     []string{},
	}
	seen := map[string]bool{}
	for _, c := range cands {
		if seen[c.text] {
			continue
		}
		seen[c.text] = true
		res.Matches = append(res.Matches, c.text)
		res.Types = append(res.Types, wire.CompletionType{Start: res.CursorStart, End: res.CursorEnd, Text: c.text, Type: c.kind})
	}
	return res
}

// importPathAt reports whether off is inside the quoted path of an import
// and returns the offset just after the opening quote.
func importPathAt(code string, off int) (int, bool) {
	lineStart := strings.LastIndexByte(code[:off], '\n') + 1
	line := code[lineStart:off]
	q := strings.LastIndexByte(line, '"')
	if q < 0 || strings.Count(line, "\"")%2 != 1 {
		return 0, false
	}
	before := strings.TrimSpace(line[:q])
	inImport := strings.HasPrefix(before, "import")
	if !inImport {
		// Inside an import ( ... ) block: an alias at most before the quote.
		open := strings.LastIndex(code[:lineStart], "import (")
		inImport = open >= 0 && !strings.Contains(code[open:lineStart], ")") && !strings.ContainsAny(before, " \t(")
	}
	if !inImport {
		return 0, false
	}
	return lineStart + q + 1, true
}

// nameCompletions completes a bare identifier.
func (s *session) nameCompletions(prefix string) []completion {
	var out []completion
	add := func(name, kind string) {
		if strings.HasPrefix(name, prefix) && !strings.HasPrefix(name, helperPrefix) {
			out = append(out, completion{name, kind})
		}
	}
	for _, k := range goKeywords {
		add(k, "keyword")
	}
	for _, b := range goBuiltins {
		add(b, "builtin")
	}
	pkgIndexOnce.Do(indexPackages)
	for name := range pkgByName {
		add(name, "module")
	}
	if s.mu.TryLock() {
		defer s.mu.Unlock()
		for _, im := range s.imports {
			add(im.nameOrDefault(), "module")
		}
		for _, d := range s.decls {
			for _, n := range d.names {
				if !strings.Contains(n, ".") {
					kind := "function"
					for _, v := range d.vars {
						if v == n {
							kind = "variable"
						}
					}
					add(n, kind)
				}
			}
		}
		for n := range s.globals() {
			add(n, "variable")
		}
	}
	return out
}

// memberCompletions completes recv.prefix: a package member, or a field or
// method of a user value.
func (s *session) memberCompletions(recv, prefix string) []completion {
	var out []completion
	if tv, ok := s.typeOfChain(recv); ok {
		// The static type, as the checker sees it: promoted fields and
		// the methods of cell types included, also of a nil value.
		for _, m := range typeMembers(tv.Type) {
			if strings.HasPrefix(m.text, prefix) {
				out = append(out, m)
			}
		}
		return out
	}
	if v, ok := s.userValue(recv); ok {
		members := valueMembers(v)
		for _, m := range s.interpretedMethods(recv) {
			members = append(members, completion{m, "function"})
		}
		for _, m := range members {
			if strings.HasPrefix(m.text, prefix) {
				out = append(out, m)
			}
		}
		return out
	}
	if strings.Contains(recv, ".") {
		return nil
	}
	for _, path := range s.packagePaths(recv) {
		syms := stdlib.Symbols[path+"/"+recv]
		for name, v := range syms {
			if strings.HasPrefix(name, prefix) && isExported(name) {
				out = append(out, completion{name, symbolKind(v)})
			}
		}
		if syms == nil { // generic source package: from the docs table
			for _, d := range stdlib.Members(path, prefix) {
				out = append(out, completion{d.Name, docKind(d.Kind)})
			}
		}
	}
	return out
}

func isExported(name string) bool {
	r, _ := utf8.DecodeRuneInString(name)
	return unicode.IsUpper(r)
}

func symbolKind(v reflect.Value) string {
	switch {
	case v.Kind() == reflect.Func:
		return "function"
	case v.Kind() == reflect.Ptr && v.IsNil():
		return "class" // types are exported as typed nil pointers
	}
	return "instance"
}

func docKind(k string) string {
	switch k {
	case "func", "method":
		return "function"
	case "type":
		return "class"
	}
	return "instance"
}

// packagePaths returns the import paths name may refer to: the imported
// one, else every package of that name.
func (s *session) packagePaths(name string) []string {
	if s.mu.TryLock() {
		im, ok := s.importedAs(name)
		s.mu.Unlock()
		if ok {
			return []string{im.path}
		}
	}
	pkgIndexOnce.Do(indexPackages)
	return pkgByName[name]
}

// userValue resolves a chain x.f.g of user variables and fields.
func (s *session) userValue(chain string) (reflect.Value, bool) {
	names := strings.Split(chain, ".")
	if !s.mu.TryLock() {
		return reflect.Value{}, false
	}
	v, ok := s.globals()[names[0]]
	s.mu.Unlock()
	if !ok {
		return reflect.Value{}, false
	}
	for _, n := range names[1:] {
		for v.Kind() == reflect.Ptr || v.Kind() == reflect.Interface {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, false
		}
		v = v.FieldByName(n)
		if !v.IsValid() {
			return reflect.Value{}, false
		}
	}
	return v, true
}

// interpretedMethods returns the methods declared in cells for the type of
// the expression recv (see declaredType).
func (s *session) interpretedMethods(recv string) []string {
	_, ms := s.declaredType(recv)
	return ms
}

// declaredType returns the cell-declared type of the expression recv
// ("Point" or "*Point") and the methods declared for it. Interpreted types
// and methods are not in the reflect type of a value, so the interpreter
// is asked: a call of func(T){} with recv compiles only for that type.
func (s *session) declaredType(recv string) (string, []string) {
	if !s.mu.TryLock() {
		return "", nil
	}
	defer s.mu.Unlock()
	methods := map[string][]string{} // type -> methods
	var types []string
	for _, d := range s.decls {
		for _, n := range d.names {
			if t, m, ok := strings.Cut(n, "."); ok {
				methods[t] = append(methods[t], m)
			}
		}
	}
	for _, d := range s.decls {
		// Interfaces match every implementation: leave them out.
		if strings.Contains(d.text, "type ") && !strings.Contains(d.text, "interface") {
			for _, n := range d.names {
				if !strings.Contains(n, ".") && !slices.Contains(d.vars, n) {
					types = append(types, n)
				}
			}
		}
	}
	for _, t := range types {
		for _, form := range []string{t, "*" + t} {
			if _, err := s.compile("func(" + helperPrefix + "_x " + form + ") {}(" + recv + ")"); err == nil {
				return form, methods[t]
			}
		}
	}
	return "", nil
}

// valueMembers lists the exported fields and methods of v's type.
func valueMembers(v reflect.Value) []completion {
	var out []completion
	t := v.Type()
	for _, tt := range []reflect.Type{t, reflect.PointerTo(t)} {
		for i := 0; i < tt.NumMethod(); i++ {
			out = append(out, completion{tt.Method(i).Name, "function"})
		}
	}
	for t.Kind() == reflect.Ptr {
		t = t.Elem()
	}
	if t.Kind() == reflect.Interface && v.Kind() == reflect.Interface && !v.IsNil() {
		return append(out, valueMembers(v.Elem())...)
	}
	if t.Kind() == reflect.Struct {
		for i := 0; i < t.NumField(); i++ {
			if f := t.Field(i); f.IsExported() {
				out = append(out, completion{f.Name, "instance"})
			}
		}
	}
	return out
}

// inspect returns help on the name at cursor.
func (s *session) inspect(code string, cursor, detail int) proto.InspectResult {
	off := byteOffset(code, cursor)
	// Extend over the rest of the name under the cursor.
	end := off
	for end < len(code) {
		r, size := utf8.DecodeRuneInString(code[end:])
		if !isIdentRune(r) {
			break
		}
		end += size
	}
	chain := chainBefore(code, end)
	if chain == "" && off > 0 && code[off-1] == '(' { // just after a call's paren
		chain = chainBefore(code, off-1)
	}
	if chain == "" {
		return proto.InspectResult{}
	}
	names := strings.Split(chain, ".")

	// A function or method of a cell: its signature and doc comment.
	if help, ok := s.cellFuncHelp(chain); ok {
		return textResult(help)
	}
	if len(names) > 1 {
		if tv, ok := s.typeOfChain(strings.Join(names[:len(names)-1], ".")); ok {
			t := tv.Type
			if p, ok := t.(*types.Pointer); ok {
				t = p.Elem()
			}
			if n, ok := t.(*types.Named); ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == cellPkgPath {
				if help, ok := s.cellFuncHelp(n.Obj().Name() + "." + names[len(names)-1]); ok {
					return textResult(help)
				}
			}
		}
	}
	if v, ok := s.userValue(chain); ok {
		typ := typeString(v)
		if t, _ := s.declaredType(chain); t != "" {
			typ = t
		}
		return textResult(fmt.Sprintf("%s: %s = %s", chain, typ, valueString(v)))
	}
	if len(names) > 1 {
		// A method of a user value of a compiled type: its doc.
		if v, ok := s.userValue(strings.Join(names[:len(names)-1], ".")); ok && v.IsValid() {
			t := v.Type()
			if t.Kind() == reflect.Interface && !v.IsNil() {
				t = v.Elem().Type()
			}
			for t.Kind() == reflect.Ptr {
				t = t.Elem()
			}
			if d, ok := stdlib.Lookup(t.PkgPath(), t.Name()+"."+names[len(names)-1]); ok {
				return textResult(fmt.Sprintf("%s (%s.%s)\n\n%s\n\n%s", chain, t.PkgPath(), d.Name, d.Sig, d.Text))
			}
		}
	}
	if len(names) == 1 {
		if s.mu.TryLock() {
			for _, d := range s.decls {
				for _, n := range d.names {
					if n == names[0] {
						s.mu.Unlock()
						return textResult(strings.TrimSpace(d.text))
					}
				}
			}
			s.mu.Unlock()
		}
		if paths := s.packagePaths(names[0]); len(paths) > 0 {
			return textResult(fmt.Sprintf("package %s (%s)", names[0], strings.Join(quoteAll(paths), ", ")))
		}
		return proto.InspectResult{}
	}
	var texts []string
	for _, path := range s.packagePaths(names[0]) {
		if d, ok := stdlib.Lookup(path, strings.Join(names[1:], ".")); ok {
			t := fmt.Sprintf("%s.%s (%q)\n\n%s", names[0], d.Name, path, d.Sig)
			if d.Text != "" {
				t += "\n\n" + d.Text
			}
			texts = append(texts, t)
		}
	}
	if len(texts) == 0 {
		return proto.InspectResult{}
	}
	return textResult(strings.Join(texts, "\n\n----\n\n"))
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func textResult(s string) proto.InspectResult {
	return proto.InspectResult{Found: true, Data: display.Bundle{display.MIMEText: s}}
}

func typeString(v reflect.Value) string {
	if !v.IsValid() {
		return "nil"
	}
	if v.Kind() == reflect.Interface && !v.IsNil() {
		return v.Elem().Type().String()
	}
	return v.Type().String()
}

// valueString prints v, cut to 2000 bytes.
func valueString(v reflect.Value) string {
	if !v.IsValid() || !v.CanInterface() {
		return "?"
	}
	s := fmt.Sprintf("%+v", v.Interface())
	if len(s) > 2000 {
		s = s[:2000] + " ..."
	}
	return s
}

// isComplete classifies code for is_complete_request.
func isComplete(code string) proto.IsCompleteResult {
	if strings.TrimSpace(code) == "" {
		return proto.IsCompleteResult{Status: "complete"}
	}
	fset := token.NewFileSet()
	file := fset.AddFile("cell", -1, len(code))
	var errs scanner.ErrorList
	var sc scanner.Scanner
	sc.Init(file, []byte(code), func(pos token.Position, msg string) { errs.Add(pos, msg) }, 0)
	depth := 0
	last := token.ILLEGAL
	for {
		_, tok, lit := sc.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.SEMICOLON && lit == "\n" {
			continue
		}
		last = tok
		switch tok {
		case token.LPAREN, token.LBRACE, token.LBRACK:
			depth++
		case token.RPAREN, token.RBRACE, token.RBRACK:
			depth--
		}
	}
	for _, e := range errs {
		if strings.Contains(e.Msg, "not terminated") {
			return proto.IsCompleteResult{Status: "incomplete", Indent: ""}
		}
	}
	if errs.Len() > 0 || depth < 0 {
		return proto.IsCompleteResult{Status: "invalid"}
	}
	if depth > 0 {
		return proto.IsCompleteResult{Status: "incomplete", Indent: strings.Repeat("\t", depth)}
	}
	if last.IsOperator() && last != token.RPAREN && last != token.RBRACE && last != token.RBRACK &&
		last != token.INC && last != token.DEC && last != token.SEMICOLON {
		return proto.IsCompleteResult{Status: "incomplete", Indent: "\t"}
	}
	parts, err := splitCell(code)
	if err != nil {
		return proto.IsCompleteResult{Status: "invalid"}
	}
	for _, p := range parts {
		var src string
		switch p.Kind {
		case partStmt:
			src = "package p; func _() {\n" + p.Src + "\n" + p.Expr + "\n}"
		default:
			src = "package p;" + p.Src
		}
		if _, err := parseFile(token.NewFileSet(), "", src, parser.SkipObjectResolution); err != nil {
			return proto.IsCompleteResult{Status: "invalid"}
		}
	}
	return proto.IsCompleteResult{Status: "complete"}
}
