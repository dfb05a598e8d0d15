package nn

import (
	"runtime"
	"sync"
)

// parallelFor splits [0, n) into contiguous chunks and runs f on each chunk in
// its own goroutine, using at most GOMAXPROCS goroutines. Chunks hold at
// least minChunk items so tiny loops stay on one goroutine.
func parallelFor(n, minChunk int, f func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if minChunk < 1 {
		minChunk = 1
	}
	workers := runtime.GOMAXPROCS(0)
	if m := n / minChunk; m < workers {
		workers = m
	}
	if workers <= 1 {
		f(0, n)
		return
	}
	chunk := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(lo, hi)
	}
	wg.Wait()
}
