package train

import (
	"context"
	"math"
	"testing"

	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/volume/batch"
)

// BenchmarkStep times one training step (forward, DiceCE, backward, Adam) of
// the small U-net preset on a batch of two 32^3 phantom volumes, and one
// validation forward.
func BenchmarkStep(b *testing.B) {
	opt := Options{Model: models.Small(models.UNet), Data: heart(b), Dir: b.TempDir(), Progress: ProgressNone, LR: 1e-5}
	tr, bt := benchTrainer(b, opt)
	defer tr.close()
	s := tr.run.Settings
	var dice []float64
	b.Run("train", func(b *testing.B) {
		b.SetBytes(int64(4 * len(bt.Images)))
		b.ReportAllocs()
		for range b.N {
			dice = dice[:0]
			if _, err := tr.step(context.Background(), bt, &dice); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("validate", func(b *testing.B) {
		for range b.N {
			if _, _, _, err := tr.validate(context.Background(), 1); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N)/float64(len(s.Val)), "s/case")
	})
}

// BenchmarkArchStep times one training step (batch 1) of each
// architecture's small preset at 64^3, the notebooks' laptop size, so the
// designs' costs can be compared in one run.
func BenchmarkArchStep(b *testing.B) {
	for _, a := range models.Archs {
		b.Run(string(a), func(b *testing.B) {
			cfg := models.Small(a)
			cfg.InputSize = [3]int{64, 64, 64}
			opt := Options{Model: cfg, Data: heartAt(b, 64), Dir: b.TempDir(), Progress: ProgressNone, LR: 1e-5, BatchSize: 1}
			tr, bt := benchTrainer(b, opt)
			defer tr.close()
			var dice []float64
			if _, err := tr.step(context.Background(), bt, &dice); err != nil { // builds the machine's buffers
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				dice = dice[:0]
				if _, err := tr.step(context.Background(), bt, &dice); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchTrainer builds the trainer of opt and returns it with the first
// training batch of epoch 1.
func benchTrainer(b *testing.B, opt Options) (*trainer, *batch.Batch) {
	b.Helper()
	s, err := opt.resolve()
	if err != nil {
		b.Fatal(err)
	}
	tr, err := newTrainer(&Run{Settings: s, BestValDice: math.NaN()}, &opt)
	if err != nil {
		b.Fatal(err)
	}
	it := tr.trainLoader.Epoch(context.Background(), 1)
	defer it.Close()
	if !it.Next() {
		tr.close()
		b.Fatal(it.Err())
	}
	return tr, it.Batch()
}
