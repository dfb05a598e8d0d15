package search

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/unetlab/unetlab/internal/invalid"
	"github.com/unetlab/unetlab/rng"
)

// Sentinel errors; returned errors wrap them and name the field or trial at
// fault.
var (
	// ErrOptions reports invalid Options: a range that is empty or not
	// positive, a negative count, a quantile outside (0, 1), an unknown
	// method or kernel.
	ErrOptions = errors.New("search: invalid options")
	// ErrTrial reports a trial that cannot be recorded: a rate outside the
	// search range or a value that is NaN or infinite.
	ErrTrial = errors.New("search: invalid trial")
)

// Method names a search strategy.
type Method string

// The strategies; see the package documentation.
const (
	TPE    Method = "tpe"
	GP     Method = "gp"
	Random Method = "random"
)

// Kernel names the covariance function of the GP method.
type Kernel string

// The GP kernels, functions of the distance r between two points of
// log10(lr) scaled to [0, 1], with length scale l and signal variance s2.
const (
	// Matern52 is s2 (1 + √5 r/l + 5r²/3l²) exp(-√5 r/l).
	Matern52 Kernel = "matern52"
	// RBF (squared exponential) is s2 exp(-r²/2l²).
	RBF Kernel = "rbf"
)

// Defaults of Options' zero fields.
const (
	DefaultTrials     = 20
	DefaultLow        = 1e-6
	DefaultHigh       = 1e-1
	DefaultStartup    = 5
	DefaultGamma      = 0.25
	DefaultCandidates = 24
	DefaultXi         = 0.01
)

// Objective trains at learning rate lr and returns the score to maximise,
// for the paper the best validation foreground Dice in [0, 1]. It should stop
// promptly when ctx is cancelled and then return ctx's error.
type Objective func(ctx context.Context, lr float64) (float64, error)

// Options configures a search. The zero value is the authors' search: TPE
// over log-uniform [1e-6, 1e-1], 20 trials, seed 0. New and Run take it by
// pointer, nil meaning that zero value, and never change it.
type Options struct {
	// Method is the strategy; "" means TPE.
	Method Method
	// Trials is the total number of trials, History included; 0 means 20.
	Trials int
	// Seed fixes every random draw of the search.
	Seed uint64
	// Low and High bound the learning rate (0 < Low < High); zero means
	// 1e-6 and 1e-1. Rates are drawn log-uniformly between them.
	Low, High float64
	// Startup is the number of log-uniform trials before TPE or GP model
	// the results; 0 means 5 (hyperopt's own default is 20, which with the
	// authors' 20 trials leaves a purely random search). It must be at least
	// 1; fewer trials than Startup means a random search.
	Startup int
	// Gamma is TPE's quantile: the good group holds the best
	// ceil(Gamma*sqrt(n)) of n trials; 0 means 0.25. It must lie in (0, 1).
	Gamma float64
	// Candidates is the number of rates TPE draws from the good density
	// at each step; 0 means 24.
	Candidates int
	// PriorWeight is the weight of TPE's prior component (a Gaussian over
	// the whole log range) beside weight 1 per trial; 0 means 1.
	PriorWeight float64
	// Kernel is the GP covariance; "" means Matern52.
	Kernel Kernel
	// Xi is the GP's exploration margin: expected improvement over the best
	// value plus Xi, in units of the values' standard deviation; 0 means
	// 0.01, a negative value means exactly 0.
	Xi float64
	// History holds trials already run (for example those of an interrupted
	// search's Result): they are told to the searcher first and count toward
	// Trials. With the same options and values the search then continues as
	// the uninterrupted one would have.
	History []Trial
	// KeepGoing records a trial whose objective returns an error as failed
	// (Trial.Err) and goes on; the models ignore failed trials. Without it
	// the first such error ends the search. A cancelled context always ends
	// it.
	KeepGoing bool
	// OnTrial, when set, is called after each trial Run completes, for
	// example to show a live table.
	OnTrial func(t Trial, r *Result)
}

// withDefaults returns o with every zero field replaced by its default and
// checks the result.
func (o Options) withDefaults() (Options, error) {
	if o.Method == "" {
		o.Method = TPE
	}
	if o.Trials == 0 {
		o.Trials = DefaultTrials
	}
	if o.Low == 0 {
		o.Low = DefaultLow
	}
	if o.High == 0 {
		o.High = DefaultHigh
	}
	if o.Startup == 0 {
		o.Startup = DefaultStartup
	}
	if o.Gamma == 0 {
		o.Gamma = DefaultGamma
	}
	if o.Candidates == 0 {
		o.Candidates = DefaultCandidates
	}
	if o.PriorWeight == 0 {
		o.PriorWeight = 1
	}
	if o.Kernel == "" {
		o.Kernel = Matern52
	}
	switch {
	case o.Xi == 0:
		o.Xi = DefaultXi
	case o.Xi < 0:
		o.Xi = 0
	}
	switch o.Method {
	case TPE, GP, Random:
	default:
		return o, invalid.Field(ErrOptions, "Method", o.Method, fmt.Sprintf("must be \"\" (TPE), %q, %q or %q", TPE, GP, Random))
	}
	switch o.Kernel {
	case Matern52, RBF:
	default:
		return o, invalid.Field(ErrOptions, "Kernel", o.Kernel, fmt.Sprintf("must be \"\" (Matern52), %q or %q", Matern52, RBF))
	}
	switch {
	case o.Trials < 0:
		return o, invalid.Field(ErrOptions, "Trials", o.Trials, "must be >= 0 (0: 20)")
	case !(o.Low > 0) || math.IsInf(o.Low, 0):
		return o, invalid.Field(ErrOptions, "Low", o.Low, "must be finite and > 0 (0: 1e-6)")
	case !(o.High > 0) || math.IsInf(o.High, 0):
		return o, invalid.Field(ErrOptions, "High", o.High, "must be finite and > 0 (0: 1e-1)")
	case !(o.Low < o.High):
		return o, invalid.Field(ErrOptions, "High", o.High, fmt.Sprintf("must be > Low %g", o.Low))
	case o.Startup < 0:
		return o, invalid.Field(ErrOptions, "Startup", o.Startup, "must be >= 0 (0: 5)")
	case !(o.Gamma > 0 && o.Gamma < 1):
		return o, invalid.Field(ErrOptions, "Gamma", o.Gamma, "must be in (0, 1) (0: 0.25)")
	case o.Candidates < 0:
		return o, invalid.Field(ErrOptions, "Candidates", o.Candidates, "must be >= 0 (0: 24)")
	case !(o.PriorWeight > 0) || math.IsInf(o.PriorWeight, 0):
		return o, invalid.Field(ErrOptions, "PriorWeight", o.PriorWeight, "must be finite and > 0 (0: 1)")
	case math.IsNaN(o.Xi) || math.IsInf(o.Xi, 0):
		return o, invalid.Field(ErrOptions, "Xi", o.Xi, "must be finite")
	case len(o.History) > o.Trials:
		return o, invalid.Field(ErrOptions, "len(History)", len(o.History), fmt.Sprintf("must be <= Trials %d", o.Trials))
	}
	return o, nil
}

// Trial is one evaluation of the objective.
type Trial struct {
	// Index numbers the trials from 1 in the order they ran.
	Index int
	// LR is the learning rate tried.
	LR float64
	// Value is the objective's score (higher is better); 0 when Err is set.
	Value float64
	// Err is the objective's error message for a failed trial, "" otherwise.
	Err string `json:",omitempty"`
	// Source says how LR was chosen: "random" (a start-up or Random
	// method draw), "tpe" or "gp".
	Source string
	// Duration is the objective's wall-clock time.
	Duration time.Duration
}

// Failed reports whether the trial's objective returned an error.
func (t Trial) Failed() bool { return t.Err != "" }

// Result is the record of a search: its settings and trials in order.
type Result struct {
	Method    Method
	Kernel    Kernel // GP only
	Seed      uint64
	Low, High float64
	Trials    []Trial
}

// Best returns the successful trial with the highest value (the earliest of
// equal ones); ok is false when no trial succeeded.
func (r *Result) Best() (best Trial, ok bool) {
	for _, t := range r.Trials {
		if t.Failed() {
			continue
		}
		if !ok || t.Value > best.Value {
			best, ok = t, true
		}
	}
	return best, ok
}

// BestLR returns the learning rate of Best, or NaN when no trial succeeded.
func (r *Result) BestLR() float64 {
	if b, ok := r.Best(); ok {
		return b.LR
	}
	return math.NaN()
}

// Searcher proposes learning rates one at a time from the trials told so
// far (ask/tell). It is not safe for concurrent use.
type Searcher struct {
	opt    Options
	trials []Trial
	// lo and hi are the range in log10 units.
	lo, hi float64
}

// New returns a Searcher for opt (History is told first). opt may be nil:
// the defaults (TPE over log-uniform [1e-6, 1e-1], 20 trials, seed 0); New
// keeps a copy and does not change *opt. The error wraps ErrOptions or
// ErrTrial.
func New(opt *Options) (*Searcher, error) {
	var o Options
	if opt != nil {
		o = *opt
		o.History = append([]Trial(nil), opt.History...)
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Searcher{opt: o, lo: math.Log10(o.Low), hi: math.Log10(o.High)}
	for i, t := range o.History {
		if err := s.Tell(t); err != nil {
			return nil, fmt.Errorf("%w: History[%d]: %w", ErrOptions, i, err)
		}
	}
	return s, nil
}

// Options returns the searcher's options with every default filled in.
func (s *Searcher) Options() Options { return s.opt }

// Len returns the number of trials told so far.
func (s *Searcher) Len() int { return len(s.trials) }

// Ask returns the next trial to run: Index (the next number), LR and Source
// filled in. Asking again before Tell returns the same trial.
func (s *Searcher) Ask() Trial {
	n := len(s.trials)
	r := rng.Derive(s.opt.Seed, uint64(n))
	t := Trial{Index: n + 1, Source: "random"}
	var ok []Trial
	for _, tr := range s.trials {
		if !tr.Failed() {
			ok = append(ok, tr)
		}
	}
	var x float64
	switch {
	case s.opt.Method == Random || n < s.opt.Startup || len(ok) == 0:
		x = r.Uniform(s.lo, s.hi)
	case s.opt.Method == TPE:
		x = s.tpe(ok, r)
		t.Source = string(TPE)
	case s.opt.Method == GP:
		var fitted bool
		x, fitted = s.gp(ok, r)
		if fitted {
			t.Source = string(GP)
		}
	}
	t.LR = s.clampLR(math.Pow(10, x))
	return t
}

// clampLR keeps lr inside [Low, High] against rounding in 10^x.
func (s *Searcher) clampLR(lr float64) float64 {
	return math.Min(math.Max(lr, s.opt.Low), s.opt.High)
}

// Tell records a finished trial. Its Index is set to the next number; LR
// must lie in [Low, High] and, unless the trial failed, Value must be finite.
// The error wraps ErrTrial.
func (s *Searcher) Tell(t Trial) error {
	if !(t.LR >= s.opt.Low && t.LR <= s.opt.High) {
		return fmt.Errorf("%w: trial %d: lr %g outside [%g, %g]", ErrTrial, len(s.trials)+1, t.LR, s.opt.Low, s.opt.High)
	}
	if !t.Failed() && (math.IsNaN(t.Value) || math.IsInf(t.Value, 0)) {
		return fmt.Errorf("%w: trial %d (lr %.3g): value %v, want finite", ErrTrial, len(s.trials)+1, t.LR, t.Value)
	}
	if t.Failed() {
		t.Value = 0
	}
	if t.Source == "" {
		t.Source = "given"
	}
	t.Index = len(s.trials) + 1
	s.trials = append(s.trials, t)
	return nil
}

// Result returns the record of the trials told so far.
func (s *Searcher) Result() *Result {
	r := &Result{Method: s.opt.Method, Seed: s.opt.Seed, Low: s.opt.Low, High: s.opt.High,
		Trials: append([]Trial(nil), s.trials...)}
	if s.opt.Method == GP {
		r.Kernel = s.opt.Kernel
	}
	return r
}

// Run searches the learning rate that maximises objective: it runs trials
// until opt.Trials have been recorded (History included) and returns them.
//
// When ctx is cancelled, Run stops before the next trial or as soon as the
// running objective returns, drops that unfinished trial, and returns the
// trials completed so far with an error wrapping ctx.Err(). An objective
// error ends the search with the completed trials and an error naming the
// trial (unless opt.KeepGoing); so does a NaN or infinite value (ErrTrial).
// Invalid options give a nil Result and an error wrapping ErrOptions. opt
// may be nil: the defaults, as for New.
func Run(ctx context.Context, objective Objective, opt *Options) (*Result, error) {
	if objective == nil {
		return nil, invalid.Field(ErrOptions, "objective", nil, "must not be nil")
	}
	s, err := New(opt)
	if err != nil {
		return nil, err
	}
	for s.Len() < s.opt.Trials {
		if err := ctx.Err(); err != nil {
			return s.Result(), fmt.Errorf("search: stopped before trial %d of %d: %w", s.Len()+1, s.opt.Trials, err)
		}
		t := s.Ask()
		start := time.Now()
		v, oerr := objective(ctx, t.LR)
		t.Duration = time.Since(start)
		if cerr := ctx.Err(); cerr != nil {
			return s.Result(), fmt.Errorf("search: trial %d (lr %.3g) interrupted: %w", t.Index, t.LR, cerr)
		}
		if oerr != nil {
			if !s.opt.KeepGoing {
				return s.Result(), fmt.Errorf("search: trial %d (lr %.3g): %w", t.Index, t.LR, oerr)
			}
			t.Err = oerr.Error()
		}
		t.Value = v
		if err := s.Tell(t); err != nil {
			return s.Result(), err
		}
		if s.opt.OnTrial != nil {
			r := s.Result()
			s.opt.OnTrial(r.Trials[len(r.Trials)-1], r)
		}
	}
	return s.Result(), nil
}
