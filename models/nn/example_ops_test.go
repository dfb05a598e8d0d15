package nn_test

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/unetlab/unetlab/models/nn"
)

// Trilinear upsampling by 2 with align_corners off, as
// torch.nn.functional.interpolate: a (1, 1, 1, 1, 2) volume [0, 1] becomes
// [0, 0.25, 0.75, 1] along W.
func ExampleUpsample3d() {
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float64, 5, gorgonia.WithShape(1, 1, 1, 1, 2), gorgonia.WithName("x"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(1, 1, 1, 1, 2), tensor.WithBacking([]float64{0, 1}))))
	y, err := nn.Upsample3d(x, &nn.UpsampleOptions{Scale: [3]float64{1, 1, 2}, Mode: nn.Trilinear})
	if err != nil {
		panic(err)
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		panic(err)
	}
	fmt.Println(y.Shape(), y.Value().Data())
	// Output: (1, 1, 1, 1, 4) [0 0.25 0.75 1]
}

// A shape mismatch is an error naming the operation and both shapes.
func ExampleConv3d_shapeError() {
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(1, 3, 8, 8, 8), gorgonia.WithName("x"))
	w := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(16, 4, 3, 3, 3), gorgonia.WithName("w"))
	_, err := nn.Conv3d(x, w, nil, &nn.ConvOptions{Padding: [3]int{1, 1, 1}})
	fmt.Println(err)
	// Output: nn: shape mismatch: Conv3d: input (1, 3, 8, 8, 8) has 3 channels, weight (16, 4, 3, 3, 3) expects 4
}

// ConvBackend says whether this CPU runs the direct convolution kernels.
func ExampleConvBackend() {
	b := nn.ConvBackend()
	fmt.Println(b == "direct (avx512)" || b == "direct (avx2)" || b == "vol2col+gemm")
	// Output: true
}
