package host_test

import (
	"context"
	"fmt"
	"os"

	"github.com/unetlab/unetlab/kernel/worker/host"
	"github.com/unetlab/unetlab/kernel/worker/proto"
)

func ExampleProcess_Execute() {
	ctx := context.Background()
	// The kernel starts itself as `unetlab worker` (the zero Options); this
	// test binary serves as the worker when UNETLAB_WORKER_TEST is set.
	p, err := host.Start(ctx, &host.Options{Args: []string{}, Env: append(os.Environ(), "UNETLAB_WORKER_TEST=1")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	res, err := p.Execute(ctx, proto.ExecuteRequest{Code: "fmt.Println(\"hello\")\nx := 40\nx + 2"}, func(e proto.Event) {
		if e.Stream != nil {
			fmt.Print(e.Stream.Name, ": ", e.Stream.Text)
		}
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Status, res.Result["text/plain"])
	// Output:
	// stdout: hello
	// ok 42
}
