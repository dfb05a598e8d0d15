package display

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
)

// recorder is a Publisher that keeps what it is given.
type recorder struct {
	shown, updated []Bundle
	ids            []string
	clears         []bool
}

func (r *recorder) Display(b Bundle, id string) error {
	r.shown = append(r.shown, b)
	r.ids = append(r.ids, id)
	return nil
}

func (r *recorder) Update(b Bundle, id string) error {
	r.updated = append(r.updated, b)
	r.ids = append(r.ids, id)
	return nil
}

func (r *recorder) Clear(wait bool) error {
	r.clears = append(r.clears, wait)
	return nil
}

func TestConstructors(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		b     Bundle
		mime  string
		plain string
	}{
		{"text", Text("hi"), MIMEText, "hi"},
		{"html", HTML("<b>x</b>"), MIMEHTML, "<b>x</b>"},
		{"markdown", Markdown("# t"), MIMEMarkdown, "# t"},
		{"latex", LaTeX("$x^2$"), MIMELaTeX, "$x^2$"},
		{"svg", SVG("<svg/>"), MIMESVG, "<svg image>"},
		{"png", PNG(buf.Bytes()), MIMEPNG, "<PNG image 3x2>"},
		{"png garbage", PNG([]byte("nope")), MIMEPNG, "<PNG image, 4 bytes>"},
		{"image", Image(img), MIMEPNG, "<PNG image 3x2>"},
		{"json", JSON(map[string]int{"a": 1}), MIMEJSON, "{\n  \"a\": 1\n}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, ok := c.b[c.mime]; !ok {
				t.Errorf("bundle %v lacks %s", c.b, c.mime)
			}
			if got := c.b.Text(); got != c.plain {
				t.Errorf("Text() = %q, want %q", got, c.plain)
			}
		})
	}
	if got := JSON(func() {}).Text(); !strings.Contains(got, "cannot marshal") {
		t.Errorf("JSON of a func: %q", got)
	}
}

func TestPublisher(t *testing.T) {
	if Interactive() {
		t.Fatal("the plain-text default counts as interactive")
	}
	r := &recorder{}
	old := SetPublisher(r)
	defer SetPublisher(old)
	if !Interactive() {
		t.Fatal("an installed publisher does not count as interactive")
	}
	// A bundle without text/plain gets a fallback.
	if err := Show(Bundle{MIMEHTML: "<i>x</i>"}); err != nil {
		t.Fatal(err)
	}
	if got := r.shown[0][MIMEText]; got != "<display [text/html]>" {
		t.Errorf("fallback text = %q", got)
	}
	h := ShowLive(Text("0%"))
	if h.ID() == "" || r.ids[1] != h.ID() {
		t.Fatalf("ShowLive id %q, published with %q", h.ID(), r.ids[1])
	}
	if err := h.Update(Text("50%")); err != nil {
		t.Fatal(err)
	}
	if err := Update(h.ID(), RendererFunc(func() Bundle { return Text("100%") })); err != nil {
		t.Fatal(err)
	}
	if len(r.updated) != 2 || r.updated[1].Text() != "100%" || r.ids[3] != h.ID() {
		t.Errorf("updates %v ids %v", r.updated, r.ids)
	}
	if err := Clear(true); err != nil || len(r.clears) != 1 || !r.clears[0] {
		t.Errorf("Clear: err %v, clears %v", err, r.clears)
	}
	if err := Show(nil); err != nil || len(r.shown) != 2 {
		t.Errorf("Show(nil) published: %v", r.shown)
	}
}

func TestTextPublisher(t *testing.T) {
	var buf bytes.Buffer
	old := SetPublisher(textPublisher{w: &buf})
	defer SetPublisher(old)
	_ = Show(HTML("<p>hello</p>"))
	h := ShowLive(Text("step 1"))
	_ = h.Update(Text("step 2"))
	if got, want := buf.String(), "<p>hello</p>\nstep 1\nstep 2\n"; got != want {
		t.Errorf("plain output %q, want %q", got, want)
	}
}
