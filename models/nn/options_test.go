package nn

import (
	"errors"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestOptionsInvalid: an ill option of Conv3d, the pools or Upsample3d
// gives ErrConfig and names that one field, its value and the rule; nil
// options are the defaults where there are defaults.
func TestOptionsInvalid(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(1, 2, 4, 4, 4), gorgonia.WithName("x"))
	w := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(2, 2, 3, 3, 3), gorgonia.WithName("w"))
	cases := []struct {
		name string
		f    func() (*gorgonia.Node, error)
		msg  string
	}{
		{"conv stride", func() (*gorgonia.Node, error) { return Conv3d(x, w, nil, &ConvOptions{Stride: [3]int{1, -1, 1}}) },
			"Conv3d: nn: invalid configuration: ConvOptions.Stride [1 -1 1]: each must be >= 0"},
		{"conv groups", func() (*gorgonia.Node, error) { return Conv3d(x, w, nil, &ConvOptions{Groups: -1}) },
			"Conv3d: nn: invalid configuration: ConvOptions.Groups -1: must be >= 0 (0: 1)"},
		{"pool nil", func() (*gorgonia.Node, error) { return MaxPool3d(x, nil) },
			"nn: invalid configuration: MaxPool3d: PoolOptions.Kernel [0 0 0]: each must be >= 1 (required)"},
		{"pool padding", func() (*gorgonia.Node, error) {
			return AvgPool3d(x, &PoolOptions{Kernel: [3]int{2, 2, 2}, Padding: [3]int{0, 2, 0}})
		}, "nn: invalid configuration: AvgPool3d: PoolOptions.Padding [0 2 0]: each must be in [0, kernel/2] for kernel [2 2 2]"},
		{"upsample nil", func() (*gorgonia.Node, error) { return Upsample3d(x, nil) },
			"nn: invalid configuration: Upsample3d: UpsampleOptions.Scale [0 0 0]: each must be finite and > 0 when Size is zero"},
		{"upsample mode", func() (*gorgonia.Node, error) {
			return Upsample3d(x, &UpsampleOptions{Scale: [3]float64{2, 2, 2}, Mode: 7})
		}, `nn: invalid configuration: Upsample3d: UpsampleOptions.Mode "UpsampleMode(7)": must be nearest or trilinear`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := c.f(); !errors.Is(err, ErrConfig) || err.Error() != c.msg {
				t.Fatalf("err %v\nwant %s", err, c.msg)
			}
		})
	}
	if y, err := Conv3d(x, w, nil, nil); err != nil || !y.Shape().Eq(tensor.Shape{1, 2, 2, 2, 2}) {
		t.Fatalf("Conv3d with nil options: %v, %v", y, err)
	}
}
