package grid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary serve as the local executor's scheduler
// and worker: Local{Command: {os.Args[0], "grid"}} runs it with
// "grid schedule ..." or "grid worker ...".
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "grid" {
		args := os.Args[2:]
		var root, key string
		for i := 1; i < len(args); i++ {
			switch {
			case args[i] == "--root" && i+1 < len(args):
				root = args[i+1]
				i++
			case args[i] == "--cpus" && i+1 < len(args):
				i++
			default:
				key = args[i]
			}
		}
		var err error
		switch args[0] {
		case "schedule":
			err = testLocal().Schedule(context.Background(), root)
		case "worker":
			err = Work(context.Background(), root, key)
		}
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func testLocal() *Local { return &Local{Command: []string{os.Args[0], "grid"}, CPUs: 2} }

// localRoot returns a grid root for the local executor whose cleanup
// first waits (up to a minute) for its scheduler and workers to exit: they
// still write their last log lines after a job's result is there.
func localRoot(t *testing.T) string {
	root := t.TempDir()
	t.Cleanup(func() {
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			busy := schedulerAlive(root)
			keys, _ := filepath.Glob(filepath.Join(root, JobsDir, "*"))
			for _, k := range keys {
				if _, ok := readWorker(root, filepath.Base(k)); ok {
					busy = true
				}
			}
			if !busy {
				return
			}
		}
	})
	return root
}

// testSpec is the integration suite's smoke grid, smaller: 16^3, 2 epochs.
func testSpec(t *testing.T, data string) *Spec {
	t.Helper()
	b, err := os.ReadFile("testdata/smoke.json")
	if err != nil {
		t.Fatal(err)
	}
	s := new(Spec)
	if err := json.Unmarshal(b, s); err != nil {
		t.Fatal(err)
	}
	s.Data = data
	s.Phantom.Shape = [3]int{20, 20, 16}
	s.InputSize, s.Epochs = 16, 2
	return s
}

func keysByName(p *Plan) map[string]string {
	m := map[string]string{}
	for _, j := range p.Jobs {
		m[j.Name] = j.Key
	}
	return m
}

// TestBuildInvalid: a Spec with a bad count or rate is refused before any
// task is opened, with ErrPlan and the field named.
func TestBuildInvalid(t *testing.T) {
	tests := []struct {
		field string
		set   func(s *Spec)
	}{
		{"Spec.Folds", func(s *Spec) { s.Folds = -1 }},
		{"Spec.Epochs", func(s *Spec) { s.Epochs = -2 }},
		{"Spec.InputSize", func(s *Spec) { s.InputSize = -16 }},
		{"Spec.BatchSize", func(s *Spec) { s.BatchSize = -1 }},
		{"Spec.Search.Trials", func(s *Spec) { s.Search.Trials = -1 }},
		{"Spec.Search.Epochs", func(s *Spec) { s.Search.Epochs = -1 }},
		{"Spec.Search.Low", func(s *Spec) { s.Search.Low = math.NaN() }},
		{"Spec.Search.High", func(s *Spec) { s.Search.High = -0.1 }},
		{"Spec.Final.MaxEpochs", func(s *Spec) { s.Final.MaxEpochs = -1 }},
		{"Spec.Final.Patience", func(s *Spec) { s.Final.Patience = -3 }},
		{`Spec.LR["U-net"]`, func(s *Spec) { s.LR = map[string]float64{"U-net": 0} }},
		{`Spec.LR["U-net"]`, func(s *Spec) { s.LR = map[string]float64{"U-net": math.Inf(1)} }},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			data := t.TempDir()
			s := testSpec(t, data)
			tt.set(s)
			_, err := Build(context.Background(), s, "")
			if !errors.Is(err, ErrPlan) || !strings.Contains(fmt.Sprint(err), tt.field+" ") {
				t.Fatalf("Build: %v, want ErrPlan naming %s", err, tt.field)
			}
			if entries, _ := os.ReadDir(data); len(entries) != 0 {
				t.Errorf("Build wrote %d entries into the data folder before refusing", len(entries))
			}
		})
	}
}

// TestBuildKeys: the plan's shape, its dependencies, and which keys change
// with which input.
func TestBuildKeys(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	cache := t.TempDir()
	base, err := Build(ctx, testSpec(t, data), cache)
	if err != nil {
		t.Fatal(err)
	}
	if got := base.Summary(); got != "10 jobs (search 2, fold 4, epochs 2, final 2)" {
		t.Fatalf("summary %q", got)
	}
	if err := base.check(); err != nil {
		t.Fatal(err)
	}
	k := keysByName(base)
	fold := base.Job(k["fold 1 U-net Heart"])
	if fold.LRFrom != k["search U-net Heart"] || fold.LR != 0 {
		t.Errorf("fold 1 U-net: LR %g from %q, want the U-net search", fold.LR, fold.LRFrom)
	}
	fin := base.Job(k["final Conv-Skip Hippocampus"])
	if fin.EpochsFrom != k["epochs Conv-Skip Hippocampus"] || fin.LRFrom != k["search Conv-Skip Heart"] {
		t.Errorf("final Conv-Skip: deps %v", fin.Deps())
	}
	again, err := Build(ctx, testSpec(t, data), cache)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(base.Jobs, again.Jobs, func(a, b *Job) bool { return a.Key == b.Key }) {
		t.Fatal("two builds of one spec give different keys")
	}

	changed := func(mod func(s *Spec)) []string {
		t.Helper()
		s := testSpec(t, data)
		mod(s)
		p, err := Build(ctx, s, cache)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for name, key := range keysByName(p) {
			if k[name] != key {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		return names
	}
	for _, c := range []struct {
		name string
		mod  func(s *Spec)
		want []string
	}{
		{"nothing", func(s *Spec) {}, nil},
		{"resources other than CPUs", func(s *Spec) {
			r := s.Resources[StageFold]
			r.MemMiB, r.Time, r.GPUs = 9999, time.Hour, 1
			s.Resources[StageFold] = r
		}, nil},
		{"fixed LR of Conv-Skip", func(s *Spec) { s.LR = map[string]float64{"Conv-Skip": 3e-3} },
			[]string{"epochs Conv-Skip Hippocampus", "final Conv-Skip Hippocampus", "fold 1 Conv-Skip Heart", "fold 2 Conv-Skip Heart"}},
		{"search trials", func(s *Spec) { s.Search.Trials = 3 }, []string{
			"epochs Conv-Skip Hippocampus", "epochs U-net Hippocampus", "final Conv-Skip Hippocampus", "final U-net Hippocampus",
			"fold 1 Conv-Skip Heart", "fold 1 U-net Heart", "fold 2 Conv-Skip Heart", "fold 2 U-net Heart",
			"search Conv-Skip Heart", "search U-net Heart"}},
		{"fold epochs", func(s *Spec) { s.Epochs = 3 }, []string{"fold 1 Conv-Skip Heart", "fold 1 U-net Heart", "fold 2 Conv-Skip Heart", "fold 2 U-net Heart"}},
		{"final patience", func(s *Spec) { s.Final.Patience = 2 }, []string{
			"epochs Conv-Skip Hippocampus", "epochs U-net Hippocampus", "final Conv-Skip Hippocampus", "final U-net Hippocampus"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := changed(c.mod); !slices.Equal(got, c.want) {
				t.Errorf("changed keys %v, want %v", got, c.want)
			}
		})
	}
}

// TestDataIdentity: a copy elsewhere has the same identity; one changed
// case changes it; the hash cache is used and invalidated by size/mtime.
func TestDataIdentity(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	p, err := Build(ctx, testSpec(t, data), "")
	if err != nil {
		t.Fatal(err)
	}
	var ref DataRef
	for _, j := range p.Jobs {
		if j.Task == "Hippocampus" {
			ref = j.Data
		}
	}
	ds, err := openTask(data, "Hippocampus")
	if err != nil {
		t.Fatal(err)
	}
	cacheDir := t.TempDir()
	h, err := OpenFileHashes(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	id, err := DataIdentity(ctx, ds, h)
	if err != nil || id != ref.ID {
		t.Fatalf("identity %s, %v; the plan's %s", id, err, ref.ID)
	}
	if err := h.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cacheDir, hashesFile)); err != nil {
		t.Fatal(err)
	}
	// A changed case: same size, new content and mtime.
	img := ds.Training[0].Image
	b, _ := os.ReadFile(ds.Training[1].Image)
	if err := os.WriteFile(img, b, 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	os.Chtimes(img, later, later)
	h2, _ := OpenFileHashes(cacheDir)
	id2, err := DataIdentity(ctx, ds, h2)
	if err != nil || id2 == id {
		t.Fatalf("identity after changing %s: %s, %v (was %s)", img, id2, err, id)
	}
}

// TestScoreJSON: NaN scores round-trip as null.
func TestScoreJSON(t *testing.T) {
	in := []Score{0.5, Score(math.NaN()), 0}
	b, err := json.Marshal(in)
	if err != nil || string(b) != "[0.5,null,0]" {
		t.Fatalf("%s, %v", b, err)
	}
	var out []Score
	if err := json.Unmarshal(b, &out); err != nil || out[0] != 0.5 || !math.IsNaN(float64(out[1])) || out[2] != 0 {
		t.Fatalf("%v, %v", out, err)
	}
}

// waitSchedulerGone waits up to a minute for root's local scheduler (and so
// its workers, which it waits for) to exit.
func waitSchedulerGone(t *testing.T, root string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); schedulerAlive(root); {
		if time.Now().After(deadline) {
			t.Fatal("the local scheduler still runs a minute after every job is done")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLocalRun runs the small grid on the local executor (the test binary
// as scheduler and worker), then again: every key found, nothing started;
// then a job alone after its result is removed.
func TestLocalRun(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 10 tiny networks")
	}
	ctx := context.Background()
	root := localRoot(t)
	p, err := Build(ctx, testSpec(t, t.TempDir()), filepath.Join(root, CacheDir))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(ctx, root, p, &RunOptions{Executor: testLocal()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Started) != 10 {
		t.Fatalf("started %d jobs, want 10", len(rep.Started))
	}
	wctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	st, err := Wait(wctx, root, &WaitOptions{Executor: testLocal(), Every: 200 * time.Millisecond, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	if st.Count(Done) != 10 {
		t.Fatalf("%s\n%s", st.Summary(), st.Render()["text/plain"])
	}
	c, err := Collect(root)
	if err != nil || len(c.Missing) != 0 {
		t.Fatalf("collect: %v, %d missing", err, len(c.Missing))
	}
	cv, err := c.CV("Heart")
	if err != nil || len(cv) != 2 || len(cv[0].Folds) != 2 || cv[0].Model != "U-net" {
		t.Fatalf("CV: %v %+v", err, cv)
	}
	k := keysByName(p)
	fin := c.Results[k["final U-net Hippocampus"]]
	if len(fin.TestDice) != 2 || len(fin.TestCases) != len(p.Job(k["final U-net Hippocampus"]).Test) ||
		len(fin.TestHD95) != 2 || len(fin.TestSurfaceDice) != 2 {
		t.Errorf("final test scores %v, HD95 %v, surface Dice %v (%d cases)", fin.TestDice, fin.TestHD95, fin.TestSurfaceDice, len(fin.TestCases))
	}
	for k, v := range fin.TestSurfaceDice {
		if !math.IsNaN(float64(v)) && (v < 0 || v > 1 || fin.TestHD95[k] < 0) {
			t.Errorf("label %d: surface Dice %g, HD95 %g", k+1, v, fin.TestHD95[k])
		}
	}
	search := c.Results[k["search U-net Heart"]]
	if len(search.Trials) != 2 || search.LR != c.Results[k["fold 1 U-net Heart"]].LR {
		t.Errorf("search %+v: the folds should train at its best rate", search)
	}
	if ss := c.Searches(); len(ss) != 2 || ss[0].Job.Key != k["search U-net Heart"] ||
		len(ss[0].Search().Trials) != 2 || ss[0].Search().BestLR() != search.LR || ss[0].Search().Low != 1e-4 {
		t.Errorf("Searches: %d, first %+v", len(ss), ss[0].Search())
	}

	rep, err = Run(ctx, root, p, &RunOptions{Executor: testLocal()})
	if err != nil || len(rep.Started) != 0 || len(rep.Reused) != 10 {
		t.Fatalf("second run: %v, %s", err, rep)
	}
	// One job alone. Wait returns once every result is written, but the
	// scheduler and its last workers exit a moment later; a result removed
	// before they are gone is either rerun by the scheduler itself or
	// attached to the exiting worker (both seen under -race).
	waitSchedulerGone(t, root)
	key := k["fold 2 Conv-Skip Heart"]
	if err := os.Remove(filepath.Join(JobDir(root, key), ResultFile)); err != nil {
		t.Fatal(err)
	}
	rep, err = Run(ctx, root, p, &RunOptions{Executor: testLocal(), Only: []string{key[:10]}})
	if err != nil || len(rep.Started) != 1 || rep.Started[0].Key != key {
		t.Fatalf("rerun alone: %v, %s", err, rep)
	}
	if _, err := Wait(wctx, root, &WaitOptions{Executor: testLocal(), Every: 200 * time.Millisecond, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	r, err := ReadResult(root, key)
	if err != nil || r.ValDice != c.Results[key].ValDice || r.LR != c.Results[key].LR {
		t.Fatalf("rerun: %+v, %v; first %+v", r, err, c.Results[key])
	}
	if !strings.Contains(LogTail(root, key, 50), "attempt") {
		t.Errorf("log: %q", LogTail(root, key, 50))
	}
}

// TestLocalFailureAndCancel: a job that fails is shown failed with its
// log's tail and its dependants blocked, and runs again alone once its
// cause is gone; Cancel stops the workers and a later run resumes them.
func TestLocalFailureAndCancel(t *testing.T) {
	if testing.Short() {
		t.Skip("trains tiny networks")
	}
	ctx := context.Background()
	root, data := localRoot(t), t.TempDir()
	s := testSpec(t, data)
	s.Epochs = 30 // folds long enough to cancel one mid-run
	p, err := Build(ctx, s, filepath.Join(root, CacheDir))
	if err != nil {
		t.Fatal(err)
	}
	k := keysByName(p)
	search := k["search U-net Heart"]
	// Change the data under the plan: the search refuses to run on it.
	ds, err := openTask(data, "Heart")
	if err != nil {
		t.Fatal(err)
	}
	img := ds.Training[0].Image
	orig, _ := os.ReadFile(img)
	if err := os.WriteFile(img, append(append([]byte{}, orig...), 0), 0o644); err != nil {
		t.Fatal(err)
	}
	wait := func() *Status {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
		defer cancel()
		st, err := Wait(wctx, root, &WaitOptions{Executor: testLocal(), Every: 100 * time.Millisecond, Quiet: true})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if _, err := Run(ctx, root, p, &RunOptions{Executor: testLocal(), Only: []string{search, k["fold 1 U-net Heart"]}}); err != nil {
		t.Fatal(err)
	}
	st := wait()
	byKey := map[string]JobStatus{}
	for _, j := range st.Jobs {
		byKey[j.Job.Key] = j
	}
	if f := byKey[search]; f.State != Failed || !strings.Contains(f.Detail, "changed since the plan") || !strings.Contains(f.Log, "attempt 1") {
		t.Fatalf("search: %+v", f)
	}
	if f := byKey[k["fold 1 U-net Heart"]]; f.State != Blocked {
		t.Fatalf("fold after a failed search: %+v", f)
	}
	if txt := st.Render()["text/plain"].(string); !strings.Contains(txt, "failed; its log ends") {
		t.Errorf("status text:\n%s", txt)
	}

	// The data back: the search alone, then the fold, cancelled mid-run.
	if err := os.WriteFile(img, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(ctx, root, p, &RunOptions{Executor: testLocal(), Only: []string{search, k["fold 1 U-net Heart"]}})
	if err != nil || len(rep.Started) != 2 {
		t.Fatalf("rerun: %v %v", err, rep)
	}
	fold := k["fold 1 U-net Heart"]
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if r, err := ReadRun(root, fold); err == nil && len(r.Epochs) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the fold did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := Cancel(ctx, root, testLocal()); err != nil {
		t.Fatal(err)
	}
	if w, alive := readWorker(root, fold); alive {
		t.Fatalf("worker %d alive after Cancel", w.PID)
	}
	if done(root, fold) {
		t.Fatal("the fold finished before it was cancelled: make it longer")
	}
	st, err = ReadStatus(ctx, root, testLocal())
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range st.Jobs {
		if j.Job.Key == fold && (j.State != Pending || j.Epochs < 1) {
			t.Fatalf("cancelled fold: %+v, want pending (not failed) with the epochs it trained", j)
		}
	}
	if _, err := Run(ctx, root, p, &RunOptions{Executor: testLocal(), Only: []string{fold}}); err != nil {
		t.Fatal(err)
	}
	wait()
	r, err := ReadRun(root, fold)
	if err != nil || r.Resumes < 1 || len(r.Epochs) != 30 {
		t.Fatalf("resumed fold: %v, %d resumes, %d epochs", err, r.Resumes, len(r.Epochs))
	}
	for i, e := range r.Epochs {
		if e.Epoch != i+1 {
			t.Fatalf("epoch %d at position %d", e.Epoch, i)
		}
	}
}

// TestLocalSchedulerKilled: workers outlive their scheduler (as they
// outlive a notebook kernel); a later run attaches to the live ones and a
// new scheduler waits for them instead of starting them twice.
func TestLocalSchedulerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("trains tiny networks")
	}
	ctx := context.Background()
	root := localRoot(t)
	s := testSpec(t, t.TempDir())
	s.Designs, s.Final.Designs, s.Search.Epochs = s.Designs[:1], nil, 10
	p, err := Build(ctx, s, filepath.Join(root, CacheDir))
	if err != nil {
		t.Fatal(err)
	}
	search := keysByName(p)["search U-net Heart"]
	if _, err := Run(ctx, root, p, &RunOptions{Executor: testLocal()}); err != nil {
		t.Fatal(err)
	}
	var w *workerProc
	for deadline := time.Now().Add(time.Minute); ; {
		var ok bool
		if w, ok = readWorker(root, search); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no worker started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The worker is stopped until the second run has attached to it: with
	// a search that simply runs long instead, a fast machine finished it
	// before the second run, and a loaded one (-race at load 16) ran past
	// the wait's deadline. A stopped process is alive (state T).
	if err := syscall.Kill(w.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	defer func() {
		if stopped {
			syscall.Kill(w.PID, syscall.SIGCONT)
		}
	}()
	var sched workerProc
	if err := readJSON(filepath.Join(root, localDir, "scheduler.json"), &sched); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(sched.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for sched.alive() {
		time.Sleep(10 * time.Millisecond)
	}
	if !w.alive() {
		t.Fatal("the worker died with its scheduler")
	}
	rep, err := Run(ctx, root, p, &RunOptions{Executor: testLocal()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Attached) != 1 || rep.Attached[0].Key != search || len(rep.Started) != 2 {
		t.Fatalf("second run: %s; attached %d", rep, len(rep.Attached))
	}
	if err := syscall.Kill(w.PID, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stopped = false
	wctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	st, err := Wait(wctx, root, &WaitOptions{Executor: testLocal(), Every: 100 * time.Millisecond, Quiet: true})
	if err != nil || st.Count(Done) != 3 {
		t.Fatalf("%v\n%s", err, st.Render()["text/plain"])
	}
	if n, _ := os.ReadFile(filepath.Join(JobDir(root, search), "attempts")); strings.TrimSpace(string(n)) != "1" {
		t.Errorf("the search ran %s times, want once", n)
	}
}

// recorder is an executor that records what it is given and runs nothing.
type recorder struct{ keys []string }

func (r *recorder) Name() string { return "local" }
func (r *recorder) Submit(ctx context.Context, root string, p *Plan, keys []string) error {
	r.keys = append(r.keys, keys...)
	return nil
}
func (r *recorder) Active(context.Context, string) (map[string]Activity, error) { return nil, nil }
func (r *recorder) Cancel(context.Context, string) error                        { return nil }

// TestRunStages: RunOptions.Stages submits the jobs of those stages and
// the jobs they depend on, nothing else; with Only, the two intersect.
func TestRunStages(t *testing.T) {
	ctx := context.Background()
	p, err := Build(ctx, testSpec(t, t.TempDir()), "")
	if err != nil {
		t.Fatal(err)
	}
	k := keysByName(p)
	names := func(keys []string) []string {
		var out []string
		for _, key := range keys {
			out = append(out, p.Job(key).Name)
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		stages []Stage
		only   []string
		want   []string
	}{
		{[]Stage{StageFinal}, nil, []string{"epochs Conv-Skip Hippocampus", "epochs U-net Hippocampus",
			"final Conv-Skip Hippocampus", "final U-net Hippocampus", "search Conv-Skip Heart", "search U-net Heart"}},
		{[]Stage{StageSearch, StageFold}, nil, []string{"fold 1 Conv-Skip Heart", "fold 1 U-net Heart",
			"fold 2 Conv-Skip Heart", "fold 2 U-net Heart", "search Conv-Skip Heart", "search U-net Heart"}},
		{[]Stage{StageFold}, []string{k["fold 2 U-net Heart"], k["final U-net Hippocampus"]}, []string{"fold 2 U-net Heart"}},
		{nil, nil, names(slices.Collect(func(yield func(string) bool) {
			for _, j := range p.Jobs {
				if !yield(j.Key) {
					return
				}
			}
		}))},
	} {
		rec := &recorder{}
		rep, err := Run(ctx, t.TempDir(), p, &RunOptions{Executor: rec, Stages: tc.stages, Only: tc.only})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(rec.keys); !slices.Equal(got, tc.want) || len(rep.Started) != len(tc.want) {
			t.Errorf("stages %v only %d: submitted %q (report %d started), want %q", tc.stages, len(tc.only), got, len(rep.Started), tc.want)
		}
	}
}

// TestCollectTests: the final models' test scores come back as rows (Dice,
// HD95, surface Dice per label) and as Table 2, only for tasks where every
// final design is done.
func TestCollectTests(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s := testSpec(t, t.TempDir())
	s.Final.Tasks = []string{"Hippocampus", "Heart"}
	p, err := Build(ctx, s, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := WritePlan(root, p); err != nil {
		t.Fatal(err)
	}
	k := keysByName(p)
	put := func(name string, dice, hd, sd []Score) {
		r := &Result{Key: k[name], Stage: StageFinal, TestDice: dice, TestHD95: hd, TestSurfaceDice: sd, TestCases: [][]Score{dice, dice}}
		if err := writeJSON(filepath.Join(JobDir(root, k[name]), ResultFile), r); err != nil {
			t.Fatal(err)
		}
	}
	put("final U-net Hippocampus", []Score{0.8, 0.7}, []Score{3, 4}, []Score{0.9, 0.85})
	put("final Conv-Skip Hippocampus", []Score{0.82, 0.6}, []Score{2.5, 5}, []Score{0.92, 0.8})
	put("final U-net Heart", []Score{0.5}, []Score{9}, []Score{0.4}) // Conv-Skip on Heart is not done
	c, err := Collect(root)
	if err != nil {
		t.Fatal(err)
	}
	rows := c.Tests()
	if len(rows) != 5 || rows[1] != (TestRow{Task: "Hippocampus", Design: "U-net", Label: 2, Dice: 0.7, HD95: 4, SurfaceDice: 0.85, Cases: 2}) {
		t.Fatalf("Tests: %+v", rows)
	}
	tab, err := c.Table2()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tab.Models, []string{"U-net", "Conv-Skip"}) || len(tab.Rows) != 2 ||
		tab.Rows[1].Label != "L2" || !slices.Equal(tab.Rows[1].Scores, []float64{0.7, 0.6}) {
		t.Fatalf("Table2: %+v", tab)
	}
	avg, err := tab.AverageRanks()
	if err != nil || avg[0] != 1.5 || avg[1] != 1.5 {
		t.Errorf("ranks %v, %v", avg, err)
	}
	os.Remove(filepath.Join(JobDir(root, k["final U-net Hippocampus"]), ResultFile))
	c, _ = Collect(root)
	if _, err := c.Table2(); err == nil {
		t.Error("Table2 with no task complete: no error")
	}
}
