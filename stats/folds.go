package stats

import (
	"fmt"
	"math"
	"sort"

	"github.com/unetlab/unetlab/internal/samplestat"
	"github.com/unetlab/unetlab/rng"
)

// FoldScores holds one model's foreground Dice per cross-validation fold:
// Train[f] and Val[f] belong to fold f. Either may be empty when not
// recorded; when both are set they have the same length. train.CVResult's
// FoldScores method makes one from a cross-validation.
type FoldScores struct {
	Model      string
	Train, Val []float64
	// Epoch says which epoch of each fold's training the scores are from
	// ("" when not stated).
	Epoch ScoredEpoch
}

// ScoredEpoch names the epoch of each fold's training whose Dice a
// cross-validation reports (the paper does not say which; Table 1 states
// it). The zero value "" means not stated.
type ScoredEpoch string

const (
	// EpochBest scores each fold by its epoch of best validation
	// foreground Dice (the first such epoch on ties).
	EpochBest ScoredEpoch = "best"
	// EpochLast scores each fold by its last epoch.
	EpochLast ScoredEpoch = "last"
)

// Describe says which epoch in words for titles and captions: "the best
// validation epoch", "the last epoch", or "an epoch not stated".
func (e ScoredEpoch) Describe() string {
	switch e {
	case EpochBest:
		return "the best validation epoch"
	case EpochLast:
		return "the last epoch"
	case "":
		return "an epoch not stated"
	}
	return fmt.Sprintf("epoch %q", string(e))
}

// CompareOptions configures [CompareFolds]; nil or the zero value compares
// with the first model and bounds each mean difference with a 95 %
// percentile bootstrap interval from 10000 resamples, seed 0.
type CompareOptions struct {
	// Baseline names the model subtracted fold by fold; "" means the first.
	Baseline string
	// Resamples is the number of bootstrap resamples of the mean, >= 0; 0
	// means 10000.
	Resamples int
	// Level is the interval's coverage in (0, 1); 0 means 0.95.
	Level float64
	// Seed seeds the resampling (rng); the same seed gives the same
	// intervals.
	Seed uint64
}

func (o *CompareOptions) resolve() (CompareOptions, error) {
	var v CompareOptions
	if o != nil {
		v = *o
	}
	if v.Resamples < 0 {
		return v, fmt.Errorf("%w: CompareOptions.Resamples %d, want >= 0 (0 means 10000)", ErrOptions, v.Resamples)
	}
	if v.Resamples == 0 {
		v.Resamples = 10000
	}
	if v.Level == 0 {
		v.Level = 0.95
	}
	if !(v.Level > 0 && v.Level < 1) {
		return v, fmt.Errorf("%w: CompareOptions.Level %v, want a coverage in (0, 1)", ErrOptions, v.Level)
	}
	return v, nil
}

// Difference summarises one model's per-fold differences with the
// baseline, model minus baseline.
type Difference struct {
	// Folds are the differences, fold by fold.
	Folds []float64
	// Mean and SD are their mean and sample standard deviation (n-1; 0 for
	// a single fold).
	Mean, SD float64
	// Lo and Hi bound the percentile bootstrap interval of the mean at
	// the comparison's Level.
	Lo, Hi float64
}

// FoldDiffRow is one model's fold-wise differences with the baseline.
// Train or Val is nil when the model or the baseline lacks those scores.
type FoldDiffRow struct {
	Model      string
	Train, Val *Difference
}

// FoldComparison is what [CompareFolds] returns and viz.FoldDiff draws.
type FoldComparison struct {
	// Baseline is the model subtracted; Level the intervals' coverage.
	Baseline string
	Level    float64
	// Rows follow the order of the models, without the baseline.
	Rows []FoldDiffRow
}

// CompareFolds subtracts the baseline's score of each fold from every other
// model's score of the same fold ([FoldDifferences]), for training and
// validation, and summarises each model's differences with their mean,
// standard deviation and a percentile bootstrap interval of the mean: the
// paper's Figure 5. Scores must be finite; a model's folds must match the
// baseline's in number.
func CompareFolds(models []FoldScores, opt *CompareOptions) (*FoldComparison, error) {
	o, err := opt.resolve()
	if err != nil {
		return nil, err
	}
	if len(models) < 2 {
		return nil, fmt.Errorf("%w: CompareFolds: %d models, want a baseline and at least one other", ErrInput, len(models))
	}
	base := -1
	for i, m := range models {
		if (o.Baseline == "" && i == 0) || (o.Baseline != "" && m.Model == o.Baseline) {
			base = i
			break
		}
	}
	if base < 0 {
		return nil, fmt.Errorf("%w: CompareOptions.Baseline %q is not among the models", ErrOptions, o.Baseline)
	}
	for _, m := range models {
		if err := m.checkFinite("CompareFolds"); err != nil {
			return nil, err
		}
	}
	b := models[base]
	out := &FoldComparison{Baseline: b.Model, Level: o.Level}
	for i, m := range models {
		if i == base {
			continue
		}
		row := FoldDiffRow{Model: m.Model}
		if row.Train, err = difference(m.Model, "training", m.Train, b.Train, o, uint64(i), 0); err != nil {
			return nil, err
		}
		if row.Val, err = difference(m.Model, "validation", m.Val, b.Val, o, uint64(i), 1); err != nil {
			return nil, err
		}
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}

func (m FoldScores) checkFinite(fn string) error {
	for _, side := range []struct {
		name string
		xs   []float64
	}{{"Train", m.Train}, {"Val", m.Val}} {
		for f, x := range side.xs {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%w: %s: model %q %s[%d] = %v, want a finite score", ErrInput, fn, m.Model, side.name, f, x)
			}
		}
	}
	return nil
}

func difference(model, side string, xs, base []float64, o CompareOptions, key, sideKey uint64) (*Difference, error) {
	if len(xs) == 0 || len(base) == 0 {
		return nil, nil
	}
	folds, err := FoldDifferences(xs, base)
	if err != nil {
		return nil, fmt.Errorf("%w: model %q %s: %w", ErrShape, model, side, err)
	}
	d := &Difference{Folds: folds}
	s := Summarize(folds)
	d.Mean, d.SD = s.Mean, s.SD
	if s.N < 2 {
		d.SD = 0
	}
	means := samplestat.BootstrapMeans(folds, o.Resamples, rng.Derive(o.Seed, key, sideKey).Intn)
	sort.Float64s(means)
	d.Lo, d.Hi = samplestat.Quantile(means, (1-o.Level)/2), samplestat.Quantile(means, 1-(1-o.Level)/2)
	return d, nil
}

// Table1Row is one line of the paper's Table 1: a model's cross-validated
// foreground Dice on one dataset, and its fold-wise difference (FWD) with
// the baseline. Dice values are in [0, 1]; p-values in [0, 1].
type Table1Row struct {
	Dataset, Model string
	// Folds is k, the number of cross-validation folds the means, sds and
	// p-values are over (at least 2); 0 means not stated.
	Folds int
	// Epoch is the epoch of each fold the scores are from (the models'
	// FoldScores.Epoch; "" when not stated).
	Epoch ScoredEpoch
	// Baseline marks the reference model: its FWD and p are not defined.
	Baseline bool
	// ValMean ± ValSD: validation Dice over folds.
	ValMean, ValSD float64
	// ValFWDMean ± ValFWDSD: fold-wise difference with the baseline.
	ValFWDMean, ValFWDSD float64
	// ValP: two-tailed bootstrap p-value of the validation difference.
	ValP float64
	// TrainMean ± TrainSD, TrainFWDMean ± TrainFWDSD, TrainP: the same on
	// the training folds.
	TrainMean, TrainSD       float64
	TrainFWDMean, TrainFWDSD float64
	TrainP                   float64
}

// Table1Rows makes the paper's Table 1 rows of one dataset from models
// scored on the same folds: mean and sample SD over folds of the
// validation and training foreground Dice, and for every model but
// models[baseline] the fold-wise difference with the baseline and its
// two-tailed bootstrap p-value ([BootstrapTest] with opt; nil means the
// defaults). Every model must be scored at the same epoch (FoldScores.Epoch),
// which each row states.
func Table1Rows(dataset string, models []FoldScores, baseline int, opt *BootstrapOptions) ([]Table1Row, error) {
	if baseline < 0 || baseline >= len(models) {
		return nil, fmt.Errorf("%w: Table1Rows: baseline %d of %d models", ErrInput, baseline, len(models))
	}
	base := models[baseline]
	var rows []Table1Row
	for i, s := range models {
		if s.Epoch != base.Epoch {
			return nil, fmt.Errorf("%w: Table1Rows: %s is scored at %s, the baseline %s at %s",
				ErrInput, s.Model, s.Epoch.Describe(), base.Model, base.Epoch.Describe())
		}
		if len(s.Val) != len(base.Val) || len(s.Train) != len(base.Train) {
			return nil, fmt.Errorf("%w: Table1Rows: %s has %d validation and %d training folds, the baseline %s %d and %d",
				ErrShape, s.Model, len(s.Val), len(s.Train), base.Model, len(base.Val), len(base.Train))
		}
		v, tr := Summarize(s.Val), Summarize(s.Train)
		row := Table1Row{Dataset: dataset, Model: s.Model, Baseline: i == baseline, Folds: len(s.Val), Epoch: s.Epoch,
			ValMean: v.Mean, ValSD: v.SD, TrainMean: tr.Mean, TrainSD: tr.SD}
		if i != baseline {
			for _, side := range []struct {
				m, b        []float64
				mean, sd, p *float64
			}{{s.Val, base.Val, &row.ValFWDMean, &row.ValFWDSD, &row.ValP}, {s.Train, base.Train, &row.TrainFWDMean, &row.TrainFWDSD, &row.TrainP}} {
				d, err := FoldDifferences(side.m, side.b)
				if err != nil {
					return nil, fmt.Errorf("Table1Rows: %s: %w", s.Model, err)
				}
				sd := Summarize(d)
				*side.mean, *side.sd = sd.Mean, sd.SD
				if *side.p, err = BootstrapTest(d, opt); err != nil {
					return nil, fmt.Errorf("Table1Rows: %s: %w", s.Model, err)
				}
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// ScoreRow is one task label's scores, one per model of its [ScoreTable].
type ScoreRow struct {
	// Task is the dataset ("BrainTumour"), Label the class ("L1" or "edema").
	Task, Label string
	// Scores[m] is model m's Dice in [0, 1] (higher is better).
	Scores []float64
}

// ScoreTable holds per-task, per-label scores of several models: the
// layout of the paper's Table 2, which viz.Table2 and viz.LabelBars draw.
type ScoreTable struct {
	Title  string
	Models []string
	Rows   []ScoreRow
}

// Check reports a table without models or rows (ErrInput), a row with
// another number of scores than models (ErrShape) or a score that is not
// finite (ErrInput), naming the row.
func (t *ScoreTable) Check() error {
	if t == nil || len(t.Models) == 0 || len(t.Rows) == 0 {
		var m, r int
		if t != nil {
			m, r = len(t.Models), len(t.Rows)
		}
		return fmt.Errorf("%w: ScoreTable: %d models, %d rows, want at least one of each", ErrInput, m, r)
	}
	for i, r := range t.Rows {
		if len(r.Scores) != len(t.Models) {
			return fmt.Errorf("%w: ScoreTable: row %d (%s %s) has %d scores for %d models",
				ErrShape, i, r.Task, r.Label, len(r.Scores), len(t.Models))
		}
		for m, s := range r.Scores {
			if math.IsNaN(s) || math.IsInf(s, 0) {
				return fmt.Errorf("%w: ScoreTable: row %d (%s %s) score of %q is %v, want a finite score",
					ErrInput, i, r.Task, r.Label, t.Models[m], s)
			}
		}
	}
	return nil
}

// AverageRanks returns each model's rank within each row (1 = highest
// score, ties sharing the mean of their ranks) averaged over all rows, as
// the paper's Table 2 does (over label rows, not tasks): [AverageRanks] of
// the table's scores, after [ScoreTable.Check].
func (t *ScoreTable) AverageRanks() ([]float64, error) {
	if err := t.Check(); err != nil {
		return nil, err
	}
	scores := make([][]float64, len(t.Rows))
	for i, r := range t.Rows {
		scores[i] = r.Scores
	}
	return AverageRanks(scores)
}
