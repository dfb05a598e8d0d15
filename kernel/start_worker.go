package kernel

import (
	"context"
	"os"

	"github.com/unetlab/unetlab/kernel/worker/host"
)

// startWorker starts the worker process: this binary run as `unetlab
// worker`. The child's stderr reaches the front end as stream messages (and
// a crash's last lines reach the cell's error); with UNETLAB_DEBUG=1 it is
// also copied to the kernel's log.
func startWorker(ctx context.Context) (Interpreter, error) {
	opt := host.Options{}
	if os.Getenv("UNETLAB_DEBUG") == "1" {
		opt.Stderr = os.Stderr
	}
	p, err := host.Start(ctx, &opt)
	if err != nil {
		return nil, err
	}
	return p, nil
}
