// Command gotests runs Go's own test suite through the kernel's worker and
// through plain yaegi v0.16.1, on the same files in the same run, and
// counts what each runs as `go run` would.
//
// The files are those of $(go env GOROOT)/test and its typeparam/ folder
// whose first line is exactly "// run". Each file is one cell: its package
// clause dropped, its func main renamed and called once at the end (so
// neither side depends on how it treats a declared main). A file passes
// when the cell ends without error and what it wrote to stdout and stderr,
// in order, equals its .out file (or is empty when there is none), as Go's
// own test driver compares a "run" test.
//
// Usage (make gotests):
//
//	go run ./bench/gotests -bin bin/unetlab [-timeout 20s] [-j 2] [-v] [-run regexp]
//
// Files that import unsafe or a runtime/ sub-package, or carry a //go:build
// line, are counted apart (the goal excludes them); every other failure is
// listed by name with its reason.
//
// The workers run with UNETLAB_VERIFY_PIPELINE set: the cell pipeline checks
// its shortcuts (a pass it skips for a cell without the syntax the pass
// rewrites) against running every pass, on all these files.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/traefik/yaegi/interp"

	"github.com/unetlab/unetlab/kernel/worker/host"
	"github.com/unetlab/unetlab/kernel/worker/proto"
	"github.com/unetlab/unetlab/stdlib"
)

// renamedMain is what a file's func main is renamed to.
const renamedMain = "gotestsMain__"

func main() {
	plain := flag.String("plain", "", "internal: run this cell file in plain yaegi and exit")
	bin := flag.String("bin", "bin/unetlab", "the unetlab binary whose worker runs the cells")
	timeout := flag.Duration("timeout", 20*time.Second, "limit per file and side")
	jobs := flag.Int("j", runtime.NumCPU(), "files run at once")
	verbose := flag.Bool("v", false, "print every file's outcome")
	run := flag.String("run", "", "only files whose name (typeparam/x.go) matches this regexp")
	flag.Parse()
	if *plain != "" {
		os.Exit(runPlain(*plain))
	}
	if err := suite(*bin, *timeout, *jobs, *verbose, *run); err != nil {
		fmt.Fprintln(os.Stderr, "gotests:", err)
		os.Exit(1)
	}
}

// testFile is one file of the suite.
type testFile struct {
	name     string // relative to GOROOT/test
	cell     string // the cell both sides run
	want     string // the .out file, or ""
	excluded string // why the goal excludes it, or ""
	prepErr  string // why no cell could be made of it
}

// outcome is one side's result on one file.
type outcome struct {
	pass   bool
	reason string
	detail string // the whole error and output, for -v
}

func suite(bin string, timeout time.Duration, jobs int, verbose bool, run string) error {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("go env GOROOT: %w", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(goroot)), "test")
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("the kernel binary: %w (make build)", err)
	}
	bin, err = filepath.Abs(bin)
	if err != nil {
		return err
	}
	if err := os.Setenv("UNETLAB_VERIFY_PIPELINE", "1"); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var re *regexp.Regexp
	if run != "" {
		if re, err = regexp.Compile(run); err != nil {
			return fmt.Errorf("-run: %w", err)
		}
	}
	var files []*testFile
	for _, sub := range []string{"", "typeparam"} {
		names, err := filepath.Glob(filepath.Join(dir, sub, "*.go"))
		if err != nil {
			return err
		}
		sort.Strings(names)
		for _, n := range names {
			src, err := os.ReadFile(n)
			if err != nil {
				return err
			}
			first, _, _ := strings.Cut(string(src), "\n")
			if first != "// run" {
				continue
			}
			rel, _ := filepath.Rel(dir, n)
			if re != nil && !re.MatchString(rel) {
				continue
			}
			files = append(files, prepare(rel, n, src))
		}
	}
	tmp, err := os.MkdirTemp("", "gotests")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	kern := make([]outcome, len(files))
	plain := make([]outcome, len(files))
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(jobs, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f := files[i]
				if f.prepErr != "" {
					kern[i] = outcome{reason: f.prepErr}
					plain[i] = kern[i]
					continue
				}
				kern[i] = runKernel(bin, f, timeout)
				plain[i] = runPlainChild(self, tmp, i, f, timeout)
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()

	type count struct{ files, kernel, plain, goal, kernelGoal, plainGoal int }
	counts := map[string]*count{"": {}, "typeparam": {}}
	var failures []string
	for i, f := range files {
		c := counts[filepath.Dir(f.name)]
		if c == nil {
			c = counts[""]
		}
		c.files++
		k, p := kern[i], plain[i]
		if k.pass {
			c.kernel++
		}
		if p.pass {
			c.plain++
		}
		if f.excluded == "" {
			c.goal++
			if k.pass {
				c.kernelGoal++
			}
			if p.pass {
				c.plainGoal++
			}
		}
		if verbose {
			fmt.Printf("%-40s kernel %-4s yaegi %-4s %s\n", f.name, passWord(k), passWord(p), f.excluded)
			if k.detail != "" {
				fmt.Println("    " + strings.ReplaceAll(strings.TrimSpace(k.detail), "\n", "\n    "))
			}
		}
		if !k.pass {
			tag := ""
			if f.excluded != "" {
				tag = " [excluded: " + f.excluded + "]"
			}
			failures = append(failures, fmt.Sprintf("%s%s (plain yaegi %s): %s", f.name, tag, passWord(p), k.reason))
		}
	}
	fmt.Println("kernel failures:")
	for _, l := range failures {
		fmt.Println("  " + l)
	}
	fmt.Println()
	fmt.Printf("%-12s %6s %8s %13s %14s %19s\n", "folder", "files", "kernel", "plain yaegi", "goal files", "kernel/yaegi goal")
	for _, k := range []string{"", "typeparam"} {
		c := counts[k]
		name := k
		if name == "" {
			name = "test/"
		}
		fmt.Printf("%-12s %6d %8d %13d %14d %13d/%d\n", name, c.files, c.kernel, c.plain, c.goal, c.kernelGoal, c.plainGoal)
	}
	return nil
}

func passWord(o outcome) string {
	if o.pass {
		return "pass"
	}
	return "FAIL"
}

var goBuildLine = regexp.MustCompile(`(?m)^//go:build `)

// prepare makes the cell of a test file: package clause dropped (blanked,
// so that lines keep their numbers), func main renamed and called at the
// end.
func prepare(rel, path string, src []byte) *testFile {
	f := &testFile{name: rel}
	if out, err := os.ReadFile(strings.TrimSuffix(path, ".go") + ".out"); err == nil {
		f.want = string(out)
	}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		f.prepErr = "does not parse: " + err.Error()
		return f
	}
	var reasons []string
	for _, im := range file.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		if p == "unsafe" || strings.HasPrefix(p, "runtime/") {
			reasons = append(reasons, "imports "+p)
		}
	}
	if goBuildLine.Match(src) {
		reasons = append(reasons, "//go:build")
	}
	f.excluded = strings.Join(reasons, ", ")
	b := bytes.Clone(src)
	blank := func(from, to token.Pos) {
		for i := fset.Position(from).Offset; i < fset.Position(to).Offset; i++ {
			if b[i] != '\n' {
				b[i] = ' '
			}
		}
	}
	blank(file.Package, file.Name.End())
	found := false
	for _, d := range file.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if ok && fd.Recv == nil && fd.Name.Name == "main" {
			found = true
			off := fset.Position(fd.Name.Pos()).Offset
			b = append(b[:off:off], append([]byte(renamedMain), b[off+len("main"):]...)...)
			break
		}
	}
	if !found {
		f.prepErr = "no func main"
		return f
	}
	f.cell = string(b) + "\n" + renamedMain + "()\n"
	return f
}

// runKernel runs the cell in a fresh worker of bin.
func runKernel(bin string, f *testFile, timeout time.Duration) outcome {
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	defer cancel()
	p, err := host.Start(ctx, &host.Options{Exe: bin})
	if err != nil {
		return outcome{reason: "worker start: " + err.Error()}
	}
	defer p.Close()
	var out strings.Builder
	var mu sync.Mutex
	type res struct {
		r   proto.ExecuteResult
		err error
	}
	done := make(chan res, 1)
	go func() {
		r, err := p.Execute(context.Background(), proto.ExecuteRequest{Code: f.cell}, func(e proto.Event) {
			if e.Stream != nil {
				mu.Lock()
				out.WriteString(e.Stream.Text)
				mu.Unlock()
			}
		})
		done <- res{r, err}
	}()
	select {
	case r := <-done:
		mu.Lock()
		got := out.String()
		mu.Unlock()
		if r.err != nil {
			return outcome{reason: "worker: " + firstLine(r.err.Error())}
		}
		if r.r.Status != "ok" {
			return outcome{reason: r.r.EName + ": " + firstLine(r.r.EValue), detail: strings.Join(r.r.Traceback, "\n") + "\n" + got}
		}
		o := compare(got, f.want)
		if !o.pass {
			o.detail = got
		}
		return o
	case <-time.After(timeout):
		return outcome{reason: fmt.Sprintf("timed out after %v", timeout)}
	}
}

// runPlainChild runs the cell in plain yaegi in a child process (a crash
// or a hang ends only the child).
func runPlainChild(self, tmp string, i int, f *testFile, timeout time.Duration) outcome {
	path := filepath.Join(tmp, fmt.Sprintf("%d.go.txt", i))
	if err := os.WriteFile(path, []byte(f.cell), 0o644); err != nil {
		return outcome{reason: err.Error()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, "-plain", path)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if ctx.Err() != nil {
		return outcome{reason: fmt.Sprintf("timed out after %v", timeout)}
	}
	got := out.String()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == plainErrExit {
			msg := got
			if j := strings.LastIndex(got, plainErrMark); j >= 0 {
				msg = got[j+len(plainErrMark):]
			}
			return outcome{reason: firstLine(msg)}
		}
		return outcome{reason: "crashed: " + firstLine(lastLines(got))}
	}
	return compare(got, f.want)
}

const (
	plainErrExit = 3
	plainErrMark = "\n\x00gotests-error: "
)

// runPlain is the child side of runPlainChild: one fresh yaegi
// interpreter with the standard library's symbols, the cell evaluated.
func runPlain(path string) int {
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	in := interp.New(interp.Options{Stdout: os.Stdout, Stderr: os.Stderr})
	if err := in.Use(stdlib.Symbols); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	code := 0
	func() {
		defer func() {
			if r := recover(); r != nil {
				fmt.Fprintf(os.Stderr, "%spanic: %v\n", plainErrMark, r)
				code = plainErrExit
			}
		}()
		// The declarations, then the call (yaegi takes a source without
		// a package clause as either declarations or statements).
		decls, call, _ := strings.Cut(string(src), "\n"+renamedMain+"()\n")
		for _, s := range []string{decls + call, renamedMain + "()"} {
			if _, err := in.Eval(s); err != nil {
				fmt.Fprintf(os.Stderr, "%s%v\n", plainErrMark, err)
				code = plainErrExit
				return
			}
		}
	}()
	return code
}

func compare(got, want string) outcome {
	if got == want {
		return outcome{pass: true}
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w || i >= len(gl) || i >= len(wl) {
			return outcome{reason: fmt.Sprintf("output line %d: got %q, want %q", i+1, clip(g), clip(w))}
		}
	}
	return outcome{reason: "output differs"}
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	l, _, _ := strings.Cut(s, "\n")
	return clip2(l)
}

func clip2(s string) string {
	if len(s) > 160 {
		return s[:160] + "..."
	}
	return s
}

// lastLines is the report of a crash: the "panic:" or "fatal error:"
// line when there is one, else the last line.
func lastLines(s string) string {
	for _, m := range []string{"fatal error:", "panic:"} {
		if i := strings.Index(s, m); i >= 0 {
			return s[i:]
		}
	}
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}
