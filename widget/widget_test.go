package widget

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unetlab/unetlab/comm"
	"github.com/unetlab/unetlab/display"
)

// sent is one message the fake kernel saw, its content as the front end
// receives it (through JSON).
type sent struct {
	typ      string
	content  map[string]any
	metadata map[string]any
	buffers  [][]byte
}

type fakeKernel struct {
	mu   sync.Mutex
	msgs []sent
}

func (f *fakeKernel) SendComm(typ string, content map[string]any) error {
	return f.SendCommMessage(typ, content, nil, nil)
}

func (f *fakeKernel) SendCommMessage(typ string, content, metadata map[string]any, buffers [][]byte) error {
	data, err := json.Marshal(content)
	if err != nil {
		return err
	}
	var c map[string]any
	if err := json.Unmarshal(data, &c); err != nil {
		return err
	}
	f.mu.Lock()
	f.msgs = append(f.msgs, sent{typ, c, metadata, buffers})
	f.mu.Unlock()
	return nil
}

// take returns the messages since the last take.
func (f *fakeKernel) take() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.msgs
	f.msgs = nil
	return m
}

func install(t *testing.T) *fakeKernel {
	t.Helper()
	f := &fakeKernel{}
	old := comm.SetTransport(f)
	t.Cleanup(func() { comm.SetTransport(old) })
	return f
}

func data(m sent) map[string]any { d, _ := m.content["data"].(map[string]any); return d }

func state(m sent) map[string]any { s, _ := data(m)["state"].(map[string]any); return s }

// fromFront delivers a comm_msg from the front end to model id.
func fromFront(id string, d map[string]any) {
	comm.Deliver("comm_msg", map[string]any{"comm_id": id, "data": d})
}

func TestOpenMessages(t *testing.T) {
	f := install(t)
	s, err := NewIntSlider(&IntSliderOptions{Value: 3, Max: 9, Description: "z"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := f.take()
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3 comm_opens (layout, style, slider): %+v", len(msgs), msgs)
	}
	wantModels := []string{"LayoutModel", "SliderStyleModel", "IntSliderModel"}
	for i, m := range msgs {
		if m.typ != "comm_open" || m.content["target_name"] != Target {
			t.Errorf("message %d: %s to %v, want comm_open to %s", i, m.typ, m.content["target_name"], Target)
		}
		if m.metadata["version"] != "2.1.0" {
			t.Errorf("message %d: metadata %v, want version 2.1.0", i, m.metadata)
		}
		if got := state(m)["_model_name"]; got != wantModels[i] {
			t.Errorf("message %d: _model_name %v, want %s", i, got, wantModels[i])
		}
		if bp, ok := data(m)["buffer_paths"].([]any); !ok || len(bp) != 0 {
			t.Errorf("message %d: buffer_paths %v, want []", i, data(m)["buffer_paths"])
		}
	}
	st := state(msgs[2])
	want := map[string]any{
		"_model_module": "@jupyter-widgets/controls", "_model_module_version": "2.0.0",
		"_view_name": "IntSliderView", "_view_module": "@jupyter-widgets/controls", "_view_module_version": "2.0.0",
		"value": 3.0, "min": 0.0, "max": 9.0, "step": 1.0, "description": "z",
		"layout": "IPY_MODEL_" + msgs[0].content["comm_id"].(string),
		"style":  "IPY_MODEL_" + msgs[1].content["comm_id"].(string),
	}
	for k, v := range want {
		if !reflect.DeepEqual(st[k], v) {
			t.Errorf("state[%q] = %v, want %v", k, st[k], v)
		}
	}
	if lay := state(msgs[0]); lay["_view_name"] != "LayoutView" || lay["_model_module"] != BaseModule {
		t.Errorf("layout state %v", lay)
	}
	if msgs[2].content["comm_id"] != s.ID() || s.Ref() != "IPY_MODEL_"+s.ID() {
		t.Errorf("ids: message %v, model %s, ref %s", msgs[2].content["comm_id"], s.ID(), s.Ref())
	}
	b := s.Render()
	view, _ := b[MIMEView].(map[string]any)
	if view["model_id"] != s.ID() || view["version_major"] != 2 || view["version_minor"] != 0 {
		t.Errorf("view bundle %v", view)
	}
}

func TestBuffersInOpenAndUpdate(t *testing.T) {
	f := install(t)
	png := []byte("\x89PNG fake")
	im, err := NewImage(png, "", "64px", "")
	if err != nil {
		t.Fatal(err)
	}
	open := f.take()[1] // after the layout
	if _, ok := state(open)["value"]; ok {
		t.Errorf("the buffer's key stayed in the state: %v", state(open))
	}
	if got := data(open)["buffer_paths"]; !reflect.DeepEqual(got, []any{[]any{"value"}}) {
		t.Errorf("buffer_paths %v, want [[value]]", got)
	}
	if len(open.buffers) != 1 || string(open.buffers[0]) != string(png) {
		t.Errorf("buffers %q, want the PNG", open.buffers)
	}
	if state(open)["format"] != "png" || state(open)["width"] != "64px" {
		t.Errorf("state %v", state(open))
	}
	next := []byte("second")
	if err := im.SetValue(next); err != nil {
		t.Fatal(err)
	}
	upd := f.take()
	if len(upd) != 1 || upd[0].typ != "comm_msg" || data(upd[0])["method"] != "update" {
		t.Fatalf("update messages %+v", upd)
	}
	if len(upd[0].buffers) != 1 || string(upd[0].buffers[0]) != "second" || len(state(upd[0])) != 0 {
		t.Errorf("update: state %v buffers %q", state(upd[0]), upd[0].buffers)
	}
	if string(im.Value()) != "second" {
		t.Errorf("Value %q", im.Value())
	}
	if b := im.Render(); string(b["image/png"].([]byte)) != "second" {
		t.Errorf("static fallback %v", b)
	}
}

func TestUpdateFromFrontEnd(t *testing.T) {
	f := install(t)
	s, err := NewIntSlider(nil)
	if err != nil {
		t.Fatal(err)
	}
	f.take()
	var got []int
	var changes []Change
	s.OnChange(func(v int) { got = append(got, v) })
	s.Observe("", func(c Change) { changes = append(changes, c) })
	fromFront(s.ID(), map[string]any{"method": "update", "state": map[string]any{"value": 7.0}, "buffer_paths": []any{}})
	if !reflect.DeepEqual(got, []int{7}) || s.Value() != 7 {
		t.Errorf("callback saw %v, Value %d; want [7], 7", got, s.Value())
	}
	if len(changes) != 1 || !changes[0].FromFrontEnd || changes[0].Old != 0 {
		t.Errorf("changes %+v", changes)
	}
	echo := f.take()
	if len(echo) != 1 || data(echo[0])["method"] != "echo_update" || state(echo[0])["value"] != 7.0 {
		t.Errorf("echo %+v, want one echo_update of value 7", echo)
	}
	// The same value again: echoed, but no change to observe.
	fromFront(s.ID(), map[string]any{"method": "update", "state": map[string]any{"value": 7.0}})
	if len(got) != 1 {
		t.Errorf("an unchanged value called the callback: %v", got)
	}
	// Go sets it: the observers run, an update goes out.
	if err := s.SetValue(2); err != nil {
		t.Fatal(err)
	}
	f.take()
	if !reflect.DeepEqual(got, []int{7, 2}) || changes[len(changes)-1].FromFrontEnd {
		t.Errorf("after SetValue: %v %+v", got, changes)
	}
}

func TestRequestStateAndCustom(t *testing.T) {
	f := install(t)
	b, err := NewButton("Stop", "danger", "stop")
	if err != nil {
		t.Fatal(err)
	}
	f.take()
	fromFront(b.ID(), map[string]any{"method": "request_state"})
	m := f.take()
	if len(m) != 1 || data(m[0])["method"] != "update" {
		t.Fatalf("request_state answered %+v", m)
	}
	if st := state(m[0]); st["_model_name"] != "ButtonModel" || st["button_style"] != "danger" || st["description"] != "Stop" {
		t.Errorf("full state %v", st)
	}
	clicks := 0
	b.OnClick(func() { clicks++ })
	fromFront(b.ID(), map[string]any{"method": "custom", "content": map[string]any{"event": "click"}})
	fromFront(b.ID(), map[string]any{"method": "custom", "content": map[string]any{"event": "other"}})
	if clicks != 1 {
		t.Errorf("%d clicks, want 1", clicks)
	}
	if _, err := NewButton("x", "loud", ""); err == nil || !strings.Contains(err.Error(), "loud") {
		t.Errorf("bad style: %v", err)
	}
}

// fromFrontJSON delivers a comm_msg whose content is msg, JSON text as a
// front end sends it, with the message's binary buffers.
func fromFrontJSON(t *testing.T, msg string, buffers [][]byte) {
	t.Helper()
	var content map[string]any
	if err := json.Unmarshal([]byte(msg), &content); err != nil {
		t.Fatal(err)
	}
	comm.DeliverWith("comm_msg", content, buffers)
}

// TestBuffersFromFrontEnd: the binary buffers of a front end's update are
// put back into the state at their buffer_paths (top level, in a nested
// object, in a list), observers see []byte, the echo carries them back;
// a custom message's buffers reach OnCustom; a malformed update changes
// nothing.
func TestBuffersFromFrontEnd(t *testing.T) {
	f := install(t)
	w, err := NewAnyWidget("bytes", "export default { render() {} }", "", map[string]any{
		"data": []byte{}, "meta": map[string]any{"frames": []any{nil, "keep"}}, "n": 0})
	if err != nil {
		t.Fatal(err)
	}
	f.take()
	var seen []Change
	w.Observe("", func(c Change) { seen = append(seen, c) })

	// What ipywidgets 8's remove_buffers makes of
	// {data: DataView, meta: {frames: [ArrayBuffer, "keep"], blob: Uint8Array}, n: 3}:
	// the map keys are dropped, the list element becomes null.
	msg := `{"comm_id": "` + w.ID() + `", "data": {"method": "update",
		"state": {"meta": {"frames": [null, "keep"]}, "n": 3},
		"buffer_paths": [["data"], ["meta", "frames", 0], ["meta", "blob"]]}}`
	bufs := [][]byte{{0, 1, 2, 0xff}, []byte("frame0"), {}}
	fromFrontJSON(t, msg, bufs)

	if got, ok := w.Get("data").([]byte); !ok || string(got) != "\x00\x01\x02\xff" {
		t.Errorf("data %#v, want the first buffer as []byte", w.Get("data"))
	}
	meta, _ := w.Get("meta").(map[string]any)
	frames, _ := meta["frames"].([]any)
	if len(frames) != 2 || !reflect.DeepEqual(frames[0], []byte("frame0")) || frames[1] != "keep" {
		t.Errorf("meta.frames %#v, want [frame0 keep]", meta["frames"])
	}
	if b, ok := meta["blob"].([]byte); !ok || len(b) != 0 {
		t.Errorf("meta.blob %#v, want an empty []byte", meta["blob"])
	}
	names := []string{}
	for _, c := range seen {
		names = append(names, c.Name)
		if c.Name == "data" && (!c.FromFrontEnd || string(c.New.([]byte)) != string(bufs[0])) {
			t.Errorf("change of data %+v", c)
		}
	}
	if !reflect.DeepEqual(names, []string{"data", "meta", "n"}) {
		t.Errorf("observed changes of %v, want data, meta, n", names)
	}
	echo := f.take()
	if len(echo) != 1 || data(echo[0])["method"] != "echo_update" {
		t.Fatalf("echo %+v", echo)
	}
	wantPaths := []any{[]any{"data"}, []any{"meta", "blob"}, []any{"meta", "frames", 0.0}}
	if got := data(echo[0])["buffer_paths"]; !reflect.DeepEqual(got, wantPaths) {
		t.Errorf("echo buffer_paths %v, want %v", got, wantPaths)
	}
	if want := [][]byte{bufs[0], bufs[2], bufs[1]}; !reflect.DeepEqual(echo[0].buffers, want) {
		t.Errorf("echo buffers %q, want %q", echo[0].buffers, want)
	}

	// A custom message with buffers (anywidget's model.send(content, {}, [buf])).
	var gotContent map[string]any
	var gotBufs [][]byte
	w.OnCustom(func(content map[string]any, buffers [][]byte) { gotContent, gotBufs = content, buffers })
	fromFrontJSON(t, `{"comm_id": "`+w.ID()+`", "data": {"method": "custom", "content": {"kind": "bytes"}}}`, [][]byte{[]byte("abc"), {9}})
	if gotContent["kind"] != "bytes" || !reflect.DeepEqual(gotBufs, [][]byte{[]byte("abc"), {9}}) {
		t.Errorf("custom: content %v buffers %q", gotContent, gotBufs)
	}

	// Malformed updates: nothing applied, nothing echoed.
	for _, bad := range []struct {
		paths string
		n     int
	}{
		{`[["data"]]`, 2},              // more buffers than paths
		{`[["nope", "x"]]`, 1},         // through a missing object
		{`[["meta", "frames", 5]]`, 1}, // past the list's end
		{`"data"`, 1},                  // not a list of paths
	} {
		seen = nil
		msg := `{"comm_id": "` + w.ID() + `", "data": {"method": "update", "state": {"n": 99}, "buffer_paths": ` + bad.paths + `}}`
		fromFrontJSON(t, msg, make([][]byte, bad.n))
		if len(seen) != 0 || w.Get("n") != 3.0 || len(f.take()) != 0 {
			t.Errorf("paths %s with %d buffers: changes %v, n %v; want none and 3", bad.paths, bad.n, seen, w.Get("n"))
		}
	}
}

func TestControlTarget(t *testing.T) {
	f := install(t)
	im, err := NewImage([]byte("pix"), "png", "", "")
	if err != nil {
		t.Fatal(err)
	}
	f.take()
	comm.Deliver("comm_open", map[string]any{"comm_id": "ctl", "target_name": ControlTarget, "data": map[string]any{}})
	fromFront("ctl", map[string]any{"method": "request_states"})
	m := f.take()
	if len(m) != 1 || m[0].content["comm_id"] != "ctl" || data(m[0])["method"] != "update_states" {
		t.Fatalf("control answered %+v", m)
	}
	states, _ := data(m[0])["states"].(map[string]any)
	entry, _ := states[im.ID()].(map[string]any)
	if entry["model_name"] != "ImageModel" || entry["model_module"] != ControlsModule || entry["model_module_version"] != "2.0.0" {
		t.Errorf("entry %v", entry)
	}
	// The image's value is a buffer, at its path from the top of states.
	paths, _ := data(m[0])["buffer_paths"].([]any)
	wantPath := []any{im.ID(), "state", "value"}
	found := false
	for i, p := range paths {
		if reflect.DeepEqual(p, wantPath) {
			found = string(m[0].buffers[i]) == "pix"
		}
	}
	if !found {
		t.Errorf("buffer path %v with the picture missing: paths %v", wantPath, paths)
	}
	if err := im.Close(); err != nil {
		t.Fatal(err)
	}
	f.take()
	fromFront("ctl", map[string]any{"method": "request_states"})
	m = f.take()
	states, _ = data(m[0])["states"].(map[string]any)
	if _, ok := states[im.ID()]; ok {
		t.Error("a closed model is still in update_states")
	}
	if err := im.SetValue(nil); !errors.Is(err, ErrClosed) {
		t.Errorf("SetValue on a closed model: %v, want ErrClosed", err)
	}
}

func TestSplitAndPutBuffers(t *testing.T) {
	tests := []struct {
		name      string
		state     map[string]any
		wantState map[string]any
		wantPaths [][]any
		wantBufs  []string
	}{
		{"none", map[string]any{"a": 1}, map[string]any{"a": 1}, [][]any{}, nil},
		{"top", map[string]any{"v": []byte("x"), "f": "png"}, map[string]any{"f": "png"}, [][]any{{"v"}}, []string{"x"}},
		{"nested map", map[string]any{"y": map[string]any{"z": []byte("b"), "k": 2}},
			map[string]any{"y": map[string]any{"k": 2}}, [][]any{{"y", "z"}}, []string{"b"}},
		{"in list", map[string]any{"l": []any{1, []byte("p"), map[string]any{"q": []byte("r")}}},
			map[string]any{"l": []any{1, nil, map[string]any{}}}, [][]any{{"l", 1}, {"l", 2, "q"}}, []string{"p", "r"}},
		{"key order", map[string]any{"b": []byte("2"), "a": []byte("1")}, map[string]any{}, [][]any{{"a"}, {"b"}}, []string{"1", "2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, paths, bufs := SplitBuffers(tt.state)
			if !reflect.DeepEqual(st, tt.wantState) || !reflect.DeepEqual(paths, tt.wantPaths) {
				t.Errorf("state %v paths %v, want %v %v", st, paths, tt.wantState, tt.wantPaths)
			}
			var got []string
			for _, b := range bufs {
				got = append(got, string(b))
			}
			if !reflect.DeepEqual(got, tt.wantBufs) {
				t.Errorf("buffers %q, want %q", got, tt.wantBufs)
			}
			// Back again: through JSON, as the other side sees it.
			raw, _ := json.Marshal(map[string]any{"s": st, "p": paths})
			var wire struct {
				S map[string]any
				P [][]any
			}
			if err := json.Unmarshal(raw, &wire); err != nil {
				t.Fatal(err)
			}
			if err := PutBuffers(wire.S, wire.P, bufs); err != nil {
				t.Fatal(err)
			}
			back, _ := json.Marshal(wire.S)
			orig, _ := json.Marshal(tt.state)
			if string(back) != string(orig) {
				t.Errorf("round trip %s, want %s", back, orig)
			}
		})
	}
	bad := []struct {
		name  string
		paths [][]any
	}{
		{"no container", [][]any{{"a", "b"}}},
		{"index out", [][]any{{"l", 5.0}}},
		{"index on map", [][]any{{0.0}}},
		{"empty", [][]any{{}}},
	}
	for _, tt := range bad {
		if err := PutBuffers(map[string]any{"l": []any{1}}, tt.paths, [][]byte{nil}); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestOutputLinkDropdown(t *testing.T) {
	f := install(t)
	out, err := NewOutput()
	if err != nil {
		t.Fatal(err)
	}
	f.take()
	if err := out.Printf("slice %d\n", 4); err != nil {
		t.Fatal(err)
	}
	m := f.take()
	want := []any{map[string]any{"output_type": "stream", "name": "stdout", "text": "slice 4\n"}}
	if len(m) != 1 || !reflect.DeepEqual(state(m[0])["outputs"], want) {
		t.Errorf("output update %+v", m)
	}
	a, _ := NewIntSlider(nil)
	p, _ := NewPlay(&PlayOptions{Max: 9, Interval: 50})
	f.take()
	if _, err := NewLink(p, "value", a, "value"); err != nil {
		t.Fatal(err)
	}
	m = f.take()
	if len(m) != 1 || state(m[0])["_model_name"] != "LinkModel" ||
		!reflect.DeepEqual(state(m[0])["source"], []any{p.Ref(), "value"}) || state(m[0])["_view_name"] != nil {
		t.Errorf("link %+v", m)
	}
	d, err := NewDropdown("axis", []string{"x", "y", "z"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	var picked string
	d.OnChange(func(_ int, l string) { picked = l })
	fromFront(d.ID(), map[string]any{"method": "update", "state": map[string]any{"index": 0.0}})
	if picked != "x" || d.Label() != "x" {
		t.Errorf("picked %q, Label %q", picked, d.Label())
	}
	if _, err := NewDropdown("a", []string{"x"}, 3); err == nil {
		t.Error("index out of range accepted")
	}
}

func TestNoKernel(t *testing.T) {
	old := comm.SetTransport(nil)
	defer comm.SetTransport(old)
	if _, err := NewIntSlider(nil); !errors.Is(err, comm.ErrNoKernel) {
		t.Errorf("outside the kernel: %v, want comm.ErrNoKernel", err)
	}
}

// textOnly is a transport without metadata or buffers.
type textOnly struct{}

func (textOnly) SendComm(string, map[string]any) error { return nil }

func TestTransportWithoutBuffers(t *testing.T) {
	old := comm.SetTransport(textOnly{})
	defer comm.SetTransport(old)
	if _, err := NewIntSlider(nil); !errors.Is(err, comm.ErrNoBuffers) {
		t.Errorf("error %v, want comm.ErrNoBuffers", err)
	}
}

func TestSame(t *testing.T) {
	for _, tt := range []struct {
		a, b any
		want bool
	}{
		{1, 1.0, true}, {1, 2, false}, {"a", "a", true}, {"a", 1, false}, {nil, nil, true}, {nil, 0, false},
		{[]byte("x"), []byte("x"), true}, {[]byte("x"), "x", false}, {true, true, true},
		{map[string]string{"a": "b"}, map[string]string{"a": "b"}, false}, {[]any{1}, []any{1}, false},
		{[2]int{1, 2}, [2]int{1, 2}, true}, {struct{ v any }{[]int{1}}, struct{ v any }{[]int{1}}, false},
	} {
		if got := same(tt.a, tt.b); got != tt.want {
			t.Errorf("same(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestSetLayout(t *testing.T) {
	f := install(t)
	c, err := NewCheckbox("x", false)
	if err != nil {
		t.Fatal(err)
	}
	msgs := f.take()
	if err := c.SetLayout(map[string]any{"width": "300px"}); err != nil {
		t.Fatal(err)
	}
	m := f.take()
	if len(m) != 1 || m[0].content["comm_id"] != msgs[0].content["comm_id"] || state(m[0])["width"] != "300px" {
		t.Errorf("layout update %+v", m)
	}
	l, _ := NewLink(c, "value", c, "value")
	if err := l.SetLayout(map[string]any{"width": "1px"}); err == nil {
		t.Error("a Link (no view, no layout) took a layout")
	}
}

// gatedKernel is a fakeKernel whose comm_msg sends can be held (gate) or
// made to fail (fail).
type gatedKernel struct {
	fakeKernel
	gmu  sync.Mutex
	gate func(content map[string]any) // called before a comm_msg is recorded
	fail error
}

func (g *gatedKernel) SendComm(typ string, content map[string]any) error {
	return g.SendCommMessage(typ, content, nil, nil)
}

func (g *gatedKernel) SendCommMessage(typ string, content, metadata map[string]any, buffers [][]byte) error {
	g.gmu.Lock()
	gate, fail := g.gate, g.fail
	g.gmu.Unlock()
	if typ == "comm_msg" {
		if gate != nil {
			gate(content)
		}
		if fail != nil {
			return fail
		}
	}
	return g.fakeKernel.SendCommMessage(typ, content, metadata, buffers)
}

func TestSetStateOrderAndFailure(t *testing.T) {
	g := &gatedKernel{}
	old := comm.SetTransport(g)
	t.Cleanup(func() { comm.SetTransport(old) })
	s, err := NewIntSlider(nil)
	if err != nil {
		t.Fatal(err)
	}
	g.take()
	// The send of value 1 is held until the other goroutine has had the
	// time to set 2: the front end must still see 1 then 2.
	release, held := make(chan struct{}), make(chan struct{})
	g.gate = func(content map[string]any) {
		d, _ := content["data"].(map[string]any)
		st, _ := d["state"].(map[string]any)
		if st["value"] == 1 {
			close(held)
			<-release
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = s.Set("value", 1) }()
	<-held
	go func() { defer wg.Done(); _ = s.Set("value", 2) }()
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	m := g.take()
	if len(m) != 2 || state(m[1])["value"] != 2.0 || s.Get("value") != 2 {
		t.Errorf("updates %+v, local value %v: want 1 then 2, and 2", m, s.Get("value"))
	}

	// A failed send keeps the old value, tells no observer and names the key.
	g.gmu.Lock()
	g.gate, g.fail = nil, errors.New("socket gone")
	g.gmu.Unlock()
	told := false
	s.Observe("value", func(Change) { told = true })
	err = s.Set("value", 7)
	if err == nil || !strings.Contains(err.Error(), "value") || !strings.Contains(err.Error(), "socket gone") {
		t.Errorf("failed send: error %v", err)
	}
	if s.Get("value") != 2 || told {
		t.Errorf("after a failed send: value %v (want 2), observer told %v", s.Get("value"), told)
	}
}

func TestOutputStreamsAndObservers(t *testing.T) {
	f := install(t)
	out, err := NewOutput()
	if err != nil {
		t.Fatal(err)
	}
	f.take()
	// An observer that writes to the same Output (once) must not deadlock.
	wrote := false
	out.Observe("outputs", func(Change) {
		if !wrote {
			wrote = true
			_ = out.Printf("seen\n")
		}
	})
	done := make(chan error, 1)
	go func() {
		if err := out.Printf("a\n"); err != nil {
			done <- err
			return
		}
		done <- out.Printf("b\n")
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("an observer writing to its Output deadlocked")
	}
	if err := out.Show(display.Text("pic")); err != nil {
		t.Fatal(err)
	}
	_, _ = out.Write([]byte("c\n"))
	got := out.Outputs()
	want := []any{
		map[string]any{"output_type": "stream", "name": "stdout", "text": "a\nseen\nb\n"},
		nil,
		map[string]any{"output_type": "stream", "name": "stdout", "text": "c\n"},
	}
	if len(got) != 3 || !reflect.DeepEqual(got[0], want[0]) || !reflect.DeepEqual(got[2], want[2]) {
		t.Errorf("outputs %v, want the stream text joined around the picture", got)
	}
	m := f.take()
	if last := state(m[len(m)-1])["outputs"].([]any); len(last) != 3 {
		t.Errorf("last update sent %v", last)
	}
	if err := out.Clear(); err != nil || len(out.Outputs()) != 0 {
		t.Errorf("Clear: %v, outputs %v", err, out.Outputs())
	}
}
