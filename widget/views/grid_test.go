package views

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unetlab/unetlab/comm"
	"github.com/unetlab/unetlab/grid"
	"github.com/unetlab/unetlab/train"
)

// fakeGrid is a grid of two jobs that run until cancelled.
type fakeGrid struct {
	mu        sync.Mutex
	reads     int
	cancelled bool
}

func (f *fakeGrid) status(_ context.Context, root string, _ grid.Executor) (*grid.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	a := grid.JobStatus{Job: &grid.Job{Name: "search U-net", Key: "aaaaaaaaaaaaaaaa"}, State: grid.Done, Epochs: 4, Of: 4}
	b := grid.JobStatus{Job: &grid.Job{Name: "fold 0", Key: "bbbbbbbbbbbbbbbb"}, State: grid.Running, Epochs: 1, Of: 4}
	if f.cancelled {
		b.State, b.Detail = grid.Failed, "cancelled"
	}
	return &grid.Status{Root: root, Executor: "local", Jobs: []grid.JobStatus{a, b}, Time: time.Now()}, nil
}

func (f *fakeGrid) cancel(context.Context, string, grid.Executor) error {
	f.mu.Lock()
	f.cancelled = true
	f.mu.Unlock()
	return nil
}

func TestGridStop(t *testing.T) {
	install(t)
	f := &fakeGrid{}
	readStatus, cancelGrid = f.status, f.cancel
	t.Cleanup(func() { readStatus, cancelGrid = grid.ReadStatus, grid.Cancel })
	g, err := Grid("/grids/g1", &GridOptions{Every: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if g.Bar.Value() != 1 || g.Bar.Get("max") != 2.0 {
		t.Errorf("bar %v of %v, want 1 of 2", g.Bar.Value(), g.Bar.Get("max"))
	}
	if !strings.Contains(g.Table.Value(), "fold 0") || !strings.Contains(g.Table.Value(), "1 done, 1 running") {
		t.Errorf("table %q", g.Table.Value())
	}
	select {
	case <-g.Done():
		t.Fatal("stopped following while a job runs")
	case <-time.After(50 * time.Millisecond):
	}
	comm.Deliver("comm_msg", map[string]any{"comm_id": g.Stop.ID(), "data": map[string]any{
		"method": "custom", "content": map[string]any{"event": "click"}}})
	select {
	case <-g.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("still following after Stop")
	}
	if !strings.Contains(g.Table.Value(), "stopped") || g.Bar.Get("bar_style") != "danger" {
		t.Errorf("after Stop: table %q, bar %v", g.Table.Value(), g.Bar.Get("bar_style"))
	}
	if g.Stop.Get("disabled") != true {
		t.Error("Stop still enabled after the grid finished")
	}
	if _, err := Grid("/g", &GridOptions{Every: -1}); err == nil {
		t.Error("negative Every accepted")
	}
}

func TestGridStatusErrors(t *testing.T) {
	install(t)
	f := &fakeGrid{}
	var mu sync.Mutex
	reads := 0
	readStatus = func(ctx context.Context, root string, ex grid.Executor) (*grid.Status, error) {
		mu.Lock()
		reads++
		n := reads
		mu.Unlock()
		if n == 1 {
			return f.status(ctx, root, ex)
		}
		return nil, errors.New("status.json: unreadable")
	}
	t.Cleanup(func() { readStatus = grid.ReadStatus })
	g, err := Grid("/grids/g2", &GridOptions{Every: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("still following after failed status reads")
	}
	if err := g.Err(); err == nil || !strings.Contains(err.Error(), "unreadable") {
		t.Errorf("Err %v", err)
	}
	if !strings.Contains(g.Table.Value(), "unreadable") {
		t.Errorf("table %q", g.Table.Value())
	}
	mu.Lock()
	defer mu.Unlock()
	if reads != 1+maxStatusFailures {
		t.Errorf("%d reads, want %d", reads, 1+maxStatusFailures)
	}
}

// failingKernel refuses to open a model named refuse and records the
// models opened and the comms closed.
type failingKernel struct {
	mu     sync.Mutex
	refuse string
	opened map[string]string // comm id to model name
	closed map[string]bool
}

func (f *failingKernel) SendComm(typ string, content map[string]any) error {
	return f.SendCommMessage(typ, content, nil, nil)
}

func (f *failingKernel) SendCommMessage(typ string, content, _ map[string]any, _ [][]byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, _ := content["comm_id"].(string)
	switch typ {
	case "comm_open":
		d, _ := content["data"].(map[string]any)
		st, _ := d["state"].(map[string]any)
		name, _ := st["_model_name"].(string)
		if name == f.refuse {
			return errors.New("refused")
		}
		f.opened[id] = name
	case "comm_close":
		f.closed[id] = true
	}
	return nil
}

// TestFailedStartCloses checks that Grid and Train close the widgets they
// opened when a later one fails to open.
func TestFailedStartCloses(t *testing.T) {
	f := &failingKernel{refuse: "VBoxModel", opened: map[string]string{}, closed: map[string]bool{}}
	old := comm.SetTransport(f)
	t.Cleanup(func() { comm.SetTransport(old) })
	fg := &fakeGrid{}
	readStatus = fg.status
	t.Cleanup(func() { readStatus = grid.ReadStatus })
	if _, err := Grid("/grids/g3", nil); err == nil {
		t.Fatal("Grid started without its box")
	}
	if _, err := Train(&train.Options{Epochs: 2}); err == nil {
		t.Fatal("Train started without its box")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for id, name := range f.opened {
		switch name {
		case "FloatProgressModel", "HTMLModel", "ButtonModel", "HBoxModel":
			n++
			if !f.closed[id] {
				t.Errorf("%s %s left open", name, id)
			}
		}
	}
	if n != 8 {
		t.Errorf("%d widgets opened, want 8", n)
	}
}
