package comm_test

import (
	"errors"
	"fmt"
	"sort"
	"testing"

	"github.com/unetlab/unetlab/comm"
)

// printer is a Transport that prints what would go to the front end.
type printer struct{}

func (printer) SendComm(typ string, content map[string]any) error {
	keys := make([]string, 0, len(content))
	for k := range content {
		if k != "comm_id" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	fmt.Print(typ)
	for _, k := range keys {
		fmt.Printf(" %s=%v", k, content[k])
	}
	fmt.Println()
	return nil
}

func ExampleOpen() {
	old := comm.SetTransport(printer{})
	defer comm.SetTransport(old)

	c, err := comm.Open("progress", map[string]any{"value": 0})
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Send(map[string]any{"value": 50})
	c.Close(nil)
	// Output:
	// comm_open data=map[value:0] target_name=progress
	// comm_msg data=map[value:50]
	// comm_close data=map[]
}

func ExampleRegister() {
	old := comm.SetTransport(printer{})
	defer comm.SetTransport(old)

	comm.Register("echo", func(c *comm.Comm, data map[string]any) {
		c.OnMessage(func(data map[string]any) { c.Send(data) })
	})
	defer comm.Register("echo", nil)
	// What the kernel does with the front end's messages:
	comm.Deliver("comm_open", map[string]any{"comm_id": "1", "target_name": "echo"})
	comm.Deliver("comm_msg", map[string]any{"comm_id": "1", "data": map[string]any{"x": 1}})
	comm.Deliver("comm_open", map[string]any{"comm_id": "2", "target_name": "unknown"})
	// Output:
	// comm_msg data=map[x:1]
	// comm_close data=map[]
}

func TestErrors(t *testing.T) {
	old := comm.SetTransport(nil)
	defer comm.SetTransport(old)
	if _, err := comm.Open("t", nil); !errors.Is(err, comm.ErrNoKernel) {
		t.Errorf("Open without a kernel: %v, want ErrNoKernel", err)
	}
	comm.SetTransport(printer{})
	c, err := comm.Open("t", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Close(nil)
	if err := c.Send(nil); !errors.Is(err, comm.ErrClosed) {
		t.Errorf("Send after Close: %v, want ErrClosed", err)
	}
}
