// Package reftest decides whether a Go test that cross-checks the library
// against a reference implementation (PyTorch, nibabel, NumPy, run by
// Debian's /usr/bin/python3) runs, fails or is skipped.
//
// In CI (the environment variable CI set to a true value, as every CI
// service does) a missing reference fails the test: CI cannot skip the
// cross-checks, not with -short nor with UNETLAB_TEST_REFERENCE=0. On a
// developer's machine a missing reference skips the test with a loud line
// saying what is missing and how to install it (`make deps-test`, or
// apt-get install python3-torch python3-nibabel python3-numpy), and
// UNETLAB_TEST_REFERENCE=0 or -short skips them on purpose.
package reftest

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Python is the interpreter the cross-checks run: Debian's, where
// install/test-deps.sh installs the reference packages.
const Python = "/usr/bin/python3"

// debianPackage names the Debian package of each Python module used.
var debianPackage = map[string]string{
	"torch":   "python3-torch",
	"numpy":   "python3-numpy",
	"nibabel": "python3-nibabel",
}

// Require returns when Python imports every module; otherwise it fails the
// test in CI and skips it elsewhere, naming the modules and the packages
// that provide them. It also skips, outside CI, under -short and with
// UNETLAB_TEST_REFERENCE=0. Call it first in a test that runs Python.
func Require(t testing.TB, modules ...string) {
	t.Helper()
	require(t, testing.Short(), modules)
}

// require is Require with -short given.
func require(t testing.TB, short bool, modules []string) {
	t.Helper()
	inCI := isCI(os.Getenv("CI"))
	if !inCI {
		if short {
			t.Skipf("reference cross-check skipped under -short (needs %s with %s)", Python, strings.Join(modules, ", "))
		}
		if os.Getenv("UNETLAB_TEST_REFERENCE") == "0" {
			t.Skipf("reference cross-check skipped: UNETLAB_TEST_REFERENCE=0 (needs %s with %s)", Python, strings.Join(modules, ", "))
		}
	}
	missing := Missing(modules...)
	if len(missing) == 0 {
		return
	}
	msg := message(missing)
	if inCI {
		t.Fatalf("%s\nCI=%s: the reference cross-checks must run in CI", msg, os.Getenv("CI"))
	}
	t.Skipf("%s\n(in CI, with CI=true, this test fails instead)", msg)
}

// message says what is missing and how to install it.
func message(missing []string) string {
	var pkgs []string
	for _, m := range missing {
		if p, ok := debianPackage[m]; ok {
			pkgs = append(pkgs, p)
		} else {
			pkgs = append(pkgs, "the Python module "+m)
		}
	}
	return "MISSING REFERENCE: " + Python + " cannot import " + strings.Join(missing, ", ") +
		", so this cross-check against the reference implementation did not run; install it with " +
		"`make deps-test` (install/test-deps.sh) or `apt-get install " + strings.Join(pkgs, " ") + "`"
}

var (
	python   = Python // tests point it elsewhere
	mu       sync.Mutex
	imported = map[string]bool{} // module -> importable, cached per test binary
)

// Missing returns the modules that Python cannot import (all of them when
// Python itself is missing), in the order given.
func Missing(modules ...string) []string {
	mu.Lock()
	defer mu.Unlock()
	var missing []string
	for _, m := range modules {
		ok, known := imported[m]
		if !known {
			ok = exec.Command(python, "-c", "import "+m).Run() == nil
			imported[m] = ok
		}
		if !ok && !slices.Contains(missing, m) {
			missing = append(missing, m)
		}
	}
	return missing
}

// isCI reports whether the value of CI means a CI run: a true boolean
// ("true", "1") or any other non-empty value but a false one.
func isCI(v string) bool {
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err != nil || b
}
