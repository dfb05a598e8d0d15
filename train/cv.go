package train

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/stats"
	"github.com/unetlab/unetlab/volume/split"
)

// CVOptions configures CrossValidate and CompareModels, which take it by
// pointer (not nil: Data has no default) and never change it.
type CVOptions struct {
	// Options are the training settings of every fold (a value, embedded:
	// its zero value plus Data is the paper's setting); Train, Val and Dir
	// are set per fold.
	Options
	// Folds is k (0 means 5, the paper's).
	Folds int
	// Dir holds one run directory per fold, Dir/<model name>/fold-<k>
	// ("" means Root/cv-<uuid>). Folds whose directory already holds a run
	// are resumed (or read back when complete), so a cross-validation that
	// was interrupted continues where it stopped.
	Dir string
	// Last scores each fold by its last epoch (stats.EpochLast) instead of
	// the epoch with the best validation Dice (stats.EpochBest);
	// CVResult.Rescore scores a finished cross-validation the other way.
	Last bool
}

// FoldResult is one fold of a cross-validation.
type FoldResult struct {
	Fold       int   // 0-based
	Train, Val []int // case indices
	Run        *Run
	// TrainDice and ValDice are the foreground Dice of the scored epoch
	// (the best validation epoch, or the last with CVOptions.Last): the
	// training Dice averaged over that epoch's steps and the validation
	// Dice over the fold's held-out cases.
	TrainDice, ValDice float64
}

// CVResult is one model's k-fold cross-validation.
type CVResult struct {
	Model  string // name: Options.Name, or the arch
	Config models.Config
	Folds  []FoldResult
	// Epoch is the epoch of each fold that the folds' TrainDice and
	// ValDice are from: stats.EpochBest, stats.EpochLast (CVOptions.Last),
	// or "" when not stated. Table1Rows states it in every row.
	Epoch stats.ScoredEpoch
}

// scoredEpoch returns the epoch of run that epoch names: the best
// validation epoch (the last one when no epoch was validated) or the last.
func scoredEpoch(run *Run, epoch stats.ScoredEpoch) (Epoch, bool) {
	e, ok := run.Best()
	if epoch == stats.EpochLast || !ok {
		if n := len(run.Epochs); n > 0 {
			return run.Epochs[n-1], true
		}
	}
	return e, ok
}

// Rescore returns a copy of r whose folds are scored at epoch
// (stats.EpochBest or stats.EpochLast) from each fold's run record; r is
// not changed. A fold without its Run cannot be rescored and is an error.
func (r *CVResult) Rescore(epoch stats.ScoredEpoch) (*CVResult, error) {
	if epoch != stats.EpochBest && epoch != stats.EpochLast {
		return nil, badOption("epoch", epoch, fmt.Sprintf("must be %q or %q", stats.EpochBest, stats.EpochLast))
	}
	out := *r
	out.Epoch = epoch
	out.Folds = make([]FoldResult, len(r.Folds))
	for i, f := range r.Folds {
		if f.Run == nil {
			return nil, fmt.Errorf("%w: %s fold %d has no run record to rescore", ErrOptions, r.Model, f.Fold+1)
		}
		f.TrainDice, f.ValDice = 0, 0
		if e, ok := scoredEpoch(f.Run, epoch); ok {
			f.TrainDice, f.ValDice = e.TrainDice, e.ValDice
		}
		out.Folds[i] = f
	}
	return &out, nil
}

// CrossValidate trains opt.Model on each fold of a shuffled k-fold split of
// opt.Data (split.KFold with opt.Seed) and returns the per-fold training and
// validation scores. opt must not be nil (its Data has no default).
func CrossValidate(ctx context.Context, opt *CVOptions) (*CVResult, error) {
	if opt == nil {
		return nil, badOption("Data", nil, "must be set")
	}
	rs, err := CompareModels(ctx, opt, []models.Config{opt.Model}, []string{opt.Name})
	if err != nil {
		if len(rs) > 0 {
			return rs[0], err
		}
		return nil, err
	}
	return rs[0], nil
}

// CompareModels cross-validates several models on the same folds, for
// paired comparisons: result i belongs to configs[i], named names[i] (nil or
// "" means the arch; names must differ). Folds run model after model; an
// error returns the results so far. opt must not be nil (its Data has no
// default); CompareModels does not change it.
func CompareModels(ctx context.Context, opt *CVOptions, configs []models.Config, names []string) ([]*CVResult, error) {
	if opt == nil || opt.Data == nil {
		return nil, badOption("Data", nil, "must be set")
	}
	if opt.Folds < 0 || opt.Folds == 1 {
		return nil, badOption("Folds", opt.Folds, "must be 0 (5) or >= 2")
	}
	k := opt.Folds
	if k == 0 {
		k = 5
	}
	folds, err := split.KFold(opt.Data.Len(), k, opt.Seed)
	if err != nil {
		return nil, fmt.Errorf("%w: Folds %d: %w", ErrOptions, k, err)
	}
	dir := opt.Dir
	if dir == "" {
		root := opt.Root
		if root == "" {
			root = "runs"
		}
		dir = filepath.Join(root, "cv-"+newID())
	}
	seen := map[string]bool{}
	var out []*CVResult
	for i, cfg := range configs {
		name := ""
		if i < len(names) {
			name = names[i]
		}
		if name == "" {
			name = string(cfg.Arch)
		}
		if seen[name] {
			return out, badOption(fmt.Sprintf("names[%d]", i), name, "must differ from the other models' names")
		}
		seen[name] = true
		epoch := stats.EpochBest
		if opt.Last {
			epoch = stats.EpochLast
		}
		res := &CVResult{Model: name, Config: cfg.WithDefaults(), Epoch: epoch}
		out = append(out, res)
		for _, f := range folds {
			o := opt.Options
			o.Model = cfg
			o.Name = fmt.Sprintf("%s fold %d", name, f.Index+1)
			o.Train, o.Val = f.Train, f.Val
			o.Dir = filepath.Join(dir, name, fmt.Sprintf("fold-%d", f.Index+1))
			var run *Run
			if _, err := os.Stat(filepath.Join(o.Dir, RecordFile)); err == nil {
				run, err = Resume(ctx, &o)
				if err != nil {
					return out, fmt.Errorf("train: %s: %w", o.Name, err)
				}
			} else {
				run, err = Fit(ctx, &o)
				if err != nil {
					return out, fmt.Errorf("train: %s: %w", o.Name, err)
				}
			}
			fr := FoldResult{Fold: f.Index, Train: f.Train, Val: f.Val, Run: run}
			if e, ok := scoredEpoch(run, epoch); ok {
				fr.TrainDice, fr.ValDice = e.TrainDice, e.ValDice
			}
			res.Folds = append(res.Folds, fr)
		}
	}
	return out, nil
}

// FoldScores returns the per-fold foreground Dice of the scored epochs, for
// stats.CompareFolds, stats.Table1Rows and viz.FoldBoxes.
func (r *CVResult) FoldScores() stats.FoldScores {
	s := stats.FoldScores{Model: r.Model, Epoch: r.Epoch}
	for _, f := range r.Folds {
		s.Train = append(s.Train, f.TrainDice)
		s.Val = append(s.Val, f.ValDice)
	}
	return s
}

// Runs returns every fold's run record, in fold order, for
// viz.LearningCurves.
func (r *CVResult) Runs() []*Run {
	var out []*Run
	for _, f := range r.Folds {
		if f.Run != nil {
			out = append(out, f.Run)
		}
	}
	return out
}

// Table1Rows makes the paper's Table 1 rows of one dataset from results on
// the same folds: stats.Table1Rows of their FoldScores, results[baseline]
// the baseline (opt as there; nil means the defaults).
func Table1Rows(dataset string, results []*CVResult, baseline int, opt *stats.BootstrapOptions) ([]stats.Table1Row, error) {
	if baseline < 0 || baseline >= len(results) {
		return nil, badOption("baseline", baseline, fmt.Sprintf("must index the %d results", len(results)))
	}
	scores := make([]stats.FoldScores, len(results))
	for i, r := range results {
		scores[i] = r.FoldScores()
	}
	rows, err := stats.Table1Rows(dataset, scores, baseline, opt)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return rows, nil
}
