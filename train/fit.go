package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/unetlab/unetlab/internal/atomicfile"
	"github.com/unetlab/unetlab/internal/invalid"
	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/models/nn"
	"github.com/unetlab/unetlab/stats"
	"github.com/unetlab/unetlab/volume"
	"github.com/unetlab/unetlab/volume/augment"
	"github.com/unetlab/unetlab/volume/batch"
	"github.com/unetlab/unetlab/volume/split"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Files of a run directory.
const (
	RecordFile    = "record.json" // the run record (Run as JSON)
	CheckpointDir = "checkpoint"  // weights.safetensors, optimizer.state, state.json
	WeightsFile   = "weights.safetensors"
)

// ErrRun is returned (wrapped) when a run directory cannot be started or
// resumed: a Fit into a directory that holds a run, a Resume of one without a
// checkpoint.
var ErrRun = errors.New("train: run directory")

// Progress selects how Fit reports progress.
type Progress string

// Progress modes. The zero value is ProgressAuto.
const (
	// ProgressAuto shows a live HTML bar inside the unetlab kernel and a
	// plain line per epoch elsewhere.
	ProgressAuto Progress = ""
	ProgressHTML Progress = "html" // a live bar through display ids
	ProgressText Progress = "text" // one line per epoch on display's publisher
	ProgressNone Progress = "none"
)

// validate reports a Progress outside the set, naming the allowed values.
func (p Progress) validate() error {
	switch p {
	case ProgressAuto, ProgressHTML, ProgressText, ProgressNone:
		return nil
	}
	return badOption("Progress", string(p), fmt.Sprintf("must be \"\" (auto), %q, %q or %q", ProgressHTML, ProgressText, ProgressNone))
}

// Options configures Fit, Resume and LRObjective; CVOptions embeds it. The
// zero value plus Data is the paper's setting at the model's defaults (see
// the package documentation). Functions take it by pointer and never change
// the caller's struct; as Data has no default, a nil *Options is refused with
// an error naming Data. The options it nests (Adam, Loss) are values whose
// zero value is their defaults.
type Options struct {
	// Model is the network to train (models.Small(models.UNet) for CPU
	// sizes). Its InputSize (D, H, W) must be the samples' tensor shape.
	Model models.Config
	// Data gives the cases, e.g. a decathlon.Prepared (ds.Prepare(...)) at
	// the model's input size. Images have Model.InChannels channels, labels
	// class values 0..Classes-1.
	Data batch.Source
	// Train and Val are the indices of Data to train and validate on. With
	// both nil the cases are split by split.TrainVal(n, ValFraction, Seed);
	// with only Val given, Train is every other case.
	Train, Val []int
	// ValFraction is the share of cases held out when Val is nil (0 means
	// 0.2).
	ValFraction float64
	// Epochs is the number of epochs (0 means 100).
	Epochs int
	// BatchSize is the number of volumes per step (0 means 2; at most the
	// number of training cases). When it does not divide the training
	// cases, each epoch drops its last, smaller batch (a different case
	// every epoch, as the order is shuffled).
	BatchSize int
	// LR is the initial learning rate (0 means 1e-4).
	LR float64
	// Adam configures the optimiser (zero: AdamOptions' defaults).
	Adam AdamOptions
	// PlateauFactor and PlateauPatience configure ReduceLROnPlateau on the
	// validation loss, MONAI's and PyTorch's scheduler of that name (0 means
	// 0.1 and 20); NoPlateau keeps the rate fixed.
	PlateauFactor   float64
	PlateauPatience int
	NoPlateau       bool
	// Patience stops training after that many epochs without a better
	// validation Dice (0 means no early stopping).
	Patience int
	// Loss configures the loss (zero: DiceCE, LossOptions' defaults).
	Loss LossOptions
	// Seed seeds the initial weights, the split and the order of the
	// batches: the same seed gives the same run on the same machine.
	Seed uint64
	// Float64 trains in float64 (for checks; float32 otherwise).
	Float64 bool
	// Augment, when set, transforms every training sample (the paper has
	// none).
	Augment *augment.Pipeline
	// Axes maps the volumes' X, Y, Z onto D, H, W (zero: D=Z, H=Y, W=X).
	Axes volume.Axes
	// Dir is the run directory; "" means Root/<uuid>.
	Dir string
	// Root is where a new run directory is made when Dir is ""; "" means
	// "runs".
	Root string
	// Name labels the run in records and plots (default: the arch).
	Name     string
	Progress Progress
	// OnEpoch, when set, is called with each finished epoch after its
	// checkpoint is written, on the training goroutine (a progress widget
	// follows the run through it; widget/views.Train). Fit and Resume
	// both call it; it is not recorded.
	OnEpoch func(Epoch)
	// Workers is the number of samples loaded at once (0: GOMAXPROCS).
	Workers int
	// Device is where the run computes: nil means nn.CurrentDevice() (as
	// UNETLAB_DEVICE or nn.SetDevice chose), else a device from
	// nn.OpenDevice (open until the run returns). On a CUDA (or the emulated) device the parameters and
	// Adam's moments stay in device memory between steps; each step copies
	// the batch in and the loss and logits out, and each checkpoint the
	// parameters and moments. A Float64 run computes on the CPU. Resume
	// may run on another device than Fit did: checkpoints are the same.
	Device *nn.Device
}

// badOption returns an error wrapping ErrOptions that names one field, its
// value and the rule it breaks: "train: invalid options: Epochs -1: must be
// >= 0".
func badOption(field string, value any, rule string) error {
	return invalid.Field(ErrOptions, field, value, rule)
}

// resolve fills in the defaults and returns the settings to record; o is
// not changed. A nil o is refused (Data has no default).
func (o *Options) resolve() (Settings, error) {
	var s Settings
	if o == nil || o.Data == nil {
		return s, badOption("Data", nil, "must be set")
	}
	if err := o.Model.Validate(); err != nil {
		return s, err
	}
	s.Model = o.Model.WithDefaults()
	switch {
	case o.Epochs < 0:
		return s, badOption("Epochs", o.Epochs, "must be >= 0")
	case o.BatchSize < 0:
		return s, badOption("BatchSize", o.BatchSize, "must be >= 0")
	case o.LR < 0 || math.IsNaN(o.LR) || math.IsInf(o.LR, 0):
		return s, badOption("LR", o.LR, "must be finite and > 0 (0: 1e-4)")
	case o.Patience < 0:
		return s, badOption("Patience", o.Patience, "must be >= 0")
	case o.ValFraction < 0 || o.ValFraction >= 1 || math.IsNaN(o.ValFraction):
		return s, badOption("ValFraction", o.ValFraction, "must be in [0, 1)")
	case o.PlateauFactor < 0 || o.PlateauFactor >= 1 || math.IsNaN(o.PlateauFactor):
		return s, badOption("PlateauFactor", o.PlateauFactor, "must be in [0, 1) (0: 0.1)")
	case o.PlateauPatience < 0:
		return s, badOption("PlateauPatience", o.PlateauPatience, "must be >= 0")
	case o.Workers < 0:
		return s, badOption("Workers", o.Workers, "must be >= 0")
	}
	s.Epochs = o.Epochs
	if s.Epochs == 0 {
		s.Epochs = 100
	}
	s.BatchSize = o.BatchSize
	if s.BatchSize == 0 {
		s.BatchSize = 2
	}
	s.LR = o.LR
	if s.LR == 0 {
		s.LR = 1e-4
	}
	if err := o.Progress.validate(); err != nil {
		return s, err
	}
	adam, err := o.Adam.withDefaults("Adam.")
	if err != nil {
		return s, err
	}
	s.Adam = adam
	s.PlateauOff = o.NoPlateau
	s.Plateau = *NewPlateau(o.PlateauFactor, o.PlateauPatience)
	s.Plateau.Best = math.Inf(1)
	s.Patience = o.Patience
	l, err := o.Loss.withDefaults("Loss.")
	if err != nil {
		return s, err
	}
	s.Loss = l
	s.Seed = o.Seed
	s.Float64 = o.Float64
	s.Classes = s.Model.Classes
	s.SourceLen = o.Data.Len()
	s.GOMAXPROCS = runtime.GOMAXPROCS(0)
	s.BLAS = nn.BLASBackend()
	s.Augmentation = o.Augment != nil
	s.Axes = o.Axes
	n := s.SourceLen
	switch {
	case o.Train == nil && o.Val == nil:
		frac := o.ValFraction
		if frac == 0 {
			frac = 0.2
		}
		tr, va, err := split.TrainVal(n, frac, o.Seed)
		if err != nil {
			return s, fmt.Errorf("%w: ValFraction %g of %d cases: %w", ErrOptions, frac, n, err)
		}
		s.Train, s.Val = tr, va
	case o.Train == nil:
		s.Val = append([]int(nil), o.Val...)
		in := map[int]bool{}
		for _, i := range o.Val {
			in[i] = true
		}
		for i := range n {
			if !in[i] {
				s.Train = append(s.Train, i)
			}
		}
	default:
		s.Train = append([]int(nil), o.Train...)
		s.Val = append([]int(nil), o.Val...)
	}
	for _, f := range []struct {
		name string
		idx  []int
	}{{"Train", s.Train}, {"Val", s.Val}} {
		for k, i := range f.idx {
			if i < 0 || i >= n {
				return s, badOption(fmt.Sprintf("%s[%d]", f.name, k), i, fmt.Sprintf("must be a case index in [0, %d)", n))
			}
		}
	}
	if len(s.Train) == 0 {
		return s, badOption("Train", s.Train, "must hold at least one case")
	}
	if len(s.Train) < s.BatchSize {
		s.BatchSize = len(s.Train)
	}
	s.DropLast = len(s.Train)%s.BatchSize != 0
	return s, nil
}

// Fit trains a new network as opt says and returns its run record. The run
// directory (opt.Dir, or a new Root/<uuid>) receives record.json and the
// checkpoint after every epoch. A cancelled ctx stops it within one step:
// the partial epoch is checkpointed, the record's Status is "cancelled" and
// the error wraps ctx.Err(); Resume continues it.
//
// opt must not be nil (its Data has no default); Fit does not change it. An
// invalid field gives an error wrapping ErrOptions that names it.
func Fit(ctx context.Context, opt *Options) (*Run, error) {
	s, err := opt.resolve()
	if err != nil {
		return nil, err
	}
	dir := opt.Dir
	id := newID()
	if dir == "" {
		root := opt.Root
		if root == "" {
			root = "runs"
		}
		dir = filepath.Join(root, id)
	}
	if _, err := os.Stat(filepath.Join(dir, RecordFile)); err == nil {
		return nil, fmt.Errorf("%w: %s already holds a run (use Resume)", ErrRun, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRun, err)
	}
	name := opt.Name
	if name == "" {
		name = string(s.Model.Arch)
	}
	now := time.Now().UTC()
	run := &Run{ID: id, Name: name, Dir: dir, Settings: s, BestValDice: math.NaN(), Status: "running", Started: now, Updated: now}
	t, err := newTrainer(run, opt)
	if err != nil {
		return nil, err
	}
	return t.loop(ctx)
}

// Resume continues the run in opt.Dir from its last checkpoint: the epochs
// recorded there are kept, the weights, optimiser, scheduler and early
// stopping state are restored, and training goes on with the epoch (and the
// step within it) that follows. opt gives the Data (the same cases as the
// first time) and the Augment pipeline when the run had one, and may change
// Epochs (the new total), Progress and Workers;
// every other setting comes from the record. A run that completed its epochs
// or stopped early returns at once. opt must not be nil; Resume does not
// change it.
func Resume(ctx context.Context, opt *Options) (*Run, error) {
	if opt == nil || opt.Data == nil {
		return nil, badOption("Data", nil, "must be set")
	}
	if opt.Dir == "" {
		return nil, fmt.Errorf("%w: Resume needs Options.Dir", ErrRun)
	}
	if opt.Epochs < 0 {
		return nil, badOption("Epochs", opt.Epochs, "must be >= 0")
	}
	ck, err := readCheckpoint(opt.Dir)
	if err != nil {
		return nil, err
	}
	run := ck.Run
	run.Dir = opt.Dir
	if opt.Epochs > 0 {
		run.Settings.Epochs = opt.Epochs
	}
	if run.Settings.Augmentation != (opt.Augment != nil) {
		return nil, fmt.Errorf("%w: %s was trained with augmentation %t, Options.Augment is set: %t", ErrRun, opt.Dir, run.Settings.Augmentation, opt.Augment != nil)
	}
	if n := opt.Data.Len(); n != run.Settings.SourceLen {
		return nil, fmt.Errorf("%w: %s was trained on %d cases, Data has %d", ErrRun, opt.Dir, run.Settings.SourceLen, n)
	}
	if ck.Partial == nil && (len(run.Epochs) >= run.Settings.Epochs || run.Status == "early stopping") {
		return run, nil
	}
	run.Resumes++
	run.Status = "running"
	t, err := newTrainer(run, opt)
	if err != nil {
		return nil, err
	}
	if err := t.restore(ck); err != nil {
		return nil, err
	}
	return t.loop(ctx)
}

// trainer holds one run's graph, machines and state.
type trainer struct {
	run       *Run
	opt       Options
	model     *models.Model
	params    []nn.Param
	adam      *Adam
	plateau   Plateau
	sinceBest int

	x, y, logits, loss *gorgonia.Node
	vm                 gorgonia.VM
	xv, logitsV        *gorgonia.Node
	vmVal              gorgonia.VM
	xBuf, yBuf         *tensor.Dense
	xvBuf              *tensor.Dense

	trainLoader, valLoader *batch.Loader
	partial                *partialEpoch
	progress               *progress

	dev        *onDevice // nil on the CPU engine (vm and vmVal run)
	logitsHost []float32 // the step's logits copied from the device
}

// testHookStep, when set by a test, is called after every training step.
var testHookStep func(epoch, step int)

// partialEpoch is the state of an epoch interrupted between two steps.
type partialEpoch struct {
	Epoch       int
	Step        int // steps done
	LossSum     float64
	DiceSum     float64
	DiceCount   int
	TrainSecond float64
}

// newTrainer builds run's trainer; it keeps a copy of *opt.
func newTrainer(run *Run, opt *Options) (*trainer, error) {
	s := run.Settings
	m, err := models.NewWithOptions(s.Model, &models.Options{Float64: s.Float64, Seed: s.Seed})
	if err != nil {
		return nil, err
	}
	t := &trainer{run: run, opt: *opt, model: m, params: m.Parameters(), plateau: s.Plateau}
	dev, desc := runDevice(opt, s.Float64)
	run.Settings.Device = desc
	cfg := m.Config()
	d, h, w := cfg.InputSize[0], cfg.InputSize[1], cfg.InputSize[2]
	g := m.Graph()
	dt := m.Dtype()
	bs := s.BatchSize
	t.x = m.Input("x", bs)
	t.y = gorgonia.NewTensor(g, dt, 5, gorgonia.WithShape(bs, 1, d, h, w), gorgonia.WithName("target"))
	if t.logits, err = m.Forward(t.x); err != nil {
		return nil, err
	}
	if t.loss, err = Loss(t.logits, t.y, &s.Loss); err != nil {
		return nil, err
	}
	grads, err := gorgonia.Grad(t.loss, m.Learnables()...)
	if err != nil {
		return nil, fmt.Errorf("train: gradient: %w", err)
	}
	t.xv = m.Input("xval", 1)
	if t.logitsV, err = m.Forward(t.xv); err != nil {
		return nil, err
	}
	if dev != nil {
		if t.dev, err = newOnDevice(t, dev, grads); err != nil {
			return nil, err
		}
	} else {
		roots := append(gorgonia.Nodes{t.loss, t.logits}, grads...)
		t.vm = gorgonia.NewTapeMachine(g.SubgraphRoots(roots...), gorgonia.BindDualValues(m.Learnables()...))
		t.vmVal = gorgonia.NewTapeMachine(g.SubgraphRoots(t.logitsV))
	}
	t.xBuf = tensor.New(tensor.Of(dt), tensor.WithShape(t.x.Shape().Clone()...))
	t.yBuf = tensor.New(tensor.Of(dt), tensor.WithShape(t.y.Shape().Clone()...))
	t.xvBuf = tensor.New(tensor.Of(dt), tensor.WithShape(t.xv.Shape().Clone()...))
	if t.adam, err = NewAdam(t.params, s.LR, &s.Adam); err != nil {
		return nil, err
	}
	workers := opt.Workers
	t.trainLoader, err = batch.New(opt.Data, s.Train, &batch.Options{BatchSize: bs, Shuffle: true, Seed: s.Seed, DropLast: s.DropLast,
		Axes: s.Axes, Augment: opt.Augment, Workers: workers})
	if err != nil {
		return nil, err
	}
	if len(s.Val) > 0 {
		t.valLoader, err = batch.New(opt.Data, s.Val, &batch.Options{BatchSize: 1, Axes: s.Axes, Workers: workers})
		if err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *trainer) close() {
	if t.dev != nil {
		t.dev.close()
		return
	}
	t.vm.Close()
	t.vmVal.Close()
}

// checkBatch checks that a batch fits the model's input.
func (t *trainer) checkBatch(b *batch.Batch, x *gorgonia.Node) error {
	xs := x.Shape()
	for i := range 5 {
		if b.Shape[i] != xs[i] {
			return fmt.Errorf("%w: batch of cases %v has shape %v (N, C, D, H, W), the model takes %v", ErrShape, b.Indices, b.Shape, xs)
		}
	}
	if b.Labels == nil {
		return fmt.Errorf("%w: cases %v have no labels", ErrShape, b.Indices)
	}
	return nil
}

// fill copies src into the float32 or float64 tensor dst.
func fill(dst *tensor.Dense, src []float32) {
	switch d := dst.Data().(type) {
	case []float32:
		copy(d, src)
	case []float64:
		for i, v := range src {
			d[i] = float64(v)
		}
	}
}

// logitsF32 returns a node's value as float32 data.
func logitsF32(n *gorgonia.Node, buf []float32) []float32 {
	switch d := n.Value().Data().(type) {
	case []float32:
		return d
	case []float64:
		buf = buf[:0]
		for _, v := range d {
			buf = append(buf, float32(v))
		}
		return buf
	}
	return nil
}

// sampleDice returns the Dice of each foreground label (1..C-1) of sample
// n in logits (N, C, V) against labels (N, 1, V).
func sampleDice(logits, labels []float32, n, c, v int, pred, truth []uint8) ([]float64, error) {
	lg := logits[n*c*v : (n+1)*c*v]
	for i := range v {
		best, arg := lg[i], 0
		for k := 1; k < c; k++ {
			if x := lg[k*v+i]; x > best {
				best, arg = x, k
			}
		}
		pred[i] = uint8(arg)
		truth[i] = uint8(labels[n*v+i])
	}
	d, err := stats.DicePerLabelFlat(pred, truth, c)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// step runs one training step on b and returns the loss and the foreground
// Dice of each sample.
func (t *trainer) step(ctx context.Context, b *batch.Batch, dice *[]float64) (float64, error) {
	if err := t.checkBatch(b, t.x); err != nil {
		return 0, err
	}
	fill(t.xBuf, b.Images)
	fill(t.yBuf, b.Labels)
	var l float64
	var lg []float32
	if t.dev != nil {
		var err error
		if l, err = t.dev.step(ctx, t); err != nil {
			return 0, fmt.Errorf("train: step on cases %v: %w", b.Indices, err)
		}
		lg = t.logitsHost
	} else {
		if err := gorgonia.Let(t.x, t.xBuf); err != nil {
			return 0, err
		}
		if err := gorgonia.Let(t.y, t.yBuf); err != nil {
			return 0, err
		}
		defer t.vm.Reset()
		if err := t.vm.RunAll(); err != nil {
			return 0, fmt.Errorf("train: step on cases %v: %w", b.Indices, err)
		}
		var err error
		if l, err = scalarOf(t.loss.Value()); err != nil {
			return 0, err
		}
		lg = logitsF32(t.logits, nil)
	}
	if math.IsNaN(l) || math.IsInf(l, 0) {
		return 0, fmt.Errorf("train: loss is %g on cases %v (learning rate %g too high?)", l, b.Indices, t.adam.LR)
	}
	c := t.run.Settings.Classes
	v := b.Shape[2] * b.Shape[3] * b.Shape[4]
	pred, truth := make([]uint8, v), make([]uint8, v)
	for n := range b.Shape[0] {
		d, err := sampleDice(lg, b.Labels, n, c, v, pred, truth)
		if err != nil {
			return 0, err
		}
		*dice = append(*dice, stats.NanMean(d))
	}
	if t.dev != nil {
		if err := t.dev.adamStep(t); err != nil {
			return 0, err
		}
		return l, nil
	}
	if err := t.adam.Step(); err != nil {
		return 0, err
	}
	return l, nil
}

// validate runs the validation cases and returns the mean loss, the mean
// foreground Dice and the Dice per foreground label.
func (t *trainer) validate(ctx context.Context, epoch int) (loss, dice float64, labels []float64, err error) {
	if t.valLoader == nil {
		return math.NaN(), math.NaN(), nil, nil
	}
	c := t.run.Settings.Classes
	it := t.valLoader.Epoch(ctx, epoch)
	defer it.Close()
	var sumLoss float64
	var n int
	var perCase []float64
	perLabel := make([][]float64, c-1)
	var buf []float32
	var pred, truth []uint8
	t.model.SetTraining(false)
	defer t.model.SetTraining(true)
	for it.Next() {
		b := it.Batch()
		if err := t.checkBatch(b, t.xv); err != nil {
			return 0, 0, nil, err
		}
		fill(t.xvBuf, b.Images)
		var lg []float32
		if t.dev != nil {
			out, err := t.dev.forward(ctx, t)
			if err != nil {
				return 0, 0, nil, fmt.Errorf("train: validation on case %v: %w", b.Indices, err)
			}
			lg = append([]float32(nil), out...)
		} else {
			if err := gorgonia.Let(t.xv, t.xvBuf); err != nil {
				return 0, 0, nil, err
			}
			if err := t.vmVal.RunAll(); err != nil {
				t.vmVal.Reset()
				return 0, 0, nil, fmt.Errorf("train: validation on case %v: %w", b.Indices, err)
			}
			buf = logitsF32(t.logitsV, buf)
			lg = append([]float32(nil), buf...)
			t.vmVal.Reset()
		}
		ls := b.LabelShape()
		l, err := LossValue(lg, []int{1, c, ls[2], ls[3], ls[4]}, b.Labels, ls[:], &t.run.Settings.Loss)
		if err != nil {
			return 0, 0, nil, err
		}
		sumLoss += l
		n++
		v := ls[2] * ls[3] * ls[4]
		if pred == nil {
			pred, truth = make([]uint8, v), make([]uint8, v)
		}
		d, err := sampleDice(lg, b.Labels, 0, c, v, pred, truth)
		if err != nil {
			return 0, 0, nil, err
		}
		perCase = append(perCase, stats.NanMean(d))
		for k := range d {
			perLabel[k] = append(perLabel[k], d[k])
		}
	}
	if err := it.Err(); err != nil {
		return 0, 0, nil, err
	}
	for k := range perLabel {
		labels = append(labels, stats.NanMean(perLabel[k]))
	}
	return sumLoss / float64(n), stats.NanMean(perCase), labels, nil
}

// loop trains from the run's next epoch to its last.
func (t *trainer) loop(ctx context.Context) (*Run, error) {
	defer t.close()
	s := t.run.Settings
	t.progress = newProgress(t.opt.Progress, t.run, t.trainLoader.Len(), len(s.Val))
	defer t.progress.finish()
	for epoch := len(t.run.Epochs) + 1; epoch <= s.Epochs; epoch++ {
		e, err := t.epoch(ctx, epoch)
		if err != nil {
			if ctx.Err() != nil {
				t.run.Status = "cancelled"
				if werr := t.checkpoint(); werr != nil {
					return t.run, fmt.Errorf("train: stopped at epoch %d: %w (and the checkpoint failed: %v)", epoch, ctx.Err(), werr)
				}
				return t.run, fmt.Errorf("train: stopped at epoch %d step %d: %w", epoch, t.partialStep(), ctx.Err())
			}
			return t.run, err
		}
		t.run.Epochs = append(t.run.Epochs, e)
		t.partial = nil
		if !math.IsNaN(e.ValDice) && (math.IsNaN(t.run.BestValDice) || e.ValDice > t.run.BestValDice) {
			t.run.BestValDice, t.run.BestEpoch = e.ValDice, e.Epoch
			t.sinceBest = 0
		} else {
			t.sinceBest++
		}
		if !s.PlateauOff && !math.IsNaN(e.ValLoss) {
			t.adam.LR = t.plateau.Step(e.ValLoss, t.adam.LR)
		}
		stop := s.Patience > 0 && t.sinceBest >= s.Patience
		switch {
		case stop:
			t.run.Status = "early stopping"
		case epoch == s.Epochs:
			t.run.Status = "completed"
		}
		if err := t.checkpoint(); err != nil {
			return t.run, err
		}
		t.progress.epochDone(e)
		if t.opt.OnEpoch != nil {
			t.opt.OnEpoch(e)
		}
		if stop {
			break
		}
	}
	if t.run.Status == "running" {
		t.run.Status = "completed"
		if err := t.checkpoint(); err != nil {
			return t.run, err
		}
	}
	return t.run, nil
}

func (t *trainer) partialStep() int {
	if t.partial == nil {
		return 0
	}
	return t.partial.Step
}

// epoch runs one epoch (continuing t.partial when it belongs to it).
func (t *trainer) epoch(ctx context.Context, epoch int) (Epoch, error) {
	p := t.partial
	if p == nil || p.Epoch != epoch {
		p = &partialEpoch{Epoch: epoch}
	}
	t.partial = p
	lr := t.adam.LR
	start := time.Now()
	prevSeconds := p.TrainSecond
	it := t.trainLoader.Epoch(ctx, epoch)
	defer it.Close()
	skip := p.Step
	var dice []float64
	for it.Next() {
		if skip > 0 {
			skip--
			continue
		}
		if err := ctx.Err(); err != nil {
			return Epoch{}, err
		}
		dice = dice[:0]
		l, err := t.step(ctx, it.Batch(), &dice)
		if err != nil {
			return Epoch{}, err
		}
		p.Step++
		p.LossSum += l
		for _, d := range dice {
			if !math.IsNaN(d) {
				p.DiceSum += d
				p.DiceCount++
			}
		}
		p.TrainSecond = prevSeconds + time.Since(start).Seconds()
		if testHookStep != nil {
			testHookStep(epoch, p.Step)
		}
		t.progress.step(epoch, p.Step, p.LossSum/float64(p.Step), p.DiceSum/float64(max(p.DiceCount, 1)))
	}
	if err := it.Err(); err != nil {
		return Epoch{}, err
	}
	if err := ctx.Err(); err != nil {
		return Epoch{}, err
	}
	vstart := time.Now()
	vl, vd, vlab, err := t.validate(ctx, epoch)
	if err != nil {
		return Epoch{}, err
	}
	e := Epoch{Epoch: epoch, TrainLoss: p.LossSum / float64(max(p.Step, 1)), TrainDice: math.NaN(), ValLoss: vl, ValDice: vd, ValDiceLabels: vlab,
		LR: lr, Steps: p.Step, TrainSeconds: p.TrainSecond, ValSeconds: time.Since(vstart).Seconds(), End: time.Now().UTC()}
	if p.DiceCount > 0 {
		e.TrainDice = p.DiceSum / float64(p.DiceCount)
	}
	return e, nil
}

// checkpointState is checkpoint/state.json: the record as of the checkpoint,
// the scheduler and early-stopping state and a partial epoch.
type checkpointState struct {
	Run       *Run
	Plateau   Plateau
	SinceBest int
	Partial   *partialEpoch
	src       string // the checkpoint directory read
}

// checkpoint writes the weights, optimiser state and state.json into a fresh
// directory, swaps it in for the previous checkpoint, then rewrites
// record.json; each file is complete or absent at every instant.
func (t *trainer) checkpoint() error {
	dir := t.run.Dir
	if t.dev != nil {
		if err := t.dev.sync(); err != nil {
			return fmt.Errorf("train: checkpoint: %w", err)
		}
	}
	t.run.Updated = time.Now().UTC()
	st := checkpointState{Run: t.run, Plateau: t.plateau, SinceBest: t.sinceBest, Partial: t.partial}
	b, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	err = atomicfile.ReplaceDir(filepath.Join(dir, CheckpointDir), func(tmp string) error {
		if err := t.model.Save(filepath.Join(tmp, WeightsFile)); err != nil {
			return err
		}
		if err := t.adam.SaveState(filepath.Join(tmp, "optimizer.state")); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(tmp, "state.json"), b, atomicfile.Perm)
	})
	if err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	rb, err := json.MarshalIndent(t.run, "", " ")
	if err != nil {
		return fmt.Errorf("train: record: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, RecordFile), rb); err != nil {
		return fmt.Errorf("train: record: %w", err)
	}
	return nil
}

// readCheckpoint reads the last complete checkpoint of dir (checkpoint/, or
// .checkpoint.old/ when a crash came between the two renames of
// atomicfile.ReplaceDir).
func readCheckpoint(dir string) (*checkpointState, error) {
	for _, name := range []string{CheckpointDir, filepath.Base(atomicfile.OldDir(CheckpointDir))} {
		b, err := os.ReadFile(filepath.Join(dir, name, "state.json"))
		if err != nil {
			continue
		}
		st := new(checkpointState)
		if err := json.Unmarshal(b, st); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrRun, filepath.Join(dir, name, "state.json"), err)
		}
		if st.Run == nil {
			return nil, fmt.Errorf("%w: %s holds no run", ErrRun, filepath.Join(dir, name, "state.json"))
		}
		st.src = filepath.Join(dir, name)
		return st, nil
	}
	return nil, fmt.Errorf("%w: no checkpoint in %s", ErrRun, dir)
}

// restore loads a checkpoint's weights and state into t.
func (t *trainer) restore(ck *checkpointState) error {
	src := ck.src
	if err := t.model.Load(filepath.Join(src, WeightsFile)); err != nil {
		return fmt.Errorf("%w: %w", ErrRun, err)
	}
	if err := t.adam.LoadState(filepath.Join(src, "optimizer.state")); err != nil {
		return fmt.Errorf("%w: %w", ErrRun, err)
	}
	t.plateau = ck.Plateau
	t.sinceBest = ck.SinceBest
	t.partial = ck.Partial
	return nil
}
