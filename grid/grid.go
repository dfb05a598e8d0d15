package grid

import (
	"context"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/internal/atomicfile"
	"github.com/unetlab/unetlab/stats"
	"github.com/unetlab/unetlab/train"
	"github.com/unetlab/unetlab/train/search"
)

// State is where a job stands.
type State string

// Job states, as Status reports them.
const (
	Done    State = "done"    // result.json is there
	Running State = "running" // a worker runs it
	Queued  State = "queued"  // the executor will run it (waiting for a slot or its dependencies)
	Pending State = "pending" // not submitted
	Failed  State = "failed"  // its last attempt failed (failed.json, or the executor says so)
	Blocked State = "blocked" // a job it depends on failed
)

// Activity is what an executor knows of a job it has in flight.
type Activity struct {
	State  State  // Running, Queued or Failed
	Detail string // a process id, a Slurm job id and reason, a Slurm end state
}

// Executor runs a plan's jobs: the local one (worker processes on this
// machine) or Slurm (sbatch job arrays). Jobs keep their state in files
// under the grid's root, so any process can ask where they stand.
type Executor interface {
	// Name is "local" or "slurm".
	Name() string
	// Submit starts the jobs of keys, none of them done; every dependency
	// of one is done, in flight, or among keys.
	Submit(ctx context.Context, root string, p *Plan, keys []string) error
	// Active returns the jobs the executor has in flight or saw fail, by
	// key.
	Active(ctx context.Context, root string) (map[string]Activity, error)
	// Cancel stops every job of root in flight; their checkpoints stay, so
	// a later run resumes them.
	Cancel(ctx context.Context, root string) error
}

// RunOptions configures Run. nil means the local executor, every job.
type RunOptions struct {
	Executor Executor // nil means &Local{}
	// Only runs just these jobs (keys or unique key prefixes), for example
	// a failed one alone; nil means every job of the plan.
	Only []string
	// Stages runs just the jobs of these stages and the jobs they depend
	// on (a fold's search, a final model's epoch count); nil means every
	// stage. Notebook 02 runs the search and fold stages of the paper's
	// grid, 03 the final models (with the searches they need).
	Stages []Stage
}

// closure returns the keys of p's jobs of the given stages and of every job
// they depend on, directly or not; nil stages give nil (every job).
func closure(p *Plan, stages []Stage) map[string]bool {
	if stages == nil {
		return nil
	}
	out := map[string]bool{}
	var add func(key string)
	add = func(key string) {
		if out[key] {
			return
		}
		out[key] = true
		if j := p.Job(key); j != nil {
			for _, d := range j.Deps() {
				add(d)
			}
		}
	}
	for _, j := range p.Jobs {
		if slices.Contains(stages, j.Stage) {
			add(j.Key)
		}
	}
	return out
}

// Report says what Run did with each job of the plan.
type Report struct {
	Reused   []*Job // found done by key: nothing to run
	Attached []*Job // already in flight (from an earlier run): left running
	Started  []*Job // submitted now
}

// String lists the counts, then each job: reused (found by key), running
// (attached to) or started.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d reused, %d already running, %d started", len(r.Reused), len(r.Attached), len(r.Started))
	r.each(func(what string, j *Job) { fmt.Fprintf(&b, "\n%s %s %s", what, short(j.Key), j.Name) })
	return b.String()
}

// each calls f for every job of the report: reused, then running, then
// started.
func (r *Report) each(f func(what string, j *Job)) {
	for _, l := range []struct {
		what string
		jobs []*Job
	}{{"reused", r.Reused}, {"running", r.Attached}, {"started", r.Started}} {
		for _, j := range l.jobs {
			f(l.what, j)
		}
	}
}

// Render shows the report in a notebook: the counts, and the jobs started.
func (r *Report) Render() display.Bundle {
	var h strings.Builder
	fmt.Fprintf(&h, "<p>grid: %d reused (found by key), %d already running, %d started</p>\n<ul>\n", len(r.Reused), len(r.Attached), len(r.Started))
	r.each(func(what string, j *Job) {
		fmt.Fprintf(&h, "<li>%s <code>%s</code> %s</li>\n", what, short(j.Key), html.EscapeString(j.Name))
	})
	h.WriteString("</ul>\n")
	return display.Bundle{display.MIMEHTML: h.String(), display.MIMEText: r.String()}
}

// executorFile names the executor root's jobs were last run on.
const executorFile = "executor"

func executor(e Executor) Executor {
	if e == nil {
		return &Local{}
	}
	return e
}

// ExecutorOf returns the executor root's jobs were last run on, with its
// defaults: &Slurm{} or &Local{}.
func ExecutorOf(root string) Executor {
	b, _ := os.ReadFile(filepath.Join(root, executorFile))
	if strings.TrimSpace(string(b)) == "slurm" {
		return &Slurm{}
	}
	return &Local{}
}

// Run writes plan p into root and submits every job that has no result
// yet and is not in flight; jobs whose key has a result are reused, never
// run again. A job that failed before is submitted again (it resumes from
// its checkpoint). Run returns once the jobs are submitted; Wait follows
// them.
func Run(ctx context.Context, root string, p *Plan, opt *RunOptions) (*Report, error) {
	if opt == nil {
		opt = &RunOptions{}
	}
	ex := executor(opt.Executor)
	if err := WritePlan(root, p); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(root, executorFile), []byte(ex.Name()+"\n")); err != nil {
		return nil, fmt.Errorf("grid: %w", err)
	}
	only, err := resolveKeys(p, opt.Only)
	if err != nil {
		return nil, err
	}
	if sel := closure(p, opt.Stages); sel != nil {
		if only == nil {
			only = sel
		}
		for k := range only {
			if !sel[k] {
				delete(only, k)
			}
		}
	}
	active, err := ex.Active(ctx, root)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	var keys []string
	for _, j := range p.Jobs {
		a, inFlight := active[j.Key]
		switch {
		case done(root, j.Key):
			rep.Reused = append(rep.Reused, j)
		case only != nil && !only[j.Key]:
		case inFlight && a.State != Failed:
			rep.Attached = append(rep.Attached, j)
		default:
			os.Remove(filepath.Join(JobDir(root, j.Key), FailedFile))
			rep.Started = append(rep.Started, j)
			keys = append(keys, j.Key)
		}
	}
	if len(keys) > 0 {
		if err := ex.Submit(ctx, root, p, keys); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// resolveKeys expands keys or unique prefixes of p's keys; nil gives nil.
func resolveKeys(p *Plan, prefixes []string) (map[string]bool, error) {
	if prefixes == nil {
		return nil, nil
	}
	out := map[string]bool{}
	for _, pre := range prefixes {
		var found []string
		for _, j := range p.Jobs {
			if strings.HasPrefix(j.Key, pre) {
				found = append(found, j.Key)
			}
		}
		if len(found) != 1 || pre == "" {
			return nil, fmt.Errorf("%w: %q matches %d jobs of the plan, want 1", ErrPlan, pre, len(found))
		}
		out[found[0]] = true
	}
	return out, nil
}

// JobStatus is one job's line of a Status.
type JobStatus struct {
	Job    *Job
	State  State
	Detail string
	// Epochs is the number of epochs its training record holds so far (a
	// pending job that was cancelled shows those it resumes from), Of
	// the number planned (a search's trials times their epochs; the cap of
	// a StageEpochs job; 0 for a final model before its count is chosen).
	Epochs, Of int
	// Log is the tail of a failed job's log.
	Log string `json:",omitempty"`
}

// Status is where every job of a grid stands. It renders as a table in a
// notebook.
type Status struct {
	Root     string
	Executor string
	Jobs     []JobStatus
	Time     time.Time
}

// Count returns the number of jobs in state s.
func (s *Status) Count(st State) int {
	n := 0
	for _, j := range s.Jobs {
		if j.State == st {
			n++
		}
	}
	return n
}

// Finished reports whether nothing is running or queued any more.
func (s *Status) Finished() bool { return s.Count(Running) == 0 && s.Count(Queued) == 0 }

// Summary is one line of counts.
func (s *Status) Summary() string {
	var parts []string
	for _, st := range []State{Done, Running, Queued, Pending, Failed, Blocked} {
		if n := s.Count(st); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	return fmt.Sprintf("%s (%s): %d jobs: %s", s.Root, s.Executor, len(s.Jobs), strings.Join(parts, ", "))
}

// ReadStatus reports where every job of root's plan stands, from its files
// and from what the executor has in flight.
func ReadStatus(ctx context.Context, root string, ex Executor) (*Status, error) {
	ex = executor(ex)
	p, err := ReadPlan(root)
	if err != nil {
		return nil, err
	}
	active, err := ex.Active(ctx, root)
	if err != nil {
		return nil, err
	}
	st := &Status{Root: root, Executor: ex.Name(), Time: time.Now()}
	state := map[string]State{}
	for _, j := range p.Jobs {
		js := JobStatus{Job: j, State: Pending}
		a, inFlight := active[j.Key]
		f, failed := readFailure(root, j.Key)
		switch {
		case done(root, j.Key):
			js.State = Done
		case inFlight && a.State != Failed:
			js.State, js.Detail = a.State, a.Detail
		case failed:
			js.State, js.Detail = Failed, f.Error
		case inFlight:
			js.State, js.Detail = Failed, a.Detail
		}
		for _, d := range j.Deps() {
			if s := state[d]; (s == Failed || s == Blocked) && js.State != Done {
				js.State, js.Detail = Blocked, fmt.Sprintf("needs %s (%s)", short(d), s)
			}
		}
		if js.State == Failed {
			js.Log = LogTail(root, j.Key, 15)
		}
		js.Epochs = recordEpochs(root, j)
		js.Of = plannedEpochs(root, j)
		state[j.Key] = js.State
		st.Jobs = append(st.Jobs, js)
	}
	return st, nil
}

// plannedEpochs is the number of epochs j trains in all.
func plannedEpochs(root string, j *Job) int {
	switch {
	case j.Search != nil:
		return j.Search.Trials * j.Search.Epochs
	case j.EpochsFrom != "":
		if r, err := ReadResult(root, j.EpochsFrom); err == nil {
			return r.Epochs
		}
		return 0
	}
	return j.Epochs
}

// recordEpochs counts the epochs a job's run (or its search's trials) holds.
func recordEpochs(root string, j *Job) int {
	if j.Stage != StageSearch {
		if r, err := ReadRun(root, j.Key); err == nil {
			return len(r.Epochs)
		}
		return 0
	}
	n := 0
	dirs, _ := filepath.Glob(filepath.Join(JobDir(root, j.Key), "trials", "*"))
	for _, d := range dirs {
		if r, err := train.ReadRun(d); err == nil {
			n += len(r.Epochs)
		}
	}
	return n
}

// Render shows the status as a table (HTML and text), failed jobs with
// their log's tail.
func (s *Status) Render() display.Bundle {
	var h, t strings.Builder
	fmt.Fprintf(&h, "<p><b>grid</b> %s</p>\n<table>\n<tr><th>job</th><th>key</th><th>state</th><th>epochs</th><th>detail</th></tr>\n", html.EscapeString(s.Summary()))
	t.WriteString(s.Summary() + "\n")
	for _, j := range s.Jobs {
		ep := fmt.Sprintf("%d/%d", j.Epochs, j.Of)
		if j.Of == 0 {
			ep = fmt.Sprintf("%d/?", j.Epochs)
		}
		fmt.Fprintf(&h, "<tr><td>%s</td><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			html.EscapeString(j.Job.Name), short(j.Job.Key), j.State, ep, html.EscapeString(j.Detail))
		fmt.Fprintf(&t, "%-9s %s %-34s epochs %7s %s\n", j.State, short(j.Job.Key), j.Job.Name, ep, j.Detail)
	}
	h.WriteString("</table>\n")
	for _, j := range s.Jobs {
		if j.State == Failed && j.Log != "" {
			fmt.Fprintf(&h, "<p>%s failed; its log ends:</p><pre>%s</pre>\n", html.EscapeString(j.Job.Name), html.EscapeString(j.Log))
			fmt.Fprintf(&t, "--- %s failed; its log ends:\n%s\n", j.Job.Name, j.Log)
		}
	}
	return display.Bundle{display.MIMEHTML: h.String(), display.MIMEText: t.String()}
}

// WaitOptions configures Wait. nil means the local executor, a poll every
// second, a live table in a notebook and nothing elsewhere.
type WaitOptions struct {
	Executor Executor
	Every    time.Duration // 0 means 1 s
	// Quiet shows nothing; otherwise a live status table inside the
	// kernel (display.ShowLive).
	Quiet bool
	// Stages limits the status shown and returned to the jobs of these
	// stages and those they depend on (as RunOptions.Stages selects them);
	// nil means every job of the plan.
	Stages []Stage
}

// Wait follows root's jobs until none is running or queued and returns
// the last status; a job that failed does not stop it (its dependants are
// blocked). A cancelled ctx returns at once, leaving the jobs running: a
// later Wait (from a new kernel too) attaches to them again.
func Wait(ctx context.Context, root string, opt *WaitOptions) (*Status, error) {
	if opt == nil {
		opt = &WaitOptions{}
	}
	every := opt.Every
	if every == 0 {
		every = time.Second
	}
	var live *display.Handle
	for {
		st, err := ReadStatus(ctx, root, opt.Executor)
		if err != nil {
			return nil, err
		}
		if opt.Stages != nil {
			p, err := ReadPlan(root)
			if err != nil {
				return nil, err
			}
			sel := closure(p, opt.Stages)
			st.Jobs = slices.DeleteFunc(st.Jobs, func(j JobStatus) bool { return !sel[j.Job.Key] })
		}
		if !opt.Quiet && display.Interactive() {
			if live == nil {
				live = display.ShowLive(st)
			} else {
				_ = live.Update(st)
			}
		}
		if st.Finished() {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("grid: waiting for %s: %w", root, ctx.Err())
		case <-time.After(every):
		}
	}
}

// Cancel stops root's jobs in flight on ex (nil: local); checkpoints stay.
func Cancel(ctx context.Context, root string, ex Executor) error {
	return executor(ex).Cancel(ctx, root)
}

// Collection holds the results of a grid's plan that are done.
type Collection struct {
	Root    string
	Plan    *Plan
	Results map[string]*Result // by key
	Missing []*Job             // jobs without a result
}

// Collect reads the results of root's plan.
func Collect(root string) (*Collection, error) {
	p, err := ReadPlan(root)
	if err != nil {
		return nil, err
	}
	c := &Collection{Root: root, Plan: p, Results: map[string]*Result{}}
	for _, j := range p.Jobs {
		r, err := ReadResult(root, j.Key)
		switch {
		case err == nil:
			c.Results[j.Key] = r
		case notExist(err):
			c.Missing = append(c.Missing, j)
		default:
			return nil, err
		}
	}
	return c, nil
}

// CV returns the cross-validation of every design on task, in the plan's
// order of designs, for train.Table1Rows and viz: each fold's scores and
// training record. Designs with a fold missing are left out.
func (c *Collection) CV(task string) ([]*train.CVResult, error) {
	var out []*train.CVResult
	byDesign := map[string]*train.CVResult{}
	incomplete := map[string]bool{}
	for _, j := range c.Plan.Jobs {
		if j.Stage != StageFold || j.Task != task {
			continue
		}
		cv, ok := byDesign[j.Design]
		if !ok {
			cv = &train.CVResult{Model: j.Design, Config: j.Model, Epoch: stats.EpochBest} // a job scores its best epoch (work.go)
			byDesign[j.Design] = cv
			out = append(out, cv)
		}
		r, ok := c.Results[j.Key]
		if !ok {
			incomplete[j.Design] = true
			continue
		}
		run, err := ReadRun(c.Root, j.Key)
		if err != nil {
			return nil, err
		}
		cv.Folds = append(cv.Folds, train.FoldResult{Fold: j.Fold - 1, Train: j.Train, Val: j.Val, Run: run,
			TrainDice: float64(r.TrainDice), ValDice: float64(r.ValDice)})
	}
	out = slices.DeleteFunc(out, func(r *train.CVResult) bool { return incomplete[r.Model] })
	return out, nil
}

// ScoreRow is one job's scores, free of timings: two runs of one plan (on
// two executors, say) give equal rows.
type ScoreRow struct {
	Key, Name          string
	LR                 float64
	Epochs, BestEpoch  int
	TrainDice, ValDice Score
	TestDice           []Score `json:",omitempty"`
	// Record lists the epoch numbers of the job's training record, in
	// order (each once, however often the job was interrupted), and Losses
	// its training losses.
	Record []int
	Losses []Score
}

// Scores returns a row per done job, in plan order.
func (c *Collection) Scores() []ScoreRow {
	var rows []ScoreRow
	for _, j := range c.Plan.Jobs {
		r, ok := c.Results[j.Key]
		if !ok {
			continue
		}
		row := ScoreRow{Key: j.Key, Name: j.Name, LR: r.LR, Epochs: r.Epochs, BestEpoch: r.BestEpoch,
			TrainDice: r.TrainDice, ValDice: r.ValDice, TestDice: r.TestDice}
		if run, err := ReadRun(c.Root, j.Key); err == nil {
			for _, e := range run.Epochs {
				row.Record = append(row.Record, e.Epoch)
				row.Losses = append(row.Losses, Score(e.TrainLoss))
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// TestRow is a final model's score on one foreground label of a task's
// held-out test cases.
type TestRow struct {
	Task, Design string
	Label        int // 1-based, as in the task's dataset.json
	// Dice and SurfaceDice (at SurfaceTolerance mm) are in [0, 1], HD95 in
	// mm: means over the test cases (see Result).
	Dice, HD95, SurfaceDice float64
	Cases                   int // held-out test cases scored
	// HD95Missed is how many of them HD95 leaves out: the label is in
	// only one of prediction and truth (see Result.TestHD95Missed).
	HD95Missed int
}

// Tests returns the test scores of every final model that is done, one row
// per task, design and foreground label, in the plan's order of tasks and
// designs.
func (c *Collection) Tests() []TestRow {
	var rows []TestRow
	for _, j := range c.Plan.Jobs {
		r, ok := c.Results[j.Key]
		if j.Stage != StageFinal || !ok {
			continue
		}
		for k, d := range r.TestDice {
			row := TestRow{Task: j.Task, Design: j.Design, Label: k + 1, Dice: float64(d),
				HD95: math.NaN(), SurfaceDice: math.NaN(), Cases: len(r.TestCases)}
			if k < len(r.TestHD95) {
				row.HD95 = float64(r.TestHD95[k])
			}
			if k < len(r.TestHD95Missed) {
				row.HD95Missed = r.TestHD95Missed[k]
			}
			if k < len(r.TestSurfaceDice) {
				row.SurfaceDice = float64(r.TestSurfaceDice[k])
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// Table2 lays the final models' test Dice out as the paper's Table 2 (for
// stats.ScoreTable.AverageRanks, viz.Table2 and viz.LabelBars): a row per
// task and label ("L1" is label 1), a column per final design, tasks and
// designs in the plan's order. Only tasks where every final design is done
// are included; an error says when none is.
func (c *Collection) Table2() (*stats.ScoreTable, error) {
	var designs, tasks []string
	for _, j := range c.Plan.Jobs {
		if j.Stage != StageFinal {
			continue
		}
		if !slices.Contains(designs, j.Design) {
			designs = append(designs, j.Design)
		}
		if !slices.Contains(tasks, j.Task) {
			tasks = append(tasks, j.Task)
		}
	}
	score := map[[3]string]float64{}
	labels := map[string]int{}
	count := map[string]int{}
	seen := map[[2]string]bool{}
	for _, r := range c.Tests() {
		score[[3]string{r.Task, r.Design, fmt.Sprint(r.Label)}] = r.Dice
		labels[r.Task] = max(labels[r.Task], r.Label)
		if !seen[[2]string{r.Task, r.Design}] {
			seen[[2]string{r.Task, r.Design}] = true
			count[r.Task]++
		}
	}
	t := &stats.ScoreTable{Title: "Test Dice per task and label (held-out split)", Models: designs}
	for _, task := range tasks {
		if count[task] != len(designs) {
			continue
		}
		for k := 1; k <= labels[task]; k++ {
			row := stats.ScoreRow{Task: task, Label: fmt.Sprintf("L%d", k)}
			for _, d := range designs {
				row.Scores = append(row.Scores, score[[3]string{task, d, fmt.Sprint(k)}])
			}
			t.Rows = append(t.Rows, row)
		}
	}
	if len(t.Rows) == 0 {
		return nil, fmt.Errorf("grid: %s: no task has every final model done (%d final designs)", c.Root, len(designs))
	}
	return t, nil
}

// Searches returns the learning-rate searches that are done, in plan
// order: the job and its result (Result.LR is the rate found,
// Result.Trials every trial in the order TPE asked for it).
func (c *Collection) Searches() []*SearchResult {
	var out []*SearchResult
	for _, j := range c.Plan.Jobs {
		if r, ok := c.Results[j.Key]; ok && j.Stage == StageSearch {
			out = append(out, &SearchResult{Job: j, Result: r})
		}
	}
	return out
}

// SearchResult is a done search job with its result.
type SearchResult struct {
	Job    *Job
	Result *Result
}

// Search returns the search as package train/search records it: its
// trials table renders in a notebook, and Plot draws the objective (the
// best validation foreground Dice of each trial) against the rate.
func (s *SearchResult) Search() *search.Result {
	r := &search.Result{Method: search.TPE, Trials: s.Result.Trials}
	if sp := s.Job.Search; sp != nil {
		r.Seed, r.Low, r.High = sp.Seed, sp.Low, sp.High
	}
	return r
}
