package main

import (
	"os"
	"os/signal"

	"github.com/unetlab/unetlab/kernel/worker"
)

// runWorker is the body of `unetlab worker`, the interpreter process. It
// ignores SIGINT: a front end with interrupt_mode "signal", or a Ctrl-C in
// the terminal that runs Jupyter, signals the whole process group, and the
// kernel (which turns SIGINT into an interrupt request) decides what the
// worker does.
func runWorker(args []string) int {
	signal.Ignore(os.Interrupt)
	return worker.Main(args)
}
