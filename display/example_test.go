package display_test

import (
	"fmt"

	"github.com/unetlab/unetlab/display"
)

// Outside a kernel, display falls back to plain text on standard output.
func ExampleShow() {
	display.Show(display.HTML("<b>Dice 0.91</b>"))
	// Output: <b>Dice 0.91</b>
}

// A live output is shown once and updated in place; in a notebook the
// front end redraws it, elsewhere each update prints a line.
func ExampleShowLive() {
	h := display.ShowLive(display.Text("epoch 1/2"))
	h.Update(display.Text("epoch 2/2"))
	fmt.Println(display.Interactive())
	// Output:
	// epoch 1/2
	// epoch 2/2
	// false
}
