package grid

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBudget(t *testing.T) {
	l := &Local{CPUs: 4, MemMiB: 8192, GPUs: 2}
	for _, c := range []struct {
		name    string
		held    []Resources
		job     Resources
		fits    bool
		devices int
	}{
		{"alone", nil, Resources{CPUs: 16, MemMiB: 1 << 20}, true, 0},
		{"beside one", []Resources{{CPUs: 2}}, Resources{CPUs: 2}, true, 0},
		{"too many CPUs", []Resources{{CPUs: 3}}, Resources{CPUs: 2}, false, 0},
		{"too much memory", []Resources{{CPUs: 1, MemMiB: 6000}}, Resources{CPUs: 1, MemMiB: 4000}, false, 0},
		{"a GPU", []Resources{{CPUs: 1, GPUs: 1}}, Resources{CPUs: 1, GPUs: 1}, true, 1},
		{"no GPU left", []Resources{{CPUs: 1, GPUs: 2}}, Resources{CPUs: 1, GPUs: 1}, false, 0},
		{"more GPUs than there are", nil, Resources{CPUs: 1, GPUs: 3}, false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := &budget{gpus: make([]bool, l.gpus())}
			for _, r := range c.held {
				b.take(r, nil)
			}
			if got := b.fits(l, c.job); got != c.fits {
				t.Fatalf("fits %v, want %v", got, c.fits)
			}
			if c.fits {
				if d := b.take(c.job, nil); len(d) != c.devices || (len(d) == 1 && d[0] != 1) {
					t.Errorf("devices %v, want %d (device 1 for a second GPU job)", d, c.devices)
				}
			}
		})
	}
}

func TestSlurmTime(t *testing.T) {
	for d, want := range map[time.Duration]string{
		90 * time.Second:           "0-00:01:30",
		7 * 24 * time.Hour:         "7-00:00:00",
		26*time.Hour + time.Minute: "1-02:01:00",
	} {
		if got := slurmTime(d); got != want {
			t.Errorf("slurmTime(%v) = %q, want %q", d, got, want)
		}
	}
}

// fakeSlurm puts sbatch, squeue, scontrol and scancel on PATH: sbatch
// copies each script it is given to dir/submitted-<n>.sh and prints job
// ids 100, 101, ...; the others print nothing.
func fakeSlurm(t *testing.T) string {
	dir := t.TempDir()
	sbatch := `#!/bin/sh
n=$(ls "` + dir + `"/submitted-*.sh 2>/dev/null | wc -l)
for last; do :; done
cp "$last" "` + dir + `/submitted-$n.sh"
echo "$*" >"` + dir + `/args-$n"
echo $((100 + n))
`
	if err := os.WriteFile(filepath.Join(dir, "sbatch"), []byte(sbatch), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"squeue", "scontrol", "scancel", "sacct"} {
		if err := os.WriteFile(filepath.Join(dir, c), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	return dir
}

// TestSlurmSubmit: one array per stage, the stage's largest resources,
// afterok on the arrays holding the dependencies, --requeue; jobs whose
// dependencies are done wait for nothing.
func TestSlurmSubmit(t *testing.T) {
	fake := fakeSlurm(t)
	ctx := context.Background()
	root := t.TempDir()
	s := testSpec(t, t.TempDir())
	s.Resources[StageFold] = Resources{CPUs: 2, MemMiB: 3000, GPUs: 1, Time: 90 * time.Minute}
	p, err := Build(ctx, s, "")
	if err != nil {
		t.Fatal(err)
	}
	ex := &Slurm{Command: []string{"/opt/unetlab", "grid"}, Partition: "gpu"}
	rep, err := Run(ctx, root, p, &RunOptions{Executor: ex})
	if err != nil || len(rep.Started) != 10 {
		t.Fatalf("%v, %v", err, rep)
	}
	read := func(n int) string {
		b, err := os.ReadFile(filepath.Join(fake, "submitted-"+string(rune('0'+n))+".sh"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	search, fold, epochs, final := read(0), read(1), read(2), read(3)
	for _, c := range []struct {
		script string
		want   []string
		not    []string
	}{
		{search, []string{"--array=0-1", "--cpus-per-task=1", "--mem=1024M", "--time=0-00:10:00", "--requeue", "--partition=gpu", "'/opt/unetlab' 'grid' 'worker'"}, []string{"--dependency", "--gres"}},
		{fold, []string{"--array=0-3", "--cpus-per-task=2", "--mem=3000M", "--gres=gpu:1", "--time=0-01:30:00", "--dependency=afterok:100\n"}, nil},
		{epochs, []string{"--array=0-1", "--dependency=afterok:100\n"}, nil},
		{final, []string{"--array=0-1", "--dependency=afterok:100:102\n"}, nil},
	} {
		for _, w := range c.want {
			if !strings.Contains(c.script, w) {
				t.Errorf("script lacks %q:\n%s", w, c.script)
			}
		}
		for _, w := range c.not {
			if strings.Contains(c.script, w) {
				t.Errorf("script has %q:\n%s", w, c.script)
			}
		}
	}
	if args, _ := os.ReadFile(filepath.Join(fake, "args-0")); !strings.HasPrefix(string(args), "--parsable") {
		t.Errorf("sbatch args %q", args)
	}
	// With the searches done, a fold submitted alone waits for nothing.
	k := keysByName(p)
	for _, name := range []string{"search U-net Heart", "search Conv-Skip Heart"} {
		if err := writeJSON(filepath.Join(JobDir(root, k[name]), ResultFile), Result{Key: k[name], LR: 1e-3}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Run(ctx, root, p, &RunOptions{Executor: ex, Only: []string{k["fold 1 U-net Heart"]}}); err != nil {
		t.Fatal(err)
	}
	if s := read(4); strings.Contains(s, "--dependency") || !strings.Contains(s, "--array=0-0") {
		t.Errorf("a fold whose search is done:\n%s", s)
	}
}
