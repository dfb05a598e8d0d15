// Package display is how a notebook cell, or a library value, shows rich
// output: HTML, Markdown, images, SVG, JSON, LaTeX and plain text.
//
// A value shows richly when it implements [Renderer] and is the last
// expression of a cell, or when it is passed to [Show]. Inside the unetlab
// kernel the bundle becomes a Jupyter display_data (or execute_result)
// message; outside a kernel every function degrades to writing the bundle's
// plain-text form on standard output, so the same code runs in a test or a
// command-line program.
//
// Live output (progress bars, counters) uses display ids: [ShowLive] returns a
// [Handle] whose Update replaces the output in place, through the protocol's
// update_display_data message.
package display

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"sort"
	"sync"

	"github.com/google/uuid"
)

// MIME types understood by Jupyter front ends.
const (
	MIMEText     = "text/plain"
	MIMEHTML     = "text/html"
	MIMEMarkdown = "text/markdown"
	MIMELaTeX    = "text/latex"
	MIMEPNG      = "image/png"
	MIMEJPEG     = "image/jpeg"
	MIMESVG      = "image/svg+xml"
	MIMEJSON     = "application/json"
)

// Bundle maps a MIME type to its data, as in a Jupyter display_data message.
//
// Text types (text/plain, text/html, text/markdown, text/latex,
// image/svg+xml) hold a string. Binary images (image/png, image/jpeg) hold
// the raw encoded bytes as a []byte (the kernel base64-encodes them) or an
// already base64-encoded string. application/json holds any value that
// encoding/json can marshal. Front ends pick the richest type they support,
// so a bundle should carry text/plain as a fallback; [Bundle.Render] and the
// kernel add one when it is missing.
type Bundle map[string]any

// Render returns b itself, so that a Bundle is a [Renderer] and the result of
// HTML, PNG and the other constructors shows richly as a cell's last value.
func (b Bundle) Render() Bundle { return b }

// Text returns the bundle's plain-text form: its text/plain entry, or a short
// description of the richest entry when there is none.
func (b Bundle) Text() string {
	if s, ok := b[MIMEText].(string); ok {
		return s
	}
	if len(b) == 0 {
		return ""
	}
	keys := make([]string, 0, len(b))
	for k := range b {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return fmt.Sprintf("<display %v>", keys)
}

// Renderer is implemented by values that show themselves richly.
type Renderer interface {
	Render() Bundle
}

// RendererFunc adapts a function to a [Renderer].
type RendererFunc func() Bundle

// Render calls f.
func (f RendererFunc) Render() Bundle { return f() }

// Text returns a bundle holding plain text only.
func Text(s string) Bundle { return Bundle{MIMEText: s} }

// HTML returns a bundle showing the HTML fragment s (plain-text fallback: s).
func HTML(s string) Bundle { return Bundle{MIMEHTML: s, MIMEText: s} }

// Markdown returns a bundle showing the Markdown source s.
func Markdown(s string) Bundle { return Bundle{MIMEMarkdown: s, MIMEText: s} }

// LaTeX returns a bundle showing the LaTeX math s, for example "$x^2$".
func LaTeX(s string) Bundle { return Bundle{MIMELaTeX: s, MIMEText: s} }

// SVG returns a bundle showing the SVG document s.
func SVG(s string) Bundle { return Bundle{MIMESVG: s, MIMEText: "<svg image>"} }

// PNG returns a bundle showing the PNG-encoded image data.
func PNG(data []byte) Bundle {
	return Bundle{MIMEPNG: data, MIMEText: imageText("PNG", data, png.DecodeConfig)}
}

// JPEG returns a bundle showing the JPEG-encoded image data.
func JPEG(data []byte) Bundle {
	return Bundle{MIMEJPEG: data, MIMEText: imageText("JPEG", data, jpeg.DecodeConfig)}
}

func imageText(kind string, data []byte, decode func(io.Reader) (image.Config, error)) string {
	cfg, err := decode(bytes.NewReader(data))
	if err != nil {
		return fmt.Sprintf("<%s image, %d bytes>", kind, len(data))
	}
	return fmt.Sprintf("<%s image %dx%d>", kind, cfg.Width, cfg.Height)
}

// Image returns a bundle showing img encoded as PNG. It returns an error
// bundle (text only) when img cannot be encoded.
func Image(img image.Image) Bundle {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Text(fmt.Sprintf("display: cannot encode image: %v", err))
	}
	return PNG(buf.Bytes())
}

// JSON returns a bundle showing v as an expandable JSON tree; v must be
// marshalable by encoding/json. Its plain-text form is the indented JSON.
func JSON(v any) Bundle {
	text, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return Text(fmt.Sprintf("display: cannot marshal JSON: %v", err))
	}
	return Bundle{MIMEJSON: v, MIMEText: string(text)}
}

// Publisher receives what cells display. The unetlab kernel installs one in
// its worker process with [SetPublisher]; outside a kernel the default
// publisher writes each bundle's plain text to standard output.
type Publisher interface {
	// Display shows b as a new output. id is the display id, "" for none.
	Display(b Bundle, id string) error
	// Update replaces every output shown with display id id by b.
	Update(b Bundle, id string) error
	// Clear clears the cell's output; with wait, it clears only when the
	// next output arrives (which avoids flicker in animations).
	Clear(wait bool) error
}

var (
	mu        sync.Mutex
	publisher Publisher = textPublisher{}
)

// SetPublisher installs p as the destination of Show, ShowLive and Clear and
// returns the previous one. nil restores the plain-text publisher.
func SetPublisher(p Publisher) Publisher {
	mu.Lock()
	defer mu.Unlock()
	old := publisher
	if p == nil {
		p = textPublisher{}
	}
	publisher = p
	return old
}

// Interactive reports whether a front end receives what cells display: true
// inside the unetlab kernel (or wherever a [Publisher] was installed), false
// with the plain-text default. Long runs use it to choose between a live
// progress bar and a plain line per step.
func Interactive() bool {
	_, plain := current().(textPublisher)
	return !plain
}

func current() Publisher {
	mu.Lock()
	defer mu.Unlock()
	return publisher
}

// Show displays r as a new output of the running cell.
func Show(r Renderer) error {
	if r == nil {
		return nil
	}
	return current().Display(normalize(r.Render()), "")
}

// Handle refers to one output shown with [ShowLive]; its Update replaces it.
type Handle struct {
	id string
}

// ShowLive displays r under a fresh display id and returns a handle to update
// it in place, for example a progress bar.
func ShowLive(r Renderer) *Handle {
	h := &Handle{id: uuid.NewString()}
	var b Bundle
	if r != nil {
		b = r.Render()
	}
	// An error here means the output channel is gone; Update will report it.
	_ = current().Display(normalize(b), h.id)
	return h
}

// ID returns the handle's display id.
func (h *Handle) ID() string { return h.id }

// Update replaces the output shown by h with r.
func (h *Handle) Update(r Renderer) error {
	if r == nil {
		return nil
	}
	return current().Update(normalize(r.Render()), h.id)
}

// Update replaces every output shown with display id id by r. It is the
// function form of [Handle.Update], for ids made elsewhere.
func Update(id string, r Renderer) error {
	if r == nil {
		return nil
	}
	return current().Update(normalize(r.Render()), id)
}

// Clear clears the running cell's output. With wait the front end clears
// it only when the next output arrives.
func Clear(wait bool) error { return current().Clear(wait) }

// normalize returns a copy of b with a text/plain entry.
func normalize(b Bundle) Bundle {
	out := make(Bundle, len(b)+1)
	for k, v := range b {
		out[k] = v
	}
	if _, ok := out[MIMEText]; !ok {
		out[MIMEText] = b.Text()
	}
	return out
}

// textPublisher is the publisher outside a kernel: plain text on w, or on
// os.Stdout as it is at the time of the call when w is nil.
type textPublisher struct{ w io.Writer }

func (p textPublisher) out() io.Writer {
	if p.w == nil {
		return os.Stdout
	}
	return p.w
}

func (p textPublisher) Display(b Bundle, _ string) error {
	_, err := fmt.Fprintln(p.out(), b.Text())
	return err
}

func (p textPublisher) Update(b Bundle, _ string) error {
	_, err := fmt.Fprintln(p.out(), b.Text())
	return err
}

func (p textPublisher) Clear(bool) error { return nil }
