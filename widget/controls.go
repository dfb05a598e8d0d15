package widget

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/unetlab/unetlab/display"
)

// controls returns the spec of a control of @jupyter-widgets/controls.
func controls(model, view string) *Spec {
	return &Spec{ModelName: model, ModelModule: ControlsModule, ModelVersion: ControlsVersion,
		ViewName: view, ViewModule: ControlsModule, ViewVersion: ControlsVersion}
}

// newDOM opens a widget with a view: first its Layout model and, when
// style is not "", its style model (as ipywidgets makes one of each per
// widget), then the widget itself referring to them.
func newDOM(spec *Spec, style string, state map[string]any) (*Model, error) {
	layout, err := New(&Spec{ModelName: "LayoutModel", ModelModule: BaseModule, ModelVersion: BaseVersion,
		ViewName: "LayoutView", ViewModule: BaseModule, ViewVersion: BaseVersion}, nil)
	if err != nil {
		return nil, err
	}
	st := map[string]any{"layout": layout.Ref(), "_dom_classes": []any{}, "tabbable": nil, "tooltip": nil}
	if style != "" {
		s, err := New(&Spec{ModelName: style, ModelModule: ControlsModule, ModelVersion: ControlsVersion,
			ViewName: "StyleView", ViewModule: BaseModule, ViewVersion: BaseVersion}, nil)
		if err != nil {
			return nil, err
		}
		st["style"] = s.Ref()
	}
	for k, v := range state {
		st[k] = v
	}
	return New(spec, st)
}

// Widget is what a box holds: any model with a view.
type Widget interface {
	Ref() string
	display.Renderer
}

// SetLayout sets keys of the widget's Layout model (CSS properties such as
// "width": "300px", "border": "1px solid"); m must have a view.
func (m *Model) SetLayout(props map[string]any) error {
	ref, _ := m.Get("layout").(string)
	liveMu.Lock()
	l := live[strings.TrimPrefix(ref, "IPY_MODEL_")]
	liveMu.Unlock()
	if l == nil {
		return fmt.Errorf("widget: %s %s has no layout", m.spec.ModelName, m.ID())
	}
	return l.SetState(props)
}

func toInt(v any) int {
	f, _ := number(v)
	return int(math.Round(f))
}

func toFloat(v any) float64 {
	f, _ := number(v)
	return f
}

// IntSliderOptions configures an IntSlider. Zero values are the defaults:
// Min 0, Max 100 when Min and Max are both 0, Step 1.
type IntSliderOptions struct {
	Value, Min, Max, Step int
	Description           string
	// Vertical turns the slider upright.
	Vertical bool
	// NoContinuousUpdate sends the value only when the handle is let go
	// (the default sends it while it is dragged).
	NoContinuousUpdate bool
}

// IntSlider is a slider of integers.
type IntSlider struct{ *Model }

func intState(value, lo, hi, step int, desc string) map[string]any {
	if lo == 0 && hi == 0 {
		hi = 100
	}
	if step == 0 {
		step = 1
	}
	value = min(max(value, lo), hi)
	return map[string]any{"value": value, "min": lo, "max": hi, "step": step, "description": desc,
		"description_allow_html": false, "disabled": false}
}

// NewIntSlider opens an IntSlider (nil opt: the defaults).
func NewIntSlider(opt *IntSliderOptions) (*IntSlider, error) {
	o := IntSliderOptions{}
	if opt != nil {
		o = *opt
	}
	if o.Max < o.Min {
		return nil, fmt.Errorf("widget: IntSlider: Max %d below Min %d", o.Max, o.Min)
	}
	st := intState(o.Value, o.Min, o.Max, o.Step, o.Description)
	st["orientation"] = map[bool]string{false: "horizontal", true: "vertical"}[o.Vertical]
	st["continuous_update"] = !o.NoContinuousUpdate
	st["readout"] = true
	st["readout_format"] = "d"
	st["behavior"] = "drag-tap"
	m, err := newDOM(controls("IntSliderModel", "IntSliderView"), "SliderStyleModel", st)
	if err != nil {
		return nil, err
	}
	return &IntSlider{m}, nil
}

// Value returns the slider's value.
func (s *IntSlider) Value() int { return toInt(s.Get("value")) }

// SetValue moves the slider (its change observers run).
func (s *IntSlider) SetValue(v int) error { return s.Set("value", v) }

// SetRange sets the slider's bounds, moving its value into them.
func (s *IntSlider) SetRange(lo, hi int) error {
	return s.SetState(map[string]any{"min": lo, "max": hi, "value": min(max(s.Value(), lo), hi)})
}

// OnChange calls f with every new value.
func (s *IntSlider) OnChange(f func(int)) {
	s.Observe("value", func(c Change) { f(toInt(c.New)) })
}

// FloatSliderOptions configures a FloatSlider. Zero values are the
// defaults: Min 0, Max 1 when both are 0, Step (Max-Min)/100.
type FloatSliderOptions struct {
	Value, Min, Max, Step float64
	Description           string
	// ReadoutFormat is the d3-format of the number shown (default ".2f").
	ReadoutFormat      string
	NoContinuousUpdate bool
}

// FloatSlider is a slider of float64 values.
type FloatSlider struct{ *Model }

// NewFloatSlider opens a FloatSlider (nil opt: the defaults).
func NewFloatSlider(opt *FloatSliderOptions) (*FloatSlider, error) {
	o := FloatSliderOptions{}
	if opt != nil {
		o = *opt
	}
	if o.Min == 0 && o.Max == 0 {
		o.Max = 1
	}
	if o.Max < o.Min {
		return nil, fmt.Errorf("widget: FloatSlider: Max %g below Min %g", o.Max, o.Min)
	}
	if o.Step == 0 {
		o.Step = (o.Max - o.Min) / 100
	}
	if o.ReadoutFormat == "" {
		o.ReadoutFormat = ".2f"
	}
	st := map[string]any{"value": math.Min(math.Max(o.Value, o.Min), o.Max), "min": o.Min, "max": o.Max, "step": o.Step,
		"description": o.Description, "description_allow_html": false, "disabled": false,
		"orientation": "horizontal", "continuous_update": !o.NoContinuousUpdate, "readout": true,
		"readout_format": o.ReadoutFormat, "behavior": "drag-tap"}
	m, err := newDOM(controls("FloatSliderModel", "FloatSliderView"), "SliderStyleModel", st)
	if err != nil {
		return nil, err
	}
	return &FloatSlider{m}, nil
}

// Value returns the slider's value.
func (s *FloatSlider) Value() float64 { return toFloat(s.Get("value")) }

// SetValue moves the slider.
func (s *FloatSlider) SetValue(v float64) error { return s.Set("value", v) }

// OnChange calls f with every new value.
func (s *FloatSlider) OnChange(f func(float64)) {
	s.Observe("value", func(c Change) { f(toFloat(c.New)) })
}

// Dropdown picks one of a list of labels.
type Dropdown struct {
	*Model
	labels []string
}

// NewDropdown opens a Dropdown of labels with labels[index] selected.
func NewDropdown(description string, labels []string, index int) (*Dropdown, error) {
	if len(labels) > 0 && (index < 0 || index >= len(labels)) {
		return nil, fmt.Errorf("widget: Dropdown: index %d outside the %d labels", index, len(labels))
	}
	ls := make([]any, len(labels))
	for i, l := range labels {
		ls[i] = l
	}
	var idx any = index
	if len(labels) == 0 {
		idx = nil
	}
	m, err := newDOM(controls("DropdownModel", "DropdownView"), "DescriptionStyleModel", map[string]any{
		"_options_labels": ls, "index": idx, "description": description, "description_allow_html": false, "disabled": false})
	if err != nil {
		return nil, err
	}
	return &Dropdown{Model: m, labels: append([]string(nil), labels...)}, nil
}

// Index returns the selected index (-1 for none).
func (d *Dropdown) Index() int {
	v := d.Get("index")
	if v == nil {
		return -1
	}
	return toInt(v)
}

// Label returns the selected label ("" for none).
func (d *Dropdown) Label() string {
	i := d.Index()
	if i < 0 || i >= len(d.labels) {
		return ""
	}
	return d.labels[i]
}

// SetIndex selects labels[i].
func (d *Dropdown) SetIndex(i int) error {
	if i < 0 || i >= len(d.labels) {
		return fmt.Errorf("widget: Dropdown: index %d outside the %d labels", i, len(d.labels))
	}
	return d.Set("index", i)
}

// OnChange calls f with the new index and its label.
func (d *Dropdown) OnChange(f func(index int, label string)) {
	d.Observe("index", func(c Change) {
		i := -1
		if c.New != nil {
			i = toInt(c.New)
		}
		l := ""
		if i >= 0 && i < len(d.labels) {
			l = d.labels[i]
		}
		f(i, l)
	})
}

// Button is a push button.
type Button struct{ *Model }

// ButtonStyle is a Button's predefined look: "", "primary", "success",
// "info", "warning" or "danger".
type ButtonStyle string

// NewButton opens a Button labelled description, with style's look and an
// icon (a Font Awesome name such as "stop"; "" for none).
func NewButton(description string, style ButtonStyle, icon string) (*Button, error) {
	switch style {
	case "", "primary", "success", "info", "warning", "danger":
	default:
		return nil, fmt.Errorf("widget: Button: style %q: must be \"\", primary, success, info, warning or danger", style)
	}
	m, err := newDOM(controls("ButtonModel", "ButtonView"), "ButtonStyleModel", map[string]any{
		"description": description, "button_style": string(style), "icon": icon, "disabled": false})
	if err != nil {
		return nil, err
	}
	return &Button{m}, nil
}

// OnClick calls f at every click.
func (b *Button) OnClick(f func()) {
	b.OnCustom(func(content map[string]any, _ [][]byte) {
		if content["event"] == "click" {
			f()
		}
	})
}

// SetDisabled greys the button out (true) or enables it.
func (b *Button) SetDisabled(v bool) error { return b.Set("disabled", v) }

// Checkbox is a boolean check box.
type Checkbox struct{ *Model }

// NewCheckbox opens a Checkbox.
func NewCheckbox(description string, value bool) (*Checkbox, error) {
	m, err := newDOM(controls("CheckboxModel", "CheckboxView"), "CheckboxStyleModel", map[string]any{
		"value": value, "description": description, "description_allow_html": false, "disabled": false, "indent": true})
	if err != nil {
		return nil, err
	}
	return &Checkbox{m}, nil
}

// Value reports whether the box is checked.
func (c *Checkbox) Value() bool { v, _ := c.Get("value").(bool); return v }

// SetValue checks or clears the box.
func (c *Checkbox) SetValue(v bool) error { return c.Set("value", v) }

// OnChange calls f with every new value.
func (c *Checkbox) OnChange(f func(bool)) {
	c.Observe("value", func(ch Change) { v, _ := ch.New.(bool); f(v) })
}

// Image shows an encoded picture (PNG by default), sent as a binary buffer.
type Image struct{ *Model }

// NewImage opens an Image of the encoded bytes in format ("png", "jpeg",
// "gif"; "" means png). width and height are CSS pixel sizes ("" for the
// picture's own).
func NewImage(data []byte, format, width, height string) (*Image, error) {
	if format == "" {
		format = "png"
	}
	if data == nil {
		data = []byte{}
	}
	m, err := newDOM(&Spec{ModelName: "ImageModel", ModelModule: ControlsModule, ModelVersion: ControlsVersion,
		ViewName: "ImageView", ViewModule: ControlsModule, ViewVersion: ControlsVersion}, "", map[string]any{
		"value": data, "format": format, "width": width, "height": height})
	if err != nil {
		return nil, err
	}
	return &Image{m}, nil
}

// Value returns the encoded picture.
func (im *Image) Value() []byte { b, _ := im.Get("value").([]byte); return b }

// SetValue replaces the picture (same format).
func (im *Image) SetValue(data []byte) error { return im.Set("value", data) }

// Render shows the image, with the picture itself as the static fallback
// for front ends without widgets.
func (im *Image) Render() display.Bundle {
	b := im.Model.Render()
	if f, _ := im.Get("format").(string); f == "png" && len(im.Value()) > 0 {
		b[display.MIMEPNG] = im.Value()
	}
	return b
}

// Box lays widgets out in a row (HBox) or a column (VBox).
type Box struct{ *Model }

func newBox(model, view string, children []Widget) (*Box, error) {
	refs := make([]any, len(children))
	for i, c := range children {
		refs[i] = c.Ref()
	}
	m, err := newDOM(controls(model, view), "", map[string]any{"children": refs, "box_style": ""})
	if err != nil {
		return nil, err
	}
	return &Box{m}, nil
}

// NewHBox opens a row of children.
func NewHBox(children ...Widget) (*Box, error) { return newBox("HBoxModel", "HBoxView", children) }

// NewVBox opens a column of children.
func NewVBox(children ...Widget) (*Box, error) { return newBox("VBoxModel", "VBoxView", children) }

// SetChildren replaces the box's children.
func (b *Box) SetChildren(children ...Widget) error {
	refs := make([]any, len(children))
	for i, c := range children {
		refs[i] = c.Ref()
	}
	return b.Set("children", refs)
}

// HTML shows an HTML fragment; Label shows plain text.
type HTML struct{ *Model }

// NewHTML opens an HTML widget showing value.
func NewHTML(value string) (*HTML, error) {
	m, err := newDOM(controls("HTMLModel", "HTMLView"), "HTMLStyleModel", map[string]any{
		"value": value, "placeholder": "\u200b", "description": "", "description_allow_html": false})
	if err != nil {
		return nil, err
	}
	return &HTML{m}, nil
}

// Value returns the HTML shown.
func (h *HTML) Value() string { s, _ := h.Get("value").(string); return s }

// SetValue replaces the HTML shown.
func (h *HTML) SetValue(s string) error { return h.Set("value", s) }

// FloatProgress is a progress bar from Min to Max.
type FloatProgress struct{ *Model }

// NewFloatProgress opens a bar at value in [lo, hi], labelled description.
func NewFloatProgress(description string, value, lo, hi float64) (*FloatProgress, error) {
	if hi <= lo {
		return nil, fmt.Errorf("widget: FloatProgress: max %g not above min %g", hi, lo)
	}
	m, err := newDOM(&Spec{ModelName: "FloatProgressModel", ModelModule: ControlsModule, ModelVersion: ControlsVersion,
		ViewName: "ProgressView", ViewModule: ControlsModule, ViewVersion: ControlsVersion}, "ProgressStyleModel",
		map[string]any{"value": value, "min": lo, "max": hi, "description": description, "description_allow_html": false,
			"bar_style": "", "orientation": "horizontal"})
	if err != nil {
		return nil, err
	}
	return &FloatProgress{m}, nil
}

// Value returns the bar's value.
func (p *FloatProgress) Value() float64 { return toFloat(p.Get("value")) }

// SetValue moves the bar.
func (p *FloatProgress) SetValue(v float64) error { return p.Set("value", v) }

// PlayOptions configures a Play (an animation control: play, pause, stop,
// repeat). Zero values are the defaults: Max 100 when Min and Max are 0,
// Step 1, Interval 100 ms.
type PlayOptions struct {
	Value, Min, Max, Step int
	// Interval is the time between steps, in milliseconds.
	Interval    int
	Repeat      bool
	Description string
}

// Play steps an integer value on a timer in the browser; link it to a
// slider with [Link] to animate the slider.
type Play struct{ *Model }

// NewPlay opens a Play (nil opt: the defaults).
func NewPlay(opt *PlayOptions) (*Play, error) {
	o := PlayOptions{}
	if opt != nil {
		o = *opt
	}
	if o.Max < o.Min {
		return nil, fmt.Errorf("widget: Play: Max %d below Min %d", o.Max, o.Min)
	}
	if o.Interval < 0 {
		return nil, fmt.Errorf("widget: Play: Interval %d ms: must be >= 0", o.Interval)
	}
	if o.Interval == 0 {
		o.Interval = 100
	}
	st := intState(o.Value, o.Min, o.Max, o.Step, o.Description)
	st["interval"] = o.Interval
	st["repeat"] = o.Repeat
	st["playing"] = false
	st["show_repeat"] = true
	m, err := newDOM(controls("PlayModel", "PlayView"), "DescriptionStyleModel", st)
	if err != nil {
		return nil, err
	}
	return &Play{m}, nil
}

// Value returns the current frame.
func (p *Play) Value() int { return toInt(p.Get("value")) }

// OnChange calls f with every new frame.
func (p *Play) OnChange(f func(int)) { p.Observe("value", func(c Change) { f(toInt(c.New)) }) }

// Link keeps two widgets' state keys equal in the browser, without a
// round trip through the kernel (ipywidgets' jslink; directional: jsdlink).
type Link struct{ *Model }

// NewLink links source's key sourceKey and target's targetKey both ways.
func NewLink(source Widget, sourceKey string, target Widget, targetKey string) (*Link, error) {
	return newLink("LinkModel", source, sourceKey, target, targetKey)
}

// NewDirectionalLink copies source's key to target's, one way.
func NewDirectionalLink(source Widget, sourceKey string, target Widget, targetKey string) (*Link, error) {
	return newLink("DirectionalLinkModel", source, sourceKey, target, targetKey)
}

func newLink(model string, source Widget, sk string, target Widget, tk string) (*Link, error) {
	m, err := New(&Spec{ModelName: model, ModelModule: ControlsModule, ModelVersion: ControlsVersion,
		ViewModule: ControlsModule, ViewVersion: ControlsVersion}, map[string]any{
		"source": []any{source.Ref(), sk}, "target": []any{target.Ref(), tk}})
	if err != nil {
		return nil, err
	}
	return &Link{m}, nil
}

// Output holds notebook outputs (text, pictures) that Go code appends:
// callbacks write there instead of under the latest cell. Text written
// right after text of the same stream joins that output, as ipywidgets
// does. An observer of the Output may write to it: that write is sent
// after the one that called the observer.
type Output struct {
	*Model
	mu       sync.Mutex // guards the fields below
	outs     []any      // the outputs to send, while flushing
	flushing bool       // a goroutine is sending outs
	pending  bool       // outs changed since the flushing goroutine took them
}

// NewOutput opens an empty Output.
func NewOutput() (*Output, error) {
	m, err := newDOM(&Spec{ModelName: "OutputModel", ModelModule: OutputModule, ModelVersion: OutputVersion,
		ViewName: "OutputView", ViewModule: OutputModule, ViewVersion: OutputVersion}, "", map[string]any{
		"msg_id": "", "outputs": []any{}})
	if err != nil {
		return nil, err
	}
	return &Output{Model: m}, nil
}

// update applies change to the outputs and sends them. The goroutine that
// finds no send under way sends, without o.mu held (observers run), and
// sends again while others changed the outputs meanwhile; they return at
// once.
func (o *Output) update(change func([]any) []any) error {
	o.mu.Lock()
	if !o.flushing {
		cur, _ := o.Get("outputs").([]any)
		o.outs = slices.Clone(cur)
	}
	o.outs = change(o.outs)
	if o.flushing {
		o.pending = true
		o.mu.Unlock()
		return nil
	}
	o.flushing = true
	for {
		next := slices.Clone(o.outs)
		o.pending = false
		o.mu.Unlock()
		err := o.Set("outputs", next)
		o.mu.Lock()
		if err != nil || !o.pending {
			o.flushing, o.outs = false, nil
			o.mu.Unlock()
			return err
		}
	}
}

func (o *Output) appendOutput(out map[string]any) error {
	return o.update(func(outs []any) []any {
		if n := len(outs); n > 0 && out["output_type"] == "stream" {
			if last, ok := outs[n-1].(map[string]any); ok && last["output_type"] == "stream" && last["name"] == out["name"] {
				a, _ := last["text"].(string)
				b, _ := out["text"].(string)
				joined := maps.Clone(last) // the old list keeps its map
				joined["text"] = a + b
				outs[n-1] = joined
				return outs
			}
		}
		return append(outs, out)
	})
}

// Write appends p as standard output text (Output is an io.Writer).
func (o *Output) Write(p []byte) (int, error) {
	if err := o.appendOutput(map[string]any{"output_type": "stream", "name": "stdout", "text": string(p)}); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Printf appends formatted text.
func (o *Output) Printf(format string, args ...any) error {
	_, err := o.Write([]byte(fmt.Sprintf(format, args...)))
	return err
}

// Show appends r's rich output (a picture, a table) as display_data.
// []byte values are base64-encoded as notebook outputs hold them.
func (o *Output) Show(r display.Renderer) error {
	return o.appendOutput(map[string]any{"output_type": "display_data", "data": notebookBundle(r.Render()), "metadata": map[string]any{}})
}

// Clear removes every output.
func (o *Output) Clear() error {
	return o.update(func([]any) []any { return []any{} })
}

// Outputs returns the outputs held, as notebook output objects.
func (o *Output) Outputs() []any { l, _ := o.Get("outputs").([]any); return l }
