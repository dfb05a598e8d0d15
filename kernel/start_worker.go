//go:build unetlab_worker_ready

package kernel

import (
	"context"
	"os"

	"github.com/unetlab/unetlab/kernel/worker"
)

// startWorker starts the worker process: this binary run as `unetlab worker`.
func startWorker(ctx context.Context) (Interpreter, error) {
	p, err := worker.Start(ctx, worker.Options{Stderr: os.Stderr})
	if err != nil {
		return nil, err
	}
	return p, nil
}
