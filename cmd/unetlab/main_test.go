package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		code        int
		out, errOut string // substrings expected on stdout and stderr
	}{
		{"no args", nil, 2, "", "Usage:"},
		{"help", []string{"help"}, 0, "unetlab kernel CONNECTION_FILE", ""},
		{"--help", []string{"--help"}, 0, "unetlab install", ""},
		{"version", []string{"version"}, 0, "convolutions ", ""},
		{"unknown", []string{"frob"}, 2, "", `unknown command "frob"`},
		{"kernel without file", []string{"kernel"}, 2, "", "connection file"},
		{"kernel two files", []string{"kernel", "a", "b"}, 2, "", "got 2 arguments"},
		{"kernel missing file", []string{"kernel", "/nonexistent/kernel.json"}, 1, "", "/nonexistent/kernel.json"},
		{"install bad flag", []string{"install", "--bogus"}, 2, "", "unetlab install: flag provided but not defined: -bogus\nRun `unetlab help` for usage."},
		{"install two places", []string{"install", "--user", "--prefix", "/tmp/x"}, 2, "",
			"unetlab install: --user, --sys-prefix and --prefix exclude each other\n"},
		{"install stray argument", []string{"install", "now"}, 2, "", "unetlab install: unexpected argument \"now\""},
		{"uninstall bad name", []string{"uninstall", "--name", "a b"}, 2, "", "unetlab uninstall: --name \"a b\""},
		{"uninstall missing", []string{"uninstall", "--prefix", "/nonexistent", "--name", "x"}, 1, "",
			"unetlab uninstall: kernelspec not installed: no /nonexistent/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tt.args, &out, &errOut)
			// The command is named once: not "unetlab install: install: usage: ...".
			doubled := strings.Contains(errOut.String(), ": install:") || strings.Contains(errOut.String(), "usage:")
			if code != tt.code || !strings.Contains(out.String(), tt.out) || !strings.Contains(errOut.String(), tt.errOut) || doubled {
				t.Errorf("run(%q) = %d\nstdout: %s\nstderr: %s\nwant %d, stdout with %q, stderr with %q",
					tt.args, code, out.String(), errOut.String(), tt.code, tt.out, tt.errOut)
			}
		})
	}
}

func TestRunKernelBadConnectionFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "kernel.json")
	os.WriteFile(p, []byte(`{"transport":"udp","ip":"127.0.0.1"}`), 0o600)
	var out, errOut bytes.Buffer
	if code := run([]string{"kernel", p}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), `transport "udp"`) {
		t.Errorf("code %d, stderr %s", code, errOut.String())
	}
}

func TestInstallUninstall(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run([]string{"install", "--prefix", dir, "--name", "unetlab-test"}, &out, &errOut); code != 0 {
		t.Fatalf("install: %d %s", code, errOut.String())
	}
	spec := filepath.Join(dir, "share", "jupyter", "kernels", "unetlab-test", "kernel.json")
	b, err := os.ReadFile(spec)
	if err != nil || !strings.Contains(string(b), `"kernel"`) {
		t.Fatalf("kernel.json: %s %v", b, err)
	}
	if code := run([]string{"uninstall", "--prefix", dir, "--name", "unetlab-test"}, &out, &errOut); code != 0 {
		t.Fatalf("uninstall: %d %s", code, errOut.String())
	}
	if _, err := os.Stat(spec); !os.IsNotExist(err) {
		t.Errorf("kernel.json still there: %v", err)
	}
	if code := run([]string{"uninstall", "--prefix", dir, "--name", "unetlab-test"}, &out, &errOut); code != 1 {
		t.Errorf("second uninstall: %d", code)
	}
}
