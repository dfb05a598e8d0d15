package reftest

import (
	"fmt"
	"strings"
	"testing"
)

// fakeT records how a test ended: Skipf and Fatalf stop it with a panic
// that run recovers, as the real ones stop the goroutine.
type fakeT struct {
	testing.TB
	ended string // "", "skip" or "fatal"
	msg   string
}

type stop struct{}

func (f *fakeT) Helper() {}
func (f *fakeT) Skipf(format string, args ...any) {
	f.ended, f.msg = "skip", fmt.Sprintf(format, args...)
	panic(stop{})
}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.ended, f.msg = "fatal", fmt.Sprintf(format, args...)
	panic(stop{})
}

func run(short bool, modules []string) (f *fakeT) {
	f = &fakeT{}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stop); !ok {
				panic(r)
			}
		}
	}()
	require(f, short, modules)
	return f
}

func TestRequire(t *testing.T) {
	mu.Lock()
	imported["present"], imported["absent"], imported["torch"] = true, false, false
	mu.Unlock()
	for _, tc := range []struct {
		name    string
		ci, ref string
		short   bool
		modules []string
		want    string // how the test ends: "" (runs), "skip", "fatal"
		wantMsg string
	}{
		{name: "present", modules: []string{"present"}, want: ""},
		{name: "present in CI", ci: "true", modules: []string{"present"}, want: ""},
		{name: "missing locally", modules: []string{"present", "torch"}, want: "skip", wantMsg: "MISSING REFERENCE: /usr/bin/python3 cannot import torch"},
		{name: "missing locally names the package", modules: []string{"torch"}, want: "skip", wantMsg: "apt-get install python3-torch"},
		{name: "missing in CI", ci: "true", modules: []string{"torch"}, want: "fatal", wantMsg: "must run in CI"},
		{name: "missing in CI=1", ci: "1", modules: []string{"absent"}, want: "fatal", wantMsg: "the Python module absent"},
		{name: "CI=false is local", ci: "false", modules: []string{"absent"}, want: "skip"},
		{name: "opted out locally", ref: "0", modules: []string{"present"}, want: "skip", wantMsg: "UNETLAB_TEST_REFERENCE=0"},
		{name: "CI cannot opt out", ci: "true", ref: "0", modules: []string{"absent"}, want: "fatal"},
		{name: "CI runs them even opted out", ci: "true", ref: "0", modules: []string{"present"}, want: ""},
		{name: "short locally", short: true, modules: []string{"present"}, want: "skip", wantMsg: "-short"},
		{name: "short in CI", ci: "true", short: true, modules: []string{"absent"}, want: "fatal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv("UNETLAB_TEST_REFERENCE", tc.ref)
			f := run(tc.short, tc.modules)
			if f.ended != tc.want || !strings.Contains(f.msg, tc.wantMsg) {
				t.Errorf("ended %q with %q, want %q with %q", f.ended, f.msg, tc.want, tc.wantMsg)
			}
		})
	}
}

func TestMissingWithoutPython(t *testing.T) {
	mu.Lock()
	saved := imported
	imported, python = map[string]bool{}, "/nonexistent/python3"
	mu.Unlock()
	defer func() {
		mu.Lock()
		imported, python = saved, Python
		mu.Unlock()
	}()
	if got := Missing("json", "sys", "json"); fmt.Sprint(got) != "[json sys]" {
		t.Errorf("Missing without the interpreter = %v, want [json sys]", got)
	}
}
