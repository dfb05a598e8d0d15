package grid

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// TestUpdateQueueConcurrent: keys added at the same time (as by two
// `grid run`s, or a run and a cancel, in other processes: flock locks open
// files, so goroutines that each open the lock file contend as processes
// do) are all in the queue afterwards.
func TestUpdateQueueConcurrent(t *testing.T) {
	dir := t.TempDir()
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- updateQueue(dir, func(q []string) []string {
				return append(q, fmt.Sprintf("k%02d", i))
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var q []string
	if err := readJSON(filepath.Join(dir, queueFile), &q); err != nil {
		t.Fatal(err)
	}
	slices.Sort(q)
	if len(q) != n || len(slices.Compact(q)) != n {
		t.Errorf("queue has %d distinct keys of %d added: %v", len(q), n, q)
	}
	if err := updateQueue(dir, func([]string) []string { return []string{} }); err != nil {
		t.Fatal(err)
	}
	q = nil
	if err := readJSON(filepath.Join(dir, queueFile), &q); err != nil || len(q) != 0 {
		t.Errorf("after emptying: %v, %v", q, err)
	}
}
