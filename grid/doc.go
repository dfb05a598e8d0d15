// Package grid runs the paper's protocol as one resumable grid of keyed
// jobs, on this machine or on a Slurm cluster.
//
// A Plan is data (JSON, plan.json): jobs in stages (Stages) with
// dependencies. For every design and cross-validation task a learning-rate
// search (StageSearch: TPE trials in order, one job that resumes at its
// trial; StageSearch says why not a chain), then the design's
// folds at the rate its search found (StageFold, the rate read from the
// search's result when the fold runs), and for the final designs on every
// task an epoch-choosing run with early stopping (StageEpochs) and the
// final model with its test scores (StageFinal). Build makes a plan from a
// Spec; Preset gives the notebooks' specs by scale (UNETLAB_SCALE).
//
// Every job has a key (KeyOf): the sha256 of everything that decides its
// result: ComputeVersion, the model configuration, the data's identity
// (DataIdentity: dataset.json and the name, size and content hash of every
// file it lists), the preprocessing, the case split, the learning rate or
// the key of the search it comes from, the seed, the epochs, the thread
// count. A result is reused only under its key: a grid's root holds
// jobs/<key>/ with job.json, result.json (written atomically when done),
// the training run (record and checkpoint), the log.
//
// Executors run the jobs not done: Local (the default; detached worker
// processes, as many as the CPUs allow, that outlive the notebook kernel)
// and Slurm (one sbatch array per stage, --dependency=afterok between
// stages, --requeue). A killed job resumes from its checkpoint.
//
// From a cell:
//
//	spec, err := grid.Preset("", os.Getenv("UNETLAB_DATA"))
//	plan, err := grid.Build(cell.Context(), spec, "grid/cache")
//	rep, err := grid.Run(cell.Context(), "grid", plan, nil) // local; &grid.RunOptions{Executor: &grid.Slurm{}}
//	st, err := grid.Wait(cell.Context(), "grid", nil)       // a live table; attaches after a kernel restart
//	c, err := grid.Collect("grid")
//	rs, err := c.CV("Heart") // []*train.CVResult for train.Table1Rows
//	t2, err := c.Table2()    // the final models' test Dice, for viz.Table2
//
// RunOptions.Stages runs part of a plan: notebook 02 the searches and
// folds, notebook 03 the final models (and the searches they need), both
// on one plan and one root, so each finds the other's results by key.
//
// From a shell: `unetlab grid plan|run|status|collect|cancel` (see
// `unetlab grid help`).
package grid
