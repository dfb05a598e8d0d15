package grid_test

import (
	"fmt"

	"github.com/unetlab/unetlab/grid"
)

// The paper's protocol at each scale: designs, folds, epochs, the search
// and the final models.
func ExamplePreset() {
	for _, scale := range []string{"smoke", "render", "laptop", "paper"} {
		s, err := grid.Preset(scale, "data")
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-6s %d designs on %v, %d folds x %d epochs at %d^3, search %d x %d epochs, final %d designs x %d tasks (patience %d, max %d)\n",
			scale, len(s.Designs), s.Tasks, s.Folds, s.Epochs, s.InputSize, s.Search.Trials, s.Search.Epochs,
			len(s.Final.Designs), len(s.Final.Tasks), s.Final.Patience, s.Final.MaxEpochs)
	}
	// Output:
	// smoke  4 designs on [Heart Lung], 3 folds x 8 epochs at 24^3, search 2 x 2 epochs, final 2 designs x 10 tasks (patience 3, max 8)
	// render 8 designs on [Heart Lung], 5 folds x 20 epochs at 32^3, search 6 x 6 epochs, final 2 designs x 10 tasks (patience 8, max 40)
	// laptop 9 designs on [Heart Lung], 5 folds x 20 epochs at 32^3, search 8 x 10 epochs, final 3 designs x 10 tasks (patience 10, max 200)
	// paper  9 designs on [Heart Lung], 5 folds x 100 epochs at 128^3, search 20 x 50 epochs, final 3 designs x 10 tasks (patience 30, max 1000)
}
