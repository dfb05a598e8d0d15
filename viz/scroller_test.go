package viz_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"html"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/viz"
)

func TestScroller(t *testing.T) {
	img, lab := phantom(24, 20, 10)
	s, err := viz.NewScroller(img, viz.Axial, &viz.ScrollOptions{View: viz.ViewOptions{Labels: lab, PixelSize: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Frames) != 10 || len(s.Indices) != 10 || s.Axis != "z" {
		t.Fatalf("%d frames, %d indices, axis %q", len(s.Frames), len(s.Indices), s.Axis)
	}
	for i, f := range s.Frames {
		cfg, err := png.DecodeConfig(bytes.NewReader(f))
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		// 24 x 0.8 mm by 20 x 0.8 mm at 1 mm per pixel.
		if cfg.Width != 19 || cfg.Height != 16 {
			t.Errorf("frame %d is %dx%d, want 19x16", i, cfg.Width, cfg.Height)
		}
	}
	// Each frame is the same picture Slice draws.
	one, err := viz.Slice(img, viz.Axial, 3, &viz.ViewOptions{Labels: lab, PixelSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	frame, _ := png.Decode(bytes.NewReader(s.Frames[3]))
	panel := one.Panel(0)
	for y := range 16 {
		for x := range 19 {
			if rgba(frame.At(x, y)) != rgba(panel.At(x, y)) {
				t.Fatalf("frame 3 pixel (%d,%d) %v, Slice %v", x, y, rgba(frame.At(x, y)), rgba(panel.At(x, y)))
			}
		}
	}
	b := s.Render()
	h, _ := b[display.MIMEHTML].(string)
	parseXML(t, []byte(h))
	if strings.Contains(h, "<script") {
		t.Error("scroller HTML has a <script> element")
	}
	mid := base64.StdEncoding.EncodeToString(s.Frames[5])
	if !strings.Contains(h, `<img src="data:image/png;base64,`+mid+`"`) {
		t.Error("the <img> does not start on the middle frame")
	}
	if !bytes.Equal(b[display.MIMEPNG].([]byte), s.Frames[5]) {
		t.Error("image/png fallback is not the middle frame")
	}
	for i, f := range s.Frames {
		if !strings.Contains(h, base64.StdEncoding.EncodeToString(f)) {
			t.Errorf("frame %d missing from the HTML", i)
		}
	}
	// Sampling: at most MaxFrames frames, evenly spaced.
	s2, err := viz.NewScroller(img, viz.Sagittal, &viz.ScrollOptions{MaxFrames: 4})
	if err != nil {
		t.Fatal(err)
	}
	if got := s2.Indices; len(got) != 4 || got[0] != 3 || got[3] != 21 || s2.Axis != "x" {
		t.Errorf("sampled indices %v axis %s, want [3 9 15 21] x", got, s2.Axis)
	}
	dir := t.TempDir()
	if err := s.SaveAs(filepath.Join(dir, "s.html")); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveAs(filepath.Join(dir, "s.png")); err == nil {
		t.Error("SaveAs .png succeeded")
	}
	assertOnlyFiles(t, dir, "s.html")
}

// TestScrollerHandler runs the slider's inline oninput handler in Node
// against a minimal DOM and checks that it swaps in the chosen frame and
// label. Skipped where node is not installed.
func TestScrollerHandler(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	img, _ := phantom(16, 16, 6)
	s, err := viz.NewScroller(img, viz.Axial, &viz.ScrollOptions{View: viz.ViewOptions{PixelSize: 2}})
	if err != nil {
		t.Fatal(err)
	}
	h := s.HTML()
	attr := func(name string) string {
		m := regexp.MustCompile(name + `="([^"]*)"`).FindStringSubmatch(h)
		if m == nil {
			t.Fatalf("no %s attribute", name)
		}
		return html.UnescapeString(m[1])
	}
	script := `
const frames = process.argv[2], indices = process.argv[3], handler = process.argv[4];
const img = {src: ''}, label = {textContent: ''};
const div = {
  getAttribute: n => n === 'data-frames' ? frames : indices,
  querySelector: q => q === 'img' ? img : (q === '.unetlab-scroller-label' ? label : null),
};
const input = {value: '4', closest: sel => sel === '.unetlab-scroller' ? div : null};
new Function(handler).call(input);
console.log(img.src.slice(0, 40) + '|' + img.src.length + '|' + label.textContent);
`
	f := filepath.Join(t.TempDir(), "h.js")
	if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, f, attr("data-frames"), attr("data-indices"), attr("oninput")).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	want := base64.StdEncoding.EncodeToString(s.Frames[4])
	src := "data:image/png;base64," + want
	if got := strings.TrimSpace(string(out)); got != src[:40]+"|"+strconv.Itoa(len(src))+"|z = 4 (5/6)" {
		t.Errorf("handler result %q", got)
	}
}

// TestScrollerNbconvert exports a notebook holding a scroller output with
// nbconvert's HTML exporter and checks that the slider, its handler and
// the frames survive the export. Skipped under -short or without
// jupyter-nbconvert.
func TestScrollerNbconvert(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	nbconvert, err := exec.LookPath("jupyter-nbconvert")
	if err != nil {
		t.Skip("jupyter-nbconvert not installed")
	}
	img, _ := phantom(16, 16, 6)
	s, err := viz.NewScroller(img, viz.Axial, &viz.ScrollOptions{View: viz.ViewOptions{PixelSize: 2}})
	if err != nil {
		t.Fatal(err)
	}
	b := s.Render()
	nb := map[string]any{
		"nbformat": 4, "nbformat_minor": 5,
		"metadata": map[string]any{"kernelspec": map[string]any{"name": "unetlab", "display_name": "Go (unetlab)", "language": "go"}},
		"cells": []any{map[string]any{
			"cell_type": "code", "id": "c1", "execution_count": 1, "metadata": map[string]any{},
			"source": "viz.NewScroller(img, viz.Axial, nil)",
			"outputs": []any{map[string]any{
				"output_type": "display_data", "metadata": map[string]any{},
				"data": map[string]any{
					"text/html":  b[display.MIMEHTML],
					"text/plain": b[display.MIMEText],
					"image/png":  base64.StdEncoding.EncodeToString(b[display.MIMEPNG].([]byte)),
				},
			}},
		}},
	}
	data, err := json.Marshal(nb)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "scroll.ipynb")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(nbconvert, "--to", "html", "--stdout", path).Output()
	if err != nil {
		t.Fatalf("nbconvert: %v", err)
	}
	page := string(out)
	for _, want := range []string{
		`class="unetlab-scroller"`,
		`type="range"`,
		`oninput="var d=this.closest(`,
		`data-frames="` + base64.StdEncoding.EncodeToString(s.Frames[0]),
		`<img src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(s.Frames[3]),
	} {
		if !strings.Contains(page, want) {
			t.Errorf("exported HTML lacks %.60q", want)
		}
	}
}

// TestScrollerByHand: a Scroller assembled without Indices, or with an
// Axis holding quotes and markup, renders without panicking and without
// breaking out of the handler's string or the label's element.
func TestScrollerByHand(t *testing.T) {
	s := &viz.Scroller{Frames: [][]byte{{1}, {2}, {3}}, Axis: `z'"<b>`, Width: 4, Height: 4}
	h := s.HTML()
	if strings.Contains(h, "<b>") {
		t.Errorf("Axis markup reached the HTML unescaped: %s", h)
	}
	if strings.Contains(h, `z'`) {
		t.Errorf("Axis quote reached the handler unescaped: %s", h)
	}
	if !strings.Contains(h, "(2/3)") {
		t.Errorf("label of the middle frame missing: %s", h)
	}
}
