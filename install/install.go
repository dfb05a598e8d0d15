// Package install writes and removes the unetlab kernelspec: the directory
// kernels/NAME holding kernel.json and two logos, placed where
// `jupyter kernelspec list` looks for it.
//
// cmd/unetlab calls [Install] for
//
//	unetlab install [--user | --sys-prefix | --prefix DIR] [--name NAME] [--display-name TEXT]
//
// and [Uninstall] for
//
//	unetlab uninstall [--user | --sys-prefix | --prefix DIR] [--name NAME]
//
// Locations, as Jupyter defines them:
//   - --user (the default): Jupyter's user data directory: $JUPYTER_DATA_DIR
//     when set, else ~/.local/share/jupyter on Linux (honouring
//     $XDG_DATA_HOME), ~/Library/Jupyter on macOS, %APPDATA%\jupyter on
//     Windows.
//   - --sys-prefix: sys.prefix/share/jupyter of the Python that runs the
//     `jupyter` found on PATH.
//   - --prefix DIR: DIR/share/jupyter.
package install

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"github.com/unetlab/unetlab/internal/atomicfile"
)

// Defaults of the kernelspec.
const (
	DefaultName        = "unetlab"
	DefaultDisplayName = "Go (unetlab)"
)

// Errors of the install package.
var (
	// ErrUsage reports bad command-line arguments.
	ErrUsage = errors.New("install: usage")
	// ErrNoJupyter reports that --sys-prefix could not find the Python
	// environment of `jupyter`.
	ErrNoJupyter = errors.New("install: cannot find the Python environment of jupyter")
	// ErrNotInstalled reports that Uninstall found no kernelspec to remove.
	ErrNotInstalled = errors.New("install: kernelspec not installed")
)

// KernelSpec is the content of kernel.json, as jupyter_client reads it.
type KernelSpec struct {
	Argv          []string       `json:"argv"`
	DisplayName   string         `json:"display_name"`
	Language      string         `json:"language"`
	InterruptMode string         `json:"interrupt_mode"`
	Env           map[string]any `json:"env,omitempty"`
	Metadata      map[string]any `json:"metadata"`
}

// Spec returns the kernelspec that runs the binary at exe (an absolute path)
// under the given display name.
func Spec(exe, displayName string) KernelSpec {
	return KernelSpec{
		Argv:          []string{exe, "kernel", "{connection_file}"},
		DisplayName:   displayName,
		Language:      "go",
		InterruptMode: "message",
		Metadata:      map[string]any{"debugger": false},
	}
}

// validName is the pattern jupyter_client accepts for kernel names.
var validName = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// options are the parsed command-line flags of install and uninstall.
type options struct {
	user, sysPrefix bool
	prefix          string
	name            string
	displayName     string
}

func parse(cmd string, args []string, stderr io.Writer, withDisplay bool) (options, error) {
	var o options
	fs := flag.NewFlagSet("unetlab "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.user, "user", false, "install for the current user (the default)")
	fs.BoolVar(&o.sysPrefix, "sys-prefix", false, "install into sys.prefix of the Python that runs jupyter")
	fs.StringVar(&o.prefix, "prefix", "", "install into `DIR`/share/jupyter")
	fs.StringVar(&o.name, "name", DefaultName, "kernel `NAME` (letters, digits, '.', '_', '-')")
	if withDisplay {
		fs.StringVar(&o.displayName, "display-name", DefaultDisplayName, "name shown in the Jupyter launcher")
	}
	if err := fs.Parse(args); err != nil {
		return o, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	n := 0
	for _, set := range []bool{o.user, o.sysPrefix, o.prefix != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return o, fmt.Errorf("%w: --user, --sys-prefix and --prefix exclude each other", ErrUsage)
	}
	if !validName.MatchString(o.name) {
		return o, fmt.Errorf("%w: --name %q: use letters, digits, '.', '_' or '-'", ErrUsage, o.name)
	}
	if withDisplay && strings.TrimSpace(o.displayName) == "" {
		return o, fmt.Errorf("%w: --display-name is empty", ErrUsage)
	}
	return o, nil
}

// dataDir returns the Jupyter data directory the options select.
func (o options) dataDir() (string, error) {
	switch {
	case o.prefix != "":
		p, err := filepath.Abs(o.prefix)
		if err != nil {
			return "", fmt.Errorf("install: --prefix %q: %w", o.prefix, err)
		}
		return filepath.Join(p, "share", "jupyter"), nil
	case o.sysPrefix:
		p, err := jupyterSysPrefix()
		if err != nil {
			return "", err
		}
		return filepath.Join(p, "share", "jupyter"), nil
	default:
		return UserDataDir()
	}
}

// UserDataDir returns Jupyter's per-user data directory, as jupyter_core's
// jupyter_data_dir computes it.
func UserDataDir() (string, error) {
	if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
		return filepath.Abs(d)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("install: user data directory: %w", err)
	}
	switch runtime.GOOS {
	case "darwin":
		return filepath.Join(home, "Library", "Jupyter"), nil
	case "windows":
		if app := os.Getenv("APPDATA"); app != "" {
			return filepath.Join(app, "jupyter"), nil
		}
		return filepath.Join(home, ".jupyter", "data"), nil
	default:
		base := os.Getenv("XDG_DATA_HOME")
		if base == "" {
			base = filepath.Join(home, ".local", "share")
		}
		return filepath.Join(base, "jupyter"), nil
	}
}

// jupyterSysPrefix returns sys.prefix of the Python that runs the `jupyter`
// command on PATH: it reads the script's #! line and asks that interpreter.
func jupyterSysPrefix() (string, error) {
	jup, err := exec.LookPath("jupyter")
	if err != nil {
		return "", fmt.Errorf("%w: no jupyter on PATH (install Jupyter, or use --user or --prefix DIR): %w", ErrNoJupyter, err)
	}
	argv, err := interpreter(jup)
	if err != nil {
		return "", err
	}
	argv = append(argv, "-c", "import sys; print(sys.prefix)")
	out, err := exec.Command(argv[0], argv[1:]...).Output()
	if err != nil {
		return "", fmt.Errorf("%w: running %s for %s: %w", ErrNoJupyter, argv[0], jup, err)
	}
	p := strings.TrimSpace(string(out))
	if p == "" || !filepath.IsAbs(p) {
		return "", fmt.Errorf("%w: %s printed sys.prefix %q", ErrNoJupyter, argv[0], p)
	}
	return p, nil
}

// interpreter returns the command line of the #! line of script, resolving
// `/usr/bin/env NAME` through PATH.
func interpreter(script string) ([]string, error) {
	f, err := os.Open(script)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoJupyter, err)
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if !bytes.HasPrefix(head, []byte("#!")) {
		return nil, fmt.Errorf("%w: %s is not a Python script (no #! line)", ErrNoJupyter, script)
	}
	line, _, _ := bytes.Cut(head[2:], []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) == 0 {
		return nil, fmt.Errorf("%w: %s has an empty #! line", ErrNoJupyter, script)
	}
	if filepath.Base(fields[0]) == "env" {
		fields = fields[1:]
		for len(fields) > 0 && strings.HasPrefix(fields[0], "-") {
			fields = fields[1:]
		}
		if len(fields) == 0 {
			return nil, fmt.Errorf("%w: %s: #!%s names no interpreter", ErrNoJupyter, script, line)
		}
		p, err := exec.LookPath(fields[0])
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrNoJupyter, script, err)
		}
		fields[0] = p
	}
	return fields, nil
}

// executable returns the absolute path of the running binary with symlinks
// resolved. Tests replace it.
var executable = func() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("install: locating the unetlab binary: %w", err)
	}
	exe, err = filepath.EvalSymlinks(exe)
	if err != nil {
		return "", fmt.Errorf("install: locating the unetlab binary: %w", err)
	}
	return filepath.Abs(exe)
}

// Install parses args (see the package doc), writes the kernelspec
// directory atomically and reports where on stdout.
func Install(args []string, stdout, stderr io.Writer) error {
	o, err := parse("install", args, stderr, true)
	if err != nil {
		return err
	}
	data, err := o.dataDir()
	if err != nil {
		return err
	}
	exe, err := executable()
	if err != nil {
		return err
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		fmt.Fprintf(stderr, "unetlab install: warning: %s is a temporary `go run` binary; build one with `go build -o bin/unetlab ./cmd/unetlab` and install from it\n", exe)
	}
	dir := filepath.Join(data, "kernels", o.name)
	if err := writeSpec(dir, Spec(exe, o.displayName)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Installed kernelspec %s (%q) in %s\n", o.name, o.displayName, dir)
	return nil
}

// Uninstall parses args (see the package doc) and removes the kernelspec
// directory. It returns an error wrapping [ErrNotInstalled] when there is
// none.
func Uninstall(args []string, stdout, stderr io.Writer) error {
	o, err := parse("uninstall", args, stderr, false)
	if err != nil {
		return err
	}
	data, err := o.dataDir()
	if err != nil {
		return err
	}
	dir := filepath.Join(data, "kernels", o.name)
	if _, err := os.Stat(filepath.Join(dir, "kernel.json")); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: no %s", ErrNotInstalled, filepath.Join(dir, "kernel.json"))
		}
		return fmt.Errorf("install: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("install: removing %s: %w", dir, err)
	}
	fmt.Fprintf(stdout, "Removed kernelspec %s from %s\n", o.name, dir)
	return nil
}

// writeSpec writes kernel.json and the logos into a new directory that
// replaces dir atomically (internal/atomicfile.ReplaceDir).
func writeSpec(dir string, spec KernelSpec) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("install: creating %s: %w", parent, err)
	}
	js, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return fmt.Errorf("install: encoding kernel.json: %w", err)
	}
	files := map[string][]byte{"kernel.json": append(js, '\n')}
	for _, size := range []int{32, 64} {
		png, err := Logo(size)
		if err != nil {
			return err
		}
		files[fmt.Sprintf("logo-%dx%d.png", size, size)] = png
	}
	err = atomicfile.ReplaceDir(dir, func(tmp string) error {
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
				return fmt.Errorf("writing %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("install: installing the kernelspec into %s: %w", dir, err)
	}
	return nil
}
