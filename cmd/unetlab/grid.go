package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/unetlab/unetlab/grid"
)

const gridUsage = `Usage: unetlab grid COMMAND [options]

The paper's protocol as one grid of keyed jobs (package grid): LR searches,
cross-validation folds, final models and their test scores.

Commands:
  plan     build the plan and print its jobs (nothing runs)
  run      write the plan into --root and start every job without a result
  status   where every job stands (failed ones with their log's tail)
  collect  the scores of the jobs done, as JSON
  cancel   stop the jobs in flight (their checkpoints stay)

Options of plan and run:
  --scale smoke|render|laptop|paper  the preset (default $UNETLAB_SCALE, else laptop)
  --spec FILE                        a grid.Spec as JSON instead of a preset
  --data DIR                         the Decathlon tasks (default $UNETLAB_DATA, else data)
  --lr NAME=RATE                     fix a design's learning rate (its search is left out); repeatable
Options of run:
  --executor local|slurm             (default local)
  --cpus N                           local: CPUs the jobs share (default all)
  --partition P                      slurm: the partition
  --only KEY[,KEY]                   run just these jobs (keys or unique prefixes), e.g. a failed one
  --wait                             follow the jobs until none is running or queued
Options of all:
  --root DIR                         the grid's folder (default $UNETLAB_GRID, else grid)
`

// runGrid is the body of `unetlab grid`.
func runGrid(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, gridUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cmd, rest := args[0], args[1:]
	fs := flag.NewFlagSet("grid "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", envOr("UNETLAB_GRID", "grid"), "the grid's folder")
	scale := fs.String("scale", "", "preset")
	specFile := fs.String("spec", "", "a grid.Spec as JSON")
	data := fs.String("data", envOr("UNETLAB_DATA", "data"), "the Decathlon tasks")
	exName := fs.String("executor", "", "local or slurm")
	cpus := fs.Int("cpus", 0, "local: CPUs the jobs share")
	partition := fs.String("partition", "", "slurm: partition")
	only := fs.String("only", "", "keys to run")
	wait := fs.Bool("wait", false, "follow the jobs")
	asJSON := fs.Bool("json", false, "plan: print the plan as JSON")
	lrs := map[string]float64{}
	fs.Func("lr", "NAME=RATE", func(s string) error {
		name, v, ok := strings.Cut(s, "=")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil || !(f > 0) {
			return fmt.Errorf("want NAME=RATE, got %q", s)
		}
		lrs[name] = f
		return nil
	})
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "unetlab grid %s: %v\n", cmd, err)
		return 1
	}
	ex := func() grid.Executor {
		switch *exName {
		case "local":
			return &grid.Local{CPUs: *cpus}
		case "slurm":
			return &grid.Slurm{Partition: *partition}
		}
		return grid.ExecutorOf(*root)
	}
	plan := func() (*grid.Plan, error) {
		var spec *grid.Spec
		if *specFile != "" {
			b, err := os.ReadFile(*specFile)
			if err != nil {
				return nil, err
			}
			spec = new(grid.Spec)
			if err := json.Unmarshal(b, spec); err != nil {
				return nil, fmt.Errorf("%s: %w", *specFile, err)
			}
			spec.Data = *data
		} else {
			var err error
			if spec, err = grid.Preset(*scale, *data); err != nil {
				return nil, err
			}
		}
		if len(lrs) > 0 && spec.LR == nil {
			spec.LR = map[string]float64{}
		}
		for k, v := range lrs {
			spec.LR[k] = v
		}
		spec.Log = func(format string, args ...any) { fmt.Fprintf(stderr, format, args...) }
		return grid.Build(ctx, spec, *root+"/"+grid.CacheDir)
	}
	switch cmd {
	case "plan":
		p, err := plan()
		if err != nil {
			return fail(err)
		}
		if *asJSON {
			b, _ := json.MarshalIndent(p, "", "\t")
			fmt.Fprintf(stdout, "%s\n", b)
			return 0
		}
		fmt.Fprintln(stdout, p.Summary())
		for _, j := range p.Jobs {
			deps := ""
			if d := j.Deps(); len(d) > 0 {
				deps = " after " + strings.Join(shortKeys(d), ",")
			}
			fmt.Fprintf(stdout, "%s %-7s %s%s\n", j.Key[:12], j.Stage, j.Name, deps)
		}
		return 0
	case "run":
		p, err := plan()
		if err != nil {
			return fail(err)
		}
		opt := &grid.RunOptions{Executor: ex()}
		if *only != "" {
			opt.Only = strings.Split(*only, ",")
		}
		rep, err := grid.Run(ctx, *root, p, opt)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, rep)
		if !*wait {
			return 0
		}
		fallthrough
	case "status":
		var st *grid.Status
		var err error
		if *wait {
			st, err = grid.Wait(ctx, *root, &grid.WaitOptions{Executor: ex()})
		} else {
			st, err = grid.ReadStatus(ctx, *root, ex())
		}
		if err != nil {
			return fail(err)
		}
		fmt.Fprint(stdout, st.Render()["text/plain"])
		if st.Count(grid.Failed) > 0 || st.Count(grid.Blocked) > 0 {
			return 1
		}
		return 0
	case "collect":
		c, err := grid.Collect(*root)
		if err != nil {
			return fail(err)
		}
		b, err := json.MarshalIndent(c.Scores(), "", "\t")
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%s\n", b)
		if len(c.Missing) > 0 {
			fmt.Fprintf(stderr, "unetlab grid collect: %d of %d jobs have no result yet\n", len(c.Missing), len(c.Plan.Jobs))
		}
		return 0
	case "cancel":
		if err := grid.Cancel(ctx, *root, ex()); err != nil {
			return fail(err)
		}
		return 0
	case "worker": // internal: one job
		if fs.NArg() != 1 {
			return fail(fmt.Errorf("want one key, got %d arguments", fs.NArg()))
		}
		if err := grid.Work(ctx, *root, fs.Arg(0)); err != nil {
			return fail(err)
		}
		return 0
	case "schedule": // internal: the local executor's scheduler
		if err := (&grid.Local{CPUs: *cpus}).Schedule(context.Background(), *root); err != nil {
			return fail(err)
		}
		return 0
	default:
		fmt.Fprintf(stderr, "unetlab grid: unknown command %q\n\n%s", cmd, gridUsage)
		return 2
	}
}

func shortKeys(keys []string) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k[:12])
	}
	return out
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
