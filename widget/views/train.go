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

	mu      sync.Mutex
	run     *train.Run
	err     error
	stopped bool
	last    *train.Epoch
}

// Train starts train.Fit with opt in a goroutine, with its own context
// (a cell's ends with the cell), and returns the widget that follows it.
// opt.Progress is set to train.ProgressNone (the widget is the progress)
// and opt.OnEpoch chained; the caller's opt is not changed.
func Train(opt *train.Options) (*Training, error) {
	return start(opt, train.Fit)
}

// Resume is [Train] for train.Resume: it continues the run in opt.Dir from
// its last checkpoint (after a Stop, say).
func Resume(opt *train.Options) (*Training, error) {
	return start(opt, train.Resume)
}

func start(opt *train.Options, fit func(context.Context, *train.Options) (*train.Run, error)) (*Training, error) {
	if opt == nil {
		return nil, fmt.Errorf("views: Train: nil options (Data has no default)")
	}
	o := *opt
	epochs := o.Epochs
	if epochs == 0 {
		epochs = 100
	}
	t := &Training{done: make(chan struct{}), start: time.Now()}
	var err error
	if t.Bar, err = widget.NewFloatProgress("epoch", 0, 0, float64(epochs)); err != nil {
		return nil, err
	}
	if t.Status, err = widget.NewHTML("starting"); err != nil {
		return nil, err
	}
	if t.Stop, err = widget.NewButton("Stop", "danger", "stop"); err != nil {
		return nil, err
	}
	row, err := widget.NewHBox(t.Bar, t.Stop)
	if err != nil {
		return nil, err
	}
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
	t.run, t.err = run, err
	stopped := t.stopped
	last := t.last
	t.mu.Unlock()
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

// StopRun cancels the run, as the Stop button does.
func (t *Training) StopRun() {
	t.mu.Lock()
	t.stopped = true
	t.mu.Unlock()
	_ = t.Status.SetValue("stopping at the next step")
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
