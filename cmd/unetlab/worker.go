package main

import "github.com/unetlab/unetlab/kernel/worker"

// runWorker is the body of `unetlab worker`, the interpreter process.
func runWorker(args []string) int { return worker.Main(args) }
