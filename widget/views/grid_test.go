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
