package viz

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	"image/png"
	"io"
	"math"
	"strings"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/stats"
	"github.com/unetlab/unetlab/volume"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// ViewOptions configures the volume views ([Slice], [Montage],
// [Orthogonal], [Compare], [NewScroller]). nil or the zero value shows
// channel 0, windows automatically from the 0.5th to the 99.5th
// percentile, picks the pixel size automatically and draws no labels.
type ViewOptions struct {
	// Channel is the image channel shown (a modality: 0..Channels-1).
	Channel int
	// Window maps intensities to grey. A zero Width means automatic: the
	// LowPercentile..HighPercentile range of the whole volume (so every
	// slice of a volume shares one window). Presets: WindowLung,
	// WindowSoftTissue, WindowBone.
	Window Window
	// LowPercentile and HighPercentile (0..100) bound the automatic
	// window; both zero mean 0.5 and 99.5.
	LowPercentile, HighPercentile float64
	// PixelSize is the size of one display pixel in mm. 0 means the
	// smallest in-plane voxel spacing, divided by the smallest whole
	// number that makes the longer side of the largest panel at least
	// 256 pixels (or multiplied to keep it at most 1024).
	PixelSize float64
	// Labels, when not nil, is a one-channel label map on the image's
	// voxel grid (same Shape; its spacing and affine are ignored) drawn
	// over the image: class c in LabelColour(c), background 0 left clear.
	Labels *volume.Volume
	// Alpha is the opacity of filled labels in (0, 1]; 0 means 0.45.
	Alpha float64
	// Contour draws each label's outline (1 pixel, opaque) instead of
	// filling it.
	Contour bool
	// Crosshair marks, in Orthogonal, where the other two planes cut.
	Crosshair bool
	// Columns is the number of panels per row of a Montage, >= 0; 0 means
	// as many as fit 1000 pixels, at most 6.
	Columns int
	// Title is drawn above the panels; "" means a default naming the view.
	Title string
}

// View is a grid of rendered slices with captions. It renders inline as
// PNG (and SVG) and saves to .png, .svg or .pdf; in the PNG every display
// pixel is one image pixel, see [View.PanelBounds].
type View struct {
	// Title is drawn above the panels; "" for none.
	Title string
	// Columns is the number of panels per row; 0 means all in one row.
	Columns int

	panels []viewPanel
}

type viewPanel struct {
	img     *image.RGBA
	caption string
}

// Layout of a View, in PNG pixels (the View draws at 72 DPI, so one point
// is one pixel).
const (
	viewMargin     = 6
	viewGap        = 10
	viewCaptionH   = 18
	viewTitleH     = 24
	viewCaptionPt  = 11
	viewTitlePt    = 13
	viewDPI        = 72
	autoMinSidePx  = 256
	autoMaxSidePx  = 1024
	defaultAlpha   = 0.45
	montageMaxCols = 6
)

// Len returns the number of panels.
func (v *View) Len() int { return len(v.panels) }

// Panel returns panel i's raster (without caption), or nil when out of range.
func (v *View) Panel(i int) image.Image {
	if i < 0 || i >= len(v.panels) {
		return nil
	}
	return v.panels[i].img
}

// Caption returns panel i's caption, or "" when out of range.
func (v *View) Caption(i int) string {
	if i < 0 || i >= len(v.panels) {
		return ""
	}
	return v.panels[i].caption
}

func (v *View) grid() (cols, rows, cellW, cellH, capH, titleH int) {
	cols = v.Columns
	if cols <= 0 || cols > len(v.panels) {
		cols = len(v.panels)
	}
	rows = (len(v.panels) + cols - 1) / cols
	for _, p := range v.panels {
		b := p.img.Bounds()
		cellW, cellH = max(cellW, b.Dx()), max(cellH, b.Dy())
		if p.caption != "" {
			capH = viewCaptionH
		}
	}
	if v.Title != "" {
		titleH = viewTitleH
	}
	return
}

// Size returns the PNG's width and height in pixels.
func (v *View) Size() (width, height int) {
	cols, rows, cellW, cellH, capH, titleH := v.grid()
	width = 2*viewMargin + cols*cellW + (cols-1)*viewGap
	height = 2*viewMargin + titleH + rows*(cellH+capH) + (rows-1)*viewGap
	return
}

// PanelBounds returns where panel i lies in the PNG, in pixels.
func (v *View) PanelBounds(i int) image.Rectangle {
	if i < 0 || i >= len(v.panels) {
		return image.Rectangle{}
	}
	cols, _, cellW, cellH, capH, titleH := v.grid()
	c, r := i%cols, i/cols
	b := v.panels[i].img.Bounds()
	x := viewMargin + c*(cellW+viewGap) + (cellW-b.Dx())/2
	y := viewMargin + titleH + r*(cellH+capH+viewGap)
	return image.Rect(x, y, x+b.Dx(), y+b.Dy())
}

// drawText draws the title and captions on c, whose size is the PNG's in
// points.
func (v *View) drawText(c draw.Canvas, height int) {
	cols, _, cellW, cellH, _, _ := v.grid()
	if v.Title != "" {
		sty := textStyle(viewTitlePt)
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
		w, _ := v.Size()
		c.FillText(sty, vg.Point{X: vg.Length(w) / 2, Y: vg.Length(height - viewMargin - viewTitleH/2)}, v.Title)
	}
	sty := textStyle(viewCaptionPt)
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
	for i, p := range v.panels {
		if p.caption == "" {
			continue
		}
		col := i % cols
		r := v.PanelBounds(i)
		cx := viewMargin + col*(cellW+viewGap) + cellW/2
		// Captions sit under the cell, whatever the panel's own height.
		top := r.Min.Y + cellH
		cy := top + viewCaptionH/2
		c.FillText(sty, vg.Point{X: vg.Length(cx), Y: vg.Length(height - cy)}, p.caption)
	}
}

// Image returns the composed view as an RGBA image: the PNG's pixels.
func (v *View) Image() (*image.RGBA, error) {
	if len(v.panels) == 0 {
		return nil, fmt.Errorf("%w: empty view", ErrInput)
	}
	w, h := v.Size()
	if float64(w)*float64(h) > maxPixels {
		return nil, fmt.Errorf("%w: a %dx%d view is more than %d pixels; show fewer or smaller panels", ErrInput, w, h, maxPixels)
	}
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(w), vg.Length(h)), vgimg.UseDPI(viewDPI), vgimg.UseBackgroundColor(color.White))
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%w: %v", ErrDraw, r)
			}
		}()
		v.drawText(draw.New(c), h)
	}()
	if err != nil {
		return nil, err
	}
	src := c.Image()
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	stddraw.Draw(out, out.Bounds(), src, src.Bounds().Min, stddraw.Src)
	for i, p := range v.panels {
		stddraw.Draw(out, v.PanelBounds(i), p.img, p.img.Bounds().Min, stddraw.Src)
	}
	return out, nil
}

// Encode writes the view as "png", "svg" or "pdf". SVG and PDF embed each
// panel as a PNG image at 1 point per display pixel.
func (v *View) Encode(w io.Writer, format string) error {
	if strings.EqualFold(format, "png") {
		img, err := v.Image()
		if err != nil {
			return err
		}
		return png.Encode(w, img)
	}
	if len(v.panels) == 0 {
		return fmt.Errorf("%w: empty view", ErrInput)
	}
	width, height := v.Size()
	return encodeCanvas(w, format, vg.Length(width), vg.Length(height), viewDPI, func(c draw.Canvas) {
		c.SetColor(color.White)
		c.Fill(c.Rectangle.Path())
		for i, p := range v.panels {
			r := v.PanelBounds(i)
			c.DrawImage(vg.Rectangle{
				Min: vg.Point{X: vg.Length(r.Min.X), Y: vg.Length(height - r.Max.Y)},
				Max: vg.Point{X: vg.Length(r.Max.X), Y: vg.Length(height - r.Min.Y)},
			}, p.img)
		}
		v.drawText(c, height)
	})
}

// PNG returns the view encoded as PNG.
func (v *View) PNG() ([]byte, error) { return encodeBytes(v.Encode, "png") }

// SVG returns the view as an SVG document.
func (v *View) SVG() ([]byte, error) { return encodeBytes(v.Encode, "svg") }

// PDF returns the view as a PDF document.
func (v *View) PDF() ([]byte, error) { return encodeBytes(v.Encode, "pdf") }

// SaveAs writes the view to path as .png, .svg or .pdf (by extension),
// atomically.
func (v *View) SaveAs(path string) error { return saveAs(path, v.Encode) }

// Render implements display.Renderer: image/png and text/plain. (No SVG:
// a raster view gains nothing from it and would double the notebook's size.)
func (v *View) Render() display.Bundle {
	data, err := v.PNG()
	if err != nil {
		return display.Text(err.Error())
	}
	b := display.PNG(data)
	w, h := v.Size()
	b[display.MIMEText] = fmt.Sprintf("<viz.View %q: %d panels, %dx%d>", v.Title, len(v.panels), w, h)
	return b
}

// sliceGeom says how a plane of a volume maps to display pixels. Display
// columns grow toward the patient's left (axial, coronal) or posterior
// (sagittal); rows grow toward posterior (axial) or inferior.
type sliceGeom struct {
	plane        Plane
	nAx          int  // voxel axis normal to the plane
	hAx, vAx     int  // voxel axes along display columns and rows
	hFlip, vFlip bool // voxel index = n-1-t
	nh, nv       int
	sh, sv       float64 // spacing in mm
}

func geometry(v vox, plane Plane) (sliceGeom, error) {
	o, err := parseAxes(v.axes)
	if err != nil {
		return sliceGeom{}, err
	}
	var normal, hA, vA int
	switch plane {
	case Axial:
		normal, hA, vA = si, lr, ap
	case Coronal:
		normal, hA, vA = ap, lr, si
	case Sagittal:
		normal, hA, vA = lr, ap, si
	default:
		return sliceGeom{}, fmt.Errorf("%w: plane %v, want Axial, Coronal or Sagittal", ErrOptions, plane)
	}
	g := sliceGeom{plane: plane, nAx: o.axis[normal], hAx: o.axis[hA], vAx: o.axis[vA],
		// Display axes grow toward the negative letter (L, P, I): a voxel
		// axis growing toward the positive one is flipped.
		hFlip: o.pos[hA], vFlip: o.pos[vA]}
	g.nh, g.nv = v.shape[g.hAx], v.shape[g.vAx]
	g.sh, g.sv = v.spacingOf(g.hAx), v.spacingOf(g.vAx)
	return g, nil
}

// voxel returns the voxel coordinates of display position (th, tv) in
// voxel units on slice k.
func (g sliceGeom) voxel(th, tv, k int) [3]int {
	var p [3]int
	if g.hFlip {
		th = g.nh - 1 - th
	}
	if g.vFlip {
		tv = g.nv - 1 - tv
	}
	p[g.hAx], p[g.vAx], p[g.nAx] = th, tv, k
	return p
}

// display returns the display position (th, tv) in voxel units of voxel p.
func (g sliceGeom) display(p [3]int) (th, tv int) {
	th, tv = p[g.hAx], p[g.vAx]
	if g.hFlip {
		th = g.nh - 1 - th
	}
	if g.vFlip {
		tv = g.nv - 1 - tv
	}
	return th, tv
}

func (g sliceGeom) pixels(ps float64) (w, h int) {
	return max(1, int(math.Round(float64(g.nh)*g.sh/ps))), max(1, int(math.Round(float64(g.nv)*g.sv/ps)))
}

// autoPixelSize picks the pixel size (mm) shared by the panels of a view.
func autoPixelSize(geoms []sliceGeom) float64 {
	ps := math.Inf(1)
	longest := 0.0
	for _, g := range geoms {
		ps = math.Min(ps, math.Min(g.sh, g.sv))
		longest = math.Max(longest, math.Max(float64(g.nh)*g.sh, float64(g.nv)*g.sv))
	}
	side := longest / ps
	if side < autoMinSidePx {
		return ps / math.Ceil(autoMinSidePx/side)
	}
	if side > autoMaxSidePx {
		return ps * math.Ceil(side/autoMaxSidePx)
	}
	return ps
}

// renderer holds what every panel of a view shares.
type renderer struct {
	img    vox
	labels *vox
	win    Window
	ps     float64
	alpha  float64
	opt    ViewOptions
}

// valueOf returns *opt, or the zero value (the defaults) for nil.
func valueOf[T any](opt *T) T {
	var o T
	if opt != nil {
		o = *opt
	}
	return o
}

// sliceView returns what a one-plane view of v needs: the options, the
// channel shown and the plane's geometry.
func sliceView(v *volume.Volume, plane Plane, opt *ViewOptions) (ViewOptions, vox, sliceGeom, error) {
	o := valueOf(opt)
	img, err := imageOf(v, o)
	if err != nil {
		return o, img, sliceGeom{}, err
	}
	g, err := geometry(img, plane)
	return o, img, g, err
}

// imageOf returns the channel of v that opt shows.
func imageOf(v *volume.Volume, opt ViewOptions) (vox, error) {
	if v != nil && (opt.Channel < 0 || opt.Channel >= v.Channels) {
		return vox{}, fmt.Errorf("%w: ViewOptions.Channel %d, the image has %d channel(s)", ErrOptions, opt.Channel, v.Channels)
	}
	return voxOf("image", v, opt.Channel)
}

// labelVox returns the one-channel label map lab checked against the
// image's shape; field names it in errors.
func labelVox(field string, lab *volume.Volume, img vox) (*vox, error) {
	l, err := voxOf(field, lab, 0)
	if err != nil {
		return nil, err
	}
	if lab.Channels != 1 {
		return nil, fmt.Errorf("%w: %s has %d channels, want a one-channel label map", ErrShape, field, lab.Channels)
	}
	if l.shape != img.shape {
		return nil, fmt.Errorf("%w: %s shape %v, image %v (X, Y, Z voxels)", ErrShape, field, l.shape, img.shape)
	}
	return &l, nil
}

func newRenderer(img vox, opt ViewOptions, geoms []sliceGeom) (*renderer, error) {
	r := &renderer{img: img, opt: opt, win: opt.Window, ps: opt.PixelSize, alpha: opt.Alpha}
	if opt.Labels != nil {
		l, err := labelVox("ViewOptions.Labels", opt.Labels, img)
		if err != nil {
			return nil, err
		}
		r.labels = l
	}
	if opt.Columns < 0 {
		return nil, fmt.Errorf("%w: ViewOptions.Columns %d, want >= 0 (0 means automatic)", ErrOptions, opt.Columns)
	}
	if r.win.Width <= 0 {
		lo, hi := opt.LowPercentile, opt.HighPercentile
		if lo == 0 && hi == 0 {
			lo, hi = 0.5, 99.5
		}
		if !(lo >= 0 && lo < hi && hi <= 100) {
			return nil, fmt.Errorf("%w: ViewOptions.LowPercentile %v, HighPercentile %v: want 0 <= low < high <= 100",
				ErrOptions, opt.LowPercentile, opt.HighPercentile)
		}
		w, err := autoWindow(img, lo, hi)
		if err != nil {
			return nil, err
		}
		r.win = w
	} else if math.IsNaN(r.win.Center) || math.IsInf(r.win.Center, 0) || math.IsInf(r.win.Width, 0) {
		return nil, fmt.Errorf("%w: ViewOptions.Window %+v", ErrOptions, r.win)
	}
	if math.IsNaN(r.ps) || r.ps < 0 || math.IsInf(r.ps, 0) {
		return nil, fmt.Errorf("%w: ViewOptions.PixelSize %v mm, want >= 0 (0 means automatic)", ErrOptions, r.ps)
	}
	if r.ps == 0 {
		r.ps = autoPixelSize(geoms)
	}
	for _, g := range geoms {
		// Bound the sides in float64 first: a tiny PixelSize would make
		// the int conversion in pixels overflow (to a 1-pixel panel).
		if fw, fh := float64(g.nh)*g.sh/r.ps, float64(g.nv)*g.sv/r.ps; !(fw <= 1<<24 && fh <= 1<<24) {
			return nil, fmt.Errorf("%w: ViewOptions.PixelSize %v mm makes a %.3gx%.3g panel", ErrOptions, r.ps, fw, fh)
		}
		if w, h := g.pixels(r.ps); w*h > 1<<24 {
			return nil, fmt.Errorf("%w: ViewOptions.PixelSize %v mm makes a %dx%d panel", ErrOptions, r.ps, w, h)
		}
	}
	if r.alpha < 0 || r.alpha > 1 || math.IsNaN(r.alpha) {
		return nil, fmt.Errorf("%w: ViewOptions.Alpha %v, want 0..1", ErrOptions, r.alpha)
	}
	if r.alpha == 0 {
		r.alpha = defaultAlpha
	}
	return r, nil
}

// checkIndex reports an out-of-range slice index.
func checkIndex(v vox, g sliceGeom, k int) error {
	if k < 0 || k >= v.shape[g.nAx] {
		return fmt.Errorf("%w: %v slice %d out of range [0, %d) along voxel axis %c", ErrInput, g.plane, k, v.shape[g.nAx], "XYZ"[g.nAx])
	}
	return nil
}

// render draws slice k of the plane, with labels (nil for none) overlaid.
func (r *renderer) render(g sliceGeom, k int, labels *vox) *image.RGBA {
	w, h := g.pixels(r.ps)
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	// Display pixel -> voxel position along each display axis.
	colT := make([]int, w)
	for c := range colT {
		colT[c] = min(g.nh-1, int((float64(c)+0.5)*r.ps/g.sh))
	}
	rowT := make([]int, h)
	for y := range rowT {
		rowT[y] = min(g.nv-1, int((float64(y)+0.5)*r.ps/g.sv))
	}
	var lab []int
	if labels != nil {
		lab = make([]int, w*h)
	}
	for y := range h {
		for c := range w {
			p := g.voxel(colT[c], rowT[y], k)
			grey := r.win.grey(r.img.at(p[0], p[1], p[2]))
			i := out.PixOffset(c, y)
			out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = grey, grey, grey, 255
			if lab != nil {
				lab[y*w+c] = labelAt(labels, p)
			}
		}
	}
	if lab != nil {
		r.overlay(out, lab, math.Min(g.sh, g.sv)/r.ps)
	}
	return out
}

func labelAt(l *vox, p [3]int) int {
	x := l.at(p[0], p[1], p[2])
	if math.IsNaN(float64(x)) {
		return 0
	}
	return int(math.Round(float64(x)))
}

// overlay paints labels lab (row-major, the image's size) onto out.
func (r *renderer) overlay(out *image.RGBA, lab []int, zoom float64) {
	w, h := out.Rect.Dx(), out.Rect.Dy()
	// Outlines are 1 pixel thick, 2 where a voxel spans 3 pixels or more.
	t := 1
	if zoom >= 3 {
		t = 2
	}
	for y := range h {
		for x := range w {
			l := lab[y*w+x]
			if l <= 0 {
				continue
			}
			a := r.alpha
			if r.opt.Contour {
				if !r.edge(lab, w, h, x, y, t) {
					continue
				}
				a = 1
			}
			c := LabelColour(l)
			i := out.PixOffset(x, y)
			out.Pix[i] = blend(out.Pix[i], c.R, a)
			out.Pix[i+1] = blend(out.Pix[i+1], c.G, a)
			out.Pix[i+2] = blend(out.Pix[i+2], c.B, a)
		}
	}
}

// edge reports whether pixel (x, y) of label map lab (w by h) lies within
// t pixels (along a row or column) of a pixel with another label or of
// the image border.
func (r *renderer) edge(lab []int, w, h, x, y, t int) bool {
	l := lab[y*w+x]
	for d := 1; d <= t; d++ {
		if x-d < 0 || y-d < 0 || x+d >= w || y+d >= h ||
			lab[y*w+x-d] != l || lab[y*w+x+d] != l || lab[(y-d)*w+x] != l || lab[(y+d)*w+x] != l {
			return true
		}
	}
	return false
}

func blend(under, over uint8, a float64) uint8 {
	return uint8(math.Round((1-a)*float64(under) + a*float64(over)))
}

// Slice shows slice index of channel opt.Channel of v in the given plane.
// index counts voxels along the voxel axis normal to the plane (for "RAS"
// volumes: Z for Axial, Y for Coronal, X for Sagittal), 0-based. nil opt
// means the defaults.
func Slice(v *volume.Volume, plane Plane, index int, opt *ViewOptions) (*View, error) {
	o, img, g, err := sliceView(v, plane, opt)
	if err != nil {
		return nil, err
	}
	if err := checkIndex(img, g, index); err != nil {
		return nil, err
	}
	r, err := newRenderer(img, o, []sliceGeom{g})
	if err != nil {
		return nil, err
	}
	title := o.Title
	if title == "" {
		title = fmt.Sprintf("%v slice %d of %d %s", plane, index, img.shape[g.nAx], plane.hint())
	}
	return &View{Title: title, panels: []viewPanel{{img: r.render(g, index, r.labels), caption: r.caption(g, index)}}}, nil
}

func (r *renderer) caption(g sliceGeom, k int) string {
	return fmt.Sprintf("%s = %d", [3]string{"x", "y", "z"}[g.nAx], k)
}

// MontageIndices returns the n slice indices a montage of a volume with
// size slices shows: the centres of n equal bins, ascending.
func MontageIndices(size, n int) []int {
	if n > size {
		n = size
	}
	out := make([]int, 0, n)
	for i := range n {
		out = append(out, int((float64(i)+0.5)*float64(size)/float64(n)))
	}
	return out
}

// Montage shows n evenly spaced slices of the plane (see MontageIndices),
// in ascending index order, row by row. n larger than the number of
// slices shows every slice.
func Montage(v *volume.Volume, plane Plane, n int, opt *ViewOptions) (*View, error) {
	o, img, g, err := sliceView(v, plane, opt)
	if err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, fmt.Errorf("%w: Montage of %d slices", ErrInput, n)
	}
	r, err := newRenderer(img, o, []sliceGeom{g})
	if err != nil {
		return nil, err
	}
	view := &View{Title: o.Title, Columns: o.Columns}
	if view.Title == "" {
		view.Title = fmt.Sprintf("%v montage %s", plane, plane.hint())
	}
	for _, k := range MontageIndices(img.shape[g.nAx], n) {
		view.panels = append(view.panels, viewPanel{img: r.render(g, k, r.labels), caption: r.caption(g, k)})
	}
	if view.Columns <= 0 {
		w := view.panels[0].img.Bounds().Dx()
		view.Columns = max(1, min(montageMaxCols, 1000/(w+viewGap)))
	}
	return view, nil
}

// Orthogonal shows the axial, coronal and sagittal planes through the
// voxel point = (x, y, z), left to right.
func Orthogonal(v *volume.Volume, point [3]int, opt *ViewOptions) (*View, error) {
	o := valueOf(opt)
	img, err := imageOf(v, o)
	if err != nil {
		return nil, err
	}
	for i, p := range point {
		if p < 0 || p >= img.shape[i] {
			return nil, fmt.Errorf("%w: Orthogonal: point %v outside shape %v", ErrInput, point, img.shape)
		}
	}
	var geoms []sliceGeom
	for _, pl := range []Plane{Axial, Coronal, Sagittal} {
		g, err := geometry(img, pl)
		if err != nil {
			return nil, err
		}
		geoms = append(geoms, g)
	}
	r, err := newRenderer(img, o, geoms)
	if err != nil {
		return nil, err
	}
	view := &View{Title: o.Title}
	if view.Title == "" {
		view.Title = fmt.Sprintf("Orthogonal planes through (%d, %d, %d)", point[0], point[1], point[2])
	}
	for _, g := range geoms {
		k := point[g.nAx]
		img := r.render(g, k, r.labels)
		if o.Crosshair {
			r.crosshair(img, g, point)
		}
		view.panels = append(view.panels, viewPanel{img: img, caption: fmt.Sprintf("%v, %s %s", g.plane, r.caption(g, k), g.plane.hint())})
	}
	return view, nil
}

var crosshairColour = color.RGBA{R: 0xF0, G: 0xE4, B: 0x42, A: 0xFF}

// crosshair draws dashed lines through the display position of point.
func (r *renderer) crosshair(img *image.RGBA, g sliceGeom, point [3]int) {
	th, tv := g.display(point)
	w, h := img.Rect.Dx(), img.Rect.Dy()
	x := min(w-1, int((float64(th)+0.5)*g.sh/r.ps))
	y := min(h-1, int((float64(tv)+0.5)*g.sv/r.ps))
	for i := range w {
		if i%6 < 4 {
			img.SetRGBA(i, y, crosshairColour)
		}
	}
	for j := range h {
		if j%6 < 4 {
			img.SetRGBA(x, j, crosshairColour)
		}
	}
}

// Compare shows slice index of channel opt.Channel of the image three
// times, side by side: the image alone, with the ground truth overlaid and
// with the prediction overlaid. truth and pred are one-channel label maps
// on the image's grid (same shape; truth and pred the same spacing). The
// prediction's caption gives the slice's mean foreground Dice and the
// title the Dice of each class present on the slice (stats.SliceDice).
// opt.Labels is ignored.
func Compare(image, truth, pred *volume.Volume, plane Plane, index int, opt *ViewOptions) (*View, error) {
	o := valueOf(opt)
	o.Labels = nil
	img, err := imageOf(image, o)
	if err != nil {
		return nil, err
	}
	t, err := labelVox("truth", truth, img)
	if err != nil {
		return nil, err
	}
	p, err := labelVox("prediction", pred, img)
	if err != nil {
		return nil, err
	}
	g, err := geometry(img, plane)
	if err != nil {
		return nil, err
	}
	if err := checkIndex(img, g, index); err != nil {
		return nil, err
	}
	classes, dice, err := stats.SliceDice(pred, truth, g.nAx, index)
	if err != nil {
		return nil, fmt.Errorf("%w: Compare: %w", ErrInput, err)
	}
	r, err := newRenderer(img, o, []sliceGeom{g})
	if err != nil {
		return nil, err
	}
	mean := stats.NanMean(dice)
	var score string
	shortScore := fmt.Sprintf("Dice %.3f", mean)
	switch {
	case len(classes) == 0:
		score = "Dice n/a (no foreground)"
		shortScore = "no foreground"
	case len(classes) == 1:
		score = fmt.Sprintf("Dice %.3f", mean)
	default:
		parts := make([]string, len(classes))
		for i, c := range classes {
			parts[i] = fmt.Sprintf("%d: %.3f", c, dice[i])
		}
		score = fmt.Sprintf("Dice %.3f (%s)", mean, strings.Join(parts, ", "))
	}
	title := o.Title
	if title == "" {
		title = fmt.Sprintf("%v %s %s — %s", plane, r.caption(g, index), plane.hint(), score)
	} else {
		title += " — " + score
	}
	return &View{Title: title, panels: []viewPanel{
		{img: r.render(g, index, nil), caption: "image"},
		{img: r.render(g, index, t), caption: "ground truth"},
		{img: r.render(g, index, p), caption: "prediction, " + shortScore},
	}}, nil
}

// LabelCentre returns the voxel (x, y, z) nearest the centre of mass of
// the labelled voxels (value > 0) of channel 0 of the label map lab: a
// point for [Orthogonal] and a slice for [Slice] or [Compare] that cut
// through the structure. When nothing is labelled (or lab is nil or
// inconsistent) it returns the volume's central voxel.
func LabelCentre(lab *volume.Volume) [3]int {
	if lab == nil {
		return [3]int{}
	}
	centre := [3]int{lab.Shape[0] / 2, lab.Shape[1] / 2, lab.Shape[2] / 2}
	if lab.Check() != nil {
		return centre
	}
	var sum [3]float64
	n := 0.0
	nx, ny := lab.Shape[0], lab.Shape[1]
	for i, x := range lab.Channel(0) {
		if x > 0 {
			sum[0] += float64(i % nx)
			sum[1] += float64(i / nx % ny)
			sum[2] += float64(i / (nx * ny))
			n++
		}
	}
	if n == 0 {
		return centre
	}
	return [3]int{int(math.Round(sum[0] / n)), int(math.Round(sum[1] / n)), int(math.Round(sum[2] / n))}
}

// encodePanelPNG encodes one panel raster, as grey when it has no colour.
func encodePanelPNG(img *image.RGBA) ([]byte, error) {
	var src image.Image = img
	grey := true
	for i := 0; i < len(img.Pix) && grey; i += 4 {
		grey = img.Pix[i] == img.Pix[i+1] && img.Pix[i] == img.Pix[i+2]
	}
	if grey {
		g := image.NewGray(img.Rect)
		for i := range len(g.Pix) {
			g.Pix[i] = img.Pix[4*i]
		}
		src = g
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	if err := enc.Encode(&buf, src); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
