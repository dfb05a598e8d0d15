package phantom_test

import (
	"fmt"

	"github.com/unetlab/unetlab/volume/phantom"
)

func ExampleGenerate() {
	img, lab, err := phantom.Generate("BrainTumour", 1, 0, &phantom.Options{Shape: [3]int{32, 32, 24}})
	if err != nil {
		panic(err)
	}
	classes := map[float32]bool{}
	for _, f := range lab.Data {
		classes[f] = true
	}
	fmt.Println(img.Channels, img.Shape, len(classes))
	// Output: 4 [32 32 24] 4
}
