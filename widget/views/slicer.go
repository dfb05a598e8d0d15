// Package views shows the library's values as Jupyter widgets (package
// widget): a volume's slices on three axes with a label overlay, window
// and level, several volumes side by side scrolled together with the shown
// slice's Dice ([NewSlicer], [Compare]); a 3D view rendered in the browser
// by NiiVue through anywidget ([NewRender3D]); a training run's progress
// with a Stop button ([Train], [Resume]) and a grid's ([Grid]).
//
// The pictures are the library's own: each panel of a Slicer is exactly
// viz.Slice's PNG for the shown plane, index, window, labels and opacity,
// so what a person scrolls to is what a figure of that slice shows. Each
// view's display bundle also carries a static PNG of what it shows first,
// which nbconvert and front ends without widgets show instead.
package views

import (
	"fmt"
	"html"
	"math"
	"strings"
	"sync"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/stats"
	"github.com/unetlab/unetlab/viz"
	"github.com/unetlab/unetlab/volume"
	"github.com/unetlab/unetlab/widget"
)

// Panel is one picture of a [Slicer]: Image's slice with Labels (nil for
// none) drawn over it. Every panel of a Slicer has the same shape (X, Y, Z
// voxels).
type Panel struct {
	Name   string
	Image  *volume.Volume
	Labels *volume.Volume
}

// SlicerOptions configures [NewSlicer]; nil or the zero value shows the
// axial plane through the labels' centre (the volume's centre without
// labels), windowed automatically, labels at opacity 0.45.
type SlicerOptions struct {
	// View gives the channel, the window (zero: automatic from
	// LowPercentile..HighPercentile of the first panel's image) and the
	// pixel size; its Labels, Alpha, Contour and Title are set per panel.
	View viz.ViewOptions
	// Plane is the plane shown first.
	Plane viz.Plane
	// Index is the first slice shown, counted along the plane's normal
	// voxel axis; 0 means the slice through the labels' centre.
	Index int
	// Opacity is the labels' first opacity in (0, 1]; 0 means 0.45.
	Opacity float64
	// Truth and Pred, both set, add the Dice of each class on the shown
	// slice (stats.SliceDice) below the panels.
	Truth, Pred *volume.Volume
}

// Slicer is a widget that scrolls the slices of several volumes together:
// a plane menu, a slice slider, sliders for the overlay opacity and the
// window's level and width, the panels side by side and the slice's Dice.
// Its controls are exported for Go code and tests to read and move.
type Slicer struct {
	*widget.Box
	Plane   *widget.Dropdown
	Index   *widget.IntSlider
	Opacity *widget.FloatSlider
	Level   *widget.FloatSlider
	Width   *widget.FloatSlider
	Images  []*widget.Image
	Dice    *widget.HTML

	panels []Panel
	opt    SlicerOptions
	truth  *volume.Volume
	pred   *volume.Volume

	renderMu sync.Mutex // one redraw at a time
	mu       sync.Mutex // guards plane
	plane    viz.Plane
}

var planes = []viz.Plane{viz.Axial, viz.Coronal, viz.Sagittal}

// NewSlicer opens a Slicer over panels (at least one; same shape). nil opt
// means the defaults.
func NewSlicer(panels []Panel, opt *SlicerOptions) (*Slicer, error) {
	o := SlicerOptions{}
	if opt != nil {
		o = *opt
	}
	if len(panels) == 0 {
		return nil, fmt.Errorf("views: NewSlicer: no panels")
	}
	for i, p := range panels {
		if p.Image == nil {
			return nil, fmt.Errorf("views: NewSlicer: panel %d (%q) has no image", i, p.Name)
		}
		if p.Image.Shape != panels[0].Image.Shape {
			return nil, fmt.Errorf("views: NewSlicer: panel %d (%q) shape %v, panel 0 %v (X, Y, Z voxels)", i, p.Name, p.Image.Shape, panels[0].Image.Shape)
		}
		if p.Labels != nil && p.Labels.Shape != panels[0].Image.Shape {
			return nil, fmt.Errorf("views: NewSlicer: panel %d (%q) Labels shape %v, panel 0 image %v (X, Y, Z voxels)", i, p.Name, p.Labels.Shape, panels[0].Image.Shape)
		}
	}
	if (o.Truth == nil) != (o.Pred == nil) {
		return nil, fmt.Errorf("views: NewSlicer: Dice needs both Truth and Pred")
	}
	for _, v := range []struct {
		name string
		vol  *volume.Volume
	}{{"Truth", o.Truth}, {"Pred", o.Pred}} {
		if v.vol != nil && v.vol.Shape != panels[0].Image.Shape {
			return nil, fmt.Errorf("views: NewSlicer: SlicerOptions.%s shape %v, panel 0 image %v (X, Y, Z voxels)", v.name, v.vol.Shape, panels[0].Image.Shape)
		}
	}
	if o.Opacity < 0 || o.Opacity > 1 {
		return nil, fmt.Errorf("views: NewSlicer: Opacity %g: must be in [0, 1]", o.Opacity)
	}
	if o.Opacity == 0 {
		o.Opacity = 0.45
	}
	img := panels[0].Image
	if o.View.Window.Width == 0 {
		lo, hi := o.View.LowPercentile, o.View.HighPercentile
		if lo == 0 && hi == 0 {
			lo, hi = 0.5, 99.5
		}
		w, err := viz.AutoWindow(img, o.View.Channel, lo, hi)
		if err != nil {
			return nil, fmt.Errorf("views: NewSlicer: %w", err)
		}
		o.View.Window = w
	}
	axis, err := viz.NormalAxis(img, o.Plane)
	if err != nil {
		return nil, fmt.Errorf("views: NewSlicer: %w", err)
	}
	if o.Index < 0 || o.Index >= img.Shape[axis] {
		return nil, fmt.Errorf("views: NewSlicer: Index %d outside 0..%d", o.Index, img.Shape[axis]-1)
	}
	if o.Index == 0 {
		o.Index = centre(panels, o.Truth)[axis]
	}
	s := &Slicer{panels: panels, opt: o, truth: o.Truth, pred: o.Pred, plane: o.Plane}
	lo, hi := intensityRange(img, o.View.Channel)
	if s.Plane, err = widget.NewDropdown("plane", []string{"axial", "coronal", "sagittal"}, planeIndex(o.Plane)); err != nil {
		return nil, err
	}
	if s.Index, err = widget.NewIntSlider(&widget.IntSliderOptions{Value: o.Index, Max: img.Shape[axis] - 1,
		Description: "xyz"[axis : axis+1]}); err != nil {
		return nil, err
	}
	if s.Opacity, err = widget.NewFloatSlider(&widget.FloatSliderOptions{Value: o.Opacity, Max: 1, Step: 0.05,
		Description: "opacity"}); err != nil {
		return nil, err
	}
	span := math.Max(hi-lo, 1e-6)
	if s.Level, err = widget.NewFloatSlider(&widget.FloatSliderOptions{Value: o.View.Window.Center, Min: lo, Max: hi,
		Step: span / 200, Description: "level", ReadoutFormat: ".3g"}); err != nil {
		return nil, err
	}
	if s.Width, err = widget.NewFloatSlider(&widget.FloatSliderOptions{Value: o.View.Window.Width, Min: span / 200,
		Max: 2 * span, Step: span / 200, Description: "width", ReadoutFormat: ".3g"}); err != nil {
		return nil, err
	}
	pngs, err := s.render()
	if err != nil {
		return nil, err
	}
	row := make([]widget.Widget, len(panels))
	for i := range panels {
		im, err := widget.NewImage(pngs[i], "png", "", "")
		if err != nil {
			return nil, err
		}
		s.Images = append(s.Images, im)
		row[i] = im
	}
	if s.Dice, err = widget.NewHTML(s.diceHTML()); err != nil {
		return nil, err
	}
	controls1, err := widget.NewHBox(s.Plane, s.Index)
	if err != nil {
		return nil, err
	}
	controls2, err := widget.NewHBox(s.Opacity, s.Level, s.Width)
	if err != nil {
		return nil, err
	}
	pictures, err := widget.NewHBox(row...)
	if err != nil {
		return nil, err
	}
	if s.Box, err = widget.NewVBox(controls1, controls2, pictures, s.Dice); err != nil {
		return nil, err
	}
	s.Plane.OnChange(func(i int, _ string) { s.setPlane(i) })
	for _, m := range []*widget.Model{s.Index.Model, s.Opacity.Model, s.Level.Model, s.Width.Model} {
		m.Observe("value", func(widget.Change) { s.refresh() })
	}
	return s, nil
}

// Compare opens a Slicer of image | truth | prediction: the image alone,
// with the ground truth and with the prediction overlaid, and the Dice of
// the shown slice. truth and pred are one-channel label maps on the
// image's grid. nil opt means the defaults; opt.Truth and opt.Pred are
// set from truth and pred.
func Compare(image, truth, pred *volume.Volume, opt *SlicerOptions) (*Slicer, error) {
	o := SlicerOptions{}
	if opt != nil {
		o = *opt
	}
	o.Truth, o.Pred = truth, pred
	return NewSlicer([]Panel{{Name: "image", Image: image}, {Name: "truth", Image: image, Labels: truth},
		{Name: "prediction", Image: image, Labels: pred}}, &o)
}

func centre(panels []Panel, truth *volume.Volume) [3]int {
	if truth != nil {
		return viz.LabelCentre(truth)
	}
	for _, p := range panels {
		if p.Labels != nil {
			return viz.LabelCentre(p.Labels)
		}
	}
	sh := panels[0].Image.Shape
	return [3]int{sh[0] / 2, sh[1] / 2, sh[2] / 2}
}

func planeIndex(p viz.Plane) int {
	for i, q := range planes {
		if q == p {
			return i
		}
	}
	return 0
}

func intensityRange(v *volume.Volume, c int) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v.Channel(c) {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		lo, hi = math.Min(lo, f), math.Max(hi, f)
	}
	if lo > hi {
		return 0, 1
	}
	return lo, hi
}

// ViewOptions returns the options with which viz.Slice draws panel i as
// the slicer shows it now: viz.Slice(panel.Image, s.ShownPlane(),
// s.Index.Value(), opts) is the panel's PNG, byte for byte.
func (s *Slicer) ViewOptions(i int) viz.ViewOptions {
	o := s.opt.View
	if s.Level != nil {
		o.Window = viz.Window{Center: s.Level.Value(), Width: s.Width.Value()}
	}
	o.Labels = s.panels[i].Labels
	o.Alpha = s.opt.Opacity
	if s.Opacity != nil {
		o.Alpha = s.Opacity.Value()
	}
	if o.Alpha <= 0 {
		o.Alpha = 1e-3 // 0 means the default to viz; nearly clear instead
	}
	o.Title = s.panels[i].Name
	return o
}

// ShownPlane returns the plane shown.
func (s *Slicer) ShownPlane() viz.Plane {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.plane
}

func (s *Slicer) index() int {
	if s.Index == nil {
		return s.opt.Index
	}
	return s.Index.Value()
}

// render draws every panel at the current settings.
func (s *Slicer) render() ([][]byte, error) {
	plane, idx := s.ShownPlane(), s.index()
	out := make([][]byte, len(s.panels))
	for i, p := range s.panels {
		o := s.ViewOptions(i)
		v, err := viz.Slice(p.Image, plane, idx, &o)
		if err != nil {
			return nil, fmt.Errorf("views: panel %q: %w", p.Name, err)
		}
		if out[i], err = v.PNG(); err != nil {
			return nil, fmt.Errorf("views: panel %q: %w", p.Name, err)
		}
	}
	return out, nil
}

// refresh redraws the panels and the Dice after a control moved; an error
// shows in place of the Dice.
func (s *Slicer) refresh() {
	if s.Box == nil {
		return // still being built
	}
	s.renderMu.Lock()
	defer s.renderMu.Unlock()
	pngs, err := s.render()
	if err != nil {
		_ = s.Dice.SetValue("<b>error:</b> " + html.EscapeString(err.Error()))
		return
	}
	for i, im := range s.Images {
		_ = im.SetValue(pngs[i])
	}
	_ = s.Dice.SetValue(s.diceHTML())
}

// setPlane switches the plane: the slider's range becomes the new normal
// axis's, at the labels' centre.
func (s *Slicer) setPlane(i int) {
	if i < 0 || i >= len(planes) {
		return
	}
	img := s.panels[0].Image
	axis, err := viz.NormalAxis(img, planes[i])
	if err != nil {
		_ = s.Dice.SetValue("<b>error:</b> " + html.EscapeString(err.Error()))
		return
	}
	s.mu.Lock()
	s.plane = planes[i]
	s.mu.Unlock()
	c := centre(s.panels, s.truth)
	// Setting the range and value redraws through the slider's observer;
	// a value that stays the same does not, so redraw once more.
	_ = s.Index.SetState(map[string]any{"min": 0, "max": img.Shape[axis] - 1, "value": c[axis],
		"description": "xyz"[axis : axis+1]})
	s.refresh()
}

// diceHTML is the Dice of each class on the shown slice.
func (s *Slicer) diceHTML() string {
	if s.truth == nil || s.pred == nil {
		return ""
	}
	axis, err := viz.NormalAxis(s.panels[0].Image, s.ShownPlane())
	if err != nil {
		return html.EscapeString(err.Error())
	}
	labels, dice, err := stats.SliceDice(s.pred, s.truth, axis, s.index())
	if err != nil {
		return "<b>Dice:</b> " + html.EscapeString(err.Error())
	}
	return DiceText(labels, dice)
}

// DiceText formats a slice's Dice as the Slicer shows it: "Dice on this
// slice: class 1 0.912, class 2 0.804; mean 0.858", or a note that the
// slice has no foreground.
func DiceText(labels []int, dice []float64) string {
	if len(labels) == 0 {
		return "Dice on this slice: no foreground in truth or prediction"
	}
	parts := make([]string, len(labels))
	sum := 0.0
	for i, l := range labels {
		parts[i] = fmt.Sprintf("class %d %.3f", l, dice[i])
		sum += dice[i]
	}
	return fmt.Sprintf("Dice on this slice: %s; mean %.3f", strings.Join(parts, ", "), sum/float64(len(labels)))
}

// Render shows the widget, with the first panels' static picture (viz's
// Compare for image | truth | prediction, else the first panel's slice)
// for front ends without widgets.
func (s *Slicer) Render() display.Bundle {
	b := s.Box.Render()
	if png := s.static(); len(png) > 0 {
		b[display.MIMEPNG] = png
	}
	b[display.MIMEText] = fmt.Sprintf("Slicer of %d panel(s), %v slice %d", len(s.panels), s.ShownPlane(), s.index())
	return b
}

// static is the picture for front ends without widgets.
func (s *Slicer) static() []byte {
	if s.truth != nil && s.pred != nil && len(s.panels) == 3 {
		o := s.ViewOptions(0)
		o.Title = ""
		if v, err := viz.Compare(s.panels[0].Image, s.truth, s.pred, s.ShownPlane(), s.index(), &o); err == nil {
			if png, err := v.PNG(); err == nil {
				return png
			}
		}
	}
	if len(s.Images) > 0 {
		return s.Images[0].Value()
	}
	return nil
}
