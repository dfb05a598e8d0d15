package viz

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/volume"
)

// ScrollOptions configures [NewScroller]; nil or the zero value shows
// every slice up to 128 frames, windowed and sized as [ViewOptions]'
// zero value.
type ScrollOptions struct {
	// View sets the window, pixel size, labels and title of every frame.
	View ViewOptions
	// MaxFrames caps the number of pre-rendered frames (each an inline PNG
	// in the notebook); a volume with more slices is sampled evenly.
	// 0 means 128; negative is an error.
	MaxFrames int
}

// Scroller is a self-contained HTML slice browser: a range slider over
// pre-rendered PNG frames, with no server and no widget library. The
// slider's behaviour is one inline oninput handler (no <script> element),
// which JupyterLab, Notebook, VS Code and nbconvert's HTML export run for
// trusted output; where handlers are stripped (untrusted notebooks,
// GitHub's viewer) the middle frame still shows as a plain image.
type Scroller struct {
	// Title is shown above the frames.
	Title string
	// Indices[i] is the slice index of frame i.
	Indices []int
	// Frames[i] is frame i, PNG-encoded.
	Frames [][]byte
	// Axis names the voxel axis scrolled ("x", "y" or "z").
	Axis string
	// Width and Height are each frame's size in pixels.
	Width, Height int
}

var scrollerSeq atomic.Uint64

// NewScroller renders the slices of channel opt.View.Channel of v in the
// given plane as frames of a [Scroller]. Labels in opt.View are overlaid as
// in [Slice].
func NewScroller(v *volume.Volume, plane Plane, opt *ScrollOptions) (*Scroller, error) {
	o := valueOf(opt)
	img, err := imageOf(v, o.View)
	if err != nil {
		return nil, err
	}
	g, err := geometry(img, plane)
	if err != nil {
		return nil, err
	}
	if o.MaxFrames < 0 {
		return nil, fmt.Errorf("%w: ScrollOptions.MaxFrames %d, want >= 0 (0 means 128)", ErrOptions, o.MaxFrames)
	}
	if o.MaxFrames == 0 {
		o.MaxFrames = 128
	}
	r, err := newRenderer(img, o.View, []sliceGeom{g})
	if err != nil {
		return nil, err
	}
	n := img.shape[g.nAx]
	s := &Scroller{Title: o.View.Title, Axis: [3]string{"x", "y", "z"}[g.nAx]}
	if s.Title == "" {
		s.Title = fmt.Sprintf("%v slices %s", plane, plane.hint())
	}
	if n <= o.MaxFrames {
		for k := range n {
			s.Indices = append(s.Indices, k)
		}
	} else {
		s.Indices = MontageIndices(n, o.MaxFrames)
	}
	// Frames render and encode independently: one worker per core.
	s.Frames = make([][]byte, len(s.Indices))
	errs := make([]error, len(s.Indices))
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(s.Indices)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(s.Indices) {
					return
				}
				img := r.render(g, s.Indices[i], r.labels)
				s.Frames[i], errs[i] = encodePanelPNG(img)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("viz: scroller frame %d: %w", s.Indices[i], err)
		}
	}
	s.Width, s.Height = g.pixels(r.ps)
	return s, nil
}

// HTML returns the scroller as an HTML fragment. The frames sit in a
// data- attribute as comma-separated base64; the visible <img> starts on
// the middle frame.
func (s *Scroller) HTML() string {
	if len(s.Frames) == 0 {
		return "<div>viz.Scroller: no frames</div>"
	}
	id := fmt.Sprintf("unetlab-scroller-%d", scrollerSeq.Add(1))
	mid := len(s.Frames) / 2
	indices := s.Indices
	if len(indices) != len(s.Frames) {
		// A Scroller assembled by hand may lack indices: number the frames.
		indices = make([]int, len(s.Frames))
		for i := range indices {
			indices[i] = i
		}
	}
	enc := make([]string, len(s.Frames))
	for i, f := range s.Frames {
		enc[i] = base64.StdEncoding.EncodeToString(f)
	}
	idx := make([]string, len(indices))
	for i, k := range indices {
		idx[i] = fmt.Sprint(k)
	}
	// The handler caches the split frames on the element: one split per
	// slider, not per move.
	handler := `var d=this.closest('.unetlab-scroller');` +
		`var f=d._f||(d._f=d.getAttribute('data-frames').split(','));` +
		`var k=d._k||(d._k=d.getAttribute('data-indices').split(','));` +
		`d.querySelector('img').src='data:image/png;base64,'+f[this.value];` +
		`d.querySelector('.unetlab-scroller-label').textContent=` + jsString(s.Axis+" = ") + `+k[this.value]+' ('+(+this.value+1)+'/` + fmt.Sprint(len(s.Frames)) + `)';`
	var b strings.Builder
	fmt.Fprintf(&b, `<div class="unetlab-scroller" id="%s" data-frames="%s" data-indices="%s" style="display:inline-block;font-family:sans-serif">`,
		id, strings.Join(enc, ","), strings.Join(idx, ","))
	if s.Title != "" {
		fmt.Fprintf(&b, `<div style="font-weight:bold;margin:2px 0">%s</div>`, html.EscapeString(s.Title))
	}
	fmt.Fprintf(&b, `<img src="data:image/png;base64,%s" width="%d" height="%d" alt="%s" style="image-rendering:pixelated;display:block"/>`,
		enc[mid], s.Width, s.Height, html.EscapeString(fmt.Sprintf("%s, %s = %d", s.Title, s.Axis, indices[mid])))
	fmt.Fprintf(&b, `<div style="display:flex;align-items:center;gap:8px;width:%dpx">`, max(s.Width, 160))
	fmt.Fprintf(&b, `<input type="range" min="0" max="%d" step="1" value="%d" style="flex:1" aria-label="slice" oninput="%s"/>`,
		len(s.Frames)-1, mid, html.EscapeString(handler))
	fmt.Fprintf(&b, `<span class="unetlab-scroller-label" style="font-size:90%%;white-space:nowrap">%s = %d (%d/%d)</span>`,
		html.EscapeString(s.Axis), indices[mid], mid+1, len(s.Frames))
	b.WriteString(`</div></div>`)
	return b.String()
}

// jsString returns s as a JavaScript string literal (JSON's quoting, which
// also escapes <, > and &), so that an Axis set by hand cannot end the
// handler's string.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Render implements display.Renderer: text/html, and the middle frame as
// image/png for front ends that show no HTML.
func (s *Scroller) Render() display.Bundle {
	b := display.Bundle{
		display.MIMEHTML: s.HTML(),
		display.MIMEText: fmt.Sprintf("<viz.Scroller %q: %d frames %dx%d>", s.Title, len(s.Frames), s.Width, s.Height),
	}
	if len(s.Frames) > 0 {
		b[display.MIMEPNG] = s.Frames[len(s.Frames)/2]
	}
	return b
}

// SaveAs writes the scroller as a standalone HTML page (.html or .htm),
// atomically.
func (s *Scroller) SaveAs(path string) error {
	low := strings.ToLower(path)
	if !strings.HasSuffix(low, ".html") && !strings.HasSuffix(low, ".htm") {
		return fmt.Errorf("%w: %s: a Scroller saves as .html", ErrFormat, path)
	}
	page := "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html.EscapeString(s.Title) +
		"</title></head><body>\n" + s.HTML() + "\n</body></html>\n"
	return writeFileAtomic(path, []byte(page))
}
