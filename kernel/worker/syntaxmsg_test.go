package worker

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// gcFirstError builds cell as the body of main with the Go toolchain and
// returns gc's first error as "L:C: msg" in the cell's lines.
func gcFirstError(t *testing.T, dir, cell string) string {
	t.Helper()
	src := "package main\n\nfunc main() {\n" + cell + "\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", os.DevNull, ".")
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput()
	m := regexp.MustCompile(`(?m)^\./main\.go:(\d+):(\d+): (.*)$`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("go build of %q printed no error:\n%s", cell, out)
	}
	line := 0
	for _, c := range m[1] {
		line = line*10 + int(c-'0')
	}
	return strings.Join([]string{itoa(line - 3), m[2]}, ":") + ": " + m[3]
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// A cell's syntax error reads as go build's (gc's) for the same code: the
// same position and words. The cases are statement cells whose first
// error gc and go/parser find at the same place.
func TestSyntaxErrorsAsGoBuild(t *testing.T) {
	cases := []string{
		"y := 1\nprintln(y +)",
		"var = 3",
		"x := [3]int{1, 2\nprintln(x)",
		"println(\"a\"\n)",
		"x := 3)",
		"y := 1 2",
		"a b",
		"f(a b)",
		"return )",
		"x := \"abc\nprintln(x)",
		"x := map[string]int{\"a\": 1\n}",
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module cellsyntax\n\ngo 1.21\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cell := range cases {
		want := gcFirstError(t, dir, cell)
		s, _ := newTestSession(t)
		_, err := s.execute(context.Background(), cell)
		if err == nil {
			t.Errorf("%q ran; go build says %s", cell, want)
			continue
		}
		ce := toCellError(err)
		got := strings.TrimPrefix(strings.SplitN(ce.EValue, "\n", 2)[0], "cell:")
		if ce.EName != "SyntaxError" || got != want {
			t.Errorf("%q: %s %q, want go build's %q", cell, ce.EName, got, want)
		}
	}
}
