//go:build !unetlab_worker_ready

package main

import (
	"fmt"
	"os"
)

// runWorker is a placeholder until package worker implements Main.
func runWorker(args []string) int {
	fmt.Fprintln(os.Stderr, "unetlab worker: the interpreter worker is not built into this binary yet")
	return 1
}
