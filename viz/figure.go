package viz

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/internal/atomicfile"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Sentinel errors; returned errors wrap them with the field at fault.
var (
	// ErrInput reports input a figure or table cannot be drawn from:
	// empty series, mismatched lengths, non-finite or out-of-range values.
	ErrInput = errors.New("viz: invalid input")
	// ErrOptions reports an invalid field of an options struct; the
	// message names the field and its value.
	ErrOptions = errors.New("viz: invalid options")
	// ErrShape reports a volume whose data does not match its shape, or a
	// label map whose shape differs from its image.
	ErrShape = errors.New("viz: shape mismatch")
	// ErrFormat reports an output format other than png, svg and pdf.
	ErrFormat = errors.New("viz: unsupported format")
	// ErrDraw reports a failure inside the plotting library.
	ErrDraw = errors.New("viz: cannot draw")
)

// Default figure sizes: one notebook column is about 8 inches at 96 DPI
// (768 pixels).
const (
	DefaultWidth  = 8 * vg.Inch
	DefaultHeight = 4.5 * vg.Inch
	DefaultDPI    = 96
)

// Font sizes in points.
const (
	titleSize  = 13
	labelSize  = 11
	tickSize   = 9.5
	legendSize = 9.5
)

var sansFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

// Figure is one or more gonum plots on a grid, with an optional overall
// title. It renders inline as PNG and SVG and saves to PNG, SVG and PDF.
// The constructors of this package (LearningCurves, FoldDiff, ...) return
// Figures; [NewFigure] wraps plots made by hand.
type Figure struct {
	// Title is drawn centred above all panels; "" for none.
	Title string
	// Width and Height are the figure's size (1 vg.Inch = 72 points);
	// zero means DefaultWidth and DefaultHeight.
	Width, Height vg.Length
	// DPI is the resolution of PNG output in dots per inch; 0 means 96.
	DPI int

	panels [][]*plot.Plot
	legend []legendItem
}

// legendItem is one entry of a figure-wide legend.
type legendItem struct {
	name   string
	thumbs []plot.Thumbnailer
}

// AddLegend adds an entry to the figure's legend, a band under the title
// shared by all panels: thumbs (for example a *plotter.Line) drawn before
// name.
func (f *Figure) AddLegend(name string, thumbs ...plot.Thumbnailer) {
	f.legend = append(f.legend, legendItem{name: name, thumbs: thumbs})
}

// NewFigure returns a figure laying out panels row by row; every row must
// have the same number of entries, and a nil entry leaves its cell blank.
func NewFigure(title string, panels [][]*plot.Plot) (*Figure, error) {
	if len(panels) == 0 || len(panels[0]) == 0 {
		return nil, fmt.Errorf("%w: figure %q has no panels", ErrInput, title)
	}
	for i, row := range panels {
		if len(row) != len(panels[0]) {
			return nil, fmt.Errorf("%w: figure %q: row %d has %d panels, row 0 has %d",
				ErrInput, title, i, len(row), len(panels[0]))
		}
	}
	return &Figure{Title: title, panels: panels}, nil
}

// Panels returns the figure's plots (rows of columns) for further styling.
func (f *Figure) Panels() [][]*plot.Plot { return f.panels }

func (f *Figure) size() (w, h vg.Length, dpi int) {
	w, h, dpi = f.Width, f.Height, f.DPI
	if w <= 0 {
		w = DefaultWidth
	}
	if h <= 0 {
		h = DefaultHeight
	}
	if dpi <= 0 {
		dpi = DefaultDPI
	}
	return w, h, dpi
}

// PixelSize returns the size in pixels of the figure's PNG.
func (f *Figure) PixelSize() (width, height int) {
	w, h, dpi := f.size()
	return int(w.Dots(float64(dpi)) + 0.5), int(h.Dots(float64(dpi)) + 0.5)
}

// Draw draws the figure on c.
func (f *Figure) Draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	if f.Title != "" {
		sty := textStyle(titleSize)
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
		pad := vg.Points(4)
		c.FillText(sty, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: c.Max.Y - pad}, f.Title)
		c = draw.Crop(c, 0, 0, 0, -(sty.Height(f.Title) + 2*pad))
	}
	if len(f.legend) > 0 {
		c = draw.Crop(c, 0, 0, 0, -f.drawLegend(c))
	}
	if len(f.panels) == 0 || len(f.panels[0]) == 0 {
		return // a zero Figure draws as a blank page
	}
	rows, cols := len(f.panels), len(f.panels[0])
	layout := func() [][]draw.Canvas {
		if rows == 1 && cols == 1 {
			return [][]draw.Canvas{{c}}
		}
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(14), PadY: vg.Points(14),
			PadTop: vg.Points(2), PadBottom: vg.Points(2), PadLeft: vg.Points(2), PadRight: vg.Points(8)}
		return plot.Align(f.panels, tiles, c)
	}
	canvases := layout()
	// Tick markers that choose their labels for the axis length learn it
	// from the layout; their labels move the layout a little, so twice.
	if f.fitAxes(canvases) {
		canvases = layout()
		f.fitAxes(canvases)
		canvases = layout()
	}
	for i, row := range f.panels {
		for j, p := range row {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
}

// axisFitter is a tick marker that picks its labels for the length of
// the axis it marks; Figure.Draw tells it that length (points) first.
type axisFitter interface{ fitTo(length vg.Length) }

// fitAxes tells the fitting X tick markers of the panels the length of
// their axis on canvases, and reports whether there was one.
func (f *Figure) fitAxes(canvases [][]draw.Canvas) bool {
	any := false
	for i, row := range f.panels {
		for j, p := range row {
			if p == nil {
				continue
			}
			if fit, ok := p.X.Tick.Marker.(axisFitter); ok {
				dc := p.DataCanvas(canvases[i][j])
				fit.fitTo(dc.Max.X - dc.Min.X)
				any = true
			}
		}
	}
	return any
}

// drawLegend draws the legend band at the top of c, entries left to right
// in centred rows, and returns its height.
func (f *Figure) drawLegend(c draw.Canvas) vg.Length {
	sty := textStyle(legendSize)
	sty.YAlign = draw.YCenter
	thumbW, gap, pad := vg.Points(22), vg.Points(5), vg.Points(16)
	rowH := sty.Height("Mg") + vg.Points(4)
	maxW := c.Max.X - c.Min.X - 2*pad
	type placed struct {
		item legendItem
		w    vg.Length
	}
	var rows [][]placed
	var rowW []vg.Length
	for _, it := range f.legend {
		w := thumbW + gap + sty.Width(it.name)
		if len(rows) == 0 || rowW[len(rows)-1]+pad+w > maxW {
			rows = append(rows, nil)
			rowW = append(rowW, -pad)
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], placed{it, w})
		rowW[len(rows)-1] += pad + w
	}
	y := c.Max.Y - vg.Points(2) - rowH/2
	for r, row := range rows {
		x := (c.Min.X+c.Max.X)/2 - rowW[r]/2
		for _, p := range row {
			tc := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: x, Y: y - rowH/2 + vg.Points(2)},
				Max: vg.Point{X: x + thumbW, Y: y + rowH/2 - vg.Points(2)},
			}}
			for _, t := range p.item.thumbs {
				t.Thumbnail(&tc)
			}
			c.FillText(sty, vg.Point{X: x + thumbW + gap, Y: y}, p.item.name)
			x += p.w + pad
		}
		y -= rowH
	}
	return vg.Length(len(rows))*rowH + vg.Points(6)
}

// Encode writes the figure to w as "png", "svg" or "pdf".
func (f *Figure) Encode(w io.Writer, format string) (err error) {
	if f == nil || len(f.panels) == 0 {
		return fmt.Errorf("%w: empty figure", ErrInput)
	}
	width, height, dpi := f.size()
	return encodeCanvas(w, format, width, height, dpi, func(c draw.Canvas) { f.Draw(c) })
}

// maxPixels bounds a PNG raster: 2^26 pixels (256 MiB of RGBA), a
// 8192 x 8192 image.
const maxPixels = 1 << 26

// encodeCanvas makes a canvas of the format, draws on it and writes it to w.
// A panic inside the plotting library becomes an ErrDraw error.
func encodeCanvas(w io.Writer, format string, width, height vg.Length, dpi int, drawFn func(draw.Canvas)) (err error) {
	if !(width > 0 && height > 0) || math.IsInf(float64(width), 0) || math.IsInf(float64(height), 0) {
		return fmt.Errorf("%w: figure size %v x %v points", ErrInput, float64(width), float64(height))
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrDraw, r)
		}
	}()
	var cw vg.CanvasWriterTo
	switch strings.ToLower(format) {
	case "png":
		// The raster is allocated whole: refuse sizes that cannot fit
		// rather than die out of memory (a Width in inches mistaken for
		// points, say).
		if px := width.Dots(float64(dpi)) * height.Dots(float64(dpi)); px > maxPixels {
			return fmt.Errorf("%w: a %v x %v point figure at %d DPI is %.3g pixels, more than %d",
				ErrInput, float64(width), float64(height), dpi, px, maxPixels)
		}
		cw = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi),
			vgimg.UseBackgroundColor(color.White))}
	case "svg":
		cw = vgsvg.New(width, height)
	case "pdf":
		cw = vgpdf.New(width, height)
	default:
		return fmt.Errorf("%w: %q (want png, svg or pdf)", ErrFormat, format)
	}
	drawFn(draw.New(cw))
	_, err = cw.WriteTo(w)
	if err != nil {
		return fmt.Errorf("viz: writing %s: %w", format, err)
	}
	return nil
}

// PNG returns the figure encoded as PNG at its DPI.
func (f *Figure) PNG() ([]byte, error) { return encodeBytes(f.Encode, "png") }

// SVG returns the figure as an SVG document.
func (f *Figure) SVG() ([]byte, error) { return encodeBytes(f.Encode, "svg") }

// PDF returns the figure as a PDF document (fonts embedded).
func (f *Figure) PDF() ([]byte, error) { return encodeBytes(f.Encode, "pdf") }

func encodeBytes(enc func(io.Writer, string) error, format string) ([]byte, error) {
	var buf bytes.Buffer
	if err := enc(&buf, format); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SaveAs writes the figure to path, choosing the format by the extension
// (.png, .svg or .pdf, any case). The file is written atomically: to a
// temporary file in the same directory, then renamed.
func (f *Figure) SaveAs(path string) error { return saveAs(path, f.Encode) }

// Render implements display.Renderer: image/png, image/svg+xml and a
// text/plain description. An error renders as text.
func (f *Figure) Render() display.Bundle {
	return renderImage(f.Encode, f.describe())
}

func (f *Figure) describe() string {
	if f == nil {
		return "<viz.Figure nil>"
	}
	w, h := f.PixelSize()
	title := f.Title
	if title == "" && len(f.panels) > 0 && len(f.panels[0]) > 0 && f.panels[0][0] != nil {
		title = f.panels[0][0].Title.Text
	}
	return fmt.Sprintf("<viz.Figure %q %dx%d>", title, w, h)
}

func renderImage(enc func(io.Writer, string) error, desc string) display.Bundle {
	pngData, err := encodeBytes(enc, "png")
	if err != nil {
		return display.Text(err.Error())
	}
	b := display.PNG(pngData)
	if svgData, err := encodeBytes(enc, "svg"); err == nil {
		b[display.MIMESVG] = string(svgData)
	}
	b[display.MIMEText] = desc
	return b
}

func saveAs(path string, enc func(io.Writer, string) error) error {
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	switch ext {
	case "png", "svg", "pdf":
	default:
		return fmt.Errorf("%w: %s: extension %q (want .png, .svg or .pdf)", ErrFormat, path, filepath.Ext(path))
	}
	var buf bytes.Buffer
	if err := enc(&buf, ext); err != nil {
		return fmt.Errorf("viz: saving %s: %w", path, err)
	}
	return writeFileAtomic(path, buf.Bytes())
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it over path, so that readers never see a partial file.
func writeFileAtomic(path string, data []byte) error {
	if err := atomicfile.WriteFile(path, data); err != nil {
		return fmt.Errorf("viz: saving %s: %w", path, err)
	}
	return nil
}

// textStyle returns a sans-serif black text style of the given size.
func textStyle(size vg.Length) text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    font.From(sansFont, size),
		XAlign:  draw.XLeft,
		YAlign:  draw.YBottom,
		Handler: spacedText{plot.DefaultTextHandler},
	}
}

// spacedText draws text with every space as a no-break space. Liberation
// Sans kerns "A" against a space, and hinted at small sizes that pair eats
// the whole space: "(A left, S up)" read "(Aleft, S up)". The no-break
// space has the same advance and no kerning pairs. Only raster canvases
// get it: SVG and PDF viewers lay out text themselves.
type spacedText struct{ text.Handler }

func (h spacedText) Box(txt string, fnt font.Font) (width, height, depth vg.Length) {
	return h.Handler.Box(nbsp(txt), fnt)
}

func (h spacedText) Draw(c vg.Canvas, txt string, sty text.Style, pt vg.Point) {
	inner := c
	for {
		dc, ok := inner.(*draw.Canvas)
		if !ok {
			break
		}
		inner = dc.Canvas
	}
	switch inner.(type) {
	case *vgimg.Canvas, vgimg.PngCanvas, *vgimg.PngCanvas:
		txt = nbsp(txt)
	}
	h.Handler.Draw(c, txt, sty, pt)
}

func nbsp(s string) string { return strings.ReplaceAll(s, " ", "\u00a0") }

// newPlot returns a plot with this package's fonts and a light grid.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sansFont, labelSize+0.5)
	p.Title.TextStyle.Handler = spacedText{plot.DefaultTextHandler}
	p.Title.Padding = vg.Points(4)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sansFont, labelSize)
		a.Tick.Label.Font = font.From(sansFont, tickSize)
		a.Label.TextStyle.Handler, a.Tick.Label.Handler = spacedText{plot.DefaultTextHandler}, spacedText{plot.DefaultTextHandler}
		a.Label.Padding = vg.Points(3)
	}
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	p.Legend.TextStyle.Font = font.From(sansFont, legendSize)
	p.Legend.TextStyle.Handler = spacedText{plot.DefaultTextHandler}
	p.Legend.ThumbnailWidth = vg.Points(22)
	return p
}
