package worker

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// workerGCPercent is the worker's GOGC when the environment sets none.
// Training keeps its tensors in large pointer-free buffers, so a collection
// costs little however often it runs, while the default heap goal (twice
// the live heap) let a notebook's learning-rate search reach 5.4 GB of RSS
// for a 0.9 GB training step: the buffers of the previous trial's graph
// stay in gorgonia's pools until a second collection frees them.
const workerGCPercent = 50

// tuneGC sets the worker's collector: GOGC 50 unless GOGC is set, and,
// unless GOMEMLIMIT is set, a soft memory limit of 3/4 of the memory the
// process may use (the cgroup's limit where there is one, else the
// machine's), so the collector works harder before the system would swap
// or kill the worker. It returns the limit set, 0 for none.
func tuneGC() int64 {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(workerGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	total := memoryAvailable()
	if total <= 0 {
		return 0
	}
	limit := total / 4 * 3
	debug.SetMemoryLimit(limit)
	return limit
}

// memoryAvailable returns the bytes this process may use: the cgroup v2
// limit (memory.max) or v1 limit when set and smaller than the machine's
// memory, else MemTotal from /proc/meminfo; 0 where neither is known.
func memoryAvailable() int64 {
	total := memTotal()
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err == nil && v > 0 && (total == 0 || v < total) {
			return v
		}
	}
	return total
}

// memTotal is MemTotal of /proc/meminfo in bytes, 0 if unknown.
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}
