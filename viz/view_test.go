package viz_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"testing"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/viz"
	"github.com/unetlab/unetlab/volume"
)

// marker returns a volume of the given shape and axes, zero everywhere but
// 1000 at voxel p, with 1 mm isotropic voxels.
func marker(shape [3]int, axes string, p [3]int) *volume.Volume {
	v := vol(make([]float32, shape[0]*shape[1]*shape[2]), shape, [3]float64{1, 1, 1}, axes)
	v.Data[p[0]+shape[0]*(p[1]+shape[1]*p[2])] = 1000
	return v
}

// oneToOne draws every voxel as one pixel, 0 black and 1000 white.
var oneToOne = &viz.ViewOptions{Window: viz.Window{Center: 500, Width: 1000}, PixelSize: 1}

// decodeView renders v to PNG bytes and decodes them: the path a notebook
// takes.
func decodeView(t *testing.T, v *viz.View) image.Image {
	t.Helper()
	b := v.Render()
	data, ok := b[display.MIMEPNG].([]byte)
	if !ok {
		t.Fatalf("Render has no image/png: %v", b.Text())
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decoding PNG: %v", err)
	}
	if w, h := v.Size(); img.Bounds().Dx() != w || img.Bounds().Dy() != h {
		t.Fatalf("PNG is %v, Size says %dx%d", img.Bounds(), w, h)
	}
	return img
}

func rgba(c color.Color) color.RGBA {
	r, g, b, a := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}

// whitePixels lists the white pixels of panel bounds r in img.
func whitePixels(img image.Image, r image.Rectangle) []image.Point {
	var out []image.Point
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if rgba(img.At(x, y)) == (color.RGBA{255, 255, 255, 255}) {
				out = append(out, image.Pt(x-r.Min.X, y-r.Min.Y))
			}
		}
	}
	return out
}

// TestPlaneOrientation checks where a single bright voxel lands in each
// plane: radiological convention (patient's right on the image's left,
// anterior up in axial, superior up in coronal and sagittal, anterior on
// the left in sagittal), for several axis codes.
func TestPlaneOrientation(t *testing.T) {
	shape := [3]int{5, 6, 7}
	p := [3]int{1, 1, 5}
	cases := []struct {
		axes  string
		plane viz.Plane
		index int
		size  image.Point // panel width, height
		at    image.Point // column, row of the marker
	}{
		// RAS: x grows to the right (shown leftward), y to anterior (shown
		// upward), z to superior (shown upward).
		{"RAS", viz.Axial, 5, image.Pt(5, 6), image.Pt(5-1-1, 6-1-1)},
		{"RAS", viz.Coronal, 1, image.Pt(5, 7), image.Pt(5-1-1, 7-1-5)},
		{"RAS", viz.Sagittal, 1, image.Pt(6, 7), image.Pt(6-1-1, 7-1-5)},
		{"", viz.Axial, 5, image.Pt(5, 6), image.Pt(3, 4)},
		// LPS (DICOM): x grows to the left and y to posterior, as the
		// display's columns and rows do; z grows upward.
		{"LPS", viz.Axial, 5, image.Pt(5, 6), image.Pt(1, 1)},
		{"LPS", viz.Coronal, 1, image.Pt(5, 7), image.Pt(1, 1)},
		{"LPS", viz.Sagittal, 1, image.Pt(6, 7), image.Pt(1, 1)},
		// IRA: voxel axis 0 grows inferior, 1 right, 2 anterior.
		// Axial fixes axis 0; columns run along axis 1 (flipped), rows
		// along axis 2 (flipped).
		{"IRA", viz.Axial, 1, image.Pt(6, 7), image.Pt(6-1-1, 7-1-5)},
		// Coronal fixes axis 2; columns along axis 1 (flipped), rows along
		// axis 0 (grows inferior = downward, not flipped).
		{"IRA", viz.Coronal, 5, image.Pt(6, 5), image.Pt(4, 1)},
		// Sagittal fixes axis 1; columns along axis 2 (flipped), rows
		// along axis 0.
		{"IRA", viz.Sagittal, 1, image.Pt(7, 5), image.Pt(7-1-5, 1)},
	}
	for _, c := range cases {
		t.Run(c.axes+"/"+c.plane.String(), func(t *testing.T) {
			v, err := viz.Slice(marker(shape, c.axes, p), c.plane, c.index, oneToOne)
			if err != nil {
				t.Fatal(err)
			}
			img := decodeView(t, v)
			r := v.PanelBounds(0)
			if r.Size() != c.size {
				t.Fatalf("panel size %v, want %v", r.Size(), c.size)
			}
			got := whitePixels(img, r)
			if len(got) != 1 || got[0] != c.at {
				t.Fatalf("marker at %v, want exactly %v", got, c.at)
			}
			// Every other pixel of the panel is black (background).
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					if image.Pt(x-r.Min.X, y-r.Min.Y) == c.at {
						continue
					}
					if got := rgba(img.At(x, y)); got != (color.RGBA{0, 0, 0, 255}) {
						t.Fatalf("pixel %v is %v, want black", image.Pt(x-r.Min.X, y-r.Min.Y), got)
					}
				}
			}
		})
	}
}

// TestOrthogonalMarker checks that the three planes through the marker
// each show it, at the radiological positions.
func TestOrthogonalMarker(t *testing.T) {
	p := [3]int{1, 2, 5}
	v, err := viz.Orthogonal(marker([3]int{5, 6, 7}, "RAS", p), p, oneToOne)
	if err != nil {
		t.Fatal(err)
	}
	img := decodeView(t, v)
	want := []image.Point{{5 - 1 - 1, 6 - 1 - 2}, {5 - 1 - 1, 7 - 1 - 5}, {6 - 1 - 2, 7 - 1 - 5}}
	for i, w := range want {
		got := whitePixels(img, v.PanelBounds(i))
		if len(got) != 1 || got[0] != w {
			t.Errorf("panel %d (%s): marker at %v, want %v", i, v.Caption(i), got, w)
		}
	}
	// With a crosshair, the marker's row and column are drawn on.
	opt := *oneToOne
	opt.Crosshair = true
	v, err = viz.Orthogonal(marker([3]int{5, 6, 7}, "RAS", p), p, &opt)
	if err != nil {
		t.Fatal(err)
	}
	img = decodeView(t, v)
	r := v.PanelBounds(0)
	if c := rgba(img.At(r.Min.X, r.Min.Y+want[0].Y)); c.B > 100 || c.R < 200 {
		t.Errorf("crosshair pixel %v, want yellow", c)
	}
}

// TestAspect checks that anisotropic voxels keep their size in mm.
func TestAspect(t *testing.T) {
	v := marker([3]int{10, 12, 8}, "RAS", [3]int{0, 0, 0})
	v.Spacing = [3]float64{0.5, 0.5, 2}
	cases := []struct {
		plane viz.Plane
		opt   *viz.ViewOptions
		want  image.Point
	}{
		{viz.Axial, &viz.ViewOptions{PixelSize: 0.5}, image.Pt(10, 12)},
		{viz.Coronal, &viz.ViewOptions{PixelSize: 0.5}, image.Pt(10, 32)},
		{viz.Sagittal, &viz.ViewOptions{PixelSize: 0.5}, image.Pt(12, 32)},
		{viz.Sagittal, &viz.ViewOptions{PixelSize: 1}, image.Pt(6, 16)},
		// Auto: the smallest spacing (0.5 mm) over the smallest whole
		// zoom that brings the longer side (16 mm = 32 px) to >= 256 px.
		{viz.Coronal, nil, image.Pt(80, 256)},
	}
	for _, c := range cases {
		s, err := viz.Slice(v, c.plane, 0, c.opt)
		if err != nil {
			t.Fatal(err)
		}
		img := decodeView(t, s)
		if got := s.PanelBounds(0).Size(); got != c.want {
			t.Errorf("%v with pixel size %v: panel %v, want %v", c.plane, c.opt.PixelSize, got, c.want)
		}
		_ = img
	}
	// The coronal voxel (0, 0, 0), 0.5 mm wide and 2 mm high, covers a
	// 1 x 4 pixel block at the bottom right at 0.5 mm per pixel.
	s, err := viz.Slice(v, viz.Coronal, 0, &viz.ViewOptions{PixelSize: 0.5, Window: viz.Window{Center: 500, Width: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	got := whitePixels(decodeView(t, s), s.PanelBounds(0))
	want := []image.Point{{9, 28}, {9, 29}, {9, 30}, {9, 31}}
	if len(got) != len(want) {
		t.Fatalf("white pixels %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("white pixels %v, want %v", got, want)
		}
	}
}

// labelled returns a 4x4x1 image of constant 0 (black in oneToOne) with
// label 1 on voxel (0,0), label 2 on (3,3), and a 3x3 block test variant.
func labelled() (img, lab *volume.Volume) {
	img = vol(make([]float32, 16), [3]int{4, 4, 1}, [3]float64{}, "")
	lab = vol(make([]float32, 16), [3]int{4, 4, 1}, [3]float64{}, "")
	lab.Data[0] = 1
	lab.Data[15] = 2
	return img, lab
}

func TestOverlayColour(t *testing.T) {
	img, lab := labelled()
	for _, alpha := range []float64{1, 0.5} {
		opt := *oneToOne
		opt.Labels, opt.Alpha = lab, alpha
		v, err := viz.Slice(img, viz.Axial, 0, &opt)
		if err != nil {
			t.Fatal(err)
		}
		pic := decodeView(t, v)
		r := v.PanelBounds(0)
		// RAS axial: voxel (x, y) shows at column 3-x, row 3-y.
		at := func(x, y int) color.RGBA { return rgba(pic.At(r.Min.X+3-x, r.Min.Y+3-y)) }
		for _, c := range []struct {
			x, y, class int
		}{{0, 0, 1}, {3, 3, 2}} {
			lc := viz.LabelColour(c.class)
			want := color.RGBA{uint8(math.Round(alpha * float64(lc.R))), uint8(math.Round(alpha * float64(lc.G))),
				uint8(math.Round(alpha * float64(lc.B))), 255}
			if got := at(c.x, c.y); got != want {
				t.Errorf("alpha %v: voxel (%d,%d) class %d is %v, want %v", alpha, c.x, c.y, c.class, got, want)
			}
		}
		if got := at(1, 2); got != (color.RGBA{0, 0, 0, 255}) {
			t.Errorf("alpha %v: unlabelled voxel is %v, want black", alpha, got)
		}
	}
}

func TestOverlayContour(t *testing.T) {
	// A 5x5 label block in a 9x9 slice: its border ring is coloured, its
	// centre keeps the image's grey, the outside stays black.
	img := vol(make([]float32, 81), [3]int{9, 9, 1}, [3]float64{}, "")
	lab := vol(make([]float32, 81), [3]int{9, 9, 1}, [3]float64{}, "")
	for y := 2; y <= 6; y++ {
		for x := 2; x <= 6; x++ {
			lab.Data[x+9*y] = 3
		}
	}
	opt := *oneToOne
	opt.Labels, opt.Contour = lab, true
	v, err := viz.Slice(img, viz.Axial, 0, &opt)
	if err != nil {
		t.Fatal(err)
	}
	pic := decodeView(t, v)
	r := v.PanelBounds(0)
	at := func(x, y int) color.RGBA { return rgba(pic.At(r.Min.X+8-x, r.Min.Y+8-y)) }
	lc := viz.LabelColour(3)
	if got := at(2, 4); got != lc {
		t.Errorf("border voxel %v, want %v", got, lc)
	}
	if got := at(6, 6); got != lc {
		t.Errorf("corner voxel %v, want %v", got, lc)
	}
	if got := at(4, 4); got != (color.RGBA{0, 0, 0, 255}) {
		t.Errorf("inner voxel %v, want black", got)
	}
	if got := at(0, 0); got != (color.RGBA{0, 0, 0, 255}) {
		t.Errorf("outside voxel %v, want black", got)
	}
}

func TestWindow(t *testing.T) {
	v := vol([]float32{-2000, -1350, -600, 150, 2000}, [3]int{5, 1, 1}, [3]float64{}, "")
	s, err := viz.Slice(v, viz.Axial, 0, &viz.ViewOptions{Window: viz.WindowLung, PixelSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	img := s.Panel(0)
	// Columns run right to left in x (RAS axial).
	want := []uint8{0, 0, 128, 255, 255}
	for x, w := range want {
		if got := rgba(img.At(4-x, 0)).R; got != w {
			t.Errorf("HU %v: grey %d, want %d", v.Data[x], got, w)
		}
	}
	// Auto window: percentiles of a 0..99 ramp.
	ramp := vol(make([]float32, 100), [3]int{10, 10, 1}, [3]float64{}, "")
	for i := range ramp.Data {
		ramp.Data[i] = float32(i)
	}
	w, err := viz.AutoWindow(ramp, 0, 0.5, 99.5)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := w.Center-w.Width/2, w.Center+w.Width/2
	if math.Abs(lo-0.495) > 1e-9 || math.Abs(hi-98.505) > 1e-9 {
		t.Errorf("auto window %v..%v, want 0.495..98.505", lo, hi)
	}
	if _, err := viz.AutoWindow(ramp, 0, 50, 10); !errors.Is(err, viz.ErrInput) {
		t.Errorf("reversed percentiles: %v, want ErrInput", err)
	}
	// A constant volume still renders.
	flat := vol([]float32{7, 7, 7, 7}, [3]int{2, 2, 1}, [3]float64{}, "")
	if _, err := viz.Slice(flat, viz.Axial, 0, nil); err != nil {
		t.Errorf("constant volume: %v", err)
	}
}

// TestCompareDice: Compare's title and caption give stats.SliceDice's
// scores of the slice shown.
func TestCompareDice(t *testing.T) {
	truth := vol([]float32{1, 1, 1, 1, 2, 2, 0, 0, 1}, [3]int{9, 1, 1}, [3]float64{}, "")
	pred := vol([]float32{1, 1, 0, 0, 2, 0, 2, 0, 0}, [3]int{9, 1, 1}, [3]float64{}, "")
	// Class 1: |T|=5, |P|=2, overlap 2 -> 4/7. Class 2: |T|=2, |P|=2, overlap 1 -> 1/2.
	empty := vol(make([]float32, 9), [3]int{9, 1, 1}, [3]float64{}, "")
	if v, err := viz.Compare(truth, empty, empty, viz.Axial, 0, nil); err != nil || v.Caption(2) != "prediction, no foreground" {
		t.Errorf("empty: caption %q, err %v", v.Caption(2), err)
	}
	v, err := viz.Compare(truth, truth, pred, viz.Axial, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.Len() != 3 || v.Title != "axial z = 0 (R left, A up) — Dice 0.536 (1: 0.571, 2: 0.500)" {
		t.Errorf("Compare: %d panels, title %q", v.Len(), v.Title)
	}
	if v.Caption(2) != "prediction, Dice 0.536" {
		t.Errorf("prediction caption %q", v.Caption(2))
	}
	decodeView(t, v)
}

func TestMontageIndices(t *testing.T) {
	cases := []struct {
		size, n int
		want    []int
	}{
		{10, 3, []int{1, 5, 8}},
		{3, 10, []int{0, 1, 2}},
		{40, 1, []int{20}},
		{7, 7, []int{0, 1, 2, 3, 4, 5, 6}},
	}
	for _, c := range cases {
		got := viz.MontageIndices(c.size, c.n)
		if len(got) != len(c.want) {
			t.Errorf("MontageIndices(%d, %d) = %v, want %v", c.size, c.n, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("MontageIndices(%d, %d) = %v, want %v", c.size, c.n, got, c.want)
				break
			}
		}
	}
	// The montage shows the marker only in the panel of its slice.
	v, err := viz.Montage(marker([3]int{4, 4, 10}, "RAS", [3]int{2, 1, 5}), viz.Axial, 3, oneToOne)
	if err != nil {
		t.Fatal(err)
	}
	img := decodeView(t, v)
	for i := range v.Len() {
		got := whitePixels(img, v.PanelBounds(i))
		if wantOne := v.Caption(i) == "z = 5"; wantOne != (len(got) == 1) {
			t.Errorf("panel %d (%s): white pixels %v", i, v.Caption(i), got)
		}
	}
}

func TestViewErrors(t *testing.T) {
	good := marker([3]int{4, 4, 4}, "RAS", [3]int{0, 0, 0})
	short := good.Clone()
	short.Data = short.Data[:10]
	badAxes := good.Clone()
	badAxes.Affine[0][0] = 0 // no direction for X
	twoCh := volume.New(good.Shape, 2)
	lab := marker([3]int{4, 4, 3}, "RAS", [3]int{0, 0, 0})
	cases := []struct {
		name string
		err  error
		run  func() error
	}{
		{"short data", viz.ErrShape, func() error { _, err := viz.Slice(short, viz.Axial, 0, nil); return err }},
		{"zero shape", viz.ErrShape, func() error { _, err := viz.Slice(vol(nil, [3]int{}, [3]float64{}, ""), viz.Axial, 0, nil); return err }},
		{"index", viz.ErrInput, func() error { _, err := viz.Slice(good, viz.Axial, 4, nil); return err }},
		{"negative index", viz.ErrInput, func() error { _, err := viz.Slice(good, viz.Sagittal, -1, nil); return err }},
		{"axes", viz.ErrInput, func() error { _, err := viz.Slice(badAxes, viz.Axial, 0, nil); return err }},
		{"plane", viz.ErrOptions, func() error { _, err := viz.Slice(good, viz.Plane(7), 0, nil); return err }},
		{"labels shape", viz.ErrShape, func() error {
			_, err := viz.Slice(good, viz.Axial, 0, &viz.ViewOptions{Labels: lab})
			return err
		}},
		{"alpha", viz.ErrOptions, func() error { _, err := viz.Slice(good, viz.Axial, 0, &viz.ViewOptions{Alpha: 2}); return err }},
		{"pixel size", viz.ErrOptions, func() error { _, err := viz.Slice(good, viz.Axial, 0, &viz.ViewOptions{PixelSize: -1}); return err }},
		{"huge", viz.ErrOptions, func() error { _, err := viz.Slice(good, viz.Axial, 0, &viz.ViewOptions{PixelSize: 1e-6}); return err }},
		{"channel", viz.ErrOptions, func() error { _, err := viz.Slice(good, viz.Axial, 0, &viz.ViewOptions{Channel: 1}); return err }},
		{"columns", viz.ErrOptions, func() error { _, err := viz.Montage(good, viz.Axial, 2, &viz.ViewOptions{Columns: -1}); return err }},
		{"percentiles", viz.ErrOptions, func() error {
			_, err := viz.Slice(good, viz.Axial, 0, &viz.ViewOptions{LowPercentile: 90, HighPercentile: 10})
			return err
		}},
		{"labels channels", viz.ErrShape, func() error { _, err := viz.Slice(good, viz.Axial, 0, &viz.ViewOptions{Labels: twoCh}); return err }},
		{"nil image", viz.ErrInput, func() error { _, err := viz.Slice(nil, viz.Axial, 0, nil); return err }},
		{"montage n", viz.ErrInput, func() error { _, err := viz.Montage(good, viz.Axial, 0, nil); return err }},
		{"ortho point", viz.ErrInput, func() error { _, err := viz.Orthogonal(good, [3]int{0, 4, 0}, nil); return err }},
		{"compare shapes", viz.ErrShape, func() error { _, err := viz.Compare(good, good, lab, viz.Axial, 0, nil); return err }},
		{"scroller frames", viz.ErrOptions, func() error {
			_, err := viz.NewScroller(good, viz.Axial, &viz.ScrollOptions{MaxFrames: -1})
			return err
		}},
		{"save ext", viz.ErrFormat, func() error {
			v, _ := viz.Slice(good, viz.Axial, 0, nil)
			return v.SaveAs(t.TempDir() + "/x.gif")
		}},
		{"empty view", viz.ErrInput, func() error { _, err := (&viz.View{}).PNG(); return err }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.run(); !errors.Is(err, c.err) {
				t.Errorf("error %v, want %v", err, c.err)
			}
		})
	}
}

// parseXML reads every token of data, failing on malformed XML.
func parseXML(t *testing.T, data []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	n := 0
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not XML after %d tokens: %v", n, err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no XML tokens")
	}
}

func TestViewFormats(t *testing.T) {
	img, lab := phantom(24, 20, 10)
	v, err := viz.Orthogonal(img, [3]int{12, 10, 5}, &viz.ViewOptions{Labels: lab})
	if err != nil {
		t.Fatal(err)
	}
	svg, err := v.SVG()
	if err != nil {
		t.Fatal(err)
	}
	parseXML(t, svg)
	if n := bytes.Count(svg, []byte("<image")); n != 3 {
		t.Errorf("SVG has %d <image> elements, want 3", n)
	}
	pdf, err := v.PDF()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Errorf("PDF starts %q", pdf[:8])
	}
	dir := t.TempDir()
	for _, name := range []string{"v.png", "v.SVG", "v.pdf"} {
		if err := v.SaveAs(dir + "/" + name); err != nil {
			t.Errorf("SaveAs %s: %v", name, err)
		}
	}
	assertOnlyFiles(t, dir, "v.SVG", "v.pdf", "v.png")
}
