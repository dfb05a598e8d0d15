package grid

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/unetlab/unetlab/internal/atomicfile"
)

// Files of the Slurm executor, in root/slurm/.
const (
	slurmDir      = "slurm"
	slurmJobsFile = "jobs.json" // key -> Slurm job id of its array task ("123_4")
)

// Slurm runs jobs as Slurm job arrays, one array per stage, each after the
// arrays it depends on (--dependency=afterok:ID). Every task asks for its
// stage's largest Resources (--cpus-per-task, --mem, --gres=gpu:N, --time)
// and is requeueable (--requeue): a requeued or preempted task runs the
// worker again, which resumes from the job's checkpoint. The root must be
// on a folder every node sees; the worker writes the job's log there
// (jobs/<key>/log).
type Slurm struct {
	// Command is the program and leading arguments of the grid
	// subcommands as the nodes run them; nil means this executable with
	// "grid" (it must be on the shared folder too).
	Command []string
	// Partition is sbatch's --partition ("" for the default).
	Partition string
	// Args are more sbatch options, e.g. "--account=lab".
	Args []string
}

// Name returns "slurm".
func (s *Slurm) Name() string { return "slurm" }

// slurmRun runs a Slurm command and returns its standard output.
func slurmRun(ctx context.Context, name string, args ...string) (string, error) {
	var out, errb bytes.Buffer
	c := exec.CommandContext(ctx, name, args...)
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		return out.String(), fmt.Errorf("grid: %s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// slurmTime formats d for --time as D-HH:MM:SS.
func slurmTime(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d-%02d:%02d:%02d", s/86400, s%86400/3600, s%3600/60, s%60)
}

// Submit writes one batch script per stage that has jobs among keys and
// submits it as an array, after the arrays that hold the jobs it needs.
func (s *Slurm) Submit(ctx context.Context, root string, p *Plan, keys []string) error {
	cmd := s.Command
	if cmd == nil {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("grid: slurm executor: %w", err)
		}
		cmd = []string{exe, "grid"}
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return fmt.Errorf("grid: %w", err)
	}
	dir := filepath.Join(root, slurmDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("grid: %w", err)
	}
	ids := map[string]string{}
	_ = readJSON(filepath.Join(dir, slurmJobsFile), &ids)
	want := map[string]bool{}
	var stale []string
	for _, k := range keys {
		want[k] = true
		if id, ok := ids[k]; ok {
			stale = append(stale, id)
		}
	}
	// A key submitted before and submitted again: its old task may still
	// wait in the queue (pending on a dependency that failed, which Slurm
	// never satisfies); cancel it so that only the new one runs.
	if len(stale) > 0 {
		_, _ = slurmRun(ctx, "scancel", stale...)
	}
	stamp := time.Now().UTC().Format("20060102T150405.000")
	for _, stage := range Stages {
		var jobs []*Job
		for _, j := range p.Jobs {
			if j.Stage == stage && want[j.Key] {
				jobs = append(jobs, j)
			}
		}
		if len(jobs) == 0 {
			continue
		}
		var res Resources
		after := map[string]bool{}
		var list strings.Builder
		for _, j := range jobs {
			r := j.Resources
			res.CPUs, res.MemMiB, res.GPUs, res.Time = max(res.CPUs, r.CPUs, 1), max(res.MemMiB, r.MemMiB), max(res.GPUs, r.GPUs), max(res.Time, r.Time)
			for _, d := range j.Deps() {
				if done(root, d) {
					continue
				}
				id, ok := ids[d]
				if !ok {
					return fmt.Errorf("grid: %s needs %s, which is neither done nor submitted", j.Name, short(d))
				}
				after[strings.SplitN(id, "_", 2)[0]] = true
			}
			list.WriteString(j.Key + "\n")
		}
		base := fmt.Sprintf("%s-%s", stamp, stage)
		keysPath := filepath.Join(absRoot, slurmDir, base+".keys")
		if err := atomicfile.WriteFile(keysPath, []byte(list.String())); err != nil {
			return fmt.Errorf("grid: %w", err)
		}
		var b strings.Builder
		b.WriteString("#!/bin/bash\n")
		fmt.Fprintf(&b, "#SBATCH --job-name=unetlab-%s\n#SBATCH --array=0-%d\n#SBATCH --cpus-per-task=%d\n#SBATCH --requeue\n#SBATCH --output=/dev/null\n",
			stage, len(jobs)-1, res.CPUs)
		if res.MemMiB > 0 {
			fmt.Fprintf(&b, "#SBATCH --mem=%dM\n", res.MemMiB)
		}
		if res.GPUs > 0 {
			fmt.Fprintf(&b, "#SBATCH --gres=gpu:%d\n", res.GPUs)
		}
		if res.Time > 0 {
			fmt.Fprintf(&b, "#SBATCH --time=%s\n", slurmTime(res.Time))
		}
		if s.Partition != "" {
			fmt.Fprintf(&b, "#SBATCH --partition=%s\n", s.Partition)
		}
		if len(after) > 0 {
			deps := slices.Sorted(func(yield func(string) bool) {
				for id := range after {
					if !yield(id) {
						return
					}
				}
			})
			fmt.Fprintf(&b, "#SBATCH --dependency=afterok:%s\n", strings.Join(deps, ":"))
		}
		fmt.Fprintf(&b, "key=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" %s)\n", shellQuote(keysPath))
		fmt.Fprintf(&b, "log=%s/jobs/$key/log\n", shellQuote(absRoot))
		b.WriteString("echo \"slurm: job ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} on $(hostname), restart ${SLURM_RESTART_COUNT:-0}\" >>\"$log\"\n")
		var c []string
		for _, a := range append(slices.Clone(cmd), "worker", "--root", absRoot) {
			c = append(c, shellQuote(a))
		}
		fmt.Fprintf(&b, "exec %s \"$key\" >>\"$log\" 2>&1\n", strings.Join(c, " "))
		script := filepath.Join(absRoot, slurmDir, base+".sh")
		if err := atomicfile.WritePerm(script, 0o755, func(w io.Writer) error {
			_, err := io.WriteString(w, b.String())
			return err
		}); err != nil {
			return fmt.Errorf("grid: %w", err)
		}
		args := append([]string{"--parsable"}, s.Args...)
		out, err := slurmRun(ctx, "sbatch", append(args, script)...)
		if err != nil {
			return err
		}
		id := strings.SplitN(strings.TrimSpace(out), ";", 2)[0]
		if _, err := strconv.Atoi(id); err != nil {
			return fmt.Errorf("grid: sbatch %s printed %q, want a job id", script, out)
		}
		for i, j := range jobs {
			ids[j.Key] = fmt.Sprintf("%s_%d", id, i)
		}
		if err := writeJSON(filepath.Join(dir, slurmJobsFile), ids); err != nil {
			return err
		}
	}
	return nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// arrays returns the submitted array job ids of root, and key by task id.
func slurmJobs(root string) (arrays []string, byTask map[string]string) {
	ids := map[string]string{}
	_ = readJSON(filepath.Join(root, slurmDir, slurmJobsFile), &ids)
	byTask = map[string]string{}
	seen := map[string]bool{}
	for k, id := range ids {
		byTask[id] = k
		a := strings.SplitN(id, "_", 2)[0]
		if !seen[a] {
			seen[a] = true
			arrays = append(arrays, a)
		}
	}
	slices.Sort(arrays)
	return arrays, byTask
}

// Active asks squeue for the submitted tasks that are pending or running;
// a task that left the queue without a result is asked of scontrol (and
// sacct, where accounting is on) for its end state and reported failed.
func (s *Slurm) Active(ctx context.Context, root string) (map[string]Activity, error) {
	out := map[string]Activity{}
	arrays, byTask := slurmJobs(root)
	if len(arrays) == 0 {
		return out, nil
	}
	q, err := slurmRun(ctx, "squeue", "-h", "-r", "-o", "%i|%T|%r", "--jobs="+strings.Join(arrays, ","))
	if err != nil && !strings.Contains(err.Error(), "Invalid job id") {
		return nil, err
	}
	for _, line := range strings.Split(strings.TrimSpace(q), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 3 {
			continue
		}
		k, ok := byTask[f[0]]
		if !ok {
			continue
		}
		a := Activity{State: Queued, Detail: fmt.Sprintf("slurm %s %s (%s)", f[0], strings.ToLower(f[1]), f[2])}
		switch f[1] {
		case "RUNNING", "COMPLETING", "CONFIGURING", "SIGNALING", "STAGE_OUT":
			a.State, a.Detail = Running, fmt.Sprintf("slurm %s", f[0])
		}
		if f[2] == "DependencyNeverSatisfied" {
			a.State = Failed
		}
		out[k] = a
	}
	for id, k := range byTask {
		if _, ok := out[k]; ok || done(root, k) {
			continue
		}
		if state := endState(ctx, id); state != "" {
			out[k] = Activity{State: Failed, Detail: fmt.Sprintf("slurm %s %s", id, strings.ToLower(state))}
		}
	}
	return out, nil
}

// endState returns a finished task's Slurm state (FAILED, CANCELLED,
// TIMEOUT, OUT_OF_MEMORY, ...), "" when Slurm no longer knows it.
func endState(ctx context.Context, id string) string {
	if out, err := slurmRun(ctx, "scontrol", "-o", "show", "job", id); err == nil {
		for _, f := range strings.Fields(out) {
			if v, ok := strings.CutPrefix(f, "JobState="); ok {
				return v
			}
		}
	}
	if out, err := slurmRun(ctx, "sacct", "-n", "-P", "-X", "-o", "State", "-j", id); err == nil {
		if f := strings.Fields(out); len(f) > 0 {
			return f[0]
		}
	}
	return ""
}

// Cancel runs scancel on every array of root (their tasks get SIGTERM:
// train checkpoints and exits).
func (s *Slurm) Cancel(ctx context.Context, root string) error {
	arrays, _ := slurmJobs(root)
	if len(arrays) == 0 {
		return nil
	}
	_, err := slurmRun(ctx, "scancel", arrays...)
	return err
}
