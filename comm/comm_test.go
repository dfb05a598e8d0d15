package comm_test

import (
	"errors"
	"fmt"
	"reflect"
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

// TestDeliverBuffers: a comm_msg's binary buffers reach the handler
// OnMessageWith set, in order and unchanged; OnMessage's handler gets the
// data alone, and a comm_close calls OnClose, not the message handler.
func TestDeliverBuffers(t *testing.T) {
	old := comm.SetTransport(printer{})
	defer comm.SetTransport(old)
	tests := []struct {
		name    string
		buffers [][]byte
	}{
		{"none", nil},
		{"one", [][]byte{{0, 1, 2, 255}}},
		{"two, one empty", [][]byte{{}, []byte("\x00binary\xff")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotData map[string]any
			var gotBufs [][]byte
			calls, closes := 0, 0
			comm.Register("bytes", func(c *comm.Comm, _ map[string]any) {
				c.OnMessageWith(func(data map[string]any, buffers [][]byte) {
					calls++
					gotData, gotBufs = data, buffers
				})
				c.OnClose(func(map[string]any) { closes++ })
			})
			defer comm.Register("bytes", nil)
			comm.Deliver("comm_open", map[string]any{"comm_id": "b", "target_name": "bytes"})
			comm.DeliverWith("comm_msg", map[string]any{"comm_id": "b", "data": map[string]any{"x": 1.0}}, tt.buffers)
			if calls != 1 || gotData["x"] != 1.0 || !reflect.DeepEqual(gotBufs, tt.buffers) {
				t.Errorf("handler: %d calls, data %v, buffers %q; want 1 call, x 1, buffers %q", calls, gotData, gotBufs, tt.buffers)
			}
			comm.DeliverWith("comm_close", map[string]any{"comm_id": "b", "data": map[string]any{}}, tt.buffers)
			if calls != 1 || closes != 1 {
				t.Errorf("after comm_close: %d message calls, %d closes; want 1 and 1", calls, closes)
			}
		})
	}

	// OnMessage: the data alone; it replaces OnMessageWith's handler.
	var with, without int
	comm.Register("plain", func(c *comm.Comm, _ map[string]any) {
		c.OnMessageWith(func(map[string]any, [][]byte) { with++ })
		c.OnMessage(func(data map[string]any) { without++ })
	})
	defer comm.Register("plain", nil)
	comm.Deliver("comm_open", map[string]any{"comm_id": "p", "target_name": "plain"})
	comm.DeliverWith("comm_msg", map[string]any{"comm_id": "p", "data": map[string]any{}}, [][]byte{{1}})
	if with != 0 || without != 1 {
		t.Errorf("OnMessage after OnMessageWith: %d and %d calls, want 0 and 1", with, without)
	}
}
