package search_test

import (
	"context"
	"fmt"
	"math"

	"github.com/unetlab/unetlab/train/search"
)

// valDice stands in for training: a score that peaks at lr = 3e-4. In a
// notebook the objective trains a network (train.Fit) and returns its best
// validation foreground Dice.
func valDice(ctx context.Context, lr float64) (float64, error) {
	d := (math.Log10(lr) - math.Log10(3e-4)) / 0.5
	return 0.9 * math.Exp(-0.5*d*d), nil
}

func ExampleRun() {
	res, err := search.Run(context.Background(), valDice, &search.Options{Method: search.TPE, Trials: 20, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	best, _ := res.Best()
	fmt.Printf("best lr %.1e (trial %d), Dice %.2f\n", best.LR, best.Index, best.Value)
	// In a notebook, end a cell with res to see the trials table, or with
	// the figure of res.Plot().
	fmt.Println(len(res.Trials), "trials;", res.Trials[0].Source, "then", res.Trials[19].Source)
	// Output:
	// best lr 3.7e-04 (trial 19), Dice 0.89
	// 20 trials; random then tpe
}

func ExampleRun_gaussianProcess() {
	res, err := search.Run(context.Background(), valDice, &search.Options{Method: search.GP, Kernel: search.Matern52, Trials: 12})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("best lr %.1e\n", res.BestLR())
	fig, _ := res.Plot()
	fmt.Println(fig.Render().Text())
	// Output:
	// best lr 2.9e-04
	// <viz.Figure "Learning-rate search (GP (matern52), seed 0)" 768x384>
}

// A Searcher lets the caller run each trial itself, for example to show
// each training run's own progress or to spread trials over machines.
func ExampleSearcher() {
	s, err := search.New(&search.Options{Trials: 8, Seed: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	for s.Len() < s.Options().Trials {
		t := s.Ask()
		t.Value, _ = valDice(context.Background(), t.LR)
		if err := s.Tell(t); err != nil {
			fmt.Println(err)
			return
		}
	}
	res := s.Result()
	fmt.Printf("%d trials, best lr %.0e\n", len(res.Trials), res.BestLR())
	// Output:
	// 8 trials, best lr 1e-04
}

func ExampleOptions() {
	_, err := search.Run(context.Background(), valDice, &search.Options{Low: 1e-2, High: 1e-4})
	fmt.Println(err)
	// Output:
	// search: invalid options: High 0.0001: must be > Low 0.01
}
