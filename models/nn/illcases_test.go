package nn

import (
	"errors"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestOpIllCases: bad shapes and settings give errors (never panics) that
// wrap the package's sentinels.
func TestOpIllCases(t *testing.T) {
	g := gorgonia.NewGraph()
	mk := func(s ...int) *gorgonia.Node {
		return gorgonia.NewTensor(g, tensor.Float32, len(s), gorgonia.WithShape(s...))
	}
	ints := gorgonia.NewTensor(g, tensor.Int, 5, gorgonia.WithShape(1, 1, 2, 2, 2))
	x := mk(1, 4, 6, 6, 6)
	cases := []struct {
		name string
		f    func() (*gorgonia.Node, error)
		want error
	}{
		{"pool 4d", func() (*gorgonia.Node, error) {
			return MaxPool3d(mk(4, 6, 6, 6), &PoolOptions{Kernel: [3]int{2, 2, 2}})
		}, ErrShape},
		{"pool no kernel", func() (*gorgonia.Node, error) { return MaxPool3d(x, &PoolOptions{}) }, ErrConfig},
		{"pool big padding", func() (*gorgonia.Node, error) {
			return AvgPool3d(x, &PoolOptions{Kernel: [3]int{2, 2, 2}, Padding: [3]int{2, 0, 0}})
		}, ErrConfig},
		{"pool window too big", func() (*gorgonia.Node, error) { return MaxPool3d(x, &PoolOptions{Kernel: [3]int{7, 2, 2}}) }, ErrShape},
		{"upsample nothing", func() (*gorgonia.Node, error) { return Upsample3d(x, &UpsampleOptions{}) }, ErrConfig},
		{"upsample mode", func() (*gorgonia.Node, error) {
			return Upsample3d(x, &UpsampleOptions{Size: [3]int{2, 2, 2}, Mode: 7})
		}, ErrConfig},
		{"upsample to nothing", func() (*gorgonia.Node, error) {
			return Upsample3d(x, &UpsampleOptions{Scale: [3]float64{0.1, 1, 1}})
		}, ErrShape},
		{"groupnorm groups", func() (*gorgonia.Node, error) { return GroupNorm(x, 3, nil, nil, 0) }, ErrShape},
		{"groupnorm zero", func() (*gorgonia.Node, error) { return GroupNorm(x, 0, nil, nil, 0) }, ErrConfig},
		{"instancenorm 4d", func() (*gorgonia.Node, error) { return InstanceNorm3d(mk(4, 6, 6, 6), nil, nil, 0) }, ErrShape},
		{"affine half", func() (*gorgonia.Node, error) { return InstanceNorm3d(x, mk(4), nil, 0) }, ErrConfig},
		{"affine size", func() (*gorgonia.Node, error) { return LayerNormChannels(x, mk(3), mk(3), 0) }, ErrShape},
		{"layernorm last", func() (*gorgonia.Node, error) { return LayerNorm(x, mk(4), mk(4), 0) }, ErrShape},
		{"batchnorm stats", func() (*gorgonia.Node, error) { return BatchNorm3d(x, nil, nil, NewBatchNormStats(3), 0) }, ErrShape},
		{"batchnorm nil", func() (*gorgonia.Node, error) { return BatchNorm3d(x, nil, nil, nil, 0) }, ErrConfig},
		{"softmax axis", func() (*gorgonia.Node, error) { return SoftmaxAxis(x, 5) }, ErrShape},
		{"softmax negative", func() (*gorgonia.Node, error) { return SoftmaxAxis(x, -1) }, ErrShape},
		{"concat", func() (*gorgonia.Node, error) { return ConcatChannels(x, mk(2, 4, 6, 6, 6)) }, ErrShape},
		{"concat none", func() (*gorgonia.Node, error) { return ConcatChannels() }, ErrConfig},
		{"relu int", func() (*gorgonia.Node, error) { return ReLU(ints) }, ErrDtype},
		{"conv nil weight", func() (*gorgonia.Node, error) { return Conv3d(x, nil, nil, &ConvOptions{}) }, ErrConfig},
		{"conv negative padding", func() (*gorgonia.Node, error) {
			return Conv3d(x, mk(2, 4, 3, 3, 3), nil, &ConvOptions{Padding: [3]int{-1, 0, 0}})
		}, ErrConfig},
		{"convT output padding", func() (*gorgonia.Node, error) {
			return ConvTranspose3d(x, mk(4, 2, 2, 2, 2), nil, &ConvOptions{Stride: [3]int{2, 2, 2}, OutputPadding: [3]int{2, 0, 0}})
		}, ErrConfig},
		{"channel affine axis", func() (*gorgonia.Node, error) { return ChannelAffine(x, mk(4), mk(4), 7) }, ErrConfig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, err := c.f()
			if !errors.Is(err, c.want) {
				t.Fatalf("got node %v, error %v; want %v", n, err, c.want)
			}
		})
	}
}
