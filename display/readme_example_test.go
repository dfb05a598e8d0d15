package display_test

import (
	"fmt"
	"image"
	"image/color"

	"github.com/unetlab/unetlab/display"
)

// Example_readme is the rich-output block of README.md, which
// kernel/testdata/test_readme.py checks against it line by line; outside a
// kernel each output is its plain-text form on standard output.
func Example_readme() {
	_ = display.Show(display.Markdown("# Title")) // shown now, as its own output

	img := image.NewGray(image.Rect(0, 0, 64, 16)) // a grey ramp
	for x := 0; x < 64; x++ {
		for y := 0; y < 16; y++ {
			img.SetGray(x, y, color.Gray{Y: uint8(4 * x)})
		}
	}
	_ = display.Show(display.Image(img)) // as PNG; also PNG(bytes), JPEG, SVG, JSON, LaTeX, Text

	h := display.ShowLive(display.Text("0%")) // live output with a display id ...
	_ = h.Update(display.Text("50%"))         // ... replaced in place

	fmt.Println(display.HTML("<b>bold</b>").Text())
	// Output:
	// # Title
	// <PNG image 64x16>
	// 0%
	// 50%
	// <b>bold</b>
}
