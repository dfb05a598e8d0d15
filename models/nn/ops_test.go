package nn

import (
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

type opCase struct {
	name   string
	inputs [][]int
	build  gradBuild
	skip   []int
}

func opCases() []opCase {
	pool := func(max bool, o PoolOptions) gradBuild {
		return func(xs []*gorgonia.Node) (*gorgonia.Node, error) {
			if max {
				return MaxPool3d(xs[0], &o)
			}
			return AvgPool3d(xs[0], &o)
		}
	}
	up := func(o UpsampleOptions) gradBuild {
		return func(xs []*gorgonia.Node) (*gorgonia.Node, error) { return Upsample3d(xs[0], &o) }
	}
	k := func(a, b, c int) [3]int { return [3]int{a, b, c} }
	bn := NewBatchNormStats(3)
	bnEval := NewBatchNormStats(3)
	bnEval.Training = false
	for i := range bnEval.Mean {
		bnEval.Mean[i], bnEval.Var[i] = 0.1*float64(i), 0.5+float64(i)
	}
	return []opCase{
		{"MaxPool2", [][]int{{2, 2, 4, 6, 4}}, pool(true, PoolOptions{Kernel: k(2, 2, 2)}), nil},
		{"MaxPool3s2p1", [][]int{{1, 2, 5, 6, 7}}, pool(true, PoolOptions{Kernel: k(3, 3, 3), Stride: k(2, 2, 2), Padding: k(1, 1, 1)}), nil},
		{"MaxPool-odd", [][]int{{1, 1, 5, 5, 3}}, pool(true, PoolOptions{Kernel: k(2, 3, 1), Stride: k(1, 2, 1)}), nil},
		{"AvgPool2", [][]int{{2, 2, 4, 6, 4}}, pool(false, PoolOptions{Kernel: k(2, 2, 2)}), nil},
		{"AvgPool3s2p1", [][]int{{1, 2, 5, 6, 7}}, pool(false, PoolOptions{Kernel: k(3, 3, 3), Stride: k(2, 2, 2), Padding: k(1, 1, 1)}), nil},
		{"UpNearest2", [][]int{{1, 2, 2, 3, 2}}, up(UpsampleOptions{Scale: [3]float64{2, 2, 2}}), nil},
		{"UpNearestSize", [][]int{{1, 2, 3, 3, 2}}, up(UpsampleOptions{Size: k(5, 7, 3)}), nil},
		{"UpTrilinear2", [][]int{{1, 2, 2, 3, 2}}, up(UpsampleOptions{Scale: [3]float64{2, 2, 2}, Mode: Trilinear}), nil},
		{"UpTrilinearSize", [][]int{{2, 1, 3, 4, 2}}, up(UpsampleOptions{Size: k(5, 7, 3), Mode: Trilinear}), nil},
		{"UpTrilinearDown", [][]int{{1, 1, 6, 5, 4}}, up(UpsampleOptions{Size: k(3, 2, 4), Mode: Trilinear}), nil},
		{"InstanceNorm", [][]int{{2, 3, 3, 4, 2}}, func(xs []*gorgonia.Node) (*gorgonia.Node, error) {
			return InstanceNorm3d(xs[0], nil, nil, 0)
		}, nil},
		{"InstanceNormAffine", [][]int{{2, 3, 3, 4, 2}, {3}, {3}}, func(xs []*gorgonia.Node) (*gorgonia.Node, error) {
			return InstanceNorm3d(xs[0], xs[1], xs[2], 0)
		}, nil},
		{"GroupNorm", [][]int{{2, 4, 3, 2, 3}, {4}, {4}}, func(xs []*gorgonia.Node) (*gorgonia.Node, error) {
			return GroupNorm(xs[0], 2, xs[1], xs[2], 0)
		}, nil},
		{"LayerNormChannels", [][]int{{2, 4, 3, 2, 3}, {4}, {4}}, func(xs []*gorgonia.Node) (*gorgonia.Node, error) {
			return LayerNormChannels(xs[0], xs[1], xs[2], 1e-6)
		}, nil},
		{"LayerNormLast", [][]int{{2, 5, 6}, {6}, {6}}, func(xs []*gorgonia.Node) (*gorgonia.Node, error) {
			return LayerNorm(xs[0], xs[1], xs[2], 0)
		}, nil},
		{"BatchNormTrain", [][]int{{2, 3, 3, 2, 3}, {3}, {3}}, func(xs []*gorgonia.Node) (*gorgonia.Node, error) {
			return BatchNorm3d(xs[0], xs[1], xs[2], bn, 0)
		}, nil},
		{"BatchNormEval", [][]int{{2, 3, 3, 2, 3}, {3}, {3}}, func(xs []*gorgonia.Node) (*gorgonia.Node, error) {
			return BatchNorm3d(xs[0], xs[1], xs[2], bnEval, 0)
		}, nil},
		{"Softmax", [][]int{{2, 4, 3, 2, 3}}, func(xs []*gorgonia.Node) (*gorgonia.Node, error) { return Softmax(xs[0]) }, nil},
		{"LogSoftmax", [][]int{{2, 4, 3, 2, 3}}, func(xs []*gorgonia.Node) (*gorgonia.Node, error) { return LogSoftmax(xs[0]) }, nil},
		{"SoftmaxLast", [][]int{{2, 3, 5}}, func(xs []*gorgonia.Node) (*gorgonia.Node, error) { return SoftmaxAxis(xs[0], 2) }, nil},
		{"Concat", [][]int{{2, 3, 2, 3, 2}, {2, 2, 2, 3, 2}}, func(xs []*gorgonia.Node) (*gorgonia.Node, error) {
			return gorgonia.Concat(1, xs[0], xs[1])
		}, nil},
		{"ConcatChannels", [][]int{{2, 3, 2, 3, 2}, {2, 1, 2, 3, 2}, {2, 2, 2, 3, 2}}, func(xs []*gorgonia.Node) (*gorgonia.Node, error) {
			return ConcatChannels(xs...)
		}, nil},
		{"ConcatChannels4d", [][]int{{3, 2, 5, 1}, {3, 4, 5, 1}}, func(xs []*gorgonia.Node) (*gorgonia.Node, error) {
			return ConcatChannels(xs...)
		}, nil},
		{"Add", [][]int{{2, 3, 2, 3, 2}, {2, 3, 2, 3, 2}}, func(xs []*gorgonia.Node) (*gorgonia.Node, error) {
			return gorgonia.Add(xs[0], xs[1])
		}, nil},
	}
}

func TestOpGradients(t *testing.T) {
	for _, c := range opCases() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(9))
			in := make([]*tensor.Dense, len(c.inputs))
			for i, s := range c.inputs {
				in[i] = randTensor(rng, s...)
			}
			checkGrad(t, c.build, in, c.skip...)
		})
	}
}

func TestConcatChannelsMatchesGorgonia(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	in := []*tensor.Dense{randTensor(rng, 2, 3, 2, 3, 2), randTensor(rng, 2, 1, 2, 3, 2)}
	got, _ := runForward(t, func(xs []*gorgonia.Node) (*gorgonia.Node, error) { return ConcatChannels(xs...) }, in, tensor.Float32)
	want, _ := runForward(t, func(xs []*gorgonia.Node) (*gorgonia.Node, error) { return gorgonia.Concat(1, xs...) }, in, tensor.Float32)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("element %d = %v, want %v", i, got[i], want[i])
		}
	}
	g := gorgonia.NewGraph()
	a := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(1, 2, 4, 4, 4))
	b := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(1, 2, 4, 4, 3))
	if _, err := ConcatChannels(a, b); !errorsIs(err, ErrShape) {
		t.Fatalf("mismatched spatial shapes: %v", err)
	}
}
