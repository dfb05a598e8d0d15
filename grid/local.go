package grid

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Files of the local executor, in root/local/.
const (
	localDir   = "local"
	queueFile  = "queue.json"     // keys the scheduler is to run
	lockFile   = "scheduler.lock" // flock held by the live scheduler
	schedLog   = "scheduler.log"
	workerFile = "worker.json" // in a job's folder: its worker's process
	// maxRequeue is how often the scheduler restarts a worker killed by a
	// signal (as Slurm's --requeue would) before it calls the job failed.
	maxRequeue = 3
)

// Local runs jobs as worker processes on this machine, as many at once as
// its CPUs allow (each job takes Resources.CPUs). Submit starts a detached
// scheduler process (its own session, setsid) that starts the workers,
// also detached: they outlive the process that submitted them (a notebook
// kernel that restarts), their state is in files, and any later process
// attaches to them with ReadStatus or Wait. A worker killed by a signal is
// started again and resumes from its checkpoint.
type Local struct {
	// Command is the program and leading arguments of the grid
	// subcommands; nil means this executable with "grid" (`unetlab grid`).
	// The scheduler runs Command + ["schedule", ...], a worker Command +
	// ["worker", ...].
	Command []string
	// CPUs is the number of CPUs the jobs share (0 means all of this
	// machine's).
	CPUs int
	// MemMiB is the memory the jobs share, by their Resources.MemMiB (0
	// means 90% of this machine's).
	MemMiB int
	// GPUs is the number of GPUs the jobs share, by their Resources.GPUs
	// (0 means those the NVIDIA driver lists); a job is given its devices
	// in CUDA_VISIBLE_DEVICES.
	GPUs int
}

// Name returns "local".
func (l *Local) Name() string { return "local" }

func (l *Local) command() ([]string, error) {
	if l.Command != nil {
		return l.Command, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("grid: local executor: %w", err)
	}
	return []string{exe, "grid"}, nil
}

func (l *Local) cpus() int {
	if l.CPUs > 0 {
		return l.CPUs
	}
	return runtime.NumCPU()
}

func (l *Local) mem() int {
	if l.MemMiB > 0 {
		return l.MemMiB
	}
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return math.MaxInt32
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kib, _ := strconv.Atoi(f[1])
			return kib / 1024 * 9 / 10
		}
	}
	return math.MaxInt32
}

func (l *Local) gpus() int {
	if l.GPUs > 0 {
		return l.GPUs
	}
	d, _ := os.ReadDir("/proc/driver/nvidia/gpus")
	return len(d)
}

// budget is what the running jobs hold of the machine.
type budget struct {
	cpus, mem int
	gpus      []bool // in use, by device index
}

// fits reports whether r fits beside what is held; a job alone always
// fits, except one that asks for more GPUs than there are.
func (b *budget) fits(l *Local, r Resources) bool {
	free := 0
	for _, u := range b.gpus {
		if !u {
			free++
		}
	}
	if r.GPUs > free {
		return false
	}
	if b.cpus == 0 {
		return true
	}
	return b.cpus+max(r.CPUs, 1) <= l.cpus() && b.mem+r.MemMiB <= l.mem()
}

// take holds r and returns the GPU devices given to it.
func (b *budget) take(r Resources, devices []int) []int {
	b.cpus += max(r.CPUs, 1)
	b.mem += r.MemMiB
	if devices != nil {
		for _, d := range devices {
			if d < len(b.gpus) {
				b.gpus[d] = true
			}
		}
		return devices
	}
	var out []int
	for d := range b.gpus {
		if len(out) < r.GPUs && !b.gpus[d] {
			b.gpus[d] = true
			out = append(out, d)
		}
	}
	return out
}

// Submit adds keys to the scheduler's queue and starts a scheduler (one
// that finds another holding the lock waits for it, then runs what is
// left). It returns once a scheduler holds the queue.
func (l *Local) Submit(ctx context.Context, root string, p *Plan, keys []string) error {
	cmd, err := l.command()
	if err != nil {
		return err
	}
	dir := filepath.Join(root, localDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("grid: %w", err)
	}
	err = updateQueue(dir, func(q []string) []string {
		for _, k := range keys {
			if !slices.Contains(q, k) {
				q = append(q, k)
			}
		}
		return q
	})
	if err != nil {
		return err
	}
	log, err := os.OpenFile(filepath.Join(dir, schedLog), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("grid: %w", err)
	}
	defer log.Close()
	args := append(slices.Clone(cmd[1:]), "schedule", "--root", root, "--cpus", strconv.Itoa(l.cpus()))
	c := exec.Command(cmd[0], args...)
	c.Stdout, c.Stderr = log, log
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := c.Start(); err != nil {
		return fmt.Errorf("grid: starting the local scheduler: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()
	for {
		if schedulerAlive(root) {
			return nil
		}
		select {
		case err := <-exited:
			if err != nil {
				return fmt.Errorf("grid: the local scheduler exited: %w (see %s)", err, filepath.Join(dir, schedLog))
			}
			return nil // it ran everything already
		case <-ctx.Done():
			return fmt.Errorf("grid: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// updateQueue replaces the queue in dir with what f makes of it, under an
// exclusive flock of queueFile's lock file, so two Submits (or a Submit and
// a Cancel) from different processes never lose each other's keys. The
// scheduler only reads the queue; the file is replaced atomically, so it
// sees the old queue or the new one.
func updateQueue(dir string, f func(q []string) []string) error {
	lf, err := os.OpenFile(filepath.Join(dir, queueFile+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("grid: %w", err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("grid: locking the queue: %w", err)
	}
	defer syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)
	var q []string
	if err := readJSON(filepath.Join(dir, queueFile), &q); err != nil && !notExist(err) {
		return err
	}
	return writeJSON(filepath.Join(dir, queueFile), f(q))
}

// schedulerAlive reports whether a scheduler holds root's lock.
func schedulerAlive(root string) bool {
	f, err := os.OpenFile(filepath.Join(root, localDir, lockFile), os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return true
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// workerProc is a job's worker process as worker.json records it.
type workerProc struct {
	PID     int
	Start   string // the process's start time in clock ticks (/proc/PID/stat field 22)
	Started time.Time
	GPUs    []int `json:",omitempty"` // the devices it was given
}

// procStart returns a process's start time in clock ticks, "" when it does
// not run (or is a zombie).
func procStart(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 || f[0] == "Z" {
		return ""
	}
	return f[19]
}

// alive reports whether the recorded worker of a job still runs.
func (w *workerProc) alive() bool { return w.PID > 0 && procStart(w.PID) == w.Start }

func readWorker(root, key string) (*workerProc, bool) {
	w := new(workerProc)
	if err := readJSON(filepath.Join(JobDir(root, key), workerFile), w); err != nil {
		return nil, false
	}
	return w, w.alive()
}

// Active reports the jobs with a live worker as running and, while a
// scheduler lives, the rest of its queue as queued.
func (l *Local) Active(ctx context.Context, root string) (map[string]Activity, error) {
	out := map[string]Activity{}
	var q []string
	_ = readJSON(filepath.Join(root, localDir, queueFile), &q)
	sched := schedulerAlive(root)
	for _, k := range q {
		if w, ok := readWorker(root, k); ok {
			out[k] = Activity{State: Running, Detail: fmt.Sprintf("pid %d", w.PID)}
		} else if sched && !done(root, k) {
			if _, failed := readFailure(root, k); !failed {
				out[k] = Activity{State: Queued}
			}
		}
	}
	return out, nil
}

// Cancel stops the scheduler and sends SIGTERM to every worker of root's
// queue (train checkpoints the step it is in and exits), then empties the
// queue.
func (l *Local) Cancel(ctx context.Context, root string) error {
	dir := filepath.Join(root, localDir)
	var q []string
	err := updateQueue(dir, func(old []string) []string {
		q = old
		return []string{}
	})
	if err != nil {
		return err
	}
	var s workerProc
	if readJSON(filepath.Join(dir, "scheduler.json"), &s) == nil && s.alive() {
		syscall.Kill(s.PID, syscall.SIGTERM)
	}
	var live []*workerProc
	for _, k := range q {
		if w, ok := readWorker(root, k); ok {
			syscall.Kill(-w.PID, syscall.SIGTERM)
			live = append(live, w)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, w := range live {
		for w.alive() && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if w.alive() {
			syscall.Kill(-w.PID, syscall.SIGKILL)
		}
	}
	return nil
}

// Schedule is the local scheduler (`unetlab grid schedule`): it takes
// root's lock (waiting while another scheduler holds it), then runs the
// queued jobs whose dependencies are done, as many at once as cpus allow,
// until none is left that can run. Workers that an earlier scheduler
// started and that still run are waited for, not started twice. SIGTERM
// stops it without starting more.
func (l *Local) Schedule(ctx context.Context, root string) error {
	cmd, err := l.command()
	if err != nil {
		return err
	}
	dir := filepath.Join(root, localDir)
	lf, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("grid: %w", err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("grid: scheduler lock: %w", err)
	}
	defer syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)
	me := workerProc{PID: os.Getpid(), Start: procStart(os.Getpid()), Started: time.Now().UTC()}
	if err := writeJSON(filepath.Join(dir, "scheduler.json"), me); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	type exit struct {
		key string
		err error
	}
	exits := make(chan exit)
	children := map[string]*exec.Cmd{}
	kills := map[string]int{}
	logf := func(format string, args ...any) {
		fmt.Printf("%s %s\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
	}
	for {
		var q []string
		_ = readJSON(filepath.Join(dir, queueFile), &q)
		started := 0
		used := &budget{gpus: make([]bool, l.gpus())}
		running := map[string]bool{}
		var devices = map[string][]int{}
		for _, k := range q {
			if _, ok := children[k]; ok {
				running[k] = true
			} else if w, ok := readWorker(root, k); ok {
				running[k] = true // an earlier scheduler's worker
				devices[k] = w.GPUs
			}
		}
		jobs := map[string]*Job{}
		for _, k := range q {
			if j, err := ReadJob(root, k); err == nil {
				jobs[k] = j
				if running[k] {
					d := devices[k]
					if c, ok := children[k]; ok {
						d = gpusOf(c)
					}
					used.take(j.Resources, append([]int{}, d...))
				}
			}
		}
		runnable := 0
		for _, k := range q {
			j := jobs[k]
			if j == nil || running[k] || done(root, k) {
				continue
			}
			if _, failed := readFailure(root, k); failed {
				continue
			}
			ready, blocked := true, false
			for _, d := range j.Deps() {
				if !done(root, d) {
					ready = false
					if _, f := readFailure(root, d); f || (!slices.Contains(q, d)) {
						blocked = true
					}
				}
			}
			if blocked || ctx.Err() != nil {
				continue
			}
			runnable++
			if j.Resources.GPUs > len(used.gpus) {
				_ = writeJSON(filepath.Join(JobDir(root, k), FailedFile), Failure{Error: fmt.Sprintf("asks for %d GPUs, this machine has %d", j.Resources.GPUs, len(used.gpus)), Finished: time.Now().UTC()})
				continue
			}
			if !ready || !used.fits(l, j.Resources) {
				continue
			}
			c, err := startWorker(cmd, root, k, used.take(j.Resources, nil))
			if err != nil {
				logf("%s: %v", j.Name, err)
				_ = writeJSON(filepath.Join(JobDir(root, k), FailedFile), Failure{Error: err.Error(), Finished: time.Now().UTC()})
				continue
			}
			logf("started %s %s (pid %d)", short(k), j.Name, c.Process.Pid)
			children[k] = c
			started++
			go func(k string, c *exec.Cmd) { exits <- exit{k, c.Wait()} }(k, c)
		}
		orphans := len(running) - (len(children) - started)
		if len(children) == 0 && orphans == 0 && (runnable == 0 || ctx.Err() != nil) {
			logf("nothing left to run")
			return nil
		}
		select {
		case e := <-exits:
			delete(children, e.key)
			var ee *exec.ExitError
			switch {
			case e.err == nil:
				logf("%s finished", short(e.key))
			case errors.As(e.err, &ee) && ee.ExitCode() == -1 && ctx.Err() == nil:
				// Killed by a signal: run it again (it resumes), as
				// Slurm's --requeue would.
				kills[e.key]++
				logf("%s killed (%v), attempt %d of %d", short(e.key), e.err, kills[e.key], maxRequeue)
				if kills[e.key] >= maxRequeue {
					_ = writeJSON(filepath.Join(JobDir(root, e.key), FailedFile), Failure{Error: fmt.Sprintf("killed %d times, last: %v", kills[e.key], e.err), Finished: time.Now().UTC()})
				}
			default:
				logf("%s failed: %v", short(e.key), e.err)
				if _, ok := readFailure(root, e.key); !ok && ctx.Err() == nil {
					_ = writeJSON(filepath.Join(JobDir(root, e.key), FailedFile), Failure{Error: fmt.Sprintf("worker: %v (see the log)", e.err), Finished: time.Now().UTC()})
				}
			}
		case <-ctx.Done():
			for _, c := range children {
				syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
			}
			if len(children) == 0 {
				return nil
			}
			e := <-exits
			delete(children, e.key)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// startWorker starts a detached worker for key, its output appended to
// the job's log, and records it in worker.json.
func startWorker(cmd []string, root, key string, gpus []int) (*exec.Cmd, error) {
	log, err := os.OpenFile(filepath.Join(JobDir(root, key), LogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	args := append(slices.Clone(cmd[1:]), "worker", "--root", root, key)
	c := exec.Command(cmd[0], args...)
	c.Stdout, c.Stderr = log, log
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if len(gpus) > 0 {
		var ids []string
		for _, d := range gpus {
			ids = append(ids, strconv.Itoa(d))
		}
		c.Env = append(os.Environ(), "CUDA_VISIBLE_DEVICES="+strings.Join(ids, ","))
	}
	if err := c.Start(); err != nil {
		return nil, err
	}
	w := workerProc{PID: c.Process.Pid, Start: procStart(c.Process.Pid), Started: time.Now().UTC(), GPUs: gpus}
	if err := writeJSON(filepath.Join(JobDir(root, key), workerFile), w); err != nil {
		return c, err
	}
	return c, nil
}

// gpusOf returns the devices a worker was started with.
func gpusOf(c *exec.Cmd) []int {
	for _, e := range c.Env {
		if v, ok := strings.CutPrefix(e, "CUDA_VISIBLE_DEVICES="); ok {
			var out []int
			for _, f := range strings.Split(v, ",") {
				if d, err := strconv.Atoi(f); err == nil {
					out = append(out, d)
				}
			}
			return out
		}
	}
	return nil
}
