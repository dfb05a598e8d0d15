package grid

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/unetlab/unetlab/internal/atomicfile"
	"github.com/unetlab/unetlab/stats"
	"github.com/unetlab/unetlab/train"
	"github.com/unetlab/unetlab/train/search"
	"github.com/unetlab/unetlab/volume"
	"github.com/unetlab/unetlab/volume/decathlon"
)

// ErrBusy is returned (wrapped) by Work for a job that another worker
// runs at the moment.
var ErrBusy = errors.New("grid: job busy")

// searchFile holds a search job's finished trials, rewritten after each.
const searchFile = "trials.json"

// Work runs the job with key under root to its end and writes its
// result.json: the process that `unetlab grid worker` starts, on either
// executor. A job that has a result returns at once; one interrupted
// before (killed, cancelled, requeued) continues from its last checkpoint,
// so the record it leaves holds every epoch once. The job's GOMAXPROCS is
// its Resources.CPUs. An error is also written to failed.json (except a
// cancellation, which leaves the job to be resumed).
func Work(ctx context.Context, root, key string) (err error) {
	if done(root, key) {
		return nil
	}
	j, err := ReadJob(root, key)
	if err != nil {
		return err
	}
	// One worker per job: a second one (a scheduler's restart racing a
	// live orphan, two executors on one root) stops here.
	lock, err := os.OpenFile(filepath.Join(JobDir(root, key), "worker.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("grid: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("%w: %s (%s) has a live worker already", ErrBusy, j.Name, short(key))
	}
	if done(root, key) {
		return nil
	}
	start := time.Now()
	host, _ := os.Hostname()
	attempt := attempts(root, key)
	fmt.Printf("grid: %s (%s) attempt %d on %s, %d threads\n", j.Name, short(key), attempt, host, max(j.Resources.CPUs, 1))
	defer func() {
		if err != nil && ctx.Err() == nil && !errors.Is(err, ErrBusy) {
			_ = writeJSON(filepath.Join(JobDir(root, key), FailedFile), Failure{Error: err.Error(), Attempt: attempt, Host: host, Finished: time.Now().UTC()})
		}
	}()
	runtime.GOMAXPROCS(max(j.Resources.CPUs, 1))
	r, err := work(ctx, root, j)
	if err != nil {
		return fmt.Errorf("grid: %s: %w", j.Name, err)
	}
	r.Key, r.Stage, r.Name = j.Key, j.Stage, j.Name
	r.Seconds = time.Since(start).Seconds()
	r.Finished = time.Now().UTC()
	if err := writeJSON(filepath.Join(JobDir(root, key), ResultFile), r); err != nil {
		return err
	}
	os.Remove(filepath.Join(JobDir(root, key), FailedFile))
	fmt.Printf("grid: %s done in %.1f s\n", j.Name, r.Seconds)
	return nil
}

// attempts counts and records the attempts at a job (attempts file,
// replaced atomically; the count is informational, so a failure to write
// it is not an error).
func attempts(root, key string) int {
	path := filepath.Join(JobDir(root, key), "attempts")
	n := 0
	if b, err := os.ReadFile(path); err == nil {
		fmt.Sscan(string(b), &n)
	}
	n++
	_ = atomicfile.WriteFile(path, []byte(fmt.Sprintln(n)))
	return n
}

// work computes a job's result. It is the one place that calls package
// train.
func work(ctx context.Context, root string, j *Job) (*Result, error) {
	ds, err := decathlon.Open(j.Data.Dir)
	if err != nil {
		return nil, err
	}
	hashes, err := OpenFileHashes(filepath.Join(root, CacheDir))
	if err != nil {
		return nil, err
	}
	id, err := DataIdentity(ctx, ds, hashes)
	if err != nil {
		return nil, err
	}
	_ = hashes.Save()
	if id != j.Data.ID {
		return nil, fmt.Errorf("the data in %s changed since the plan was made (identity %s, planned %s): plan again", j.Data.Dir, short(id), short(j.Data.ID))
	}
	src, err := NewPreparedCache(filepath.Join(root, CacheDir, "prepared"), ds, id, j.Prep)
	if err != nil {
		return nil, err
	}
	lr := j.LR
	if j.LRFrom != "" {
		r, err := ReadResult(root, j.LRFrom)
		if err != nil {
			return nil, fmt.Errorf("learning rate from search %s: %w", short(j.LRFrom), err)
		}
		lr = r.LR
	}
	epochs := j.Epochs
	if j.EpochsFrom != "" {
		r, err := ReadResult(root, j.EpochsFrom)
		if err != nil {
			return nil, fmt.Errorf("epochs from %s: %w", short(j.EpochsFrom), err)
		}
		epochs = r.Epochs
	}
	opt := train.Options{Model: j.Model, Data: src, Train: j.Train, Val: j.Val, Epochs: epochs, BatchSize: j.BatchSize,
		LR: lr, Patience: j.Patience, Seed: j.Seed, Axes: j.Prep.Axes, Name: j.Name, Progress: train.ProgressText}
	dir := JobDir(root, j.Key)
	if j.Stage == StageSearch {
		return searchLR(ctx, dir, j, opt)
	}
	opt.Dir = filepath.Join(dir, RunDir)
	run, err := fitOrResume(ctx, opt)
	if err != nil {
		return nil, err
	}
	res := &Result{LR: lr, Epochs: len(run.Epochs), BestEpoch: run.BestEpoch, Resumes: run.Resumes}
	e, ok := run.Best()
	if !ok && len(run.Epochs) > 0 {
		e, ok = run.Epochs[len(run.Epochs)-1], true
	}
	res.TrainDice, res.ValDice = Score(math.NaN()), Score(math.NaN())
	if ok {
		res.TrainDice, res.ValDice = Score(e.TrainDice), Score(e.ValDice)
	}
	switch j.Stage {
	case StageEpochs:
		if run.BestEpoch > 0 {
			res.Epochs = run.BestEpoch
		}
	case StageFinal:
		if err := testScores(ctx, opt.Dir, ds, j.Test, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// fitOrResume continues the run in opt.Dir from its checkpoint, or starts
// it when there is none.
func fitOrResume(ctx context.Context, opt train.Options) (*train.Run, error) {
	if _, err := os.Stat(filepath.Join(opt.Dir, train.RecordFile)); err == nil {
		run, err := train.Resume(ctx, &opt)
		if err == nil || !errors.Is(err, train.ErrRun) || ctx.Err() != nil {
			return run, err
		}
		// Killed before its first checkpoint: start again.
		fmt.Printf("grid: %s: %v; starting the run again\n", opt.Name, err)
		if err := os.RemoveAll(opt.Dir); err != nil {
			return nil, err
		}
	}
	return train.Fit(ctx, &opt)
}

// SurfaceTolerance is the tolerance, in millimetres, of the normalised
// surface Dice that final models are scored with (stats.SurfaceDice).
const SurfaceTolerance = 2.0

// testScores scores a final model on the held-out test cases on their
// original grids: per foreground label, the Dice, the 95th-percentile
// Hausdorff distance (mm) and the surface Dice at SurfaceTolerance; it
// writes the predictions as NIfTI: the held-out cases to
// <job>/heldout/<case>.nii.gz, the task's unlabelled test cases to
// <job>/predictions/<case>.nii.gz.
func testScores(ctx context.Context, runDir string, ds *decathlon.Dataset, test []int, res *Result) error {
	m, err := train.LoadModel(runDir)
	if err != nil {
		return err
	}
	p, err := train.NewPredictor(m)
	if err != nil {
		return err
	}
	defer p.Close()
	classes := m.Config().Classes
	labels := classes - 1
	dice, hd, sd := newMean(labels), newMean(labels), newMean(labels)
	missed := make([]int, labels) // cases with HD95 +Inf, per label
	out := filepath.Join(filepath.Dir(runDir), "heldout")
	for _, i := range test {
		s, err := ds.Load(ctx, i)
		if err != nil {
			return err
		}
		pred, err := p.Predict(ctx, s.Image, nil)
		if err != nil {
			return fmt.Errorf("case %s: %w", s.Case.ID, err)
		}
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		if err := volume.Write(filepath.Join(out, s.Case.ID+".nii.gz"), pred, &volume.WriteOptions{Datatype: volume.Uint8}); err != nil {
			return err
		}
		d, err := stats.DicePerLabel(pred, s.Label, classes)
		if err != nil {
			return fmt.Errorf("case %s: %w", s.Case.ID, err)
		}
		row := make([]Score, labels)
		for k := range labels {
			row[k] = Score(d[k])
			dice.add(k, d[k])
			h, err := stats.HD95(pred, s.Label, k+1)
			if err != nil {
				return fmt.Errorf("case %s: %w", s.Case.ID, err)
			}
			hd.add(k, h) // +Inf (label in one map only) is left out of the mean
			if math.IsInf(h, 1) {
				missed[k]++
			}
			f, err := stats.SurfaceDice(pred, s.Label, k+1, SurfaceTolerance)
			if err != nil {
				return fmt.Errorf("case %s: %w", s.Case.ID, err)
			}
			sd.add(k, f)
		}
		res.TestCases = append(res.TestCases, row)
	}
	// The task's unlabelled test cases (imagesTs), as the paper submits
	// them: label maps on their original grids.
	if _, err := p.PredictTest(ctx, ds, filepath.Join(filepath.Dir(runDir), "predictions"), nil); err != nil {
		return err
	}
	res.TestDice, res.TestHD95, res.TestSurfaceDice = dice.means(), hd.means(), sd.means()
	res.TestHD95Missed = missed
	return nil
}

// mean averages per-label scores over cases, leaving out NaN and infinite
// values (a label absent from both maps, or a distance to an empty map).
type mean struct {
	sum []float64
	n   []int
}

func newMean(labels int) *mean { return &mean{sum: make([]float64, labels), n: make([]int, labels)} }

func (m *mean) add(k int, v float64) {
	if !math.IsNaN(v) && !math.IsInf(v, 0) {
		m.sum[k] += v
		m.n[k]++
	}
}

// means is NaN for a label no case defines.
func (m *mean) means() []Score {
	out := make([]Score, len(m.sum))
	for k := range out {
		out[k] = Score(m.sum[k] / float64(m.n[k]))
	}
	return out
}

// searchLR runs a search job: the trials of a TPE search in order, each a
// training run in dir/trials/<n> at the rate the searcher asks for. After
// every trial the trials so far are written to dir/trials.json; a search
// that was interrupted tells them to the searcher again (which then asks
// for the same next rate) and resumes the trial that was running.
func searchLR(ctx context.Context, dir string, j *Job, opt train.Options) (*Result, error) {
	sp := j.Search
	var history []search.Trial
	if err := readJSON(filepath.Join(dir, searchFile), &history); err != nil && !notExist(err) {
		return nil, err
	}
	s, err := search.New(&search.Options{Trials: sp.Trials, Seed: sp.Seed, Low: sp.Low, High: sp.High, History: history})
	if err != nil {
		return nil, err
	}
	res := &Result{}
	for s.Len() < sp.Trials {
		t := s.Ask()
		o := opt
		o.LR = t.LR
		o.Epochs = sp.Epochs
		o.Name = fmt.Sprintf("%s trial %d lr %.3g", j.Name, t.Index, t.LR)
		o.Dir = filepath.Join(dir, "trials", fmt.Sprint(t.Index))
		start := time.Now()
		run, err := fitOrResume(ctx, o)
		t.Duration = time.Since(start)
		switch {
		case ctx.Err() != nil:
			return nil, err
		case err != nil && isDivergence(err):
			t.Err = err.Error()
		case err != nil:
			return nil, fmt.Errorf("trial %d: %w", t.Index, err)
		case math.IsNaN(run.BestValDice):
			t.Value = 0
		default:
			t.Value = run.BestValDice
		}
		if run != nil {
			res.Resumes += run.Resumes
		}
		if err := s.Tell(t); err != nil {
			return nil, err
		}
		if err := writeJSON(filepath.Join(dir, searchFile), s.Result().Trials); err != nil {
			return nil, err
		}
	}
	r := s.Result()
	best, ok := r.Best()
	if !ok {
		return nil, fmt.Errorf("every one of %d trials failed (first: %s)", len(r.Trials), r.Trials[0].Err)
	}
	res.LR, res.Trials, res.Epochs = best.LR, r.Trials, sp.Epochs
	res.ValDice, res.TrainDice = Score(best.Value), Score(math.NaN())
	return res, nil
}

// isDivergence reports a training run stopped by a NaN or infinite loss
// (train says "loss is NaN ... (learning rate too high?)"), which the
// search records as a failed trial; any other error ends the job.
func isDivergence(err error) bool {
	return strings.Contains(err.Error(), "learning rate") && strings.Contains(err.Error(), "too high")
}
