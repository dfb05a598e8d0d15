package nn_test

import (
	"fmt"
	"github.com/unetlab/unetlab/rng"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/unetlab/unetlab/models/nn"
)

// A conv unit of the paper's U-net: Conv3d k3 p1, InstanceNorm, LeakyReLU,
// then a max pool, on a (1, 1, 16, 16, 16) volume.
func ExampleNewConv3d() {
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(1, 1, 16, 16, 16), gorgonia.WithName("x"),
		gorgonia.WithInit(gorgonia.Gaussian(0, 1)))
	conv, err := nn.NewConv3d(g, "enc1.conv", nn.ConvConfig{InChannels: 1, OutChannels: 8, Kernel: [3]int{3, 3, 3},
		ConvOptions: nn.ConvOptions{Padding: [3]int{1, 1, 1}}}, &nn.LayerOptions{Rand: rng.New(0)})
	if err != nil {
		panic(err)
	}
	y, _ := conv.Forward(x)
	y, _ = nn.InstanceNorm3d(y, nil, nil, 0)
	y, _ = nn.LeakyReLU(y, 0.01)
	y, _ = nn.MaxPool3d(y, &nn.PoolOptions{Kernel: [3]int{2, 2, 2}})
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		panic(err)
	}
	fmt.Println(y.Shape())
	for _, p := range conv.Params() {
		fmt.Println(p.Name, p.Node.Shape())
	}
	// Output:
	// (1, 8, 8, 8, 8)
	// enc1.conv.weight (8, 1, 3, 3, 3)
	// enc1.conv.bias (8)
}
