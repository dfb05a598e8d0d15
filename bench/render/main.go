// Command render sizes a grid preset for the notebooks' render: it times
// training epochs of each design of the preset at the preset's input size,
// on the cores a grid job gets, then estimates how long notebooks 02 and 03
// take to run the preset's grid on a machine of -cpus cores, from the plan's
// own jobs (their cases and epoch counts) scheduled as the local executor
// runs them.
//
//	go run ./bench/render -scale render            # the render preset on 2 cores
//	go run ./bench/render -scale smoke -cpus 2 -epochs 3
//
// The estimate is a worst case: every early-stopping run (StageEpochs) is
// counted at its cap, and every final model at that many epochs. Timings
// are the process's CPU time per epoch (one thread per job, as the grid
// runs them), which a loaded machine inflates far less than wall time: the
// estimate is for the same machine when quiet. The load average is printed
// beside them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/unetlab/unetlab/grid"
	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/train"
	"github.com/unetlab/unetlab/volume/decathlon"
	"github.com/unetlab/unetlab/volume/phantom"
)

// cost is one design's measured seconds per case and epoch.
type cost struct {
	// Train and Val are CPU seconds per training case (forward, backward,
	// step) and per validation case.
	Train, Val float64
	WallTrain  float64 // wall seconds per training case, for comparison
}

func main() {
	scale := flag.String("scale", "render", "grid preset (grid.Preset)")
	cpus := flag.Int("cpus", 2, "cores of the machine the render runs on")
	epochs := flag.Int("epochs", 2, "epochs timed per design (the first is a warm-up and not used when there are more)")
	flag.Parse()
	if err := run(*scale, *cpus, *epochs); err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
}

func run(scale string, cpus, epochs int) error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "unetlab-render-size-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	spec, err := grid.Preset(scale, tmp)
	if err != nil {
		return err
	}
	spec.Log = func(string, ...any) {}
	plan, err := grid.Build(ctx, spec, tmp+"/cache")
	if err != nil {
		return err
	}
	fmt.Printf("preset %s: %s; %d cores; load average %s\n", scale, plan.Summary(), cpus, loadavg())

	// Time each design on the first cross-validation task's phantom, at
	// the job's model configuration, with GOMAXPROCS as a job gets it.
	jobCPUs := max(spec.Resources[grid.StageFold].CPUs, 1)
	runtime.GOMAXPROCS(jobCPUs)
	task := spec.Tasks[0]
	ds, _, err := phantom.Ensure(ctx, tmp, task, spec.Phantom)
	if err != nil {
		return err
	}
	costs := map[string]cost{}
	var names []string
	for _, j := range plan.Jobs {
		if j.Task != task || j.Stage != grid.StageFold || j.Fold != 1 {
			continue
		}
		c, err := measure(ctx, ds, j.Model, epochs, tmp)
		if err != nil {
			return fmt.Errorf("%s: %w", j.Design, err)
		}
		costs[j.Design] = c
		names = append(names, j.Design)
		fmt.Printf("  %-22s %3d³: %6.3f CPU s per training case and epoch (wall %.3f s), %5.3f per validation case (%d thread(s); load %s)\n",
			j.Design, j.Model.InputSize[0], c.Train, c.WallTrain, c.Val, jobCPUs, loadavg())
	}
	for _, d := range spec.Final.Designs {
		if _, ok := costs[d]; !ok {
			return fmt.Errorf("final design %s has no cross-validation job to time", d)
		}
	}

	// Each job's seconds, then the local executor's schedule.
	secs := map[string]float64{}
	perStage := map[grid.Stage]float64{}
	for _, j := range plan.Jobs {
		c := costs[j.Design]
		ntrain, nval := float64(len(j.Train)), float64(len(j.Val))
		var s float64
		switch j.Stage {
		case grid.StageSearch:
			s = float64(spec.Search.Trials*spec.Search.Epochs) * (ntrain*c.Train + nval*c.Val)
		case grid.StageFold, grid.StageEpochs:
			s = float64(j.Epochs) * (ntrain*c.Train + nval*c.Val)
		case grid.StageFinal: // as many epochs as the early-stopping run's cap, then the test cases
			s = float64(spec.Final.MaxEpochs)*ntrain*c.Train + float64(len(j.Test))*c.Val
		}
		secs[j.Key] = s
		perStage[j.Stage] += s
	}
	for _, st := range grid.Stages {
		fmt.Printf("  stage %-7s %6.0f job-seconds\n", st, perStage[st])
	}
	workers := max(cpus/jobCPUs, 1)
	nb02 := makespan(plan, secs, workers, []grid.Stage{grid.StageSearch, grid.StageFold})
	nb03 := makespan(plan, secs, workers, []grid.Stage{grid.StageEpochs, grid.StageFinal})
	fmt.Printf("estimate on %d cores (%d jobs at a time, worst case: every early stop at its cap): notebook 02 %s, notebook 03 %s (after 02), together %s\n",
		cpus, workers, dur(nb02), dur(nb03), dur(nb02+nb03))
	return nil
}

// measure trains cfg for epochs epochs on ds prepared at its input size
// and returns the last epoch's seconds per case.
func measure(ctx context.Context, ds *decathlon.Dataset, cfg models.Config, epochs int, tmp string) (cost, error) {
	size := cfg.InputSize
	data := ds.Prepare(&decathlon.PrepareOptions{Shape: [3]int{size[2], size[1], size[0]}})
	n := data.Len()
	nval := max(n/5, 1)
	trainIdx, valIdx := make([]int, 0, n-nval), make([]int, 0, nval)
	for i := range n {
		if i < n-nval {
			trainIdx = append(trainIdx, i)
		} else {
			valIdx = append(valIdx, i)
		}
	}
	// Read and resize every case once before timing.
	for i := range n {
		if _, _, err := data.Sample(ctx, i); err != nil {
			return cost{}, err
		}
	}
	dir, err := os.MkdirTemp(tmp, "run-")
	if err != nil {
		return cost{}, err
	}
	// The process's CPU time at the end of each epoch: on a shared machine
	// wall time grows with the load, CPU time hardly does, and with one
	// thread per job it is the wall time the job takes on a quiet core.
	cpu := []float64{cpuSeconds()}
	r, err := train.Fit(ctx, &train.Options{Model: cfg, Data: data, Train: trainIdx, Val: valIdx, Epochs: epochs,
		LR: 1e-3, Seed: 1, Dir: dir, Progress: train.ProgressNone, OnEpoch: func(train.Epoch) { cpu = append(cpu, cpuSeconds()) }})
	if err != nil {
		return cost{}, err
	}
	e := r.Epochs[len(r.Epochs)-1]
	spent := cpu[len(cpu)-1] - cpu[len(cpu)-2]
	// Split the epoch's CPU time between its passes as their wall times
	// split.
	trainShare := e.TrainSeconds / (e.TrainSeconds + e.ValSeconds)
	// An epoch drops the last, smaller batch: steps x batch cases trained.
	trained := float64(e.Steps * 2)
	if trained == 0 {
		trained = float64(len(trainIdx))
	}
	return cost{Train: spent * trainShare / trained, Val: spent * (1 - trainShare) / float64(len(valIdx)),
		WallTrain: e.TrainSeconds / trained}, nil
}

// cpuSeconds is the user and system CPU time of this process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// makespan schedules the plan's jobs of stages in plan order on workers
// workers, each job once its dependencies in those stages are done (the
// local executor's rule), and returns the seconds until the last ends.
func makespan(plan *grid.Plan, secs map[string]float64, workers int, stages []grid.Stage) float64 {
	end := map[string]float64{}
	free := make([]float64, workers)
	var last float64
	for _, j := range plan.Jobs {
		if !slices.Contains(stages, j.Stage) {
			continue
		}
		ready := 0.0
		for _, d := range j.Deps() {
			ready = max(ready, end[d])
		}
		sort.Float64s(free)
		start := max(free[0], ready)
		end[j.Key] = start + secs[j.Key]
		free[0] = end[j.Key]
		last = max(last, end[j.Key])
	}
	return last
}

func dur(s float64) string {
	return (time.Duration(s) * time.Second).Round(time.Minute).String()
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
