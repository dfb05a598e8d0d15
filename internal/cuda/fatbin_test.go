package cuda

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// sourceSum is generate.sh's hash of the kernel sources.
func sourceSum(t *testing.T) string {
	t.Helper()
	names, err := filepath.Glob("kernel_*.h")
	if err != nil {
		t.Fatal(err)
	}
	names = append(names, "emu.h", "generate.sh", "kernels.cu", "kernels.h")
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s\n", n)
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestFatbinCurrent fails when a kernel source changed after kernels.fatbin
// was built: run `go generate ./internal/cuda` (make generate).
func TestFatbinCurrent(t *testing.T) {
	rec, err := os.ReadFile("kernels.sum")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(rec)), sourceSum(t); got != want {
		t.Fatalf("kernels.fatbin is stale: kernels.sum %s, sources %s; run `go generate ./internal/cuda`", got, want)
	}
}

// TestFatbinKernels checks the embedded image's header and that it holds
// every kernel Kernels looks up.
func TestFatbinKernels(t *testing.T) {
	img := Fatbin()
	if len(img) < 16 || binary.LittleEndian.Uint32(img) != 0xba55ed50 {
		t.Fatalf("kernels.fatbin (%d bytes) lacks the fatbin magic", len(img))
	}
	for _, n := range kernelNames {
		if !bytes.Contains(img, []byte(n+"\x00")) {
			t.Errorf("kernels.fatbin has no kernel %s", n)
		}
	}
}

// cudaTool finds a CUDA tool: $UNETLAB_CUDA_BIN, the repository's .cuda/bin
// (install/cuda-tools.sh), then PATH.
func cudaTool(name string) (string, bool) {
	if dir := os.Getenv("UNETLAB_CUDA_BIN"); dir != "" {
		p := filepath.Join(dir, name)
		_, err := os.Stat(p)
		return p, err == nil
	}
	if p, err := filepath.Abs(filepath.Join("..", "..", ".cuda", "bin", name)); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	p, err := exec.LookPath(name)
	return p, err == nil
}

var spillRE = regexp.MustCompile(`Function properties for (\w+)\n\s*(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads`)

// TestNoSpills assembles the embedded PTX with `ptxas -v` for sm_90 (the
// sm_80 SASS comes from the same source and allocation) and fails on any kernel that spills registers to local memory.
// It needs cuobjdump and ptxas (install/cuda-tools.sh; CI installs them).
func TestNoSpills(t *testing.T) {
	cuobjdump, ok1 := cudaTool("cuobjdump")
	ptxas, ok2 := cudaTool("ptxas")
	if !ok1 || !ok2 {
		t.Skip("skipped: no cuobjdump or ptxas (install/cuda-tools.sh installs them into .cuda/bin)")
	}
	dir := t.TempDir()
	out, err := exec.Command(cuobjdump, "-ptx", "kernels.fatbin").CombinedOutput()
	if err != nil {
		t.Fatalf("cuobjdump -ptx: %v\n%s", err, out)
	}
	// cuobjdump prints a header per PTX file, then the PTX text.
	text := string(out)
	i := strings.Index(text, "\n.version ")
	if i < 0 {
		t.Fatalf("cuobjdump -ptx: no PTX in kernels.fatbin:\n%.500s", text)
	}
	text = text[i+1:]
	if j := strings.Index(text, "\nFatbin "); j >= 0 {
		text = text[:j]
	}
	ptx := filepath.Join(dir, "kernels.ptx")
	if err := os.WriteFile(ptx, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// The check itself: squeezed to 24 registers, the SGEMM must spill.
	out, err = exec.Command(ptxas, "-v", "-O3", "-arch=sm_90", "-maxrregcount=24", "-o", filepath.Join(dir, "k.cubin"), ptx).CombinedOutput()
	if err != nil {
		t.Fatalf("ptxas: %v\n%s", err, out)
	}
	if spills(string(out))["ub_sgemm"] == 0 {
		t.Fatalf("ptxas -v -maxrregcount=24 shows no spill in ub_sgemm: the output's format changed?\n%s", out)
	}
	out, err = exec.Command(ptxas, "-v", "-O3", "-arch=sm_90", "-o", filepath.Join(dir, "k.cubin"), ptx).CombinedOutput()
	if err != nil {
		t.Fatalf("ptxas: %v\n%s", err, out)
	}
	seen := 0
	for _, m := range spillRE.FindAllStringSubmatch(string(out), -1) {
		seen++
		st, _ := strconv.Atoi(m[3])
		ld, _ := strconv.Atoi(m[4])
		if st > 0 || ld > 0 {
			t.Errorf("%s spills registers on sm_90: %s bytes stored, %s loaded", m[1], m[3], m[4])
		}
	}
	if seen < len(kernelNames) {
		t.Errorf("ptxas -v reported %d kernels, want %d:\n%s", seen, len(kernelNames), out)
	}
}

// spills returns the spilled bytes (stores plus loads) per kernel in the
// output of ptxas -v.
func spills(out string) map[string]int {
	m := map[string]int{}
	for _, s := range spillRE.FindAllStringSubmatch(out, -1) {
		st, _ := strconv.Atoi(s[3])
		ld, _ := strconv.Atoi(s[4])
		m[s[1]] += st + ld
	}
	return m
}
