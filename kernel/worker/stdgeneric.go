package worker

import (
	_ "embed"
	"go/scanner"
	"go/token"
	"go/types"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// This file gives cells the generic standard library: the generic members
// of slices, maps, cmp, iter, errors (AsType), sync (OnceValue, OnceValues)
// and sync/atomic (Pointer),
// which the symbol tables cannot hold (yaegi extract skips generic code;
// yaegi's own generic source of slices, maps and cmp is Go 1.22's, without
// the sort functions, and runs only as yaegi runs generic code).
//
// They are the kernel's own generic declarations (stdgeneric/prelude.go.txt),
// named <package>_<Member> (slices_Sort, atomic_Pointer). Pass
// "std-generic", before the cell is split and parsed, rewrites each
// selector of such a member, written without space (slices.Sort), into
// that name, of the same length (columns stay the cell's); from the first
// such cell on, the checker's session file holds the declarations, so the
// cell type-checks against them and lower-generic monomorphizes the
// instances it uses as it does the cells' own generic code (yaegi sees
// slices_Sortᐸ[]intˌintᐳ). errors.AsType calls are lowered by lower-errors
// into its walk of the error tree (the cell types' Unwrap and As methods
// included). Compile errors name the members as Go does (slices.Sort).
//
// A package name is rewritten only where it can only mean the package: a
// cell that also uses the name otherwise (a variable `maps`, a parameter,
// an import of another package under that name), or a session that
// defined such a variable or import, keeps its selectors as written.
// Members of an import under another name (import sl "slices") are not
// rewritten: the check reports them undefined.

//go:embed stdgeneric/prelude.go.txt
var stdGenericPrelude string

func init() {
	cellHelpers["unetlab/cellhelp/cellhelp"]["AtomicValue"] = reflect.ValueOf((*atomic.Value)(nil))
	cellHelpers["unetlab/cellhelp/cellhelp"]["Mutex"] = reflect.ValueOf((*sync.Mutex)(nil))
}

// stdGenericPaths are the packages of the prelude, by the package name
// its declarations start with.
var stdGenericPaths = map[string]string{
	"slices": "slices",
	"maps":   "maps",
	"cmp":    "cmp",
	"iter":   "iter",
	"errors": "errors",
	"atomic": "sync/atomic",
	"sync":   "sync",
}

// stdGenericMembers are the prelude's exported members: "slices_Sort" and
// so on (parsed once from its declarations).
var stdGenericMembers = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	re := regexp.MustCompile(`(?m)^(?:func|type) ([a-z]+)_([A-Z]\w*)`)
	for _, g := range re.FindAllStringSubmatch(stdGenericPrelude, -1) {
		if _, ok := stdGenericPaths[g[1]]; ok {
			m[g[1]+"_"+g[2]] = true
		}
	}
	return m
})

// stdGenericOnly are the packages the checker serves as empty packages
// (their members are all the prelude's): yaegi serves them from its own
// source, the tables do not hold them.
var stdGenericOnly = map[string]bool{"slices": true, "maps": true, "cmp": true}

// passStdGeneric rewrites the selectors of the prelude's members (see the
// file comment).
func (s *session) passStdGeneric(u *cellUnit) error {
	code := u.code
	if !strings.Contains(code, ".") {
		return nil
	}
	type tok struct {
		off int
		tok token.Token
		lit string
	}
	var toks []tok
	var sc scanner.Scanner
	fset := token.NewFileSet()
	file := fset.AddFile("cell", -1, len(code))
	sc.Init(file, []byte(code), func(token.Position, string) {}, 0)
	for {
		pos, t, lit := sc.Scan()
		if t == token.EOF {
			break
		}
		if t == token.SEMICOLON && lit == "\n" {
			continue
		}
		toks = append(toks, tok{file.Offset(pos), t, lit})
	}
	// Names that cannot be rewritten: used otherwise than as pkg.Member,
	// or imported from another path (or under another name).
	blocked := map[string]bool{}
	for _, im := range s.imports {
		s.blockImport(blocked, im.name, im.path)
	}
	for n := range s.check.vars {
		blocked[n] = true
	}
	for n := range s.check.opaque {
		blocked[n] = true
	}
	for _, d := range s.decls {
		for _, n := range d.names {
			blocked[n] = true
		}
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.tok == token.IMPORT {
			// import "p", import n "p", import ( ... )
			j := i + 1
			paren := j < len(toks) && toks[j].tok == token.LPAREN
			if paren {
				j++
			}
			for j < len(toks) {
				name := ""
				if toks[j].tok == token.IDENT || toks[j].tok == token.PERIOD {
					name = toks[j].lit
					if toks[j].tok == token.PERIOD {
						name = "."
					}
					j++
				}
				if j < len(toks) && toks[j].tok == token.STRING {
					path, _ := strconv.Unquote(toks[j].lit)
					s.blockImport(blocked, name, path)
					j++
				}
				if j < len(toks) && toks[j].tok == token.SEMICOLON {
					j++
				}
				if !paren || j >= len(toks) || toks[j].tok == token.RPAREN {
					break
				}
			}
			i = j
			continue
		}
		if t.tok != token.IDENT {
			continue
		}
		if _, ok := stdGenericPaths[t.lit]; !ok {
			continue
		}
		selected := i > 0 && toks[i-1].tok == token.PERIOD
		selector := i+1 < len(toks) && toks[i+1].tok == token.PERIOD
		if !selector && !selected {
			blocked[t.lit] = true
		}
	}
	members := stdGenericMembers()
	var b strings.Builder
	last := 0
	for i := 0; i+2 < len(toks); i++ {
		p, dot, m := toks[i], toks[i+1], toks[i+2]
		if p.tok != token.IDENT || dot.tok != token.PERIOD || m.tok != token.IDENT || blocked[p.lit] {
			continue
		}
		if i > 0 && toks[i-1].tok == token.PERIOD {
			continue // x.slices.Sort: a field
		}
		if !members[p.lit+"_"+m.lit] || dot.off != p.off+len(p.lit) || m.off != dot.off+1 {
			continue
		}
		b.WriteString(code[last:dot.off])
		b.WriteByte('_')
		last = dot.off + 1
	}
	if last == 0 {
		return nil
	}
	b.WriteString(code[last:])
	u.code = b.String()
	s.check.stdGeneric = true
	return nil
}

// blockImport blocks the package names an import of path under name
// ("" for its own) makes unusable for the prelude.
func (s *session) blockImport(blocked map[string]bool, name, path string) {
	if name == "" {
		return // a path's own name is its package's (slices, sync/atomic)
	}
	if p, ok := stdGenericPaths[name]; ok && p != path {
		blocked[name] = true
	}
	for n, p := range stdGenericPaths {
		if p == path && name != n {
			blocked[n] = true // import sl "slices": slices is not it
		}
	}
}

// stdGenericName matches a prelude member's name in a message.
var stdGenericName = regexp.MustCompile(`\b(slices|maps|cmp|iter|errors|atomic|sync)_([A-Z]\w*)`)

// stdGenericDeclaredAt is where a message places a declaration of the
// session file (the prelude's type parameters): left out.
var stdGenericDeclaredAt = regexp.MustCompile(` \(declared at ` + helperPrefix + `_session\.go:\d+:\d+\)`)

// unmangleStdGeneric writes the prelude's members in messages as Go
// does: slices.Sort for slices_Sort.
func unmangleStdGeneric(msgs []string) []string {
	for i, m := range msgs {
		m = stdGenericDeclaredAt.ReplaceAllString(m, "")
		msgs[i] = stdGenericName.ReplaceAllStringFunc(m, func(s string) string {
			if stdGenericMembers()[s] {
				return strings.Replace(s, "_", ".", 1)
			}
			return s
		})
	}
	return msgs
}

// stdGenericPackages are the checker's packages of stdGenericOnly: empty,
// the prelude holds their members.
var stdGenericPackages sync.Map // path -> *types.Package

func stdGenericPackage(path string) *types.Package {
	if p, ok := stdGenericPackages.Load(path); ok {
		return p.(*types.Package)
	}
	p := types.NewPackage(path, path)
	p.MarkComplete()
	actual, _ := stdGenericPackages.LoadOrStore(path, p)
	return actual.(*types.Package)
}
