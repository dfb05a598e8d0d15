package views

import (
	"context"
	"errors"
	"fmt"
	"html"
	"sync"
	"time"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/train"
	"github.com/unetlab/unetlab/widget"
)

// Training is a training run's progress as one widget updated in place: a
// bar of epochs, a line with the last epoch's losses and validation Dice,
// and a Stop button that cancels the run's context. train stops cleanly at
// the next step, writing a checkpoint from which train.Resume (or
// [Resume]) continues.
//
// The run goes on in a goroutine after the cell that started it returns,
// so the button (whose click is a comm message) works while no cell runs:
// while a cell runs the kernel keeps front-end messages queued until it
// ends, as ipykernel does. [Training.Wait] waits for the end, for a cell
// that needs the run.
type Training struct {
	*widget.Box
	Bar    *widget.FloatProgress
	Status *widget.HTML
	Stop   *widget.Button

	cancel context.CancelFunc
	done   chan struct{}
	start  time.Time

	mu       sync.Mutex
	run      *train.Run
	err      error
	stopped  bool
	finished bool // the final status is written; a Stop changes nothing
	last     *train.Epoch
}

// Train starts train.Fit with opt in a goroutine, with its own context
// (a cell's ends with the cell), and returns the widget that follows it.
// opt.Progress is set to train.ProgressNone (the widget is the progress)
// and opt.OnEpoch chained; the caller's opt is not changed.
func Train(opt *train.Options) (*Training, error) {
	if opt == nil {
		return nil, fmt.Errorf("views: Train: nil options (Data has no default)")
	}
	epochs := opt.Epochs
	if epochs == 0 {
		epochs = 100
	}
	return start(opt, train.Fit, epochs, 0)
}

// Resume is [Train] for train.Resume: it continues the run in opt.Dir from
// its last checkpoint (after a Stop, say). The bar's total is opt.Epochs
// when set, else the run's own (its record's Settings.Epochs), and it
// starts at the epochs the run has done.
func Resume(opt *train.Options) (*Training, error) {
	if opt == nil {
		return nil, fmt.Errorf("views: Resume: nil options (Data has no default)")
	}
	run, err := train.ReadRun(opt.Dir)
	if err != nil {
		return nil, fmt.Errorf("views: Resume: %w", err)
	}
	epochs := run.Settings.Epochs
	if opt.Epochs > 0 {
		epochs = opt.Epochs
	}
	return start(opt, train.Resume, epochs, len(run.Epochs))
}

// start opens the widget, its bar at done of epochs, and runs fit.
func start(opt *train.Options, fit func(context.Context, *train.Options) (*train.Run, error), epochs, done int) (_ *Training, err error) {
	o := *opt
	t := &Training{done: make(chan struct{}), start: time.Now()}
	var opened []interface{ Close() error }
	defer func() {
		if err != nil { // no live comm stays behind a failed start
			for _, w := range opened {
				_ = w.Close()
			}
		}
	}()
	if t.Bar, err = widget.NewFloatProgress("epoch", float64(done), 0, float64(epochs)); err != nil {
		return nil, err
	}
	opened = append(opened, t.Bar)
	if t.Status, err = widget.NewHTML("starting"); err != nil {
		return nil, err
	}
	opened = append(opened, t.Status)
	if t.Stop, err = widget.NewButton("Stop", "danger", "stop"); err != nil {
		return nil, err
	}
	opened = append(opened, t.Stop)
	row, err := widget.NewHBox(t.Bar, t.Stop)
	if err != nil {
		return nil, err
	}
	opened = append(opened, row)
	if t.Box, err = widget.NewVBox(row, t.Status); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	t.Stop.OnClick(t.StopRun)
	user := o.OnEpoch
	o.OnEpoch = func(e train.Epoch) {
		t.epoch(e, epochs)
		if user != nil {
			user(e)
		}
	}
	o.Progress = train.ProgressNone
	go func() {
		defer close(t.done)
		defer cancel()
		run, err := fit(ctx, &o)
		t.finish(run, err)
	}()
	return t, nil
}

func (t *Training) epoch(e train.Epoch, total int) {
	t.mu.Lock()
	t.last = &e
	t.mu.Unlock()
	_ = t.Bar.SetValue(float64(e.Epoch))
	_ = t.Status.SetValue(fmt.Sprintf("epoch %d of %d: train loss %.4f, val loss %.4f, val Dice %.4f (%s)",
		e.Epoch, total, e.TrainLoss, e.ValLoss, e.ValDice, time.Since(t.start).Round(time.Second)))
}

func (t *Training) finish(run *train.Run, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.run, t.err = run, err
	t.finished = true
	stopped := t.stopped
	last := t.last
	_ = t.Stop.SetDisabled(true)
	var msg, style string
	switch {
	case err != nil && stopped && errors.Is(err, context.Canceled):
		msg, style = "stopped: "+err.Error()+"; Resume continues it", "warning"
	case err != nil:
		msg, style = "failed: "+err.Error(), "danger"
	default:
		msg, style = "done: "+run.Status, "success"
		if last != nil {
			msg += fmt.Sprintf(" after epoch %d, val Dice %.4f", last.Epoch, last.ValDice)
		}
	}
	_ = t.Bar.Set("bar_style", style)
	_ = t.Status.SetValue(html.EscapeString(msg))
}

// StopRun cancels the run, as the Stop button does; after the run has
// ended it does nothing.
func (t *Training) StopRun() {
	t.mu.Lock()
	if t.finished {
		t.mu.Unlock()
		return
	}
	t.stopped = true
	_ = t.Status.SetValue("stopping at the next step")
	t.mu.Unlock()
	t.cancel()
}

// Done is closed when the run has ended.
func (t *Training) Done() <-chan struct{} { return t.done }

// Wait waits for the run to end, or ctx; it returns the run and its error
// (wrapping context.Canceled after a Stop).
func (t *Training) Wait(ctx context.Context) (*train.Run, error) {
	select {
	case <-t.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.run, t.err
}

// Render shows the widget; front ends without widgets see the status line.
func (t *Training) Render() display.Bundle {
	b := t.Box.Render()
	b[display.MIMEText] = "Training: " + t.Status.Value()
	return b
}
