package search

import (
	"context"
	"math"
	"testing"

	"github.com/unetlab/unetlab/volume/rng"
)

func TestCompareDebug(t *testing.T) {
	for _, width := range []float64{0.15, 0.3, 0.6} {
		for _, m := range []Method{Random, TPE, GP} {
			var regret float64
			hits := 0
			const seeds = 40
			for seed := uint64(0); seed < seeds; seed++ {
				cr := rng.Derive(1234, seed)
				c := cr.Uniform(-5, -2)
				noise := rng.Derive(777, seed)
				obj := func(ctx context.Context, lr float64) (float64, error) {
					d := (math.Log10(lr) - c) / width
					return math.Exp(-0.5*d*d) + 0.02*noise.Norm(), nil
				}
				r, err := Run(context.Background(), obj, Options{Method: m, Seed: seed})
				if err != nil {
					t.Fatal(err)
				}
				b, _ := r.Best()
				d := (math.Log10(b.LR) - c) / width
				regret += 1 - math.Exp(-0.5*d*d)
				if math.Abs(math.Log10(b.LR)-c) < 0.25 {
					hits++
				}
			}
			t.Logf("w %.2f %s: mean regret %.4f hits %d/%d", width, m, regret/seeds, hits, seeds)
		}
	}
}
