package worker

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// writeCorpusModule makes dir a module named corpus that requires exactly
// what this module requires (its go.mod with the module line replaced, and
// its go.sum), so that a corpus program importing gonum is built by go run
// with the versions the kernel's symbol tables were made from, from the
// module cache.
func writeCorpusModule(t *testing.T, dir string) {
	t.Helper()
	mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join("..", "..", "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	mod = regexp.MustCompile(`(?m)^module .*$`).ReplaceAll(mod, []byte("module corpus"))
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), mod, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
}
