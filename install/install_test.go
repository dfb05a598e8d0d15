package install

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fakeExe makes the installer see a fixed binary path.
func fakeExe(t *testing.T, path string) {
	t.Helper()
	old := executable
	executable = func() (string, error) { return path, nil }
	t.Cleanup(func() { executable = old })
}

func TestInstallGolden(t *testing.T) {
	data := t.TempDir()
	t.Setenv("JUPYTER_DATA_DIR", data)
	const exe = "/opt/unetlab/bin/unetlab"
	fakeExe(t, exe)

	var out, errb bytes.Buffer
	if err := Install(nil, &out, &errb); err != nil {
		t.Fatalf("Install: %v (stderr %q)", err, errb.String())
	}
	dir := filepath.Join(data, "kernels", "unetlab")
	if !strings.Contains(out.String(), dir) {
		t.Errorf("stdout %q does not name %s", out.String(), dir)
	}
	got, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	got = bytes.ReplaceAll(got, []byte(exe), []byte("<EXECUTABLE>"))
	golden := filepath.Join("testdata", "kernel.json.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("kernel.json differs from %s:\n got: %s\nwant: %s", golden, got, want)
	}
	for _, size := range []int{32, 64} {
		name := filepath.Join(dir, "logo-"+itoa(size)+"x"+itoa(size)+".png")
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if cfg.Width != size || cfg.Height != size {
			t.Errorf("%s: %dx%d, want %dx%d", name, cfg.Width, cfg.Height, size, size)
		}
	}
	// Nothing but the kernelspec is left in kernels/.
	entries, err := os.ReadDir(filepath.Join(data, "kernels"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "unetlab" {
		t.Errorf("kernels/ holds %v, want only unetlab", names(entries))
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func names(es []os.DirEntry) []string {
	var s []string
	for _, e := range es {
		s = append(s, e.Name())
	}
	return s
}

func TestInstallRealExecutable(t *testing.T) {
	data := t.TempDir()
	t.Setenv("JUPYTER_DATA_DIR", data)
	if err := Install([]string{"--name", "real"}, new(bytes.Buffer), new(bytes.Buffer)); err != nil {
		t.Fatal(err)
	}
	spec := readSpec(t, filepath.Join(data, "kernels", "real", "kernel.json"))
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	self, _ = filepath.EvalSymlinks(self)
	if spec.Argv[0] != self || !filepath.IsAbs(spec.Argv[0]) {
		t.Errorf("argv[0] = %q, want the absolute test binary %q", spec.Argv[0], self)
	}
}

func readSpec(t *testing.T, path string) KernelSpec {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s KernelSpec
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

func TestInstallLocations(t *testing.T) {
	fakeExe(t, "/x/unetlab")
	tmp := t.TempDir()
	t.Setenv("JUPYTER_DATA_DIR", filepath.Join(tmp, "user"))

	// A fake `jupyter` whose #! interpreter prints a sys.prefix.
	bin := filepath.Join(tmp, "bin")
	sysPrefix := filepath.Join(tmp, "venv")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	fakePy := filepath.Join(bin, "fakepython")
	writeExec(t, fakePy, "#!/bin/sh\necho "+sysPrefix+"\n")
	writeExec(t, filepath.Join(bin, "jupyter"), "#!/usr/bin/env fakepython\n# jupyter\n")
	if runtime.GOOS == "windows" {
		t.Skip("shell scripts")
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	tests := []struct {
		args []string
		dir  string
	}{
		{nil, filepath.Join(tmp, "user", "kernels", "unetlab")},
		{[]string{"--user", "--name", "go2"}, filepath.Join(tmp, "user", "kernels", "go2")},
		{[]string{"--prefix", filepath.Join(tmp, "pfx")}, filepath.Join(tmp, "pfx", "share", "jupyter", "kernels", "unetlab")},
		{[]string{"--sys-prefix", "--display-name", "Go!"}, filepath.Join(sysPrefix, "share", "jupyter", "kernels", "unetlab")},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			if err := Install(tt.args, new(bytes.Buffer), new(bytes.Buffer)); err != nil {
				t.Fatal(err)
			}
			spec := readSpec(t, filepath.Join(tt.dir, "kernel.json"))
			if spec.Argv[0] != "/x/unetlab" {
				t.Errorf("argv = %q", spec.Argv)
			}
			loc := []string{}
			for _, a := range tt.args {
				if a == "--user" || a == "--sys-prefix" {
					loc = append(loc, a)
				}
			}
			if i := indexOf(tt.args, "--prefix"); i >= 0 {
				loc = append(loc, tt.args[i:i+2]...)
			}
			if i := indexOf(tt.args, "--name"); i >= 0 {
				loc = append(loc, tt.args[i:i+2]...)
			}
			var out bytes.Buffer
			if err := Uninstall(loc, &out, new(bytes.Buffer)); err != nil {
				t.Fatalf("Uninstall(%q): %v", loc, err)
			}
			if _, err := os.Stat(tt.dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s still there after uninstall: %v", tt.dir, err)
			}
			if err := Uninstall(loc, &out, new(bytes.Buffer)); !errors.Is(err, ErrNotInstalled) {
				t.Errorf("second Uninstall: %v, want ErrNotInstalled", err)
			}
		})
	}
}

func indexOf(s []string, x string) int {
	for i, v := range s {
		if v == x {
			return i
		}
	}
	return -1
}

func writeExec(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestSysPrefixWithoutJupyter(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := Install([]string{"--sys-prefix"}, new(bytes.Buffer), new(bytes.Buffer))
	if !errors.Is(err, ErrNoJupyter) || !strings.Contains(err.Error(), "no jupyter on PATH") {
		t.Errorf("err = %v, want ErrNoJupyter naming PATH", err)
	}
}

func TestInstallReplaces(t *testing.T) {
	data := t.TempDir()
	t.Setenv("JUPYTER_DATA_DIR", data)
	fakeExe(t, "/x/unetlab")
	for _, dn := range []string{"First", "Second"} {
		if err := Install([]string{"--display-name", dn}, new(bytes.Buffer), new(bytes.Buffer)); err != nil {
			t.Fatal(err)
		}
	}
	spec := readSpec(t, filepath.Join(data, "kernels", "unetlab", "kernel.json"))
	if spec.DisplayName != "Second" {
		t.Errorf("display_name %q, want Second", spec.DisplayName)
	}
	entries, _ := os.ReadDir(filepath.Join(data, "kernels"))
	if len(entries) != 1 {
		t.Errorf("kernels/ holds %v after reinstall, want one entry", names(entries))
	}
}

func TestUsageErrors(t *testing.T) {
	t.Setenv("JUPYTER_DATA_DIR", t.TempDir())
	fakeExe(t, "/x/unetlab")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"two locations", []string{"--user", "--prefix", "/tmp/p"}, "exclude each other"},
		{"sys and user", []string{"--user", "--sys-prefix"}, "exclude each other"},
		{"bad name", []string{"--name", "a/b"}, `--name "a/b"`},
		{"empty name", []string{"--name", ""}, `--name ""`},
		{"empty display", []string{"--display-name", " "}, "--display-name is empty"},
		{"extra arg", []string{"foo"}, `unexpected argument "foo"`},
		{"unknown flag", []string{"--bogus"}, "bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Install(tt.args, new(bytes.Buffer), new(bytes.Buffer))
			if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Install(%q) = %v, want ErrUsage containing %q", tt.args, err, tt.want)
			}
		})
	}
	if err := Uninstall([]string{"--display-name", "x"}, new(bytes.Buffer), new(bytes.Buffer)); !errors.Is(err, ErrUsage) {
		t.Errorf("Uninstall --display-name: %v, want ErrUsage", err)
	}
}

func TestUserDataDir(t *testing.T) {
	t.Setenv("JUPYTER_DATA_DIR", "")
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_DATA_HOME", "")
	got, err := UserDataDir()
	if err != nil {
		t.Fatal(err)
	}
	var want string
	switch runtime.GOOS {
	case "darwin":
		want = filepath.Join(home, "Library", "Jupyter")
	case "linux":
		want = filepath.Join(home, ".local", "share", "jupyter")
	default:
		t.Skip("checked on linux and darwin")
	}
	if got != want {
		t.Errorf("UserDataDir() = %q, want %q", got, want)
	}
	if runtime.GOOS == "linux" {
		t.Setenv("XDG_DATA_HOME", filepath.Join(home, "xdg"))
		got, _ = UserDataDir()
		if want := filepath.Join(home, "xdg", "jupyter"); got != want {
			t.Errorf("with XDG_DATA_HOME: %q, want %q", got, want)
		}
	}
}

func TestLogo(t *testing.T) {
	for _, size := range []int{32, 64} {
		b, err := Logo(size)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dx() != size || img.Bounds().Dy() != size {
			t.Errorf("size %d: bounds %v", size, img.Bounds())
		}
		// Corner transparent, left stroke white, centre (inside the U) blue.
		if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
			t.Errorf("size %d: corner alpha %d, want 0", size, a)
		}
		if r, g, b, _ := img.At(size*23/100, size/2).RGBA(); r>>8 < 0xF0 || g>>8 < 0xF0 || b>>8 < 0xF0 {
			t.Errorf("size %d: stroke not white: %x %x %x", size, r>>8, g>>8, b>>8)
		}
		if r, _, b, _ := img.At(size/2, size/3).RGBA(); r>>8 > 0x10 || b>>8 < 0xC0 {
			t.Errorf("size %d: centre not blue", size)
		}
	}
	for _, bad := range []int{0, 7, 2000} {
		if _, err := Logo(bad); err == nil {
			t.Errorf("Logo(%d) succeeded", bad)
		}
	}
}

// TestJupyterFindsIt asks the real `jupyter kernelspec list` where the
// kernel is; skipped when Jupyter is not installed.
func TestJupyterFindsIt(t *testing.T) {
	jup, err := exec.LookPath("jupyter")
	if err != nil {
		t.Skip("jupyter not on PATH")
	}
	data := t.TempDir()
	t.Setenv("JUPYTER_DATA_DIR", data)
	fakeExe(t, "/x/unetlab")
	if err := Install([]string{"--name", "unetlab-test"}, new(bytes.Buffer), new(bytes.Buffer)); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(jup, "kernelspec", "list", "--json").Output()
	if err != nil {
		t.Skipf("jupyter kernelspec list: %v", err)
	}
	var list struct {
		Kernelspecs map[string]struct {
			ResourceDir string         `json:"resource_dir"`
			Spec        map[string]any `json:"spec"`
		} `json:"kernelspecs"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	ks, ok := list.Kernelspecs["unetlab-test"]
	if !ok {
		t.Fatalf("jupyter kernelspec list does not show unetlab-test: %s", out)
	}
	if want := filepath.Join(data, "kernels", "unetlab-test"); ks.ResourceDir != want {
		t.Errorf("resource_dir %q, want %q", ks.ResourceDir, want)
	}
	if ks.Spec["interrupt_mode"] != "message" || ks.Spec["language"] != "go" {
		t.Errorf("spec as jupyter reads it: %v", ks.Spec)
	}
}
