package grid

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/volume"
)

// ComputeVersion names the numerics of the code that computes results: the
// engine's kernels, the models, the losses, the optimiser, the training
// loop, the preprocessing and the metrics. It enters every job's key, so a
// change of it reruns every job; nothing else about the code does (a build
// revision, a docs or notebook commit, a refactoring leave the keys as they
// are).
//
// Bump it (and say so in the commit message) in a commit that changes what
// a job computes: a kernel or its summation order, a layer, an
// initialisation, the loss, Adam or the scheduler, the batch order, the
// resizing or normalisation, the Dice, the search's proposals. Do not bump
// it for speed-ups that leave every number equal (the tests that compare
// against fixed references say whether they do), for docs, notebooks,
// display or error messages.
const ComputeVersion = "2026-12-06.3"

// Prep is the preprocessing of a job's volumes (decathlon.PrepareOptions
// plus the axes that map a volume onto the network's input).
type Prep struct {
	Shape     [3]int // target grid (X, Y, Z) in voxels
	Intensity volume.Intensity
	Labels    volume.LabelInterp
	Axes      volume.Axes // X, Y, Z onto D, H, W
}

// DataRef names the data a job trains on: the task, where it was found
// when planned (Dir, not part of the key: a copy elsewhere with the same
// content has the same key) and its identity (DataIdentity).
type DataRef struct {
	Task      string
	Dir       string
	ID        string // hex sha256 of dataset.json and the files it lists
	Cases     int    // training cases
	Synthetic bool   // a phantom twin, not the real task
}

// keyed is what KeyOf hashes: every input that decides a job's result, and
// nothing else.
type keyed struct {
	Compute    string
	Stage      Stage
	Model      models.Config
	Data       string // DataRef.ID
	Prep       Prep
	Train      []int
	Val        []int
	Test       []int
	LR         float64
	LRFrom     string
	Epochs     int
	EpochsFrom string
	Patience   int
	Seed       uint64
	BatchSize  int
	Search     *SearchSpec
	Threads    int // Resources.CPUs: the job's GOMAXPROCS splits sums differently
}

// KeyOf returns j's key: the hex sha256 of the canonical JSON of
// ComputeVersion, the stage, the model configuration (defaults filled in),
// the data identity (not its folder), the preprocessing, the case indices,
// the learning rate or the key of the search it comes from, the epochs or
// the key of the job that chooses them, the patience, the seed, the batch
// size, the search settings and the thread count (GOMAXPROCS, which orders
// the engine's parallel sums). Names, folders, memory, GPUs and time limits
// do not enter it.
func KeyOf(j *Job) string {
	k := keyed{Compute: ComputeVersion, Stage: j.Stage, Model: j.Model.WithDefaults(), Data: j.Data.ID, Prep: j.Prep,
		Train: j.Train, Val: j.Val, Test: j.Test, LR: j.LR, LRFrom: j.LRFrom, Epochs: j.Epochs, EpochsFrom: j.EpochsFrom,
		Patience: j.Patience, Seed: j.Seed, BatchSize: j.BatchSize, Search: j.Search, Threads: max(j.Resources.CPUs, 1)}
	b, err := json.Marshal(k)
	if err != nil {
		// Only NaN or infinite rates fail to marshal; Build never makes one.
		panic("grid: key of job " + j.Name + ": " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
