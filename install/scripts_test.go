package install

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// sandbox is a PATH of stub commands for running jupyter.sh, test-deps.sh,
// slurm.sh and cuda-tools.sh (the last three source apt.sh) without
// touching the machine: stubs append their command
// line to a log, and may create further stubs to simulate an install.
type sandbox struct {
	t   *testing.T
	bin string // the only directory on PATH
	log string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("shell scripts")
	}
	dir := t.TempDir()
	s := &sandbox{t: t, bin: filepath.Join(dir, "bin"), log: filepath.Join(dir, "calls.log")}
	if err := os.MkdirAll(s.bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// Real tools the scripts use besides the stubs.
	for _, tool := range []string{"bash", "cat", "chmod", "cmp", "cp", "dirname", "env", "grep", "mkdir", "tail"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s not found", tool)
		}
		if err := os.Symlink(p, filepath.Join(s.bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// stub writes an executable bin/name running the shell body; $LOG and $BIN
// name the call log and the stub directory.
func (s *sandbox) stub(name, body string) {
	s.t.Helper()
	text := "#!" + filepath.Join(s.bin, "bash") + "\nLOG=" + s.log + "\nBIN=" + s.bin +
		"\necho \"" + name + " $*\" >>\"$LOG\"\n" + body + "\n"
	if err := os.WriteFile(filepath.Join(s.bin, name), []byte(text), 0o755); err != nil {
		s.t.Fatal(err)
	}
}

// run runs the script with PATH = the sandbox and returns its combined
// output, the calls the stubs logged, and whether it exited 0.
func (s *sandbox) run(script string, env ...string) (out, calls string, ok bool) {
	s.t.Helper()
	return s.runArgs([]string{script}, env...)
}

// runArgs is run for a script with arguments: args is the script and its
// arguments.
func (s *sandbox) runArgs(args []string, env ...string) (out, calls string, ok bool) {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(s.bin, "bash"), args...)
	cmd.Env = append([]string{"PATH=" + s.bin, "HOME=" + filepath.Dir(s.bin)}, env...)
	b, err := cmd.CombinedOutput()
	if err != nil {
		if _, isExit := err.(*exec.ExitError); !isExit {
			s.t.Fatal(err)
		}
	}
	logged, _ := os.ReadFile(s.log)
	return string(b), string(logged), err == nil
}

const (
	jupyterOK   = "exit 0"
	uidRoot     = "echo 0"
	uidUser     = "echo 1000"
	makeJupyter = `printf '#!%s/bash\nexit 0\n' "$BIN" >"$BIN/jupyter"; chmod +x "$BIN/jupyter"`
)

// makeVenv is a python3 stub's `-m venv DIR`: DIR/bin/python whose pip
// install makes DIR/bin/jupyter, a JupyterLab 4.6.6.
const makeVenv = `mkdir -p "$3/bin"; printf '#!%s/bash\necho "venv-python $*" >>%s\n[ "$3" = install ] && printf "#!%s/bash\\necho 4.6.6\\n" "%s" >"%s/bin/jupyter" && chmod +x "%s/bin/jupyter"; exit 0\n' "$BIN" "$LOG" "$BIN" "$BIN" "$3" "$3" >"$3/bin/python"; chmod +x "$3/bin/python"`

func TestJupyterScript(t *testing.T) {
	tests := []struct {
		name      string
		stubs     map[string]string
		ok        bool
		wantCalls []string // substrings of the call log, in order
		noCalls   []string
		wantOut   []string
	}{
		{
			name:      "JupyterLab 4 on PATH",
			stubs:     map[string]string{"jupyter": "echo 4.2.5", "python3": "exit 1"},
			ok:        true,
			wantCalls: []string{"jupyter lab --version"},
			noCalls:   []string{"python3", "venv-python"},
			wantOut:   []string{"using JupyterLab 4.2.5"},
		},
		{
			name: "JupyterLab 3 on PATH: the venv",
			stubs: map[string]string{"jupyter": "echo 3.6.3", "python3": `case "$*" in
"-m venv --help") exit 0;;
"-m venv "*) ` + makeVenv + `;;
*) exit 1;;
esac`},
			ok:        true,
			wantCalls: []string{"jupyter lab --version", "python3 -m venv --help", "python3 -m venv ", "venv-python -m pip install -q --disable-pip-version-check -r", "jupyter-requirements.txt"},
			wantOut:   []string{"installed JupyterLab 4.6.6"},
		},
		{
			name: "no Jupyter: the venv",
			stubs: map[string]string{"python3": `case "$*" in
"-m venv --help") exit 0;;
"-m venv "*) ` + makeVenv + `;;
*) exit 1;;
esac`},
			ok:        true,
			wantCalls: []string{"python3 -m venv ", "venv-python -m pip install"},
			wantOut:   []string{"installing JupyterLab 4 and Notebook 7", "/venv/bin"},
		},
		{
			name:    "no venv module",
			stubs:   map[string]string{"python3": "exit 1"},
			ok:      false,
			wantOut: []string{"cannot make a virtual environment", "python3-venv", "pip install 'jupyterlab>=4' notebook"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			for name, body := range tt.stubs {
				s.stub(name, body)
			}
			venv := filepath.Join(filepath.Dir(s.bin), "venv")
			out, calls, ok := s.run("jupyter.sh", "UNETLAB_VENV="+venv)
			check(t, out, calls, ok, tt.ok, tt.wantCalls, tt.noCalls, tt.wantOut)
			if !tt.ok {
				return
			}
			// A second run finds the venv up to date: no pip.
			if strings.Contains(calls, "venv-python") {
				if err := os.Remove(s.log); err != nil {
					t.Fatal(err)
				}
				_, calls, ok = s.run("jupyter.sh", "UNETLAB_VENV="+venv)
				if !ok || strings.Contains(calls, "pip install") {
					t.Errorf("second run: ok=%v, calls:\n%s", ok, calls)
				}
			}
		})
	}
}

func check(t *testing.T, out, calls string, ok, wantOK bool, wantCalls, noCalls, wantOut []string) {
	t.Helper()
	if ok != wantOK {
		t.Errorf("exit ok = %v, want %v\noutput:\n%s\ncalls:\n%s", ok, wantOK, out, calls)
	}
	rest := calls
	for _, w := range wantCalls {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("no call %q (in order) in:\n%s", w, calls)
			break
		}
		rest = rest[i+len(w):]
	}
	for _, w := range noCalls {
		if strings.Contains(calls, w) {
			t.Errorf("unexpected call %q in:\n%s", w, calls)
		}
	}
	for _, w := range wantOut {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// dpkgStub answers dpkg-query from a state file of installed packages;
// aptStub's install adds its arguments to it (see aptSandbox).
const (
	dpkgStub = `pkg="${@: -1}"; grep -qx "$pkg" "$BIN/../installed" 2>/dev/null && printf 'install ok installed'; exit 0`
	aptStub  = `if [ "$1" = install ]; then for p in "$@"; do echo "$p" >>"$BIN/../installed"; done; fi`
)

// aptSandbox is a sandbox with dpkg-query and apt-get stubs in which the
// packages installed are exactly installed.
func aptSandbox(t *testing.T, installed []string) *sandbox {
	t.Helper()
	s := newSandbox(t)
	s.stub("dpkg-query", dpkgStub)
	s.stub("apt-get", aptStub)
	state := filepath.Join(filepath.Dir(s.bin), "installed")
	if err := os.WriteFile(state, []byte(strings.Join(installed, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// aptCase is a run of a script that installs Debian packages through
// apt.sh, in an aptSandbox with the packages installed, the stubs and the
// environment given, and what it must do.
type aptCase struct {
	name      string
	installed []string
	stubs     map[string]string
	env       []string
	ok        bool
	wantCalls []string // substrings of the call log, in order
	noCalls   []string
	wantOut   []string
}

// runAptCases runs script for each case as a subtest; setup, when not nil,
// adds to each sandbox and returns more environment.
func runAptCases(t *testing.T, script string, tests []aptCase, setup func(s *sandbox) []string) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := aptSandbox(t, tt.installed)
			var env []string
			if setup != nil {
				env = setup(s)
			}
			for name, body := range tt.stubs {
				s.stub(name, body)
			}
			out, calls, ok := s.run(script, append(env, tt.env...)...)
			check(t, out, calls, ok, tt.ok, tt.wantCalls, tt.noCalls, tt.wantOut)
		})
	}
}

func TestTestDepsScript(t *testing.T) {
	all := []string{"python3-jupyter-kernel-test", "jupyter-nbconvert", "python3-nbclient", "jupyter-client",
		"python3-ipykernel", "libopenblas0", "python3-numpy", "python3-nibabel", "python3-torch"}
	tests := []aptCase{
		{
			name:      "all present",
			installed: all,
			stubs:     map[string]string{"id": uidRoot},
			ok:        true,
			noCalls:   []string{"apt-get", "fakepy"},
		},
		{
			name:      "installs only the missing",
			installed: all[:4],
			stubs:     map[string]string{"id": uidRoot},
			ok:        true,
			wantCalls: []string{"apt-get update", "apt-get install -y -qq --no-install-recommends python3-ipykernel libopenblas0 python3-numpy python3-nibabel python3-torch", "fakepy -c import"},
		},
		{
			name:      "reference packages left out",
			installed: all[:6],
			stubs:     map[string]string{"id": uidRoot},
			env:       []string{"UNETLAB_TEST_REFERENCE=0"},
			ok:        true,
			noCalls:   []string{"apt-get"},
		},
		{
			name:      "CI cannot leave the reference packages out",
			installed: all[:6],
			stubs:     map[string]string{"id": uidRoot},
			env:       []string{"UNETLAB_TEST_REFERENCE=0", "CI=true"},
			ok:        true,
			wantCalls: []string{"apt-get install -y -qq --no-install-recommends python3-numpy python3-nibabel python3-torch"},
		},
		{
			name:      "CI=false is not CI",
			installed: all[:6],
			stubs:     map[string]string{"id": uidRoot},
			env:       []string{"UNETLAB_TEST_REFERENCE=0", "CI=false"},
			ok:        true,
			noCalls:   []string{"apt-get"},
		},
		{
			name:      "not root, no sudo",
			installed: all[1:],
			stubs:     map[string]string{"id": uidUser},
			ok:        false,
			noCalls:   []string{"apt-get"},
			wantOut:   []string{"need root", "sudo apt-get install -y python3-jupyter-kernel-test"},
		},
	}
	runAptCases(t, "test-deps.sh", tests, func(s *sandbox) []string {
		s.stub("fakepy", "exit 0")
		return []string{"PYTHON=" + filepath.Join(s.bin, "fakepy")}
	})
}

func TestSlurmScript(t *testing.T) {
	all := []string{"slurm-wlm", "munge"}
	tests := []aptCase{
		{
			name:      "all present",
			installed: all,
			stubs:     map[string]string{"id": uidUser},
			ok:        true,
			noCalls:   []string{"apt-get", "sudo"},
		},
		{
			name:      "installs only the missing, as root",
			installed: all[:1],
			stubs:     map[string]string{"id": uidRoot},
			ok:        true,
			wantCalls: []string{"apt-get update -qq", "apt-get install -y -qq --no-install-recommends munge"},
			noCalls:   []string{"sudo", "--no-install-recommends slurm-wlm"},
			wantOut:   []string{"install/slurm.sh: installing munge"},
		},
		{
			name:      "through sudo",
			installed: nil,
			stubs:     map[string]string{"id": uidUser, "sudo": `shift; "$@"`},
			ok:        true,
			wantCalls: []string{"sudo -n true", "sudo -n apt-get update -qq", "sudo -n apt-get install -y -qq --no-install-recommends slurm-wlm munge"},
		},
		{
			name:      "not root, no sudo",
			installed: all[1:],
			stubs:     map[string]string{"id": uidUser},
			ok:        false,
			noCalls:   []string{"apt-get"},
			wantOut:   []string{"install/slurm.sh: need root to install: slurm-wlm", "sudo apt-get install -y slurm-wlm"},
		},
		{
			name:      "apt-get update fails",
			installed: nil,
			stubs:     map[string]string{"id": uidRoot, "apt-get": `[ "$1" = update ] && exit 100; exit 0`},
			ok:        false,
			wantCalls: []string{"apt-get update"},
			noCalls:   []string{"apt-get install"},
		},
	}
	runAptCases(t, "slurm.sh", tests, nil)
}

// TestCudaToolsRoot runs install/cuda-tools.sh only as far as its root
// check (apt_root), which must refuse before touching apt when neither root
// nor passwordless sudo is there.
func TestCudaToolsRoot(t *testing.T) {
	s := newSandbox(t)
	s.stub("id", uidUser)
	s.stub("sudo", "exit 1")
	s.stub("apt-get", "")
	prefix := filepath.Join(filepath.Dir(s.bin), "cuda")
	out, calls, ok := s.runArgs([]string{"cuda-tools.sh", prefix})
	check(t, out, calls, ok, false, []string{"sudo -n true"}, []string{"apt-get"},
		[]string{"cuda-tools: need root or passwordless sudo for apt-get"})
}

func TestNiiVueScript(t *testing.T) {
	tests := []struct {
		name    string
		stubs   map[string]string
		have    string // the version already installed, "" for none
		ok      bool
		calls   []string
		noCalls []string
		wantOut []string
	}{
		{name: "no npm: a note, no failure", ok: true, wantOut: []string{"no npm", "3D view"}},
		{name: "already there", have: "0.69.0", stubs: map[string]string{"npm": "exit 1"}, ok: true, noCalls: []string{"npm"}},
		{name: "another version: fetched, a bad checksum refused", have: "0.1.0",
			stubs: map[string]string{"npm": `echo bogus >niivue-niivue-0.69.0.tgz`, "mktemp": `mkdir -p "$BIN/../tmp"; echo "$BIN/../tmp"`,
				"rm": "exit 0", "python3": "echo Ym9ndXM="},
			ok: false, calls: []string{"npm pack --silent @niivue/niivue@0.69.0", "python3 -c"}, wantOut: []string{"want the pinned sha512-YMjQ"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t)
			for name, body := range tt.stubs {
				s.stub(name, body)
			}
			venv := filepath.Join(filepath.Dir(s.bin), "venv")
			if tt.have != "" {
				dest := filepath.Join(venv, "share", "unetlab")
				if err := os.MkdirAll(dest, 0o755); err != nil {
					t.Fatal(err)
				}
				for name, body := range map[string]string{"niivue.js": "export {}", "niivue.version": tt.have + "\n"} {
					if err := os.WriteFile(filepath.Join(dest, name), []byte(body), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			out, calls, ok := s.runArgs([]string{"niivue.sh", venv})
			check(t, out, calls, ok, tt.ok, tt.calls, tt.noCalls, tt.wantOut)
		})
	}
}
