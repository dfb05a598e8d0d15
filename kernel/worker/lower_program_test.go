package worker

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCellProgramsMatchGoRun checks the corpus against the Go toolchain:
// every cell of testdata/cells that is a whole program (it starts with
// "package main") is built and run with `go run`, and what it prints must
// be the cell's want section. The corpus's wants are go run's output, not
// what the kernel happened to print.
func TestCellProgramsMatchGoRun(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		if _, err := os.Stat(gobin); err != nil {
			t.Skip("MISSING REFERENCE: no go command to run the corpus's programs")
		}
	}
	files, err := filepath.Glob("testdata/cells/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		cells, wants := parseCells(string(data))
		for i, code := range cells {
			if !strings.HasPrefix(code, "package main\n") || i >= len(wants) || strings.Contains(wants[i], "!! ") {
				continue
			}
			n++
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(code), 0o644); err != nil {
				t.Fatal(err)
			}
			writeCorpusModule(t, dir) // gonum at the kernel's versions
			cmd := exec.CommandContext(context.Background(), gobin, "run", ".")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("%s cell %d: go run: %v\n%s", file, i+1, err, out)
				continue
			}
			if string(out) != wants[i] {
				t.Errorf("%s cell %d: go run prints\n%s\nthe corpus wants\n%s", file, i+1, out, wants[i])
			}
		}
	}
	if n == 0 {
		t.Fatal("no program cells in testdata/cells")
	}
}
