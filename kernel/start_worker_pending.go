//go:build !unetlab_worker_ready

package kernel

import (
	"context"
	"errors"
)

// startWorker is a placeholder until package worker implements Start.
func startWorker(ctx context.Context) (Interpreter, error) {
	return nil, errors.New("the interpreter worker is not built into this binary yet")
}
