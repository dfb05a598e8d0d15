// Package widget speaks the Jupyter widget message protocol, version 2.1
// as ipywidgets 8 uses it, from Go: a cell creates the standard controls
// (IntSlider, FloatSlider, Dropdown, Button, Checkbox, Image, HBox, VBox,
// Output, Play, jslink through [Link]) and anywidget models, reads and sets
// their values and observes them with Go callbacks.
//
//	s, _ := widget.NewIntSlider(&widget.IntSliderOptions{Max: 63, Description: "z"})
//	out, _ := widget.NewOutput()
//	s.OnChange(func(v int) { out.Printf("slice %d\n", v) })
//	widget.NewVBox(s, out) // the last expression of a cell is shown
//
// # The protocol
//
// Each widget is a model: a comm to the front end's "jupyter.widget"
// target, opened with the message metadata {"version": "2.1.0"} and the
// data {"state": ..., "buffer_paths": [...]}. State values of type []byte,
// anywhere in the state (nested in maps and lists), travel as the
// message's binary buffers: they are taken out of the state and named by
// their path ([["value"]] for an Image), as the protocol asks. A change on
// either side is an "update" message with the changed keys; an update from
// the front end is answered with an "echo_update" of the same keys (as
// ipywidgets 8 does, so that other front ends on the kernel follow), a
// "request_state" with the full state, and "custom" messages (a Button's
// click) go to the model's custom handlers. The package also serves the
// "jupyter.widget.control" target (protocol 1.0.0): a front end that opens
// a notebook again asks there for every live model's state at once
// ("request_states", answered with "update_states").
//
// A widget is shown by the MIME type application/vnd.jupyter.widget-view+json
// ({"model_id", "version_major": 2, "version_minor": 0}); every widget is a
// [display.Renderer], so it shows as a cell's last value or through
// [display.Show]. Front ends without the widget manager (nbconvert, a
// terminal) show the text/plain part, or the static picture a widget adds
// (the volume views of package widget/views add a PNG).
//
// # When callbacks run
//
// The front end's messages reach the worker as comm messages; their
// handlers, and so every Go callback of this package, run one at a time,
// in the order of the messages, on the worker's comm goroutine, while no
// cell runs: after a cell returns, a moved slider calls its callback at
// once. While a cell runs, the kernel serves shell messages one at a time
// (as ipykernel does): the front end does send the messages, and they wait
// in the kernel's shell queue until the cell ends, then run in order. Work
// that must stay controllable (a training run with a stop button) runs in
// a goroutine the cell starts and returns from; widget/views.Train does
// that. Output a callback prints goes to the latest cell; to put it under
// a control, write to an [Output] widget.
//
// # Binary buffers from the front end
//
// A front-end message's binary buffers (an ArrayBuffer, DataView or typed
// array that JavaScript put in a model's state or sent with a custom
// message) reach Go as []byte. In an "update" the message's buffer_paths
// put each buffer back into the state at its path, so [Model.Get], the
// [Change] an observer sees and the echo to other front ends hold the
// bytes where JavaScript had the buffer (an Image's "value", an
// anywidget's model.set("data", new DataView(buf)) then save_changes).
// A "custom" message's buffers go to the [Model.OnCustom] handlers with
// its content (anywidget's model.send(content, callbacks, [buf])).
package widget

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/unetlab/unetlab/comm"
	"github.com/unetlab/unetlab/display"
)

// Protocol versions and the modules of the standard widgets (the protocol
// versions of ipywidgets 8.1: these are protocol, not npm, versions).
const (
	// ProtocolVersion goes in the metadata of every comm_open on the
	// "jupyter.widget" target; the front end checks its major number.
	ProtocolVersion = "2.1.0"
	// ControlProtocolVersion is the version of the "jupyter.widget.control"
	// target's messages.
	ControlProtocolVersion = "1.0.0"
	// Target is the comm target of widget models.
	Target = "jupyter.widget"
	// ControlTarget is the comm target through which a front end asks for
	// every model's state.
	ControlTarget = "jupyter.widget.control"
	// MIMEView is the MIME type that displays a widget.
	MIMEView = "application/vnd.jupyter.widget-view+json"

	// BaseModule is the JavaScript module of the base models (a DOM
	// widget's Layout, the widget model classes the others extend).
	BaseModule = "@jupyter-widgets/base"
	// ControlsModule is the JavaScript module of the standard controls
	// (sliders, buttons, boxes, progress bars, images, links).
	ControlsModule = "@jupyter-widgets/controls"
	// OutputModule is the JavaScript module of the [Output] widget.
	OutputModule = "@jupyter-widgets/output"
	// BaseVersion, ControlsVersion and OutputVersion are the model
	// versions of the three modules.
	BaseVersion     = "2.0.0"
	ControlsVersion = "2.0.0"
	OutputVersion   = "1.0.0"
)

// ErrClosed is returned when a closed widget is changed.
var ErrClosed = errors.New("widget: widget is closed")

// Spec names the front-end classes of a model: its model and view, each by
// class name, JavaScript module and module version (a semver range).
// ViewName "" makes a model without a view (a Layout, a Link).
type Spec struct {
	ModelName, ModelModule, ModelVersion string
	ViewName, ViewModule, ViewVersion    string
}

func (s *Spec) state() map[string]any {
	st := map[string]any{
		"_model_name": s.ModelName, "_model_module": s.ModelModule, "_model_module_version": s.ModelVersion,
		"_view_module": s.ViewModule, "_view_module_version": s.ViewVersion,
	}
	if s.ViewName != "" {
		st["_view_name"] = s.ViewName
	} else {
		st["_view_name"] = nil
	}
	return st
}

// Change is one changed state key, as an observer sees it. Values from the
// front end are JSON-decoded (numbers are float64, lists []any).
type Change struct {
	Name     string
	Old, New any
	// FromFrontEnd is true when the front end made the change (a user
	// moved a slider), false when Go code set it.
	FromFrontEnd bool
}

// Model is one widget model, the Go side of a front-end model. Its methods
// are safe for concurrent use; observers and handlers run without the
// model's lock held, so they may call its methods.
type Model struct {
	spec Spec
	comm *comm.Comm

	// sendMu orders the Go side's updates: it is held from applying a
	// state change to sending it, so the front end sees the updates of a
	// key in the order the local state took them.
	sendMu    sync.Mutex
	mu        sync.Mutex
	state     map[string]any
	observers map[string][]func(Change) // "" observes every key
	custom    []func(content map[string]any, buffers [][]byte)
	closed    bool
}

var (
	liveMu sync.Mutex
	live   = map[string]*Model{} // comm id to model, for the control target
)

func init() {
	comm.Register(ControlTarget, openControl)
}

// New opens a model of spec with the initial state (keys other than the
// six _model_*/_view_* names, which come from spec; state is not kept).
// It fails outside the unetlab kernel (comm.ErrNoKernel).
func New(spec *Spec, state map[string]any) (*Model, error) {
	if spec == nil || spec.ModelName == "" || spec.ModelModule == "" {
		return nil, fmt.Errorf("widget: New: the spec must name a model and its module")
	}
	m := &Model{spec: *spec, state: spec.state(), observers: map[string][]func(Change){}}
	for k, v := range state {
		if !strings.HasPrefix(k, "_model_") && !strings.HasPrefix(k, "_view_") {
			m.state[k] = v
		}
	}
	st, paths, bufs := SplitBuffers(m.state)
	c, err := comm.OpenWith(Target, map[string]any{"state": st, "buffer_paths": paths},
		map[string]any{"version": ProtocolVersion}, bufs)
	if err != nil {
		return nil, fmt.Errorf("widget: opening a %s: %w", spec.ModelName, err)
	}
	m.comm = c
	c.OnMessageWith(m.handle)
	c.OnClose(func(map[string]any) {
		m.mu.Lock()
		m.closed = true
		m.mu.Unlock()
		forget(c.ID())
	})
	liveMu.Lock()
	live[c.ID()] = m
	liveMu.Unlock()
	return m, nil
}

func forget(id string) {
	liveMu.Lock()
	delete(live, id)
	liveMu.Unlock()
}

// ID returns the model id (the id of its comm).
func (m *Model) ID() string { return m.comm.ID() }

// Ref returns the reference to m that other models' state holds
// ("IPY_MODEL_<id>"), as a Box's children or a Link's source.
func (m *Model) Ref() string { return "IPY_MODEL_" + m.ID() }

// Spec returns the model's front-end classes.
func (m *Model) Spec() Spec { return m.spec }

// Get returns the value of the state key name (nil when unset).
func (m *Model) Get(name string) any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state[name]
}

// State returns a copy of the whole state (the top-level map is copied;
// values are shared).
func (m *Model) State() map[string]any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.state)
}

// Set sets one state key and sends it to the front end.
func (m *Model) Set(name string, value any) error {
	return m.SetState(map[string]any{name: value})
}

// SetState sets the keys of state, sends them to the front end in one
// "update" message ([]byte values as binary buffers) and then calls the
// observers of those that changed (values compared as JSON would see them;
// []byte by content). Updates from several goroutines reach the front end
// in the order they changed the local state. When the send fails, the keys
// get their earlier values back, no observer is called and the error names
// the keys.
func (m *Model) SetState(state map[string]any) error {
	m.sendMu.Lock()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		m.sendMu.Unlock()
		return fmt.Errorf("%w: %s %s", ErrClosed, m.spec.ModelName, m.ID())
	}
	type prior struct {
		v   any
		had bool
	}
	before := make(map[string]prior, len(state))
	for k := range state {
		v, had := m.state[k]
		before[k] = prior{v, had}
	}
	changes := m.applyLocked(state, false)
	m.mu.Unlock()
	st, paths, bufs := SplitBuffers(state)
	err := m.comm.SendWith(map[string]any{"method": "update", "state": st, "buffer_paths": paths}, bufs)
	if err != nil {
		m.mu.Lock()
		for k, p := range before {
			if p.had {
				m.state[k] = p.v
			} else {
				delete(m.state, k)
			}
		}
		m.mu.Unlock()
	}
	m.sendMu.Unlock()
	if err != nil {
		return fmt.Errorf("widget: updating %s of %s %s: %w",
			strings.Join(slices.Sorted(maps.Keys(state)), ", "), m.spec.ModelName, m.ID(), err)
	}
	m.notify(changes)
	return nil
}

// applyLocked stores state and returns the changes, in key order.
func (m *Model) applyLocked(state map[string]any, front bool) []Change {
	keys := slices.Sorted(maps.Keys(state))
	var changes []Change
	for _, k := range keys {
		old, had := m.state[k]
		v := state[k]
		m.state[k] = v
		if !had || !same(old, v) {
			changes = append(changes, Change{Name: k, Old: old, New: v, FromFrontEnd: front})
		}
	}
	return changes
}

func (m *Model) notify(changes []Change) {
	for _, ch := range changes {
		m.mu.Lock()
		fs := append(slices.Clone(m.observers[ch.Name]), m.observers[""]...)
		m.mu.Unlock()
		for _, f := range fs {
			f(ch)
		}
	}
}

// Observe calls f with every change of the state key name ("" for every
// key), whether the front end or Go code made it.
func (m *Model) Observe(name string, f func(Change)) {
	m.mu.Lock()
	m.observers[name] = append(m.observers[name], f)
	m.mu.Unlock()
}

// OnCustom calls f with each custom message from the front end (a
// Button's {"event": "click"}) and the message's binary buffers (nil when
// it has none).
func (m *Model) OnCustom(f func(content map[string]any, buffers [][]byte)) {
	m.mu.Lock()
	m.custom = append(m.custom, f)
	m.mu.Unlock()
}

// Send sends a custom message with binary buffers (nil for none) to the
// front-end model (anywidget's model.on("msg:custom", ...) receives it).
func (m *Model) Send(content map[string]any, buffers [][]byte) error {
	if content == nil {
		content = map[string]any{}
	}
	return m.comm.SendWith(map[string]any{"method": "custom", "content": content}, buffers)
}

// Close closes the model's comm; the front end removes its views.
func (m *Model) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	forget(m.ID())
	return m.comm.Close(nil)
}

// Render returns the bundle that shows the model: its view MIME type and a
// text/plain line for front ends without widgets.
func (m *Model) Render() display.Bundle {
	return display.Bundle{
		MIMEView:         map[string]any{"model_id": m.ID(), "version_major": 2, "version_minor": 0},
		display.MIMEText: fmt.Sprintf("%s(%s)", strings.TrimSuffix(m.spec.ModelName, "Model"), m.ID()),
	}
}

// handle serves one message from the front end on the model's comm, with
// its binary buffers.
func (m *Model) handle(data map[string]any, buffers [][]byte) {
	method, _ := data["method"].(string)
	switch method {
	case "update":
		state, _ := data["state"].(map[string]any)
		if state == nil {
			state = map[string]any{}
		}
		paths, err := bufferPaths(data["buffer_paths"])
		if err == nil {
			err = PutBuffers(state, paths, buffers)
		}
		if err != nil {
			// A malformed message: nothing of it is applied, and the
			// cause goes where the handler's output goes.
			fmt.Fprintf(os.Stderr, "widget: an update of %s %s from the front end is dropped: %v\n", m.spec.ModelName, m.ID(), err)
			return
		}
		if len(state) == 0 {
			return
		}
		// The echo first, as ipywidgets does: the front end that sent the
		// update waits for it before it takes kernel updates of those keys
		// again.
		st, paths, bufs := SplitBuffers(state)
		_ = m.comm.SendWith(map[string]any{"method": "echo_update", "state": st, "buffer_paths": paths}, bufs)
		m.mu.Lock()
		changes := m.applyLocked(state, true)
		m.mu.Unlock()
		m.notify(changes)
	case "request_state":
		st, paths, bufs := SplitBuffers(m.State())
		_ = m.comm.SendWith(map[string]any{"method": "update", "state": st, "buffer_paths": paths}, bufs)
	case "custom":
		content, _ := data["content"].(map[string]any)
		m.mu.Lock()
		fs := slices.Clone(m.custom)
		m.mu.Unlock()
		for _, f := range fs {
			f(content, buffers)
		}
	}
}

// bufferPaths reads a message's "buffer_paths" as JSON decoded it (a list
// of lists of keys and indices; absent means none).
func bufferPaths(v any) ([][]any, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("buffer_paths %v: not a list", v)
	}
	paths := make([][]any, len(list))
	for i, p := range list {
		if paths[i], ok = p.([]any); !ok {
			return nil, fmt.Errorf("buffer_paths[%d] %v: not a list", i, p)
		}
	}
	return paths, nil
}

// openControl serves a comm the front end opens on the control target:
// "request_states" is answered with every live model's full state.
func openControl(c *comm.Comm, _ map[string]any) {
	c.OnMessage(func(data map[string]any) {
		if method, _ := data["method"].(string); method != "request_states" {
			return
		}
		liveMu.Lock()
		models := slices.Collect(maps.Values(live))
		liveMu.Unlock()
		sort.Slice(models, func(i, j int) bool { return models[i].ID() < models[j].ID() })
		states := map[string]any{}
		for _, m := range models {
			states[m.ID()] = map[string]any{
				"model_name": m.spec.ModelName, "model_module": m.spec.ModelModule,
				"model_module_version": m.spec.ModelVersion, "state": m.State(),
			}
		}
		st, paths, bufs := SplitBuffers(states)
		_ = c.SendWith(map[string]any{"method": "update_states", "states": st, "buffer_paths": paths}, bufs)
	})
}

// SplitBuffers takes the []byte values out of state, at any depth of
// map[string]any and []any, as the protocol sends them: it returns a copy
// of state without them (a map loses the key, a list holds nil in its
// place), the path of each ([]any of string keys and int indices) and the
// buffers in the same order. Maps are walked in key order, so the order is
// fixed. state is not changed.
func SplitBuffers(state map[string]any) (map[string]any, [][]any, [][]byte) {
	paths := [][]any{}
	var bufs [][]byte
	out := splitMap(state, nil, &paths, &bufs)
	return out, paths, bufs
}

func splitMap(m map[string]any, path []any, paths *[][]any, bufs *[][]byte) map[string]any {
	out := make(map[string]any, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if v, keep := splitValue(m[k], append(slices.Clip(path), k), paths, bufs); keep {
			out[k] = v
		}
	}
	return out
}

func splitList(l []any, path []any, paths *[][]any, bufs *[][]byte) []any {
	out := make([]any, len(l))
	for i, e := range l {
		if v, keep := splitValue(e, append(slices.Clip(path), i), paths, bufs); keep {
			out[i] = v
		}
	}
	return out
}

// splitValue is one value of splitMap or splitList at path p: a []byte
// goes to bufs (its path to paths) and is left out (keep false); maps and
// lists are split in turn; anything else stays as it is.
func splitValue(v any, p []any, paths *[][]any, bufs *[][]byte) (out any, keep bool) {
	switch v := v.(type) {
	case []byte:
		*paths = append(*paths, p)
		*bufs = append(*bufs, v)
		return nil, false
	case map[string]any:
		return splitMap(v, p, paths, bufs), true
	case []any:
		return splitList(v, p, paths, bufs), true
	}
	return v, true
}

// PutBuffers puts buffers back into state at paths, the inverse of
// [SplitBuffers]; it changes state in place. A path through a missing or
// mistyped container is an error naming the path.
func PutBuffers(state map[string]any, paths [][]any, buffers [][]byte) error {
	if len(paths) != len(buffers) {
		return fmt.Errorf("widget: %d buffer paths for %d buffers", len(paths), len(buffers))
	}
	for i, p := range paths {
		if len(p) == 0 {
			return fmt.Errorf("widget: buffer %d has an empty path", i)
		}
		var cur any = state
		for j, key := range p {
			last := j == len(p)-1
			switch c := cur.(type) {
			case map[string]any:
				k, ok := key.(string)
				if !ok {
					return fmt.Errorf("widget: buffer path %v: %v is not a key of an object", p, key)
				}
				if last {
					c[k] = buffers[i]
				} else {
					cur = c[k]
				}
			case []any:
				n, ok := index(key)
				if !ok || n < 0 || n >= len(c) {
					return fmt.Errorf("widget: buffer path %v: %v is not an index of a list of %d", p, key, len(c))
				}
				if last {
					c[n] = buffers[i]
				} else {
					cur = c[n]
				}
			default:
				return fmt.Errorf("widget: buffer path %v: no object or list at %v", p, p[:j])
			}
		}
	}
	return nil
}

func index(k any) (int, bool) {
	switch n := k.(type) {
	case int:
		return n, true
	case float64:
		return int(n), float64(int(n)) == n
	}
	return 0, false
}

// same reports whether a and b are the same state value: []byte by
// content, numbers by value whatever their Go type, other comparable
// values by ==; maps, slices and other values that == cannot compare
// never (an observer sees every set of one).
func same(a, b any) bool {
	if x, ok := a.([]byte); ok {
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	}
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y
	}
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ta != tb || !ta.Comparable() {
		return false
	}
	defer func() { _ = recover() }() // an interface field holding a slice
	return a == b
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case float32:
		return float64(n), true
	}
	return 0, false
}
