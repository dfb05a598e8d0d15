package worker

import (
	"archive/zip"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureProxy builds a GOPROXY directory (file:// layout: module/@v/list,
// .info, .mod, .zip) from the module trees of testdata/gomodules, one
// directory per module@version, and returns its file:// URL.
func fixtureProxy(t *testing.T) string {
	t.Helper()
	proxy := t.TempDir()
	root := filepath.Join("testdata", "gomodules")
	var mods []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.Contains(d.Name(), "@") {
			mods = append(mods, p)
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil || len(mods) == 0 {
		t.Fatalf("no fixture modules under %s: %v", root, err)
	}
	for _, dir := range mods {
		rel, _ := filepath.Rel(root, dir)
		modVer := filepath.ToSlash(rel)
		mod, ver, _ := strings.Cut(modVer, "@")
		at := filepath.Join(proxy, filepath.FromSlash(mod), "@v")
		if err := os.MkdirAll(at, 0o755); err != nil {
			t.Fatal(err)
		}
		gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		files := map[string]string{
			ver + ".mod":  string(gomod),
			ver + ".info": `{"Version":"` + ver + `","Time":"2025-01-01T00:00:00Z"}`,
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(at, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		list, _ := os.ReadFile(filepath.Join(at, "list"))
		if err := os.WriteFile(filepath.Join(at, "list"), append(list, ver+"\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		zf, err := os.Create(filepath.Join(at, ver+".zip"))
		if err != nil {
			t.Fatal(err)
		}
		zw := zip.NewWriter(zf)
		err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			name, _ := filepath.Rel(dir, p)
			w, err := zw.Create(modVer + "/" + filepath.ToSlash(name))
			if err != nil {
				return err
			}
			_, err = w.Write(data)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := zf.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return "file://" + filepath.ToSlash(proxy)
}

// fetchEnv points the go command at the fixture proxy, a fresh module
// cache and a fresh kernel module, and gives the test a fresh registry of
// fetched packages. It returns the kernel module's directory.
func fetchEnv(t *testing.T) string {
	t.Helper()
	if _, err := goCommand(); err != nil {
		t.Skip("MISSING REFERENCE: no go command to fetch modules with")
	}
	t.Setenv("GOPROXY", fixtureProxy(t))
	t.Setenv("GOSUMDB", "off")
	t.Setenv("GOMODCACHE", t.TempDir())
	t.Setenv("GOFLAGS", "-modcacherw") // so that TempDir can remove the cache
	dir := t.TempDir()
	t.Setenv(envModulesDir, dir)
	freshRegistry(t)
	return dir
}

// freshRegistry replaces the process's fetched packages for the test.
func freshRegistry(t *testing.T) {
	old := modules
	modules = &moduleRegistry{pkgs: map[string]*fetchedPkg{}}
	t.Cleanup(func() { modules = old })
}

// TestFetchModules: a cell imports packages that are not in the symbol
// tables; the go command fetches them (through a local file:// proxy) with
// their dependencies, the interpreter runs their source (with the files
// go list selected: the purego build), and the checker types them.
func TestFetchModules(t *testing.T) {
	fetchEnv(t)
	runSteps(t, []step{
		{code: "import \"example.com/shapes\"\nsq := shapes.Polygon{{X: 0, Y: 0}, {X: 1, Y: 0}, {X: 1, Y: 1}, {X: 0, Y: 1}}\nsq.Perimeter()",
			result: "4", out: "go: added example.com/shapes v1.2.0"},
		{code: `shapes.Registered()`, result: "[polygon]"},
		// The package is type-checked from its source: a compile error.
		{code: `var n int = shapes.Name`, err: `cell:1:13: cannot use shapes.Name (untyped string constant "shapes") as int value in variable declaration`},
		{code: `shapes.Nope()`, err: "cell:1:8: undefined: shapes.Nope"},
		// A dependency, imported by the cell too; build tags as go build's.
		{code: "import \"example.com/geom\"\ngeom.Build()", result: `"pure Go"`},
		{code: `geom.Sum([]float64{1, 2, 3.5})`, result: "6.5"},
		// Go 1.21 and 1.22 in the fetched source, lowered for yaegi.
		{code: `geom.Clamp(5, 0, 1)`, result: "1"},
		{code: `geom.Clamp(math.NaN(), 0, 1)`, result: "NaN"},
		{code: `geom.Squares(4)`, result: "[0 1 4 9]"},
		{code: `geom.Count(5)`, result: "5"},
		// The package name is not the path's last element.
		{code: "import \"example.com/go-greet\"\ngreet.Hello(\"go\")", result: `"hello, go"`},
		// A rebuild of the interpreter replays the imports.
		{code: "func f() int { return 1 }\nf()", result: "1"},
		{code: "func f() int { return 2 }\nsq.Perimeter() + float64(f())", result: "6"},
		{code: `import "example.com/nothere"`, err: "cell:1:8: package example.com/nothere is not built into the kernel, and `go get example.com/nothere` failed"},
		{code: `import "foo/bar"`, err: "cell:1:8: package foo/bar is not in the standard library the kernel serves to cells"},
		// What the kernel cannot run is an error naming the package.
		{code: `import "example.com/odd/cleaner"`, err: "package example.com/odd/cleaner (fetched, from example.com/odd@v0.1.0) does not run under yaegi v0.16.1, which interprets it: " +
			modulesGoPath + "/src/example.com/odd/cleaner/cleaner.go:6:32: undefined: clear"},
		{code: `import "example.com/odd/asm"`, err: "cell:1:8: package example.com/odd/asm has assembly (sum.s) and no pure-Go build"},
		{code: `import "example.com/odd/unsafeptr"`, err: "cell:1:8: package example.com/odd/unsafeptr imports unsafe, which the kernel does not offer"},
		{code: `geom.Count(2)`, result: "2"},
	})
}

// TestFetchModulesPinned: a kernel started later reuses the versions the
// kernel module pinned, without the network (GOPROXY=off).
func TestFetchModulesPinned(t *testing.T) {
	fetchEnv(t)
	runSteps(t, []step{{code: "import \"example.com/go-greet\"\ngreet.Hello(\"a\")", result: `"hello, a"`}})
	freshRegistry(t)
	t.Setenv("GOPROXY", "off")
	s, out := newTestSession(t)
	o, err := s.execute(context.Background(), "import \"example.com/go-greet\"\ngreet.Hello(\"b\")")
	if err != nil {
		t.Fatal(err)
	}
	if got := o.result["text/plain"]; got != `"hello, b"` {
		t.Errorf("result %v", got)
	}
	if strings.Contains(out.String(), "go: added") {
		t.Errorf("fetched again: %s", out)
	}
}

// TestFetchModulesNoGo: without a go command the import is a compile error
// that names the package and says how to fix it.
func TestFetchModulesNoGo(t *testing.T) {
	freshRegistry(t)
	t.Setenv("PATH", t.TempDir())
	t.Setenv("GOROOT", "")
	s, _ := newTestSession(t)
	_, err := s.execute(context.Background(), "x := 1\nimport \"example.com/geom\"")
	want := "cell:2:8: package example.com/geom is not built into the kernel, and no Go toolchain was found to fetch it"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "install Go") {
		t.Fatalf("error %v, want one with %q and how to install Go", err, want)
	}
	if e := toCellError(err); e.EName != "CompileError" {
		t.Errorf("error name %q, want CompileError", e.EName)
	}
}

// TestFetchModulesMatchGoRun: a program using a fetched package prints in
// the kernel what go run prints with the same module versions.
func TestFetchModulesMatchGoRun(t *testing.T) {
	modDir := fetchEnv(t)
	const prog = `package main

import (
	"fmt"

	"example.com/geom"
	"example.com/shapes"
)

func main() {
	tri := shapes.Polygon{{X: 0, Y: 0}, {X: 3, Y: 0}, {X: 3, Y: 4}}
	fmt.Println(tri.Perimeter(), shapes.Registered(), geom.Build())
	for _, p := range tri {
		defer fmt.Println(p.Dist(geom.Point{}))
	}
	fmt.Println(geom.Sum([]int{1, 2, 3}))
	fmt.Println(geom.Squares(5), geom.Count(3), geom.Clamp(-2, -1, 1), geom.Clamp(0.5, -1, 1))
}
`
	s, out := newTestSession(t)
	if _, err := s.execute(context.Background(), prog); err != nil {
		t.Fatalf("kernel: %v\n%s", err, out)
	}
	kernel := out.String()
	kernel = kernel[strings.LastIndex(kernel, "go: added"):]
	kernel = kernel[strings.Index(kernel, "\n")+1:]

	// go run in the kernel's module, which now requires the fixtures.
	gobin, _ := goCommand()
	dir := filepath.Join(modDir, "prog")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gobin, "run", "-tags", "purego", "./prog")
	cmd.Dir = modDir
	cmd.Env = goEnv()
	want, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, want)
	}
	if kernel != string(want) {
		t.Errorf("the kernel prints\n%s\ngo run prints\n%s", kernel, want)
	}
}
