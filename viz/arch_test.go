package viz_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/viz"
)

// TestArchitecture draws the paper's designs and checks that the drawing
// follows the model graph: levels, skips and how they merge, blocks on the
// skips, attention; and that changing the config changes the drawing.
func TestArchitecture(t *testing.T) {
	draw := func(cfg models.Config) *viz.Diagram {
		t.Helper()
		d, err := viz.Architecture(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	count := func(d *viz.Diagram, f func(b viz.Block) bool) int {
		n := 0
		for _, b := range d.Blocks {
			if f(b) {
				n++
			}
		}
		return n
	}
	attention := func(b viz.Block) bool { return b.Attention }
	skip := func(b viz.Block) bool { return b.Side == viz.SideSkip }
	concat := func(b viz.Block) bool { return b.Merge == "concat" }
	add := func(b viz.Block) bool { return b.Merge == "add" }
	cases := []struct {
		name                            string
		cfg                             models.Config
		levels, skips, attn, cats, adds int
	}{
		{"U-net (Figure 1)", models.Small(models.UNet), 4, 0, 0, 3, 0},
		{"U-net, 3 levels", models.Config{Arch: models.UNet, Channels: []int{8, 16, 32}, InputSize: [3]int{16, 16, 16}}, 3, 0, 0, 2, 0},
		{"ResBlock2 (Figure 2)", models.Small(models.ResBlock2), 4, 0, 0, 3, 0},
		{"Conv-Skip (Figure 3)", models.Small(models.ConvSkip), 4, 3, 0, 3, 0},
		{"Trans-Unet (Figure 3)", models.Small(models.TransUNet), 4, 3, 3, 3, 0},
		{"Half-UNet (Figure 4)", models.Small(models.HalfUNet), 4, 0, 0, 0, 3},
		{"Swin-UNETR", models.Small(models.SwinUNETR), 6, 0, 4, 5, 0},
	}
	seen := map[string]string{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := draw(c.cfg)
			got := []int{d.Levels, count(d, skip), count(d, attention), count(d, concat), count(d, add)}
			want := []int{c.levels, c.skips, c.attn, c.cats, c.adds}
			for i, name := range []string{"levels", "skip blocks", "attention blocks", "concat merges", "add merges"} {
				if got[i] != want[i] {
					t.Errorf("%s: %d, want %d\n%s", name, got[i], want[i], d)
				}
			}
			// Each skip block sits at its own skip's level (Trans-Unet's
			// attention embeds into tokens first: not at the tokens' level).
			levelOf := map[int]string{}
			for _, b := range d.Blocks {
				if b.Side != viz.SideSkip {
					continue
				}
				if other, ok := levelOf[b.Level]; ok {
					t.Errorf("skip blocks %s and %s both at level %d\n%s", other, b.Name, b.Level, d)
				}
				levelOf[b.Level] = b.Name
			}
			text := d.String()
			if prev, ok := seen[text]; ok {
				t.Errorf("draws as %s does", prev)
			}
			seen[text] = c.name
			b := d.Render()
			svg, _ := b[display.MIMESVG].(string)
			if !strings.HasPrefix(svg, "<svg") || !strings.HasSuffix(svg, "</svg>") || strings.Count(svg, "<rect") != len(d.Blocks) {
				t.Errorf("SVG with %d boxes for %d blocks", strings.Count(svg, "<rect"), len(d.Blocks))
			}
			if c.skips > 0 && !strings.Contains(svg, "#dd8452") {
				t.Error("SVG without skip blocks")
			}
		})
	}
	// One option changes the drawing: Conv-Skip-ResBlock2's skip blocks
	// have no residual Add, the U-net with trilinear up-sampling has no
	// transposed convolution.
	cs, csr := draw(models.Small(models.ConvSkip)), draw(models.Small(models.ConvSkipResBlock2))
	if cs.String() == csr.String() {
		t.Error("Conv-Skip and Conv-Skip-ResBlock2 draw the same")
	}
	up := models.Small(models.UNet)
	up.Up = models.UpTrilinear
	if d := draw(up); strings.Contains(d.String(), "ConvTranspose3d") || d.String() == draw(models.Small(models.UNet)).String() {
		t.Errorf("trilinear up-sampling draws\n%s", d)
	}
	if _, err := viz.Architecture(models.Config{Arch: "nope"}); err == nil {
		t.Error("an unknown arch drew")
	}
	if _, err := viz.ArchitectureOf(nil); !errors.Is(err, viz.ErrInput) {
		t.Errorf("nil summary: %v, want ErrInput", err)
	}
}
