package stdlib

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/traefik/yaegi/interp"
)

// TestGeneratedUpToDate regenerates the tables into a temporary directory
// and compares them with the committed ones. The standard library is
// extracted only with UNETLAB_SYMBOLS_FULL=1 (it takes minutes); otherwise
// its files are checked by name, which catches a toolchain upgrade (the file
// names carry the Go version) and packages added or removed.
func TestGeneratedUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	full := os.Getenv("UNETLAB_SYMBOLS_FULL") == "1"
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "stdlib") // the generator names the package after the directory
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"run", "../internal/cmd/symbols", "-o", dir, "-names"}
	if !full {
		args = append(args, "-std=false")
	}
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("generator: %v\n%s", err, stderr.String())
	}
	want := strings.Fields(string(out))

	have, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var haveGen []string
	for _, name := range have {
		if isGenerated(t, name) {
			haveGen = append(haveGen, name)
		}
	}
	sort.Strings(haveGen)
	if strings.Join(haveGen, " ") != strings.Join(want, " ") {
		t.Errorf("generated files differ from the package lists; run go generate ./stdlib\nhave %v\nwant %v", diff(haveGen, want), diff(want, haveGen))
	}
	for _, name := range want {
		fresh, err := os.ReadFile(filepath.Join(dir, name))
		if os.IsNotExist(err) && !full && strings.HasPrefix(name, "go") {
			continue // standard library file, not extracted in the quick mode
		}
		if err != nil {
			t.Fatal(err)
		}
		old, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("%s: %v; run go generate ./stdlib", name, err)
			continue
		}
		if !bytes.Equal(old, fresh) {
			t.Errorf("%s is stale; run go generate ./stdlib", name)
		}
	}
}

func isGenerated(t *testing.T, name string) bool {
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return bytes.HasPrefix(line, []byte("// Code generated ")) && bytes.HasSuffix(line, []byte(" DO NOT EDIT."))
}

// diff returns the elements of a not in b.
func diff(a, b []string) []string {
	in := map[string]bool{}
	for _, s := range b {
		in[s] = true
	}
	var out []string
	for _, s := range a {
		if !in[s] {
			out = append(out, s)
		}
	}
	return out
}

func TestLookup(t *testing.T) {
	cases := []struct {
		path, name, kind, sigPart, docPart string
	}{
		{"fmt", "Println", "func", "func Println(a ...any) (n int, err error)", "Println formats"},
		{"strings", "Builder", "type", "type Builder struct", "A Builder is used"},
		{"strings", "Builder.WriteString", "method", "func (b *Builder) WriteString(s string) (int, error)", "WriteString appends"},
		{"math", "Pi", "const", "Pi", ""},
		{"os", "Stdout", "var", "Stdout", "Stdin, Stdout, and Stderr are open Files"},
		{"github.com/unetlab/unetlab/display", "HTML", "func", "func HTML(s string) Bundle", "HTML returns a bundle"},
		{"github.com/unetlab/unetlab/kernel/cell", "Context", "func", "func Context() context.Context", "Context returns the context"},
	}
	for _, c := range cases {
		t.Run(c.path+"."+c.name, func(t *testing.T) {
			d, ok := Lookup(c.path, c.name)
			if !ok {
				t.Fatalf("Lookup(%q, %q) not found", c.path, c.name)
			}
			if d.Kind != c.kind || !strings.Contains(d.Sig, c.sigPart) || !strings.Contains(d.Text, c.docPart) {
				t.Errorf("Lookup(%q, %q) = %+v, want kind %s, sig with %q, doc with %q", c.path, c.name, d, c.kind, c.sigPart, c.docPart)
			}
		})
	}
	if _, ok := Lookup("fmt", "NoSuchThing"); ok {
		t.Error("Lookup found a missing member")
	}
}

func TestSymbolsCoverPackages(t *testing.T) {
	for _, key := range []string{"fmt/fmt", "math/rand/v2/rand", "net/http/http", "image/png/png",
		"github.com/unetlab/unetlab/display/display", "github.com/unetlab/unetlab/kernel/cell/cell"} {
		if _, ok := Symbols[key]; !ok {
			t.Errorf("Symbols[%q] missing", key)
		}
	}
	for _, key := range []string{"unsafe/unsafe", "syscall/syscall", "github.com/unetlab/unetlab/kernel/worker/worker", "github.com/unetlab/unetlab/stdlib/stdlib"} {
		if _, ok := Symbols[key]; ok {
			t.Errorf("Symbols[%q] present, want it left out", key)
		}
	}
	if m := Members("fmt", "Sprint"); len(m) != 3 {
		t.Errorf("Members(fmt, Sprint) = %d entries, want Sprint, Sprintf, Sprintln", len(m))
	}
}

// TestImportAll imports every package of the tables in an interpreter.
func TestImportAll(t *testing.T) {
	in := interp.New(interp.Options{})
	if err := in.Use(Symbols); err != nil {
		t.Fatal(err)
	}
	for i, path := range Packages() {
		if _, err := in.Eval(fmt.Sprintf("import p%d %q", i, path)); err != nil {
			t.Errorf("import %q: %v", path, err)
		}
	}
}
