// Package train trains, cross-validates and applies the networks of package
// models: the losses of the paper (Dice + cross-entropy on logits, Dice alone,
// cross-entropy alone, and the authors' softmax-then-DiceCE variant), Adam
// with weight decay as PyTorch has it, ReduceLROnPlateau, early stopping, a
// training loop with live progress, run records and checkpoints that resume
// after an interrupt or a crash, k-fold cross-validation of one or several
// models on the same folds, and whole-volume inference back to the original
// grid.
//
// Tensors are laid out (N, C, D, H, W). Losses take logits (N, C, D, H, W) and
// targets of class values (N, 1, D, H, W) or one-hot (N, C, D, H, W).
//
// From a notebook cell, a task to a trained network is a few lines:
//
//	ds, _, err := phantom.Ensure(cell.Context(), "data", "Heart", nil) // or decathlon.Open
//	data := ds.Prepare(&decathlon.PrepareOptions{Shape: [3]int{32, 32, 32}})
//	run, err := train.Fit(cell.Context(), &train.Options{
//		Model:  models.Small(models.UNet), // 32^3 input, 2 classes
//		Data:   data,
//		Epochs: 30,
//		LR:     3e-3,
//	})
//	fmt.Println(run.BestValDice, run.Dir)
//	fig, err := viz.LearningCurves([]*train.Run{run}, nil)
//	display.Show(fig)
//
//	m, err := train.LoadModel(run.Dir)                 // the last checkpoint
//	s, err := ds.Load(cell.Context(), run.Settings.Val[0]) // original grid
//	pred, err := train.Predict(cell.Context(), m, s.Image, nil)
//	dice, err := stats.DicePerLabel(pred, s.Label, 2)
//
// A raw batch (N, InChannels, D, H, W) at the model's input size gives its
// logits (N, Classes, D, H, W):
//
//	logits, shape, err := train.PredictBatch(cell.Context(), m, x, [5]int{2, 1, 32, 32, 32})
//
// Cross-validation of several models on the same folds, and the paper's
// Table 1 from it:
//
//	rs, err := train.CompareModels(ctx, &train.CVOptions{Options: opt, Folds: 5},
//		[]models.Config{unet, convSkip}, nil)
//	rows, err := train.Table1Rows("Heart", rs, 0, nil) // []stats.Table1Row
//	table, err := viz.Table1(rows, nil)
//
// The paper's learning-rate search (package train/search) maximises the best
// validation foreground Dice of short runs:
//
//	res, err := search.Run(ctx, train.LRObjective(&opt), nil) // nil: TPE, 20 trials
//
// Options go by pointer and are never changed by the call: nil means the
// defaults where every field has one (NewAdam, Loss, LossValue, Predict,
// Table1Rows, search.Run), and is refused with ErrOptions naming Data where a
// field has none (Fit, Resume, CrossValidate, CompareModels). Options nested
// in options (Options.Adam, Options.Loss, CVOptions.Options) are values whose
// zero value is their defaults. An invalid field gives an error wrapping
// ErrOptions that names it, its value and the rule:
//
//	train: invalid options: Epochs -1: must be >= 0
//
// Enumerations are typed (LossKind, Progress; nn.NormKind, volume.Intensity,
// volume.Axes) and every seed is a uint64 feeding package rng.
//
// Options' zero value is the paper's setting where one exists: batch 2,
// Adam (weight decay 1e-7), learning rate 1e-4, ReduceLROnPlateau(factor 0.1,
// patience 20) on the validation loss, DiceCE on logits with weights 1 and 1
// and smoothing 1e-5, 100 epochs, 20% of the cases for validation. Fit writes
// its run directory (runs/<uuid> unless Options.Dir names one): record.json
// (configuration, per-epoch metrics, timings) and checkpoint/ (weights as
// safetensors, optimiser and scheduler state), both replaced atomically after
// every epoch. Resume continues such a run from its last checkpoint.
//
// Inside the unetlab kernel Fit shows one live HTML progress bar (epoch,
// step, loss, Dice, time left); elsewhere it prints one plain line per epoch.
// Cancelling the context (interrupting the cell) stops it after the current
// step, writes a checkpoint and returns an error wrapping ctx.Err().
package train
