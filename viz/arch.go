package viz

import (
	"fmt"
	"html"
	"math/bits"
	"slices"
	"strings"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/models"
)

// Side says where a block of a network diagram sits: on the encoder
// (contracting) path, on a skip connection between the two paths, or on the
// decoder (expanding) path.
type Side string

// Sides of a network diagram.
const (
	SideEncoder Side = "encoder"
	SideSkip    Side = "skip"
	SideDecoder Side = "decoder"
)

// Block is one module of a network diagram: consecutive layers of a
// models.Summary sharing a module path.
type Block struct {
	// Name is the module path ("encoder.conv_blocks.0", "swinViT.layers1.0").
	Name string
	// Types are the layer types in it, in order, each once ("Conv3d",
	// "InstanceNorm3d", "LeakyReLU").
	Types []string
	// Level is the resolution the block works at: its first layer's output
	// is the input's size / 2^Level along each side (0 at full
	// resolution; a pooling block sits at the level it pools to, a Swin
	// stage at the level of its attention, before its patch merging).
	Level int
	// Channels is the channel count of its last layer's output; Params
	// its parameters.
	Channels int
	Params   int64
	Side     Side
	// Attention marks a block holding attention (MultiheadAttention,
	// WindowAttention); Merge is "concat" or "add" when it joins a skip
	// to the decoder path, "" otherwise.
	Attention bool
	Merge     string
}

// Diagram is a network's architecture drawn from its layer graph, in the
// layout of the paper's Figures 1-4: one row per resolution level, the
// encoder on the left going down, the decoder on the right going up, skip
// connections across (with any block on them in the middle), attention
// blocks highlighted. It renders as SVG with a text outline.
type Diagram struct {
	Title  string
	Arch   models.Arch
	Levels int // rows: 1 + the deepest level
	Blocks []Block
}

// Architecture draws the network that cfg describes (models.Describe: no
// weights are built). Blocks come from the layers' module paths, levels
// from their output sizes and sides from the modules' roles, so that a
// change of cfg (another arch, skip mode, depth, Swin merging, ...) changes
// the drawing.
func Architecture(cfg models.Config) (*Diagram, error) {
	s, err := models.Describe(cfg)
	if err != nil {
		return nil, fmt.Errorf("viz: Architecture: %w", err)
	}
	return ArchitectureOf(s)
}

// ArchitectureOf draws the network of a model's summary (Model.Summary or
// models.Describe).
func ArchitectureOf(s *models.Summary) (*Diagram, error) {
	if s == nil || len(s.Layers) == 0 || len(s.Input) != 5 {
		return nil, fmt.Errorf("%w: Architecture: an empty summary", ErrInput)
	}
	in := s.Input[2]
	d := &Diagram{Arch: s.Config.Arch, Title: fmt.Sprintf("%s: %d parameters, input %d channel(s) of %dx%dx%d",
		s.Config.Arch.PaperName(), s.Params, s.Input[1], s.Input[2], s.Input[3], s.Input[4])}
	for _, l := range s.Layers {
		name := blockName(l.Name)
		level, ch := layerLevel(l.Output, in)
		if n := len(d.Blocks); n > 0 && d.Blocks[n-1].Name == name {
			b := &d.Blocks[n-1]
			if !slices.Contains(b.Types, l.Type) {
				b.Types = append(b.Types, l.Type)
			}
			if ch > 0 {
				b.Channels = ch
			}
			if level >= 0 {
				// A block sits where its output goes: Trans-Unet's
				// attention embeds a skip into 8³ tokens first and
				// returns to the skip's scale last.
				b.Level = level
			}
			b.Params += l.NumParams()
			b.Attention = b.Attention || strings.Contains(l.Type, "Attention")
			continue
		}
		b := Block{Name: name, Types: []string{l.Type}, Level: level, Channels: ch, Params: l.NumParams(),
			Attention: strings.Contains(l.Type, "Attention")}
		d.Blocks = append(d.Blocks, b)
	}
	for i := range d.Blocks {
		b := &d.Blocks[i]
		b.Level = max(b.Level, 0) // a block of token steps only: drawn at full resolution
		b.Side = blockSide(b)
		switch {
		case slices.Contains(b.Types, "Concat"):
			b.Merge = "concat"
		case b.Side == SideDecoder && strings.Contains(b.Name, "skip_add"):
			b.Merge = "add"
		}
		d.Levels = max(d.Levels, b.Level+1)
	}
	return d, nil
}

// blockName is the module path of a layer's block: up to the first numeric
// component (an index into a ModuleList), else the first two components.
func blockName(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			return strings.Join(parts[:i+1], ".")
		}
	}
	return strings.Join(parts[:min(2, len(parts))], ".")
}

// layerLevel returns log2(in / side) of a layer's output and its channels;
// level -1 when the output is not a volume at a power-of-two scale.
func layerLevel(out []int, in int) (level, channels int) {
	if len(out) != 5 {
		return -1, 0
	}
	side, ch := out[2], out[1]
	if out[4] != out[2] && out[1] == out[2] && out[2] == out[3] { // channels-last (N, D, H, W, C)
		side, ch = out[1], out[4]
	}
	if side <= 0 || in%side != 0 || bits.OnesCount(uint(in/side)) != 1 {
		return -1, ch
	}
	return bits.TrailingZeros(uint(in / side)), ch
}

// blockSide classifies a block by its module's role.
func blockSide(b *Block) Side {
	n := strings.ToLower(b.Name)
	switch {
	case strings.Contains(n, "skip") && !strings.Contains(n, "skip_add"), strings.Contains(n, "attention_blocks"):
		return SideSkip
	case strings.HasPrefix(n, "decoder"), strings.HasPrefix(n, "out"):
		return SideDecoder
	}
	return SideEncoder
}

// cell returns the blocks on side at level, in execution order.
func (d *Diagram) cell(side Side, level int) []Block {
	var out []Block
	for _, b := range d.Blocks {
		if b.Side == side && b.Level == level {
			out = append(out, b)
		}
	}
	return out
}

// skipMerge returns how the decoder joins level's skip ("concat", "add"),
// or "" when it does not.
func (d *Diagram) skipMerge(level int) string {
	for _, b := range d.cell(SideDecoder, level) {
		if b.Merge != "" {
			return b.Merge
		}
	}
	return ""
}

// String is the text outline: per level, the encoder, skip and decoder
// blocks (attention marked with *).
func (d *Diagram) String() string {
	var sb strings.Builder
	sb.WriteString(d.Title + "\n")
	for lv := 0; lv < d.Levels; lv++ {
		fmt.Fprintf(&sb, "level %d (1/%d):\n", lv, 1<<lv)
		for _, side := range []Side{SideEncoder, SideSkip, SideDecoder} {
			var names []string
			for _, b := range d.cell(side, lv) {
				names = append(names, blockLabel(b))
			}
			if len(names) > 0 {
				fmt.Fprintf(&sb, "  %-8s %s\n", side, strings.Join(names, " -> "))
			}
		}
		if m := d.skipMerge(lv); m != "" {
			fmt.Fprintf(&sb, "  skip     encoder => decoder (%s)\n", m)
		}
	}
	return sb.String()
}

// blockLabel is "name [types] Cch" with a * for attention.
func blockLabel(b Block) string {
	s := fmt.Sprintf("%s [%s] %dch", b.Name, strings.Join(b.Types, " "), b.Channels)
	if b.Attention {
		s += " *attention"
	}
	return s
}

// Colours of the diagram's blocks.
const (
	archEncoder   = "#4c72b0"
	archDecoder   = "#55a868"
	archSkip      = "#dd8452"
	archAttention = "#c44e52"
)

// SVG draws the diagram: boxes per block (encoder left, skip middle,
// decoder right; one row per level), arrows down the encoder, up the
// decoder and across the skips.
func (d *Diagram) SVG() string {
	const (
		boxW, boxH, gapX, rowH, top, left = 170, 34, 6, 64, 40, 10
	)
	widest := map[Side]int{}
	for lv := 0; lv < d.Levels; lv++ {
		for _, side := range []Side{SideEncoder, SideSkip, SideDecoder} {
			widest[side] = max(widest[side], len(d.cell(side, lv)))
		}
	}
	colX := map[Side]int{SideEncoder: left}
	colX[SideSkip] = colX[SideEncoder] + max(widest[SideEncoder], 1)*(boxW+gapX) + 40
	colX[SideDecoder] = colX[SideSkip] + widest[SideSkip]*(boxW+gapX) + 40
	width := colX[SideDecoder] + max(widest[SideDecoder], 1)*(boxW+gapX) + left
	height := top + d.Levels*rowH + 30
	var sb strings.Builder
	// The viewBox lets a narrower output area scale the drawing down.
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %[1]d %[2]d" font-family="sans-serif" font-size="10">`, width, height)
	sb.WriteString(`<defs><marker id="a" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#444"/></marker></defs>`)
	fmt.Fprintf(&sb, `<text x="%d" y="18" font-size="13" font-weight="bold">%s</text>`, left, html.EscapeString(d.Title))
	y := func(lv int) int { return top + lv*rowH }
	// first and last box of a cell, for arrows
	edge := func(side Side, lv int) (x0, x1 int, ok bool) {
		n := len(d.cell(side, lv))
		if n == 0 {
			return 0, 0, false
		}
		return colX[side], colX[side] + n*(boxW+gapX) - gapX, true
	}
	line := func(x0, y0, x1, y1 int, colour, dash string) {
		fmt.Fprintf(&sb, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1.5" %s marker-end="url(#a)"/>`, x0, y0, x1, y1, colour, dash)
	}
	for lv := 0; lv < d.Levels; lv++ {
		fmt.Fprintf(&sb, `<text x="%d" y="%d" fill="#888">1/%d</text>`, width-30, y(lv)+boxH/2+4, 1<<lv)
		for _, side := range []Side{SideEncoder, SideSkip, SideDecoder} {
			for i, b := range d.cell(side, lv) {
				x := colX[side] + i*(boxW+gapX)
				fill := map[Side]string{SideEncoder: archEncoder, SideSkip: archSkip, SideDecoder: archDecoder}[side]
				stroke := "none"
				if b.Attention {
					stroke = archAttention
				}
				fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%d" height="%d" rx="4" fill="%s" fill-opacity="0.25" stroke="%s" stroke-width="3"/>`,
					x, y(lv), boxW, boxH, fill, stroke)
				fmt.Fprintf(&sb, `<text x="%d" y="%d">%s</text>`, x+4, y(lv)+13, html.EscapeString(b.Name))
				detail := fmt.Sprintf("%d ch · %s", b.Channels, strings.Join(b.Types, " "))
				if len(detail) > 34 {
					detail = detail[:33] + "…"
				}
				fmt.Fprintf(&sb, `<text x="%d" y="%d" fill="#333">%s</text>`, x+4, y(lv)+27, html.EscapeString(detail))
			}
		}
		// down the encoder, up the decoder
		if lv+1 < d.Levels {
			if x0, _, ok := edge(SideEncoder, lv); ok {
				if _, _, ok2 := edge(SideEncoder, lv+1); ok2 {
					line(x0+20, y(lv)+boxH, x0+20, y(lv+1), "#444", "")
				}
			}
			if x0, _, ok := edge(SideDecoder, lv); ok {
				if _, _, ok2 := edge(SideDecoder, lv+1); ok2 {
					line(x0+20, y(lv+1), x0+20, y(lv)+boxH, "#444", "")
				}
			}
		}
		// across: the skip, through the skip column when it has blocks
		if m := d.skipMerge(lv); m != "" {
			_, ex1, ok1 := edge(SideEncoder, lv)
			dx0, _, ok2 := edge(SideDecoder, lv)
			if ok1 && ok2 {
				cy := y(lv) + boxH/2
				if sx0, sx1, ok := edge(SideSkip, lv); ok {
					line(ex1, cy, sx0, cy, archSkip, "")
					line(sx1, cy, dx0, cy, archSkip, "")
				} else {
					line(ex1, cy, dx0, cy, "#888", `stroke-dasharray="5,3"`)
				}
				fmt.Fprintf(&sb, `<text x="%d" y="%d" fill="#666">%s</text>`, dx0-40, cy-4, m)
			}
		}
	}
	fmt.Fprintf(&sb, `<text x="%d" y="%d" fill="#666">encoder (blue) · skip blocks (orange) · decoder (green) · attention (red border)</text>`, left, height-8)
	sb.WriteString("</svg>")
	return sb.String()
}

// Render returns the diagram as SVG with the text outline, and as HTML
// holding the same SVG scaled to the output's width where it is wider
// (front ends draw an image/svg+xml at its own size).
func (d *Diagram) Render() display.Bundle {
	svg := d.SVG()
	return display.Bundle{
		display.MIMEHTML: strings.Replace(svg, "<svg ", `<svg style="max-width:100%;height:auto" `, 1),
		display.MIMESVG:  svg,
		display.MIMEText: d.String(),
	}
}
