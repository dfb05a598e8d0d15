package views

import (
	"context"
	"fmt"
	"html"
	"sync"
	"time"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/grid"
	"github.com/unetlab/unetlab/widget"
)

// GridOptions configures [Grid]; nil means the local executor and a poll
// every second.
type GridOptions struct {
	Executor grid.Executor
	// Every is the time between two reads of the grid's status (0: 1 s).
	Every time.Duration
}

// GridProgress follows a grid's jobs as one widget updated in place: a
// bar of the jobs done, grid.Status's table, and a Stop button that
// cancels the jobs in flight (grid.Cancel: their checkpoints stay, and a
// later grid.Run resumes them). It polls in a goroutine until nothing runs
// or is queued, so the button works while no cell runs.
type GridProgress struct {
	*widget.Box
	Bar   *widget.FloatProgress
	Table *widget.HTML
	Stop  *widget.Button

	root   string
	ex     grid.Executor
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	last    *grid.Status
	err     error
	stopped bool
}

// The grid calls, replaced by the tests.
var (
	readStatus = grid.ReadStatus
	cancelGrid = grid.Cancel
)

// Grid starts following the grid in root (grid.Run started its jobs) and
// returns the widget.
func Grid(root string, opt *GridOptions) (*GridProgress, error) {
	o := GridOptions{}
	if opt != nil {
		o = *opt
	}
	if o.Every < 0 {
		return nil, fmt.Errorf("views: Grid: Every %v: must be >= 0", o.Every)
	}
	if o.Every == 0 {
		o.Every = time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := readStatus(ctx, root, o.Executor)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("views: Grid: %w", err)
	}
	g := &GridProgress{root: root, ex: o.Executor, cancel: cancel, done: make(chan struct{}), last: st}
	if err := g.open(st); err != nil {
		cancel()
		return nil, err
	}
	g.show(st)
	g.Stop.OnClick(g.StopJobs)
	go g.follow(ctx, o.Every)
	return g, nil
}

// open opens g's widgets; on an error it closes those it opened.
func (g *GridProgress) open(st *grid.Status) (err error) {
	var opened []interface{ Close() error }
	defer func() {
		if err != nil { // no live comm stays behind a failed start
			for _, w := range opened {
				_ = w.Close()
			}
		}
	}()
	if g.Bar, err = widget.NewFloatProgress("jobs done", 0, 0, float64(max(len(st.Jobs), 1))); err != nil {
		return err
	}
	opened = append(opened, g.Bar)
	if g.Table, err = widget.NewHTML(""); err != nil {
		return err
	}
	opened = append(opened, g.Table)
	if g.Stop, err = widget.NewButton("Stop", "danger", "stop"); err != nil {
		return err
	}
	opened = append(opened, g.Stop)
	row, err := widget.NewHBox(g.Bar, g.Stop)
	if err != nil {
		return err
	}
	opened = append(opened, row)
	g.Box, err = widget.NewVBox(row, g.Table)
	return err
}

// maxStatusFailures is the number of status reads in a row that may fail
// before [GridProgress] stops following.
const maxStatusFailures = 5

func (g *GridProgress) follow(ctx context.Context, every time.Duration) {
	defer close(g.done)
	defer g.cancel()
	failures := 0
	for {
		g.mu.Lock()
		st := g.last
		g.mu.Unlock()
		if st.Finished() {
			_ = g.Stop.SetDisabled(true)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
		st, err := readStatus(ctx, g.root, g.ex)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			msg := "<b>error:</b> " + html.EscapeString(err.Error())
			if failures >= maxStatusFailures {
				err = fmt.Errorf("views: Grid: %d status reads of %s failed in a row, the last: %w", failures, g.root, err)
				g.mu.Lock()
				g.err = err
				g.mu.Unlock()
				_ = g.Stop.SetDisabled(true)
				_ = g.Bar.Set("bar_style", "danger")
				_ = g.Table.SetValue("<b>stopped following:</b> " + html.EscapeString(err.Error()))
				return
			}
			_ = g.Table.SetValue(msg)
			continue
		}
		failures = 0
		g.mu.Lock()
		g.last = st
		g.mu.Unlock()
		g.show(st)
	}
}

func (g *GridProgress) show(st *grid.Status) {
	_ = g.Bar.SetValue(float64(st.Count(grid.Done)))
	style := ""
	switch {
	case st.Count(grid.Failed)+st.Count(grid.Blocked) > 0:
		style = "danger"
	case st.Finished() && st.Count(grid.Done) == len(st.Jobs):
		style = "success"
	}
	_ = g.Bar.Set("bar_style", style)
	h, _ := st.Render()[display.MIMEHTML].(string)
	g.mu.Lock()
	stopped := g.stopped
	g.mu.Unlock()
	if stopped {
		h = "<p>stopped: the jobs in flight were cancelled; grid.Run resumes them from their checkpoints</p>" + h
	}
	_ = g.Table.SetValue(h)
}

// StopJobs cancels the grid's jobs in flight, as the Stop button does.
func (g *GridProgress) StopJobs() {
	g.mu.Lock()
	g.stopped = true
	g.mu.Unlock()
	if err := cancelGrid(context.Background(), g.root, g.ex); err != nil {
		_ = g.Table.SetValue("<b>stop failed:</b> " + html.EscapeString(err.Error()))
	}
}

// Close stops following (the jobs go on) and closes the widget.
func (g *GridProgress) Close() error {
	g.cancel()
	<-g.done
	return g.Box.Close()
}

// Done is closed when the grid has nothing running or queued, when
// following stopped after failed status reads (see [GridProgress.Err]), or
// when Close was called.
func (g *GridProgress) Done() <-chan struct{} { return g.done }

// Err returns the error that ended the following: the last status read's,
// after several in a row failed (the jobs may go on; [Grid] follows them
// again). It is nil while following and after the grid finished.
func (g *GridProgress) Err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// Status returns the last status read.
func (g *GridProgress) Status() *grid.Status {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.last
}

// Render shows the widget; front ends without widgets see the summary.
func (g *GridProgress) Render() display.Bundle {
	b := g.Box.Render()
	b[display.MIMEText] = "Grid: " + g.Status().Summary()
	return b
}
