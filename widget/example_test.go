package widget_test

import (
	"encoding/json"
	"fmt"

	"github.com/unetlab/unetlab/comm"
	"github.com/unetlab/unetlab/widget"
)

// printer prints the comm messages a kernel would send, with fixed ids.
type printer struct{ ids map[string]string }

func (p *printer) SendComm(typ string, content map[string]any) error {
	return p.SendCommMessage(typ, content, nil, nil)
}

func (p *printer) SendCommMessage(typ string, content, metadata map[string]any, buffers [][]byte) error {
	id := content["comm_id"].(string)
	if _, ok := p.ids[id]; !ok {
		p.ids[id] = fmt.Sprintf("id%d", len(p.ids)+1)
	}
	data, _ := content["data"].(map[string]any)
	if st, ok := data["state"].(map[string]any); ok {
		// Only a few keys, for brevity.
		short := map[string]any{}
		for _, k := range []string{"_model_name", "format", "value"} {
			if v, ok := st[k]; ok {
				short[k] = v
			}
		}
		data = map[string]any{"method": data["method"], "state": short, "buffer_paths": data["buffer_paths"]}
	}
	d, _ := json.Marshal(data)
	fmt.Printf("%s %s metadata=%v data=%s buffers=%q\n", typ, p.ids[id], metadata, d, buffers)
	return nil
}

// An Image widget: its picture travels as a binary buffer named by its
// path in the state, and a new picture is an update with a buffer.
func ExampleNewImage() {
	old := comm.SetTransport(&printer{ids: map[string]string{}})
	defer comm.SetTransport(old)
	im, err := widget.NewImage([]byte("PNG1"), "png", "", "")
	if err != nil {
		panic(err)
	}
	im.SetValue([]byte("PNG2"))
	// Output:
	// comm_open id1 metadata=map[version:2.1.0] data={"buffer_paths":[],"method":null,"state":{"_model_name":"LayoutModel"}} buffers=[]
	// comm_open id2 metadata=map[version:2.1.0] data={"buffer_paths":[["value"]],"method":null,"state":{"_model_name":"ImageModel","format":"png"}} buffers=["PNG1"]
	// comm_msg id2 metadata=map[] data={"buffer_paths":[["value"]],"method":"update","state":{}} buffers=["PNG2"]
}
