package decathlon_test

import (
	"context"
	"fmt"
	"os"

	"github.com/unetlab/unetlab/volume/decathlon"
	"github.com/unetlab/unetlab/volume/phantom"
)

func ExampleOpen() {
	ctx := context.Background()
	root, _ := os.MkdirTemp("", "data")
	defer os.RemoveAll(root)
	// A synthetic twin of Task02_Heart, in the Decathlon's layout.
	if _, err := phantom.Write(ctx, root, "Task02_Heart", &phantom.Options{Shape: [3]int{24, 24, 16}, Training: 4, Test: 1}); err != nil {
		panic(err)
	}

	ds, err := decathlon.Open(root + "/Task02_Heart")
	if err != nil {
		panic(err)
	}
	fmt.Println(ds)
	s, err := ds.Load(ctx, 0)
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Case.ID, s.Image.Shape, s.Label.Channels)

	// Normalised, resized to 32^3, cached: a batch.Source.
	p := ds.Prepare(&decathlon.PrepareOptions{Shape: [3]int{32, 32, 32}})
	img, lab, err := p.Sample(ctx, 0)
	if err != nil {
		panic(err)
	}
	fmt.Println(img.Shape, lab.Shape, p.Len(), p.Classes())
	// Output:
	// Heart: 4 training and 1 test cases, modalities [MRI], labels [background left atrium]
	// la_001 [24 24 16] 1
	// [32 32 32] [32 32 32] 4 2
}
