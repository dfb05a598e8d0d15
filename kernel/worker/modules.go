package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/unetlab/unetlab/kernel/worker/symtypes"
)

// This file serves imports of packages that are not in the symbol tables:
// any pure-Go package a Go toolchain can fetch. The "fetch-modules" pass
// (pipeline.go) runs `go get` for such an import in the kernel's own module
// (modulesDir), lists the package and its dependencies with `go list`, and
// records each one that the tables do not serve. The interpreter then reads
// their source through modulesFS (yaegi's GoPath and SourcecodeFilesystem
// options: only the files go list selected, so build constraints are the
// toolchain's), and the checker type-checks it (cellImporter), so a cell
// using such a package gets the compiler's errors and the lowering passes
// as any other. Without a go command the import is a CompileError that says
// so.

// Environment of the fetch: UNETLAB_GOMODULES is the kernel's module
// directory (default: the user's cache directory, unetlab/gomodules). The
// module cache, GOPROXY and GOSUMDB are the go command's own settings.
const envModulesDir = "UNETLAB_GOMODULES"

// fetchTags are the build tags of fetched packages (go list's -tags and the
// interpreter's BuildTags): the usual names of the pure-Go build of
// packages that also have assembly (purego; noasm, as gonum and klauspost
// name it) or use unsafe (safe, as gonum names it).
var fetchTags = []string{"purego", "noasm", "safe"}

// modulesGoPath is the GOPATH the interpreter is given: a name only, served
// by modulesFS ($GOPATH/src/<import path>).
const modulesGoPath = "/unetlab-modules"

// fetchedPkg is a package of a fetched module that the interpreter reads as
// source.
type fetchedPkg struct {
	path, name, dir string
	files           []string // the .go files go list selected, sorted
	module          string   // module path@version, for messages
	typed           *types.Package
	typeErr         error
	// served are the files the interpreter reads (sorted): files, and
	// the files lowering added; lowered holds the source of those that
	// lowering changed or added (modules_lower.go).
	served  []string
	lowered map[string][]byte
}

// moduleRegistry is what the process fetched. fetchMu is held across a
// fetch, so two cells never run the go command at once; mu guards pkgs.
type moduleRegistry struct {
	fetchMu sync.Mutex
	mu      sync.Mutex
	pkgs    map[string]*fetchedPkg // import path -> package
}

var modules = &moduleRegistry{pkgs: map[string]*fetchedPkg{}}

func (r *moduleRegistry) get(path string) *fetchedPkg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pkgs[path]
}

// fetchedName returns the package name of a fetched import path.
func fetchedName(path string) (string, bool) {
	if p := modules.get(path); p != nil {
		return p.name, true
	}
	return "", false
}

// stdLike reports whether an import path names a standard package: its
// first element has no dot (the go command's rule).
func stdLike(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	return !strings.Contains(first, ".")
}

// importError is a CompileError at an import's path.
func importError(pos token.Position, format string, args ...any) *cellError {
	msg := fmt.Sprintf("cell:%d:%d: ", pos.Line, pos.Column) + fmt.Sprintf(format, args...)
	return compileError(msg)
}

// passFetch makes every import of the cell that the tables do not serve
// available: fetched with the go command, or an error saying why not.
func (s *session) passFetch(u *cellUnit) error {
	for _, spec := range u.ast.file.Imports {
		p, err := strconv.Unquote(spec.Path.Value)
		if err != nil || p == "unsafe" || p == "C" {
			continue
		}
		if _, ok := packageName(p); ok || modules.get(p) != nil {
			continue
		}
		pos := u.ast.fset.Position(spec.Path.Pos())
		if stdLike(p) {
			return importError(pos, "package %s is not in the standard library the kernel serves to cells (a path whose first element has no dot names a standard package)", p)
		}
		if err := modules.fetch(u.ctx, p, s.opt.Stderr); err != nil {
			return importError(pos, "%v", err)
		}
	}
	return nil
}

// goCommand finds the go command: on PATH, else in $GOROOT/bin.
func goCommand() (string, error) {
	if g, err := exec.LookPath("go"); err == nil {
		return g, nil
	}
	if root := os.Getenv("GOROOT"); root != "" {
		g := filepath.Join(root, "bin", "go")
		if st, err := os.Stat(g); err == nil && !st.IsDir() {
			return g, nil
		}
	}
	return "", errors.New("no go command on PATH")
}

// modulesDir returns the kernel's module directory, made on first use with
// a go.mod of its own.
func modulesDir() (string, error) {
	dir := os.Getenv(envModulesDir)
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("no directory for the kernel's module (set %s): %w", envModulesDir, err)
		}
		dir = filepath.Join(cache, "unetlab", "gomodules")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("kernel module directory %s: %w", dir, err)
	}
	mod := filepath.Join(dir, "go.mod")
	if _, err := os.Stat(mod); errors.Is(err, fs.ErrNotExist) {
		// O_EXCL: two kernels starting at once write it once.
		f, err := os.OpenFile(mod, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, err = io.WriteString(f, "// The packages cells of the unetlab kernel fetched (go get), at the versions\n// they were first fetched at. Delete this directory to start afresh.\nmodule unetlab.cells\n\ngo 1.21\n")
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("kernel module %s: %w", mod, err)
		}
	}
	return dir, nil
}

// listedPkg is one package of `go list -json`.
type listedPkg struct {
	ImportPath string
	Name       string
	Dir        string
	Standard   bool
	GoFiles    []string
	CgoFiles   []string
	SFiles     []string
	Imports    []string
	Module     *struct{ Path, Version string }
	Error      *struct{ Err string }
}

// fetch makes the package p and its dependencies available, fetching the
// module that provides p with `go get` when the kernel's module does not
// require one yet. Messages of the go command (go: added ...) go to
// stderr.
func (r *moduleRegistry) fetch(ctx context.Context, p string, stderr io.Writer) error {
	r.fetchMu.Lock()
	defer r.fetchMu.Unlock()
	if r.get(p) != nil {
		return nil
	}
	gobin, err := goCommand()
	if err != nil {
		return fmt.Errorf("package %s is not built into the kernel, and no Go toolchain was found to fetch it (%v): install Go (https://go.dev/dl/) and put its bin directory on the PATH the kernel starts with, then restart the kernel; built in are the standard library, gonum, gonum/plot and github.com/unetlab/unetlab", p, err)
	}
	dir, err := modulesDir()
	if err != nil {
		return fmt.Errorf("package %s: %w", p, err)
	}
	pkgs, err := goList(ctx, gobin, dir, p)
	if err != nil || !listed(pkgs, p) {
		// Not required yet (or its module is missing): fetch it.
		out, gerr := goRun(ctx, gobin, dir, "get", p)
		if gerr != nil {
			return fmt.Errorf("package %s is not built into the kernel, and `go get %s` failed: %s", p, p, lastLines(out, gerr))
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "go: added ") || strings.HasPrefix(l, "go: upgraded ") && !strings.HasPrefix(l, "go: upgraded go ") {
				fmt.Fprintln(stderr, l)
			}
		}
		if pkgs, err = goList(ctx, gobin, dir, p); err != nil {
			return fmt.Errorf("package %s: %w", p, err)
		}
	}
	add, err := r.usable(pkgs, p)
	if err != nil {
		return err
	}
	// Type-check in dependency order (go list -deps lists dependencies
	// first); a package that does not check leaves cells using it
	// unchecked (yaegi alone judges them).
	batch := batchImporter{base: typesImporter(), pkgs: map[string]*fetchedPkg{}}
	for _, fp := range add {
		fp.typed, fp.typeErr = typeCheckFetched(fp, batch)
		fp.served = fp.files
		for name := range fp.lowered {
			if !slices.Contains(fp.served, name) {
				fp.served = append(slices.Clone(fp.served), name)
			}
		}
		slices.Sort(fp.served)
		batch.pkgs[fp.path] = fp
	}
	r.mu.Lock()
	for _, fp := range add {
		r.pkgs[fp.path] = fp
	}
	r.mu.Unlock()
	return nil
}

// batchImporter imports the packages of one fetch, then through base.
type batchImporter struct {
	base cellImporter
	pkgs map[string]*fetchedPkg
}

func (b batchImporter) Import(path string) (*types.Package, error) {
	if p := b.pkgs[path]; p != nil {
		if p.typed == nil {
			return nil, fmt.Errorf("package %s does not type-check: %w", path, p.typeErr)
		}
		return p.typed, nil
	}
	return b.base.Import(path)
}

func (b batchImporter) ImportFrom(path, _ string, _ types.ImportMode) (*types.Package, error) {
	return b.Import(path)
}

// listed reports whether pkgs holds p without an error.
func listed(pkgs []listedPkg, p string) bool {
	for _, lp := range pkgs {
		if lp.ImportPath == p {
			return lp.Error == nil
		}
	}
	return false
}

// usable returns the packages of the list that the interpreter must read
// as source (neither standard nor in the tables nor fetched before), or an
// error naming the first that it cannot run.
func (r *moduleRegistry) usable(pkgs []listedPkg, p string) ([]*fetchedPkg, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var add []*fetchedPkg
	for _, lp := range pkgs {
		if lp.Error != nil {
			return nil, fmt.Errorf("package %s: %s", p, strings.TrimSpace(lp.Error.Err))
		}
		if lp.Standard || r.pkgs[lp.ImportPath] != nil {
			continue
		}
		if _, ok := packageName(lp.ImportPath); ok {
			continue // the compiled package of the tables serves it
		}
		via := ""
		if lp.ImportPath != p {
			via = fmt.Sprintf(" (a dependency of %s)", p)
		}
		if len(lp.SFiles) > 0 {
			return nil, fmt.Errorf("package %s%s has assembly (%s) and no pure-Go build: the kernel interprets Go source only", lp.ImportPath, via, strings.Join(lp.SFiles, ", "))
		}
		for _, imp := range lp.Imports {
			if imp == "C" {
				return nil, fmt.Errorf("package %s%s uses cgo: the kernel interprets Go source only", lp.ImportPath, via)
			}
			if !stdLike(imp) {
				continue
			}
			if _, ok := packageName(imp); !ok {
				return nil, fmt.Errorf("package %s%s imports %s, which the kernel does not offer to interpreted code", lp.ImportPath, via, imp)
			}
		}
		fp := &fetchedPkg{path: lp.ImportPath, name: lp.Name, dir: lp.Dir, files: slices.Sorted(slices.Values(lp.GoFiles))}
		if lp.Module != nil {
			fp.module = lp.Module.Path + "@" + lp.Module.Version
		}
		add = append(add, fp)
	}
	return add, nil
}

// goList lists p and its dependencies, as the interpreter will build them.
func goList(ctx context.Context, gobin, dir, p string) ([]listedPkg, error) {
	out, err := goRunOut(ctx, gobin, dir, "list", "-mod=readonly", "-e", "-deps", "-tags", strings.Join(fetchTags, ","),
		"-json=ImportPath,Name,Dir,Standard,GoFiles,CgoFiles,SFiles,Imports,Module,Error", p)
	if err != nil {
		return nil, err
	}
	var pkgs []listedPkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var lp listedPkg
		if err := dec.Decode(&lp); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("reading go list: %w", err)
		}
		pkgs = append(pkgs, lp)
	}
	return pkgs, nil
}

// goEnv is the environment of the go commands: the user's, with the
// kernel's module as the only module (no workspace), no toolchain switch
// (a download the user did not ask for) and no cgo.
func goEnv() []string {
	return append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0")
}

// fetchTimeout bounds one go command (a slow proxy); an interrupt of the
// cell stops it sooner.
const fetchTimeout = 5 * time.Minute

// goRun runs the go command in dir and returns its combined output.
func goRun(ctx context.Context, gobin, dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, args...)
	cmd.Dir, cmd.Env = dir, goEnv()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// goRunOut runs the go command in dir and returns its standard output.
func goRunOut(ctx context.Context, gobin, dir string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, args...)
	cmd.Dir, cmd.Env = dir, goEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %s", args[0], lastLines(stderr.String(), err))
	}
	return out, nil
}

// lastLines is the end of a go command's output, for an error message.
func lastLines(out string, err error) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	s := strings.TrimSpace(strings.Join(lines, "\n"))
	if s == "" {
		return err.Error()
	}
	return s
}

// typeCheckFetched type-checks a fetched package from its files, importing
// through im (the tables, then packages fetched before it), and lowers its
// source for yaegi (fp.lowered).
func typeCheckFetched(fp *fetchedPkg, im types.ImporterFrom) (*types.Package, error) {
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range fp.files {
		f, err := parser.ParseFile(fset, filepath.Join(fp.dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	conf := types.Config{Importer: im}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Uses: map[*ast.Ident]types.Object{}}
	pkg, err := conf.Check(fp.path, fset, files, info)
	if err != nil {
		return nil, err
	}
	if fp.lowered, err = lowerFetched(fp, fset, files, info); err != nil {
		return nil, err
	}
	return pkg, nil
}

// cellImporter is the checker's importer: the symbol tables' packages
// (symtypes), then the fetched packages that type-checked.
type cellImporter struct{ *symtypes.Importer }

// Has reports whether the checker can import path.
func (c cellImporter) Has(path string) bool {
	if c.Importer.Has(path) || stdGenericOnly[path] {
		return true
	}
	p := modules.get(path)
	return p != nil && p.typed != nil
}

// Import returns the package of path.
func (c cellImporter) Import(path string) (*types.Package, error) {
	if c.Importer.Has(path) {
		return c.Importer.Import(path)
	}
	if stdGenericOnly[path] {
		return stdGenericPackage(path), nil
	}
	if p := modules.get(path); p != nil {
		if p.typed != nil {
			return p.typed, nil
		}
		if p.typeErr != nil {
			return nil, fmt.Errorf("package %s does not type-check: %w", path, p.typeErr)
		}
	}
	return c.Importer.Import(path) // its error
}

// ImportFrom implements types.ImporterFrom; dir and mode are unused.
func (c cellImporter) ImportFrom(path, _ string, _ types.ImportMode) (*types.Package, error) {
	return c.Import(path)
}

// modulesFS is the interpreter's source file system: under
// modulesGoPath/src, the directory of each fetched package, holding only
// the .go files go list selected for it.
type modulesFS struct{}

var _ interface {
	fs.StatFS
	fs.ReadDirFS
} = modulesFS{}

// resolve maps a name under modulesGoPath/src to a fetched package and a
// file name in it ("" for the directory itself).
func (modulesFS) resolve(name string) (*fetchedPkg, string, bool) {
	rel, ok := strings.CutPrefix(filepath.ToSlash(name), modulesGoPath+"/src/")
	if !ok {
		return nil, "", false
	}
	if p := modules.get(rel); p != nil {
		return p, "", true
	}
	dir, file := path.Split(rel)
	if p := modules.get(strings.TrimSuffix(dir, "/")); p != nil {
		i := sort.SearchStrings(p.served, file)
		if i < len(p.served) && p.served[i] == file {
			return p, file, true
		}
	}
	return nil, "", false
}

func (m modulesFS) Open(name string) (fs.File, error) {
	p, file, ok := m.resolve(name)
	if !ok || file == "" {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if src, ok := p.lowered[file]; ok {
		return newMemFile(file, src), nil
	}
	return os.Open(filepath.Join(p.dir, file))
}

func (m modulesFS) Stat(name string) (fs.FileInfo, error) {
	p, file, ok := m.resolve(name)
	if !ok {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	if src, ok := p.lowered[file]; ok {
		return memInfo{file, int64(len(src))}, nil
	}
	return os.Stat(filepath.Join(p.dir, file))
}

func (m modulesFS) ReadDir(name string) ([]fs.DirEntry, error) {
	p, file, ok := m.resolve(name)
	if !ok || file != "" {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	var out []fs.DirEntry
	for _, f := range p.served {
		st, err := m.Stat(name + "/" + f)
		if err != nil {
			return nil, err
		}
		out = append(out, fs.FileInfoToDirEntry(st))
	}
	return out, nil
}

// fetchedFor returns the import path of the one fetched package named name
// that declares sel (a type of a variable carried across a rebuild).
func fetchedFor(name, sel string) (string, bool) {
	modules.mu.Lock()
	defer modules.mu.Unlock()
	found := ""
	for path, p := range modules.pkgs {
		if p.name == name && p.typed != nil && p.typed.Scope().Lookup(sel) != nil {
			if found != "" {
				return "", false
			}
			found = path
		}
	}
	return found, found != ""
}

// fetchedHas reports whether the fetched package path declares sel.
func fetchedHas(path, sel string) bool {
	p := modules.get(path)
	return p != nil && p.typed != nil && p.typed.Scope().Lookup(sel) != nil
}

// yaegiImportRE matches the prefix of yaegi's error for an import.
var yaegiImportRE = regexp.MustCompile(`^(\d+:\d+: )?import "[^"]*" error: `)

// fetchedImportError is the error of a fetched package that yaegi could
// not import: its positions are in the package's files, not the cell's.
func fetchedImportError(fp *fetchedPkg, line, col int, err error) *cellError {
	module := ""
	if fp.module != "" {
		module = ", from " + fp.module
	}
	msg := fmt.Sprintf("cell:%d:%d: package %s (fetched%s) does not run under yaegi v0.16.1, which interprets it: %s (a position in the package's files)",
		line, col, fp.path, module, yaegiImportRE.ReplaceAllString(err.Error(), ""))
	return compileError(msg)
}
