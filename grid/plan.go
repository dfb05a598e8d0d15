package grid

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/unetlab/unetlab/internal/invalid"
	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/volume"
	"github.com/unetlab/unetlab/volume/decathlon"
	"github.com/unetlab/unetlab/volume/phantom"
	"github.com/unetlab/unetlab/volume/split"
)

// ErrPlan is returned (wrapped) for a Spec that cannot be planned and a plan
// file that cannot be read; the message names the field at fault.
var ErrPlan = errors.New("grid: invalid plan")

// Stage is one step of the paper's protocol. Stages run in the order of
// Stages; a job depends only on jobs of earlier stages.
type Stage string

// The stages of the protocol (PROTOCOL.md, "Training").
const (
	// StageSearch is one design's learning-rate search on one
	// cross-validation task: TPE trials in order, each a short training
	// run on a train/validation split; its result is the best rate.
	//
	// The trials form one job, not a chain of jobs: TPE asks for trial
	// n's rate only once trials 1..n-1 are told, so the trials cannot run
	// side by side, and a chain would gain no parallelism while it added
	// a queue wait per trial on Slurm (20 per search at the paper's
	// scale) and 20 times the jobs to key and track. The job keeps the
	// chain's resumability: the trials told so far are written after each
	// one (trials.json) and every trial checkpoints its training run, so
	// a killed or requeued search tells the searcher its trials again
	// (TPE then asks for the same next rate) and resumes the trial that
	// was running.
	StageSearch Stage = "search"
	// StageFold is one fold of a design's k-fold cross-validation at the
	// rate its search found (read from the search's result at run time).
	StageFold Stage = "fold"
	// StageEpochs chooses a final model's epoch count: a run on a
	// train/validation split of the development cases with early stopping
	// (patience 30, at most 1000 epochs at the paper's scale).
	StageEpochs Stage = "epochs"
	// StageFinal trains the final model on every development case for the
	// chosen number of epochs and scores it on the held-out test cases.
	StageFinal Stage = "final"
)

// Stages lists the stages in the order they run.
var Stages = []Stage{StageSearch, StageFold, StageEpochs, StageFinal}

// Resources are what one job asks of the machine that runs it. The local
// executor runs as many jobs at once as CPUs (and GPUs) allow; the Slurm
// executor passes them to sbatch.
type Resources struct {
	CPUs   int           // --cpus-per-task; also the job's GOMAXPROCS (0 means 1)
	MemMiB int           // --mem in MiB (0: Slurm's default)
	GPUs   int           // --gres=gpu:N (0: none)
	Time   time.Duration // --time (0: the partition's limit)
}

// SearchSpec is a learning-rate search job's settings.
type SearchSpec struct {
	Trials    int     // TPE trials, run in order (0 means 20)
	Epochs    int     // epochs per trial (0 means 50)
	Low, High float64 // log-uniform range (0 means 1e-6 and 1e-1)
	Seed      uint64  // the searcher's seed
}

// Job is one keyed unit of work of a plan. Everything that decides its
// result is in its Key (see KeyOf); Name, Design, Task, Dir and Resources
// are labels and placement and do not enter it.
type Job struct {
	Key   string // hex sha256, see KeyOf
	Stage Stage
	// Name labels the job in status tables ("fold 2 U-net Heart").
	Name   string
	Design string // the design's name (a key of Spec.Designs)
	Task   string // the Decathlon task ("Heart")
	Fold   int    // 1-based fold of a StageFold job, 0 otherwise

	Model models.Config // InChannels and Classes set for the task
	Data  DataRef
	Prep  Prep
	// Train, Val and Test are case indices into the task's training
	// cases (dataset.json's "training" list).
	Train, Val, Test []int

	// LR is the learning rate of a training job; 0 when LRFrom names the
	// key of the search job whose best rate it trains at.
	LR     float64
	LRFrom string `json:",omitempty"`
	// Epochs is the number of training epochs (the cap of a StageEpochs
	// job); 0 with EpochsFrom, the key of the StageEpochs job whose chosen
	// count a StageFinal job trains for.
	Epochs     int
	EpochsFrom string `json:",omitempty"`
	// Patience stops a StageEpochs job after that many epochs without a
	// better validation Dice.
	Patience int
	Seed     uint64
	// BatchSize is the number of volumes per step (0 means train's, 2).
	BatchSize int
	Search    *SearchSpec `json:",omitempty"`

	Resources Resources
}

// Deps returns the keys of the jobs j needs results of.
func (j *Job) Deps() []string {
	var d []string
	for _, k := range []string{j.LRFrom, j.EpochsFrom} {
		if k != "" {
			d = append(d, k)
		}
	}
	return d
}

// Plan is a grid: every job of the protocol, in stage order, keyed. It is
// data: Write stores it as JSON (plan.json in the grid's root) and every
// executor runs the same plan.
type Plan struct {
	Scale string // the preset it was built from, "" for none
	Jobs  []*Job
}

// Job returns the job of a key, nil when the plan has none.
func (p *Plan) Job(key string) *Job {
	for _, j := range p.Jobs {
		if j.Key == key {
			return j
		}
	}
	return nil
}

// Design is a network to compare: a name the tables use ("U-net") and its
// configuration (InChannels and Classes are set per task).
type Design struct {
	Name   string
	Config models.Config
}

// FinalSpec sets the final-model stages (PROTOCOL.md: patience 30, at most
// 1000 epochs, the last weights are used).
type FinalSpec struct {
	Designs []string // names of Spec.Designs trained as final models
	Tasks   []string // tasks they are trained and tested on
	// TestFraction is the share of a task's labelled cases held out as its
	// test set (0 means 0.3); ValFraction the share of the remaining
	// development cases that chooses the epoch count (0 means 0.2).
	TestFraction, ValFraction float64
	MaxEpochs                 int // 0 means 1000
	Patience                  int // 0 means 30
}

// Spec describes a grid to Build: the designs, the tasks, the protocol's
// counts. Preset returns the notebooks' specs by scale. A Spec is
// JSON-serialisable (`unetlab grid plan --spec FILE`).
type Spec struct {
	Scale   string
	Designs []Design
	// Tasks are the cross-validation tasks: each design is searched and
	// cross-validated on each.
	Tasks []string
	// Data is the folder of the Decathlon tasks (UNETLAB_DATA). A task
	// missing there is written as its phantom with Phantom's options, and
	// Build says so on Log; nil Phantom makes a missing task an error.
	Data    string
	Phantom *phantom.Options
	// InputSize is every network's input side in voxels (0 keeps the
	// design's own InputSize); SwinUNETR keeps at least its 64.
	InputSize int
	Folds     int // k (0 means 5)
	Epochs    int // epochs per fold (0 means 100)
	// LR fixes a design's learning rate by name: its search is left out
	// and its jobs train at this rate.
	LR          map[string]float64 `json:",omitempty"`
	Search      SearchSpec
	ValFraction float64 // the search's validation share (0 means 0.2)
	Final       FinalSpec
	Seed        uint64
	BatchSize   int
	// Resources per stage; a stage missing here gets one CPU and no limits.
	Resources map[Stage]Resources              `json:",omitempty"`
	Log       func(format string, args ...any) `json:"-"`
}

// Scale returns the scale preset named by UNETLAB_SCALE ("" means laptop).
func Scale() string {
	if s := os.Getenv("UNETLAB_SCALE"); s != "" {
		return s
	}
	return "laptop"
}

// Preset returns the protocol at a scale (smoke, render, laptop or paper;
// "" reads UNETLAB_SCALE), sized as notebooks 02 and 03 size it: smoke runs
// in minutes on 2 CPU cores, render (the notebooks' shipped outputs) in
// about an hour there, paper is the authors' protocol (9 designs, 20 TPE
// trials of 50 epochs, 5 folds of 100 epochs on Heart and Lung, final
// models of U-net, Swin-UNETR and Conv-Skip on the ten tasks with patience
// 30 and at most 1000 epochs). data is the Decathlon folder (UNETLAB_DATA).
func Preset(scale, data string) (*Spec, error) {
	if scale == "" {
		scale = Scale()
	}
	designs := func(archs []models.Arch, paper bool) []Design {
		var ds []Design
		for _, a := range archs {
			cfg := models.Small(a)
			if paper {
				cfg = models.Paper(a)
			}
			ds = append(ds, Design{Name: a.PaperName(), Config: cfg})
		}
		return ds
	}
	s := &Spec{Scale: scale, Data: data, Tasks: []string{"Heart", "Lung"}, Seed: 1}
	tasks := []string{"BrainTumour", "Heart", "Liver", "Hippocampus", "Prostate", "Lung", "Pancreas", "HepaticVessel", "Spleen", "Colon"}
	final := []string{models.UNet.PaperName(), models.SwinUNETR.PaperName(), models.ConvSkip.PaperName()}
	switch scale {
	case "smoke":
		s.Designs = designs([]models.Arch{models.UNet, models.ResBlock1, models.ConvNeXt, models.ConvSkip}, false)
		s.Phantom = &phantom.Options{Shape: [3]int{48, 48, 40}, Training: 10}
		// At most about 500 epochs of tiny networks in all: the notebooks'
		// smoke budget on 2 cores.
		s.InputSize, s.Folds, s.Epochs = 24, 3, 8
		s.Search = SearchSpec{Trials: 2, Epochs: 2}
		s.Final = FinalSpec{Designs: []string{models.UNet.PaperName(), models.ConvSkip.PaperName()}, Tasks: tasks, MaxEpochs: 8, Patience: 3}
		s.Resources = map[Stage]Resources{StageSearch: {CPUs: 1, MemMiB: 2048, Time: 30 * time.Minute},
			StageFold: {CPUs: 1, MemMiB: 2048, Time: 10 * time.Minute}, StageEpochs: {CPUs: 1, MemMiB: 2048, Time: 15 * time.Minute},
			StageFinal: {CPUs: 1, MemMiB: 2048, Time: 15 * time.Minute}}
	case "render":
		// The outputs the notebooks ship with (make notebooks-render): the
		// eight convolutional designs, sized so that the grid's jobs take
		// about an hour on 2 quiet cores and all five notebooks about 75
		// minutes, within two hours with room for the estimate's error
		// (bench/render's estimate from measured epoch CPU times; README,
		// "The notebooks and their shipped outputs"). Swin-UNETR is left
		// out: at its least input, 64^3, one epoch costs about 30 times a
		// 32^3 U-net's (3.6 against 0.12 CPU seconds per training case).
		var convs []models.Arch
		for _, a := range models.Archs {
			if a != models.SwinUNETR {
				convs = append(convs, a)
			}
		}
		s.Designs = designs(convs, false)
		s.Phantom = &phantom.Options{Shape: [3]int{64, 64, 48}, Training: 20}
		s.InputSize, s.Folds, s.Epochs = 32, 5, 20
		s.Search = SearchSpec{Trials: 6, Epochs: 6}
		s.Final = FinalSpec{Designs: []string{models.UNet.PaperName(), models.ConvSkip.PaperName()}, Tasks: tasks, MaxEpochs: 40, Patience: 8}
		s.Resources = map[Stage]Resources{StageSearch: {CPUs: 1, MemMiB: 2048, Time: time.Hour},
			StageFold: {CPUs: 1, MemMiB: 2048, Time: time.Hour}, StageEpochs: {CPUs: 1, MemMiB: 2048, Time: time.Hour},
			StageFinal: {CPUs: 1, MemMiB: 2048, Time: time.Hour}}
	case "laptop":
		s.Designs = designs(models.Archs, false)
		s.Phantom = &phantom.Options{Shape: [3]int{96, 96, 64}, Training: 20}
		s.InputSize, s.Folds, s.Epochs = 32, 5, 20
		s.Search = SearchSpec{Trials: 8, Epochs: 10}
		s.Final = FinalSpec{Designs: final, Tasks: tasks, MaxEpochs: 200, Patience: 10}
		s.Resources = map[Stage]Resources{StageSearch: {CPUs: 2, MemMiB: 4096, Time: 4 * time.Hour},
			StageFold: {CPUs: 2, MemMiB: 4096, Time: 2 * time.Hour}, StageEpochs: {CPUs: 2, MemMiB: 4096, Time: 8 * time.Hour},
			StageFinal: {CPUs: 2, MemMiB: 4096, Time: 4 * time.Hour}}
	case "paper":
		s.Designs = designs(models.Archs, true)
		s.Phantom = &phantom.Options{Training: 20}
		s.InputSize, s.Folds, s.Epochs = 128, 5, 100
		s.Search = SearchSpec{Trials: 20, Epochs: 50}
		s.Final = FinalSpec{Designs: final, Tasks: tasks, MaxEpochs: 1000, Patience: 30}
		s.Resources = map[Stage]Resources{StageSearch: {CPUs: 16, MemMiB: 32768, GPUs: 1, Time: 7 * 24 * time.Hour},
			StageFold: {CPUs: 16, MemMiB: 32768, GPUs: 1, Time: 2 * 24 * time.Hour}, StageEpochs: {CPUs: 16, MemMiB: 32768, GPUs: 1, Time: 7 * 24 * time.Hour},
			StageFinal: {CPUs: 16, MemMiB: 32768, GPUs: 1, Time: 7 * 24 * time.Hour}}
	default:
		return nil, fmt.Errorf("%w: scale %q, want smoke, render, laptop or paper", ErrPlan, scale)
	}
	return s, nil
}

// withDefaults fills the zero fields of s's counts.
func (s Spec) withDefaults() Spec {
	if s.Folds == 0 {
		s.Folds = 5
	}
	if s.Epochs == 0 {
		s.Epochs = 100
	}
	if s.ValFraction == 0 {
		s.ValFraction = 0.2
	}
	if s.Search.Trials == 0 {
		s.Search.Trials = 20
	}
	if s.Search.Epochs == 0 {
		s.Search.Epochs = 50
	}
	if s.Search.Low == 0 {
		s.Search.Low = 1e-6
	}
	if s.Search.High == 0 {
		s.Search.High = 1e-1
	}
	f := &s.Final
	if f.TestFraction == 0 {
		f.TestFraction = 0.3
	}
	if f.ValFraction == 0 {
		f.ValFraction = 0.2
	}
	if f.MaxEpochs == 0 {
		f.MaxEpochs = 1000
	}
	if f.Patience == 0 {
		f.Patience = 30
	}
	return s
}

// checkCounts rejects, naming the field, a negative count and a learning
// rate or search bound that is not a finite positive number, before any job
// is planned (train and search would reject them only when a job runs). The
// fractions are checked by the splits Build makes.
func (s *Spec) checkCounts() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"Spec.InputSize", s.InputSize}, {"Spec.Folds", s.Folds}, {"Spec.Epochs", s.Epochs},
		{"Spec.BatchSize", s.BatchSize}, {"Spec.Search.Trials", s.Search.Trials},
		{"Spec.Search.Epochs", s.Search.Epochs}, {"Spec.Final.MaxEpochs", s.Final.MaxEpochs},
		{"Spec.Final.Patience", s.Final.Patience},
	} {
		if f.v < 0 {
			return invalid.Field(ErrPlan, f.name, f.v, "must be >= 0 (0: the default)")
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"Spec.Search.Low", s.Search.Low}, {"Spec.Search.High", s.Search.High}} {
		if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return invalid.Field(ErrPlan, f.name, f.v, "must be finite and >= 0 (0: the default)")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.LR)) {
		if v := s.LR[name]; !(v > 0) || math.IsInf(v, 0) {
			return invalid.Field(ErrPlan, fmt.Sprintf("Spec.LR[%q]", name), v, "must be finite and > 0")
		}
	}
	return nil
}

// planner holds what Build resolved: the tasks' data and identities.
type planner struct {
	ctx   context.Context
	spec  Spec
	cache *FileHashes
	data  map[string]*taskData
	plan  *Plan
}

type taskData struct {
	ds  *decathlon.Dataset
	ref DataRef
}

// Build turns spec into a plan: for every design and cross-validation task
// a search (unless spec.LR fixes the design's rate) and spec.Folds folds;
// for every final design and task an epoch-choosing job and the final
// model. Tasks are opened (or written as phantoms) under spec.Data and
// identified by content (DataIdentity, with file hashes cached in
// cacheDir; "" caches nothing). Keys are computed here; a job's key
// changes exactly when something that decides its result does.
//
// A final model on a task with no search of its design trains at the rate
// of that design's search on the first cross-validation task (its fixed LR
// when it has one).
func Build(ctx context.Context, spec *Spec, cacheDir string) (*Plan, error) {
	if spec == nil {
		return nil, fmt.Errorf("%w: nil Spec", ErrPlan)
	}
	if err := spec.checkCounts(); err != nil {
		return nil, err
	}
	s := spec.withDefaults()
	if len(s.Designs) == 0 {
		return nil, fmt.Errorf("%w: Spec.Designs is empty", ErrPlan)
	}
	byName := map[string]Design{}
	for _, d := range s.Designs {
		if d.Name == "" {
			return nil, fmt.Errorf("%w: a design of arch %q has no Name", ErrPlan, d.Config.Arch)
		}
		if _, dup := byName[d.Name]; dup {
			return nil, fmt.Errorf("%w: two designs named %q", ErrPlan, d.Name)
		}
		byName[d.Name] = d
	}
	for name := range s.LR {
		if _, ok := byName[name]; !ok {
			return nil, fmt.Errorf("%w: Spec.LR names %q, not a design", ErrPlan, name)
		}
	}
	for _, name := range s.Final.Designs {
		if _, ok := byName[name]; !ok {
			return nil, fmt.Errorf("%w: Spec.Final.Designs names %q, not a design", ErrPlan, name)
		}
	}
	cache, err := OpenFileHashes(cacheDir)
	if err != nil {
		return nil, err
	}
	pl := &planner{ctx: ctx, spec: s, cache: cache, data: map[string]*taskData{}, plan: &Plan{Scale: s.Scale}}
	// searches[design][task] is the key of the design's search on a task.
	searches := map[string]map[string]string{}
	for _, d := range s.Designs {
		searches[d.Name] = map[string]string{}
		for _, task := range s.Tasks {
			td, err := pl.task(task)
			if err != nil {
				return nil, err
			}
			cfg, prep := pl.model(d, td)
			if _, fixed := s.LR[d.Name]; !fixed {
				tr, va, err := split.TrainVal(td.ref.Cases, s.ValFraction, s.Seed)
				if err != nil {
					return nil, fmt.Errorf("%w: %s search split: %w", ErrPlan, task, err)
				}
				search := s.Search
				j := &Job{Stage: StageSearch, Name: fmt.Sprintf("search %s %s", d.Name, task), Design: d.Name, Task: task,
					Model: cfg, Data: td.ref, Prep: prep, Train: tr, Val: va, Epochs: search.Epochs, Seed: s.Seed,
					BatchSize: s.BatchSize, Search: &search}
				searches[d.Name][task] = pl.add(j)
			}
			folds, err := split.KFold(td.ref.Cases, s.Folds, s.Seed)
			if err != nil {
				return nil, fmt.Errorf("%w: %s folds: %w", ErrPlan, task, err)
			}
			for _, f := range folds {
				j := &Job{Stage: StageFold, Name: fmt.Sprintf("fold %d %s %s", f.Index+1, d.Name, task), Design: d.Name, Task: task,
					Fold: f.Index + 1, Model: cfg, Data: td.ref, Prep: prep, Train: f.Train, Val: f.Val, Epochs: s.Epochs,
					Seed: s.Seed, BatchSize: s.BatchSize}
				pl.setLR(j, searches[d.Name][task])
				pl.add(j)
			}
		}
	}
	for _, name := range s.Final.Designs {
		d := byName[name]
		for _, task := range s.Final.Tasks {
			td, err := pl.task(task)
			if err != nil {
				return nil, err
			}
			cfg, prep := pl.model(d, td)
			dev, test, err := split.TrainVal(td.ref.Cases, s.Final.TestFraction, s.Seed)
			if err != nil {
				return nil, fmt.Errorf("%w: %s test split: %w", ErrPlan, task, err)
			}
			tr, va, err := split.TrainVal(len(dev), s.Final.ValFraction, s.Seed+1)
			if err != nil {
				return nil, fmt.Errorf("%w: %s validation split of %d development cases: %w", ErrPlan, task, len(dev), err)
			}
			search := searches[name][task]
			if search == "" && len(s.Tasks) > 0 {
				search = searches[name][s.Tasks[0]]
			}
			ch := &Job{Stage: StageEpochs, Name: fmt.Sprintf("epochs %s %s", name, task), Design: name, Task: task,
				Model: cfg, Data: td.ref, Prep: prep, Train: pick(dev, tr), Val: pick(dev, va), Test: test,
				Epochs: s.Final.MaxEpochs, Patience: s.Final.Patience, Seed: s.Seed, BatchSize: s.BatchSize}
			pl.setLR(ch, search)
			chKey := pl.add(ch)
			fin := &Job{Stage: StageFinal, Name: fmt.Sprintf("final %s %s", name, task), Design: name, Task: task,
				Model: cfg, Data: td.ref, Prep: prep, Train: dev, Test: test, EpochsFrom: chKey, Seed: s.Seed, BatchSize: s.BatchSize}
			pl.setLR(fin, search)
			pl.add(fin)
		}
	}
	if err := cache.Save(); err != nil {
		return nil, err
	}
	slices.SortStableFunc(pl.plan.Jobs, func(a, b *Job) int { return stageIndex(a.Stage) - stageIndex(b.Stage) })
	return pl.plan, nil
}

func stageIndex(s Stage) int { return slices.Index(Stages, s) }

// pick returns xs at the positions idx.
func pick(xs, idx []int) []int {
	out := make([]int, 0, len(idx))
	for _, i := range idx {
		out = append(out, xs[i])
	}
	return out
}

// setLR gives j its design's fixed rate, or the search to read it from.
func (pl *planner) setLR(j *Job, search string) {
	if lr, ok := pl.spec.LR[j.Design]; ok {
		j.LR = lr
		return
	}
	if search == "" {
		j.LR = 1e-4 // no search and no fixed rate: train's default
		return
	}
	j.LRFrom = search
}

// add keys j, gives it its stage's resources and appends it; it returns
// the key.
func (pl *planner) add(j *Job) string {
	r := pl.spec.Resources[j.Stage]
	if r.CPUs == 0 {
		r.CPUs = 1
	}
	j.Resources = r
	j.Key = KeyOf(j)
	pl.plan.Jobs = append(pl.plan.Jobs, j)
	return j.Key
}

// model returns d's configuration for task td and the matching
// preprocessing.
func (pl *planner) model(d Design, td *taskData) (models.Config, Prep) {
	cfg := d.Config
	cfg.InChannels = td.ds.Channels()
	cfg.Classes = td.ds.Classes()
	if n := pl.spec.InputSize; n > 0 {
		if cfg.Arch == models.SwinUNETR {
			n = max(n, 64)
		}
		cfg.InputSize = [3]int{n, n, n}
	}
	cfg = cfg.WithDefaults()
	// The volume grid (X, Y, Z) whose tensor under AxesZYX (D=Z, H=Y, W=X)
	// is the network's input (D, H, W).
	in := cfg.InputSize
	return cfg, Prep{Shape: [3]int{in[2], in[1], in[0]}, Intensity: volume.ZScoreMinMax, Labels: volume.LabelLinear, Axes: volume.AxesZYX}
}

// task opens (or writes as a phantom) and identifies a task once.
func (pl *planner) task(name string) (*taskData, error) {
	if td, ok := pl.data[name]; ok {
		return td, nil
	}
	var ds *decathlon.Dataset
	var synthetic bool
	var err error
	if pl.spec.Phantom != nil {
		ds, synthetic, err = phantom.Ensure(pl.ctx, pl.spec.Data, name, pl.spec.Phantom)
	} else {
		ds, err = openTask(pl.spec.Data, name)
	}
	if err != nil {
		return nil, fmt.Errorf("grid: task %s under %s: %w", name, pl.spec.Data, err)
	}
	if synthetic && pl.spec.Log != nil {
		pl.spec.Log("%s: not under %s, using its SYNTHETIC phantom twin (not patient images)\n", name, pl.spec.Data)
	}
	id, err := DataIdentity(pl.ctx, ds, pl.cache)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(ds.Dir)
	if err != nil {
		return nil, fmt.Errorf("grid: %w", err)
	}
	td := &taskData{ds: ds, ref: DataRef{Task: name, Dir: dir, ID: id, Cases: len(ds.Training), Synthetic: synthetic}}
	pl.data[name] = td
	return td, nil
}

// openTask opens root/TaskNN_<name> (the one folder whose name ends in
// "_"+name).
func openTask(root, name string) (*decathlon.Dataset, error) {
	matches, _ := filepath.Glob(filepath.Join(root, "Task*_"+name))
	if len(matches) != 1 {
		return nil, fmt.Errorf("%w: %d folders Task*_%s", ErrPlan, len(matches), name)
	}
	return decathlon.Open(matches[0])
}

// Summary counts a plan's jobs by stage, e.g. "search 18, fold 90".
func (p *Plan) Summary() string {
	var parts []string
	for _, s := range Stages {
		n := 0
		for _, j := range p.Jobs {
			if j.Stage == s {
				n++
			}
		}
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, n))
		}
	}
	return fmt.Sprintf("%d jobs (%s)", len(p.Jobs), strings.Join(parts, ", "))
}

// check verifies that every dependency is in the plan, in an earlier stage.
func (p *Plan) check() error {
	at := map[string]int{}
	for _, j := range p.Jobs {
		if j.Key == "" || KeyOf(j) != j.Key {
			return fmt.Errorf("%w: job %q: key %q does not match its content", ErrPlan, j.Name, j.Key)
		}
		at[j.Key] = stageIndex(j.Stage)
	}
	for _, j := range p.Jobs {
		for _, d := range j.Deps() {
			s, ok := at[d]
			if !ok || s >= stageIndex(j.Stage) {
				return fmt.Errorf("%w: job %q depends on %s, not an earlier stage's job of the plan", ErrPlan, j.Name, short(d))
			}
		}
		if j.LR == 0 && j.LRFrom == "" && j.Stage != StageSearch || math.IsNaN(j.LR) {
			return fmt.Errorf("%w: job %q has no learning rate", ErrPlan, j.Name)
		}
	}
	return nil
}

// short is the first 12 hex digits of a key, as tables show it.
func short(key string) string {
	if len(key) > 12 {
		return key[:12]
	}
	return key
}
