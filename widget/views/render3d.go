package views

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/viz"
	"github.com/unetlab/unetlab/volume"
	"github.com/unetlab/unetlab/widget"
)

// ErrNoNiiVue is returned by [NewRender3D] when NiiVue's JavaScript is not
// installed: install/jupyter.sh fetches it (npm's @niivue/niivue, pinned)
// into the virtual environment's share/unetlab/niivue.js.
var ErrNoNiiVue = errors.New("views: NiiVue is not installed (run install/jupyter.sh, or set UNETLAB_NIIVUE to niivue's dist/index.js)")

// NiiVuePath returns the NiiVue ES module that [NewRender3D] loads, the
// first that exists of: $UNETLAB_NIIVUE; share/unetlab/niivue.js beside the
// running program's .venv (bin/unetlab of a checkout: ../.venv); the same
// under $VIRTUAL_ENV; under the environment of the jupyter on PATH.
func NiiVuePath() (string, error) {
	if p := os.Getenv("UNETLAB_NIIVUE"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: UNETLAB_NIIVUE: %w", ErrNoNiiVue, err)
		}
		return p, nil
	}
	const rel = "share/unetlab/niivue.js"
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			candidates = append(candidates, filepath.Join(filepath.Dir(exe), "..", ".venv", rel))
		}
	}
	if v := os.Getenv("VIRTUAL_ENV"); v != "" {
		candidates = append(candidates, filepath.Join(v, rel))
	}
	if j, err := exec.LookPath("jupyter"); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(j), "..", rel))
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return filepath.Clean(c), nil
		}
	}
	return "", fmt.Errorf("%w; looked in %s", ErrNoNiiVue, strings.Join(candidates, ", "))
}

var (
	niivueMu  sync.Mutex
	niivueSrc string // cached once read; a missing file is looked for again
)

func loadNiiVue() (string, error) {
	niivueMu.Lock()
	defer niivueMu.Unlock()
	if niivueSrc != "" {
		return niivueSrc, nil
	}
	p, err := NiiVuePath()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("views: reading NiiVue: %w", err)
	}
	niivueSrc = string(b)
	return niivueSrc, nil
}

//go:embed render3d.js
var render3DESM string

// Render3DOptions configures [NewRender3D]; nil or the zero value shows
// the image as a volume rendering 400 pixels high with its labels at
// opacity 0.6.
type Render3DOptions struct {
	// Height is the canvas height in CSS pixels (0 means 400).
	Height int
	// Opacity is the labels' opacity in (0, 1] (0 means 0.6).
	Opacity float64
	// Channel is the image channel shown.
	Channel int
}

// Render3D is a 3D view of a volume and its labels rendered in the browser
// by NiiVue (WebGL2), through anywidget: drag to turn it, scroll to zoom.
// The volumes travel as NIfTI binary buffers; labels are coloured as
// viz.LabelColour colours them in the slice views.
type Render3D struct {
	*widget.AnyWidget
	static []byte
}

// NewRender3D opens a 3D view of channel opt.Channel of image with labels
// (nil for none; a one-channel label map on the image's grid). It fails
// with ErrNoNiiVue when NiiVue is not installed.
func NewRender3D(image, labels *volume.Volume, opt *Render3DOptions) (*Render3D, error) {
	o := Render3DOptions{}
	if opt != nil {
		o = *opt
	}
	if image == nil {
		return nil, fmt.Errorf("views: NewRender3D: no image")
	}
	if o.Channel < 0 || o.Channel >= image.Channels {
		return nil, fmt.Errorf("views: NewRender3D: Channel %d of an image with %d channel(s)", o.Channel, image.Channels)
	}
	if o.Height < 0 || o.Opacity < 0 || o.Opacity > 1 {
		return nil, fmt.Errorf("views: NewRender3D: Height %d, Opacity %g: want Height >= 0 and Opacity in [0, 1]", o.Height, o.Opacity)
	}
	if o.Height == 0 {
		o.Height = 400
	}
	if o.Opacity == 0 {
		o.Opacity = 0.6
	}
	if labels != nil && (labels.Shape != image.Shape || labels.Channels != 1) {
		return nil, fmt.Errorf("views: NewRender3D: labels shape %v with %d channel(s), image %v: want one channel on the image's grid",
			labels.Shape, labels.Channels, image.Shape)
	}
	src, err := loadNiiVue()
	if err != nil {
		return nil, err
	}
	one := image
	if image.Channels > 1 {
		one = image.Like(1)
		copy(one.Data, image.Channel(o.Channel))
	}
	var img bytes.Buffer
	if err := volume.WriteTo(&img, one, &volume.WriteOptions{Datatype: volume.Float32}); err != nil {
		return nil, fmt.Errorf("views: NewRender3D: image as NIfTI: %w", err)
	}
	state := map[string]any{"niivue": src, "image": img.Bytes(), "height": o.Height, "opacity": o.Opacity,
		"label_colours": []any{}}
	if labels != nil {
		var lab bytes.Buffer
		if err := volume.WriteTo(&lab, labels, &volume.WriteOptions{Datatype: volume.Uint8}); err != nil {
			return nil, fmt.Errorf("views: NewRender3D: labels as NIfTI: %w", err)
		}
		state["labels"] = lab.Bytes()
		state["label_colours"] = labelColours(labels)
	}
	w, err := widget.NewAnyWidget("unetlab.views.Render3D", render3DESM, "", state)
	if err != nil {
		return nil, err
	}
	r := &Render3D{AnyWidget: w}
	// The static picture: the orthogonal slices through the labels.
	if v, err := viz.Orthogonal(one, viz.LabelCentre(labels), &viz.ViewOptions{Labels: labels, Title: "3D view (static slices)"}); err == nil {
		r.static, _ = v.PNG()
	}
	return r, nil
}

// labelColours lists [label, r, g, b] (0..255) for each class 1..max of
// labels, as viz.LabelColour colours it.
func labelColours(labels *volume.Volume) []any {
	top := 0
	for _, x := range labels.Data {
		top = max(top, int(x))
	}
	out := make([]any, 0, top)
	for c := 1; c <= top; c++ {
		col := viz.LabelColour(c)
		out = append(out, []any{c, int(col.R), int(col.G), int(col.B)})
	}
	return out
}

// SetOpacity sets the labels' opacity in [0, 1].
func (r *Render3D) SetOpacity(a float64) error {
	if a < 0 || a > 1 {
		return fmt.Errorf("views: Render3D opacity %g: must be in [0, 1]", a)
	}
	return r.Set("opacity", a)
}

// Render shows the widget, with static orthogonal slices for front ends
// without widgets.
func (r *Render3D) Render() display.Bundle {
	b := r.AnyWidget.Render()
	if len(r.static) > 0 {
		b[display.MIMEPNG] = r.static
	}
	b[display.MIMEText] = "Render3D (a NiiVue 3D view; needs the widget front end)"
	return b
}
