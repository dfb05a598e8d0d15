package train

import (
	"context"
	"fmt"
	"math"
)

// LRObjective returns the objective of the paper's learning-rate search (a
// search.Objective): each call trains opt with its LR replaced by lr, in a
// new run directory under opt.Root (opt.Dir is ignored), and returns the
// run's best validation foreground Dice. A run whose loss diverges returns
// the error, which the search records as a failed trial; a run with no
// defined validation Dice scores 0.
//
// LRObjective copies *opt when called: later changes to the caller's struct
// do not reach the objective. opt must not be nil (its Data has no default);
// a nil opt gives an objective that returns that error.
func LRObjective(opt *Options) func(ctx context.Context, lr float64) (float64, error) {
	var base Options
	if opt != nil {
		base = *opt
	}
	return func(ctx context.Context, lr float64) (float64, error) {
		o := base
		o.LR = lr
		o.Dir = ""
		if o.Name == "" {
			o.Name = string(o.Model.Arch)
		}
		o.Name = fmt.Sprintf("%s lr %.3g", o.Name, lr)
		run, err := Fit(ctx, &o)
		if err != nil {
			return 0, err
		}
		if math.IsNaN(run.BestValDice) {
			return 0, nil
		}
		return run.BestValDice, nil
	}
}
