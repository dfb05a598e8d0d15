package train

import (
	"errors"
	"testing"

	"github.com/unetlab/unetlab/stats"
)

// TestRescore scores one cross-validation at its best and at its last
// epoch from the runs' records, and Table1Rows states which.
func TestRescore(t *testing.T) {
	run := func(val ...float64) *Run {
		r := &Run{}
		best := -1.0
		for i, v := range val {
			r.Epochs = append(r.Epochs, Epoch{Epoch: i + 1, TrainDice: v + 0.1, ValDice: v})
			if v > best {
				best, r.BestEpoch = v, i+1
			}
		}
		return r
	}
	cv := &CVResult{Model: "U-net", Epoch: stats.EpochBest, Folds: []FoldResult{
		{Fold: 0, Run: run(0.2, 0.6, 0.4), TrainDice: 0.7, ValDice: 0.6},
		{Fold: 1, Run: run(0.5, 0.3), TrainDice: 0.6, ValDice: 0.5},
	}}
	cases := []struct {
		epoch stats.ScoredEpoch
		val   []float64
	}{
		{stats.EpochBest, []float64{0.6, 0.5}},
		{stats.EpochLast, []float64{0.4, 0.3}},
	}
	for _, c := range cases {
		t.Run(string(c.epoch), func(t *testing.T) {
			r, err := cv.Rescore(c.epoch)
			if err != nil {
				t.Fatal(err)
			}
			s := r.FoldScores()
			if s.Epoch != c.epoch || len(s.Val) != 2 || s.Val[0] != c.val[0] || s.Val[1] != c.val[1] || s.Train[0] != c.val[0]+0.1 {
				t.Errorf("scores %+v, want validation %v at %q", s, c.val, c.epoch)
			}
			rows, err := Table1Rows("Heart", []*CVResult{r}, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rows[0].Epoch != c.epoch {
				t.Errorf("row epoch %q, want %q", rows[0].Epoch, c.epoch)
			}
		})
	}
	if cv.Folds[0].ValDice != 0.6 || cv.Epoch != stats.EpochBest {
		t.Errorf("Rescore changed its receiver: %+v", cv)
	}
	if _, err := cv.Rescore("middle"); !errors.Is(err, ErrOptions) {
		t.Errorf("Rescore(middle): %v, want ErrOptions", err)
	}
	last, _ := cv.Rescore(stats.EpochLast)
	if _, err := Table1Rows("Heart", []*CVResult{cv, last}, 0, nil); !errors.Is(err, stats.ErrInput) {
		t.Errorf("Table1Rows of best and last: %v, want stats.ErrInput", err)
	}
	noRun := &CVResult{Model: "x", Folds: []FoldResult{{Fold: 0}}}
	if _, err := noRun.Rescore(stats.EpochLast); !errors.Is(err, ErrOptions) {
		t.Errorf("Rescore without runs: %v, want ErrOptions", err)
	}
}
