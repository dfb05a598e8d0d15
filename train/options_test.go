package train

import (
	"context"
	"errors"
	"testing"

	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/volume"
)

// nCases is a batch.Source of n cases that must not be read.
type nCases int

func (n nCases) Len() int { return int(n) }
func (n nCases) Sample(context.Context, int) (*volume.Volume, *volume.Volume, error) {
	panic("train: options test read a sample")
}

// TestOptionsInvalid: each ill option is refused with ErrOptions and a
// message naming that one field, its value and the rule.
func TestOptionsInvalid(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Options)
		msg  string
	}{
		{"epochs", func(o *Options) { o.Epochs = -1 }, "train: invalid options: Epochs -1: must be >= 0"},
		{"batch", func(o *Options) { o.BatchSize = -2 }, "train: invalid options: BatchSize -2: must be >= 0"},
		{"lr", func(o *Options) { o.LR = -1 }, "train: invalid options: LR -1: must be finite and > 0 (0: 1e-4)"},
		{"patience", func(o *Options) { o.Patience = -3 }, "train: invalid options: Patience -3: must be >= 0"},
		{"val fraction", func(o *Options) { o.ValFraction = 1 }, "train: invalid options: ValFraction 1: must be in [0, 1)"},
		{"plateau factor", func(o *Options) { o.PlateauFactor = 2 }, "train: invalid options: PlateauFactor 2: must be in [0, 1) (0: 0.1)"},
		{"plateau patience", func(o *Options) { o.PlateauPatience = -1 }, "train: invalid options: PlateauPatience -1: must be >= 0"},
		{"workers", func(o *Options) { o.Workers = -1 }, "train: invalid options: Workers -1: must be >= 0"},
		{"progress", func(o *Options) { o.Progress = "fancy" }, `train: invalid options: Progress "fancy": must be "" (auto), "html", "text" or "none"`},
		{"adam beta", func(o *Options) { o.Adam.Beta2 = 1 }, "train: invalid options: Adam.Beta2 1: must be in [0, 1)"},
		{"adam eps", func(o *Options) { o.Adam.Eps = -1 }, "train: invalid options: Adam.Eps -1: must be finite and >= 0"},
		{"loss kind", func(o *Options) { o.Loss.Kind = "focal" }, `train: invalid options: Loss.Kind "focal": must be "dicece", "dice" or "ce"`},
		{"loss lambda", func(o *Options) { o.Loss.LambdaCE = -1 }, "train: invalid options: Loss.LambdaCE -1: must be finite and >= 0"},
		{"loss smooth", func(o *Options) { o.Loss.SmoothDr = -1 }, "train: invalid options: Loss.SmoothDr -1: must be finite and >= 0"},
		{"train index", func(o *Options) { o.Train = []int{0, 99}; o.Val = []int{1} }, "train: invalid options: Train[1] 99: must be a case index in [0, 10)"},
		{"val index", func(o *Options) { o.Val = []int{-1} }, "train: invalid options: Val[0] -1: must be a case index in [0, 10)"},
		{"no data", func(o *Options) { o.Data = nil }, "train: invalid options: Data <nil>: must be set"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := &Options{Model: models.Small(models.UNet), Data: nCases(10)}
			c.edit(o)
			keep := *o
			_, err := o.resolve()
			if !errors.Is(err, ErrOptions) || err.Error() != c.msg {
				t.Fatalf("err %v\nwant %s", err, c.msg)
			}
			if o.Epochs != keep.Epochs || o.Adam != keep.Adam || o.Loss != keep.Loss {
				t.Fatal("resolve changed the caller's options")
			}
		})
	}
	var nilOpt *Options
	if _, err := nilOpt.resolve(); !errors.Is(err, ErrOptions) {
		t.Fatalf("nil options: %v", err)
	}
	if _, err := Fit(context.Background(), nil); !errors.Is(err, ErrOptions) {
		t.Fatalf("Fit(nil): %v", err)
	}
	if _, err := CrossValidate(context.Background(), nil); !errors.Is(err, ErrOptions) {
		t.Fatalf("CrossValidate(nil): %v", err)
	}
	if _, err := CrossValidate(context.Background(), &CVOptions{Options: Options{Data: nCases(10)}, Folds: 1}); err == nil || err.Error() != "train: invalid options: Folds 1: must be 0 (5) or >= 2" {
		t.Fatalf("Folds 1: %v", err)
	}
	if _, err := NewAdam(nil, 1e-3, &AdamOptions{Beta1: -0.5}); err == nil || err.Error() != "train: invalid options: Beta1 -0.5: must be in [0, 1)" {
		t.Fatalf("NewAdam: %v", err)
	}
	if _, err := NewAdam(nil, 0, nil); err == nil || err.Error() != "train: invalid options: lr 0: must be finite and > 0" {
		t.Fatalf("NewAdam lr 0: %v", err)
	}
}

// TestOptionsDefaults: a nil options pointer is the zero value's defaults.
func TestOptionsDefaults(t *testing.T) {
	a, err := NewAdam(nil, 1e-3, nil)
	if err != nil || a.Options != (AdamOptions{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-7}) {
		t.Fatalf("NewAdam(nil options) = %+v, %v", a.Options, err)
	}
	l, err := resolveLoss(nil)
	if err != nil || l != (LossOptions{Kind: DiceCE, LambdaDice: 1, LambdaCE: 1, SmoothNr: 1e-5, SmoothDr: 1e-5}) {
		t.Fatalf("resolveLoss(nil) = %+v, %v", l, err)
	}
	var old LossOptions
	if err := old.UnmarshalJSON([]byte(`{"Kind":"dice","DiceWeight":2,"CEWeight":0,"Smooth":0.5}`)); err != nil || old != (LossOptions{Kind: DiceOnly, LambdaDice: 2, SmoothNr: 0.5, SmoothDr: 0.5}) {
		t.Fatalf("an old record's loss reads as %+v, %v", old, err)
	}
}

// TestPredictOptionsInvalid: an enum outside its set names the field.
func TestPredictOptionsInvalid(t *testing.T) {
	cases := []struct {
		opt PredictOptions
		msg string
	}{
		{PredictOptions{Intensity: 9}, `train: invalid options: Intensity "Intensity(9)": must be zscore+minmax, zscore or minmax`},
		{PredictOptions{Axes: 4}, `train: invalid options: Axes "Axes(4)": must be ZYX or ZXY`},
		{PredictOptions{Interp: 3}, `train: invalid options: Interp "LabelInterp(3)": must be linear or nearest`},
	}
	for _, c := range cases {
		if err := c.opt.validate(); !errors.Is(err, ErrOptions) || err.Error() != c.msg {
			t.Errorf("%+v: %v\nwant %s", c.opt, err, c.msg)
		}
	}
	if err := (&PredictOptions{}).validate(); err != nil {
		t.Errorf("zero options: %v", err)
	}
}
