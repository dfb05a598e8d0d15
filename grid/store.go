package grid

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/unetlab/unetlab/internal/atomicfile"
	"github.com/unetlab/unetlab/train"
	"github.com/unetlab/unetlab/train/search"
)

// Files and folders of a grid's root. A job's folder, jobs/<key>/, holds
// everything about it; results are found again by key only.
const (
	PlanFile   = "plan.json"   // the plan last run
	JobsDir    = "jobs"        // jobs/<key>/
	CacheDir   = "cache"       // file hashes, prepared volumes
	SpecFile   = "job.json"    // the job (Job as JSON)
	ResultFile = "result.json" // written atomically when the job is done
	FailedFile = "failed.json" // the error of the last attempt that failed
	LogFile    = "log"         // the job's output, every attempt appended
	RunDir     = "run"         // the training run (train's record and checkpoint)
)

// Score is a Dice or loss value that writes NaN (undefined) as JSON null.
type Score float64

// MarshalJSON writes NaN and infinities as null.
func (s Score) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(s)) || math.IsInf(float64(s), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(s))
}

// UnmarshalJSON reads null as NaN.
func (s *Score) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = Score(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*s = Score(f)
	return nil
}

// Result is what a job leaves in result.json. Scores are foreground Dice.
type Result struct {
	Key   string
	Stage Stage
	Name  string
	// LR is the rate the job trained at; a search's best rate.
	LR float64
	// Trials are a search's trials in the order they ran.
	Trials []search.Trial `json:",omitempty"`
	// Epochs is the number of epochs trained; for a StageEpochs job the
	// chosen count (its best validation epoch).
	Epochs int
	// BestEpoch and the scores of the scored epoch (the best validation
	// epoch, or the last without validation).
	BestEpoch          int
	TrainDice, ValDice Score
	// TestDice is a final model's Dice per foreground label (index 0 is
	// label 1) averaged over the test cases; TestCases per case.
	TestDice  []Score   `json:",omitempty"`
	TestCases [][]Score `json:",omitempty"`
	// TestHD95 is the 95th-percentile Hausdorff distance in mm per
	// foreground label, averaged over the test cases that have the label
	// in both the prediction and the truth; TestHD95Missed counts, per
	// label, the cases left out because the label is in only one of them
	// (a missed or an invented structure: its distance is infinite), so a
	// model that misses a structure does not look better than one that
	// finds it badly. TestSurfaceDice is the normalised surface Dice at
	// SurfaceTolerance mm, averaged as TestDice is.
	TestHD95        []Score `json:",omitempty"`
	TestHD95Missed  []int   `json:",omitempty"`
	TestSurfaceDice []Score `json:",omitempty"`
	// Resumes counts the attempts that continued from a checkpoint.
	Resumes  int
	Seconds  float64 // wall time of the attempt that finished it
	Finished time.Time
}

// Failure is what failed.json holds.
type Failure struct {
	Error    string
	Attempt  int
	Host     string
	Finished time.Time
}

// JobDir returns the folder of the job with key under root.
func JobDir(root, key string) string { return filepath.Join(root, JobsDir, key) }

// WritePlan stores p in root (plan.json) and each job's job.json, creating
// the folders.
func WritePlan(root string, p *Plan) error {
	if err := p.check(); err != nil {
		return err
	}
	for _, j := range p.Jobs {
		dir := JobDir(root, j.Key)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("grid: %w", err)
		}
		if err := writeJSON(filepath.Join(dir, SpecFile), j); err != nil {
			return err
		}
	}
	return writeJSON(filepath.Join(root, PlanFile), p)
}

// ReadPlan reads root's plan.json and checks its keys.
func ReadPlan(root string) (*Plan, error) {
	p := new(Plan)
	if err := readJSON(filepath.Join(root, PlanFile), p); err != nil {
		return nil, err
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(root, PlanFile), err)
	}
	return p, nil
}

// ReadJob reads the job.json of key under root and checks it against its key.
func ReadJob(root, key string) (*Job, error) {
	j := new(Job)
	if err := readJSON(filepath.Join(JobDir(root, key), SpecFile), j); err != nil {
		return nil, err
	}
	if KeyOf(j) != key {
		return nil, fmt.Errorf("%w: %s: the job's content does not match its key", ErrPlan, filepath.Join(JobDir(root, key), SpecFile))
	}
	return j, nil
}

// ReadResult reads a job's result; the error wraps fs.ErrNotExist when the
// job is not done.
func ReadResult(root, key string) (*Result, error) {
	r := new(Result)
	if err := readJSON(filepath.Join(JobDir(root, key), ResultFile), r); err != nil {
		return nil, err
	}
	if r.Key != key {
		return nil, fmt.Errorf("grid: %s holds the result of %s", filepath.Join(JobDir(root, key), ResultFile), short(r.Key))
	}
	return r, nil
}

// ReadRun reads the training record of a job (train.ReadRun of its run
// folder).
func ReadRun(root, key string) (*train.Run, error) {
	return train.ReadRun(filepath.Join(JobDir(root, key), RunDir))
}

func done(root, key string) bool {
	_, err := os.Stat(filepath.Join(JobDir(root, key), ResultFile))
	return err == nil
}

func readFailure(root, key string) (*Failure, bool) {
	f := new(Failure)
	if err := readJSON(filepath.Join(JobDir(root, key), FailedFile), f); err != nil {
		return nil, false
	}
	return f, true
}

// LogTail returns the last n lines of a job's log.
func LogTail(root, key string, n int) string {
	b, err := os.ReadFile(filepath.Join(JobDir(root, key), LogFile))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "\t")
	if err != nil {
		return fmt.Errorf("grid: %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, append(b, '\n')); err != nil {
		return fmt.Errorf("grid: %w", err)
	}
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("grid: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("grid: %s: %w", path, err)
	}
	return nil
}

func notExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
