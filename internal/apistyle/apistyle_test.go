// Package apistyle checks the module's API conventions (issue 12) on the
// source of every non-generated, non-test package of the module: that no
// exported function or method takes an options struct by value, and that no
// import runs up the package table of ARCHITECTURE.md (layers_test.go).
//
// An options type is a named struct type declared in this module whose name
// ends in "Options" or "Opts", or that optionTypes lists, or a defined type or
// alias of one. A parameter takes one by value when its type is that named
// type itself (or ...T), not *T. The convention is "by pointer, nil is the
// defaults" (STYLE.md, Options). Config types that describe a required thing
// (models.Config, nn.ConvConfig: a network or layer that has no default) are
// specifications, not options, and may go by value.
package apistyle

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// modulePath is this module's import path.
const modulePath = "github.com/unetlab/unetlab"

// optionTypes lists options types whose name does not end in "Options" or
// "Opts", as "import/path.Name".
var optionTypes = map[string]bool{}

// skipDirs are the module's folders not scanned: generated symbol tables.
var skipDirs = map[string]bool{"stdlib": true}

// generated matches the header of a generated file (cmd/go's rule).
var generated = regexp.MustCompile(`(?m)^// Code generated .* DO NOT EDIT\.$`)

// isOptionsName reports whether a type name marks an options struct.
func isOptionsName(name string) bool {
	return strings.HasSuffix(name, "Options") || strings.HasSuffix(name, "Opts")
}

// srcFile is one parsed file of a package.
type srcFile struct {
	name string
	f    *ast.File
}

// srcPackage is one package's parsed non-test, non-generated files.
type srcPackage struct {
	path  string // import path
	name  string // package name
	files []srcFile
}

// byValue lists every exported function or method of pkgs that takes an
// options struct by value, as "import/path.Func: parameter opt (Type)",
// sorted.
func byValue(pkgs []*srcPackage) []string {
	byPath := map[string]*srcPackage{}
	for _, p := range pkgs {
		byPath[p.path] = p
	}
	// Options types: structs by name, then defined types and aliases of them
	// until nothing changes.
	opts := map[string]bool{}
	for k := range optionTypes {
		opts[k] = true
	}
	type derived struct {
		key  string
		expr ast.Expr
		pkg  *srcPackage
		file *ast.File
	}
	var others []derived
	for _, p := range pkgs {
		for _, sf := range p.files {
			for _, d := range sf.f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.TYPE {
					continue
				}
				for _, s := range g.Specs {
					ts := s.(*ast.TypeSpec)
					key := p.path + "." + ts.Name.Name
					if _, ok := ts.Type.(*ast.StructType); ok {
						if isOptionsName(ts.Name.Name) {
							opts[key] = true
						}
						continue
					}
					others = append(others, derived{key, ts.Type, p, sf.f})
				}
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, d := range others {
			if !opts[d.key] && opts[resolve(d.expr, d.pkg, d.file, byPath)] {
				opts[d.key] = true
				changed = true
			}
		}
	}
	var out []string
	for _, p := range pkgs {
		if p.name == "main" {
			continue
		}
		for _, sf := range p.files {
			for _, d := range sf.f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || !fd.Name.IsExported() {
					continue
				}
				name := fd.Name.Name
				if fd.Recv != nil && len(fd.Recv.List) == 1 {
					recv := recvName(fd.Recv.List[0].Type)
					if !ast.IsExported(recv) {
						continue
					}
					name = recv + "." + name
				}
				for _, field := range fd.Type.Params.List {
					t := field.Type
					if e, ok := t.(*ast.Ellipsis); ok {
						t = e.Elt
					}
					key := resolve(t, p, sf.f, byPath)
					if key == "" || !opts[key] {
						continue
					}
					param := "_"
					if len(field.Names) > 0 {
						param = field.Names[0].Name
					}
					out = append(out, fmt.Sprintf("%s.%s: parameter %s (%s)", p.path, name, param, key[strings.LastIndex(key, "/")+1:]))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// recvName is a receiver's base type name (T of T, *T, T[P]).
func recvName(e ast.Expr) string {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.IndexExpr:
			e = t.X
		case *ast.IndexListExpr:
			e = t.X
		case *ast.ParenExpr:
			e = t.X
		case *ast.Ident:
			return t.Name
		default:
			return ""
		}
	}
}

// resolve returns "import/path.Name" for a type expression naming a type of
// this module (T or pkg.T, not *T), or "" for anything else.
func resolve(e ast.Expr, p *srcPackage, f *ast.File, byPath map[string]*srcPackage) string {
	if pe, ok := e.(*ast.ParenExpr); ok {
		return resolve(pe.X, p, f, byPath)
	}
	switch t := e.(type) {
	case *ast.Ident:
		return p.path + "." + t.Name
	case *ast.SelectorExpr:
		x, ok := t.X.(*ast.Ident)
		if !ok {
			return ""
		}
		for _, im := range f.Imports {
			ip, err := strconv.Unquote(im.Path.Value)
			if err != nil {
				continue
			}
			name := path.Base(ip)
			if q, ok := byPath[ip]; ok {
				name = q.name
			}
			if im.Name != nil {
				name = im.Name.Name
			}
			if name == x.Name {
				if _, ok := byPath[ip]; !ok {
					return "" // another module's type
				}
				return ip + "." + t.Sel.Name
			}
		}
	}
	return ""
}

// load parses every non-test, non-generated package under root (the module
// root), keyed by import path modulePath/rel.
func load(root string) ([]*srcPackage, error) {
	fset := token.NewFileSet()
	var pkgs []*srcPackage
	err := filepath.WalkDir(root, func(dir string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			return err
		}
		base := d.Name()
		if rel != "." && (strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") || base == "testdata" || skipDirs[filepath.ToSlash(rel)]) {
			return filepath.SkipDir
		}
		if rel != "." {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		p := &srcPackage{path: modulePath}
		if rel != "." {
			p.path += "/" + filepath.ToSlash(rel)
		}
		for _, e := range ents {
			n := e.Name()
			if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
				continue
			}
			src, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil {
				return err
			}
			f, err := parser.ParseFile(fset, filepath.Join(dir, n), src, parser.SkipObjectResolution|parser.ParseComments)
			if err != nil {
				return fmt.Errorf("apistyle: %w", err)
			}
			if isGenerated(f) {
				continue
			}
			p.name = f.Name.Name
			p.files = append(p.files, srcFile{n, f})
		}
		if len(p.files) > 0 {
			pkgs = append(pkgs, p)
		}
		return nil
	})
	return pkgs, err
}

// isGenerated reports whether a file carries the generated-code header
// before its package clause.
func isGenerated(f *ast.File) bool {
	for _, cg := range f.Comments {
		if cg.Pos() > f.Package {
			break
		}
		for _, c := range cg.List {
			if generated.MatchString(c.Text) {
				return true
			}
		}
	}
	return false
}

// moduleRoot walks up from the working directory to go.mod.
func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("apistyle: no go.mod above the working directory")
		}
		dir = up
	}
}

// TestOptionsByPointer fails naming every exported function or method of the
// module that takes an options struct by value.
func TestOptionsByPointer(t *testing.T) {
	pkgs, err := load(moduleRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 10 {
		t.Fatalf("apistyle: found %d packages; the walk is broken", len(pkgs))
	}
	bad := byValue(pkgs)
	if len(bad) > 0 {
		t.Errorf("%d exported functions take an options struct by value (want *T, nil the defaults):\n\t%s",
			len(bad), strings.Join(bad, "\n\t"))
	}
}

// parsePackage parses one package of source snippets at import path p.
func parsePackage(t *testing.T, p string, srcs ...string) *srcPackage {
	t.Helper()
	fset := token.NewFileSet()
	pkg := &srcPackage{path: p}
	for i, src := range srcs {
		f, err := parser.ParseFile(fset, fmt.Sprintf("%s/f%d.go", p, i), src, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if isGenerated(f) {
			continue
		}
		pkg.name = f.Name.Name
		pkg.files = append(pkg.files, srcFile{fmt.Sprint(i), f})
	}
	return pkg
}

// TestByValue shows that the check finds what it must and nothing else, on
// small packages a and b (b imports a).
func TestByValue(t *testing.T) {
	const a = modulePath + "/a"
	const b = modulePath + "/b"
	cases := []struct {
		name string
		a, b string // sources of packages a and b
		want []string
	}{
		{name: "value", a: "package a\ntype Options struct{}\nfunc F(opt Options) {}",
			want: []string{a + ".F: parameter opt (a.Options)"}},
		{name: "pointer", a: "package a\ntype Options struct{}\nfunc F(opt *Options) {}"},
		{name: "opts suffix", a: "package a\ntype LoadOpts struct{}\nfunc F(x int, o LoadOpts) {}",
			want: []string{a + ".F: parameter o (a.LoadOpts)"}},
		{name: "variadic", a: "package a\ntype Options struct{}\nfunc F(opts ...Options) {}",
			want: []string{a + ".F: parameter opts (a.Options)"}},
		{name: "method", a: "package a\ntype Options struct{}\ntype T struct{}\nfunc (t *T) Do(o Options) {}",
			want: []string{a + ".T.Do: parameter o (a.Options)"}},
		{name: "other package", a: "package a\ntype Options struct{}",
			b:    "package b\nimport \"" + a + "\"\nfunc G(o a.Options) {}",
			want: []string{b + ".G: parameter o (a.Options)"}},
		{name: "renamed import", a: "package a\ntype Options struct{}",
			b:    "package b\nimport x \"" + a + "\"\nfunc G(o x.Options) {}",
			want: []string{b + ".G: parameter o (a.Options)"}},
		{name: "alias and defined type", a: "package a\ntype Options struct{}\ntype Alias = Options\ntype Mine Alias\nfunc F(x Alias, y Mine) {}",
			want: []string{a + ".F: parameter x (a.Alias)", a + ".F: parameter y (a.Mine)"}},
		{name: "unexported", a: "package a\ntype Options struct{}\nfunc f(opt Options) {}\ntype t struct{}\nfunc (t) F(o Options) {}"},
		{name: "not a struct", a: "package a\ntype Options int\nfunc F(opt Options) {}"},
		{name: "specification", a: "package a\ntype Config struct{}\nfunc New(cfg Config) {}"},
		{name: "another module", b: "package b\nimport \"github.com/traefik/yaegi/interp\"\nfunc G(o interp.Options) {}"},
		{name: "generated", a: "// Code generated by x. DO NOT EDIT.\n\npackage a\ntype Options struct{}\nfunc F(opt Options) {}"},
		{name: "main", a: "package main\ntype Options struct{}\nfunc F(opt Options) {}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var pkgs []*srcPackage
			if c.a != "" {
				pkgs = append(pkgs, parsePackage(t, a, c.a))
			}
			if c.b != "" {
				pkgs = append(pkgs, parsePackage(t, b, c.b))
			}
			got := byValue(pkgs)
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("byValue = %q, want %q", got, c.want)
			}
		})
	}
}
