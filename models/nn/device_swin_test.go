package nn

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/unetlab/unetlab/rng"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// checkExecutorGraph builds a graph with build (which returns its output y
// and the nodes to differentiate), reduces y to a loss through a random
// linear map of its last axis and a LeakyReLU (so that the gradient
// reaching y differs from element to element), and runs it with the
// TapeMachine and with the Executor on the emulated device. y and every
// gradient must match the CPU engine's within tol (relative to the largest
// CPU value, at least 1), and no op may fall back to the CPU.
func checkExecutorGraph(t *testing.T, r *rand.Rand, tol float64, build func(g *gorgonia.ExprGraph) (*gorgonia.Node, gorgonia.Nodes)) {
	t.Helper()
	d, err := openDevice("emulated")
	if err != nil {
		t.Skipf("skipped: %v", err)
	}
	defer d.close()
	g := gorgonia.NewGraph()
	y, params := build(g)
	if t.Failed() {
		return
	}
	last := y.Shape()[y.Shape().Dims()-1]
	w := gorgonia.NewConstant(f32Tensor(r, 3, last))
	z, err := LinearMap(y, w)
	if err != nil {
		t.Fatal(err)
	}
	if z, err = LeakyReLU(z, 0.3); err != nil {
		t.Fatal(err)
	}
	loss, err := Sum(z)
	if err != nil {
		t.Fatal(err)
	}
	grads, err := gorgonia.Grad(loss, params...)
	if err != nil {
		t.Fatal(err)
	}
	var wantY *tensor.Dense
	wantG := tapeReference(t, g, params, func() { wantY = y.Value().(*tensor.Dense).Clone().(*tensor.Dense) })
	e, err := NewExecutor(d, params, append(gorgonia.Nodes{y, loss}, grads...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	}()
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := e.Stats()
	gotY, err := e.Value(y)
	if err != nil {
		t.Fatal(err)
	}
	compareF32(t, "forward", gotY, wantY, tol)
	for i, gn := range grads {
		gv, err := e.Value(gn)
		if err != nil {
			t.Fatal(err)
		}
		compareF32(t, "gradient of "+params[i].Name(), gv, wantG[i], tol)
	}
	if st.FallbackOps != 0 {
		t.Errorf("%d ops fell back to the CPU: %v", st.FallbackOps, st)
	}
}

// input is a float32 tensor node of random values in [-scale, scale).
func input(g *gorgonia.ExprGraph, r *rand.Rand, name string, scale float32, shape ...int) *gorgonia.Node {
	v := f32Tensor(r, shape...)
	for i := range v.Data().([]float32) {
		v.Data().([]float32)[i] *= scale
	}
	return gorgonia.NewTensor(g, tensor.Float32, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name), gorgonia.WithValue(v))
}

// must returns a function that fails t on an error and passes the node on.
func must(t *testing.T) func(*gorgonia.Node, error) *gorgonia.Node {
	return func(n *gorgonia.Node, err error) *gorgonia.Node {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
}

// TestDeviceAttentionSoftmaxMasks: the attention softmax with a relative
// position bias (broadcast over leading axes), a dense mask with -inf
// entries and whole rows masked, and the shifted-window mask as region
// labels, forward and backward (the bias gradient summed down from the
// scores' shape, also by the scale-0 path), at odd sizes.
func TestDeviceAttentionSoftmaxMasks(t *testing.T) {
	r := rand.New(rand.NewSource(31))
	dense := func(nw, l int) *tensor.Dense {
		m := make([]float64, nw*l*l)
		for i := range m {
			switch r.Intn(5) {
			case 0:
				m[i] = math.Inf(-1)
			case 1:
				m[i] = -100
			}
		}
		for j := 0; j < l; j++ { // window 0, row 1: masked everywhere
			m[l+j] = math.Inf(-1)
		}
		return tensor.New(tensor.WithShape(nw, l, l), tensor.WithBacking(m))
	}
	regions := func(nw, l int) []int32 {
		v := make([]int32, nw*l)
		for i := range v {
			v[i] = int32(r.Intn(3))
		}
		return v
	}
	cases := []struct {
		name     string
		x, bias  []int
		scale    float64
		mask     func() *tensor.Dense
		regions  func() []int32
		nw       int
		wantBias bool
	}{
		{"bias (heads, L, M)", []int{2, 3, 5, 7}, []int{3, 5, 7}, 0.7, nil, nil, 0, true},
		{"bias (L, M)", []int{2, 3, 5, 7}, []int{5, 7}, 1.3, nil, nil, 0, true},
		{"bias, scale 0", []int{2, 3, 5, 7}, []int{3, 5, 7}, 0, nil, nil, 0, true},
		{"dense mask", []int{4, 2, 5, 5}, nil, 0.9, func() *tensor.Dense { return dense(2, 5) }, nil, 0, false},
		{"bias and dense mask", []int{6, 2, 7, 7}, []int{2, 7, 7}, 0.9, func() *tensor.Dense { return dense(3, 7) }, nil, 0, true},
		{"bias and regions", []int{4, 3, 6, 6}, []int{3, 6, 6}, 0.6, nil, func() []int32 { return regions(2, 6) }, 2, true},
		{"regions", []int{3, 1, 9, 9}, nil, 1, nil, func() []int32 { return regions(3, 9) }, 3, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkExecutorGraph(t, r, 1e-5, func(g *gorgonia.ExprGraph) (*gorgonia.Node, gorgonia.Nodes) {
				x := input(g, r, "x", 4, c.x...)
				params := gorgonia.Nodes{x}
				var bias *gorgonia.Node
				if c.bias != nil {
					bias = input(g, r, "bias", 2, c.bias...)
					params = append(params, bias)
				}
				var mask *tensor.Dense
				if c.mask != nil {
					mask = c.mask()
				}
				var reg []int32
				if c.regions != nil {
					reg = c.regions()
				}
				return must(t)(attentionSoftmax(x, c.scale, bias, mask, reg, c.nw)), params
			})
		})
	}
}

// TestDeviceSwinLayout: the layout ops of shifted-window attention on the
// device against the CPU, forward and backward: the relative position
// bias gathered from its table (whole and clipped windows; its gradient
// scattered back), the cyclic shift (Roll3d), padding and cropping, window
// partition and reverse, at odd sizes.
func TestDeviceSwinLayout(t *testing.T) {
	r := rand.New(rand.NewSource(32))
	cases := []struct {
		name  string
		build func(t *testing.T, g *gorgonia.ExprGraph) (*gorgonia.Node, gorgonia.Nodes)
	}{
		{"relative position bias", func(t *testing.T, g *gorgonia.ExprGraph) (*gorgonia.Node, gorgonia.Nodes) {
			w := [3]int{2, 3, 2}
			tab := input(g, r, "table", 1, RelativePositionTableSize(w), 3)
			return must(t)(RelativePositionBias(tab, w, 12)), gorgonia.Nodes{tab}
		}},
		{"relative position bias, clipped window", func(t *testing.T, g *gorgonia.ExprGraph) (*gorgonia.Node, gorgonia.Nodes) {
			w := [3]int{3, 3, 3}
			tab := input(g, r, "table", 1, RelativePositionTableSize(w), 2)
			return must(t)(RelativePositionBias(tab, w, 7)), gorgonia.Nodes{tab}
		}},
		{"roll", func(t *testing.T, g *gorgonia.ExprGraph) (*gorgonia.Node, gorgonia.Nodes) {
			x := input(g, r, "x", 1, 2, 3, 4, 5, 3)
			return must(t)(Roll3d(x, [3]int{1, -2, 7})), gorgonia.Nodes{x}
		}},
		{"pad, partition, reverse, crop", func(t *testing.T, g *gorgonia.ExprGraph) (*gorgonia.Node, gorgonia.Nodes) {
			x := input(g, r, "x", 1, 2, 5, 4, 7, 3)
			y := must(t)(PadChannelsLast(x, [3]int{1, 2, 2}))
			y = must(t)(WindowPartition(y, [3]int{3, 3, 3}))
			y = must(t)(WindowReverse(y, [3]int{3, 3, 3}, [4]int{2, 6, 6, 9}))
			return must(t)(CropChannelsLast(y, [3]int{5, 4, 7})), gorgonia.Nodes{x}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkExecutorGraph(t, r, 1e-6, func(g *gorgonia.ExprGraph) (*gorgonia.Node, gorgonia.Nodes) { return c.build(t, g) })
		})
	}
}

// TestDeviceWindowAttention: whole shifted-window attention blocks
// (WindowAttention.ForwardVolume: pad, roll, partition, qkv, biased and
// masked softmax, proj, reverse, roll back, crop) on the device against
// the CPU, forward and backward to the input and every parameter, with and
// without a shift, at odd sizes and with a window clipped on one axis.
func TestDeviceWindowAttention(t *testing.T) {
	r := rand.New(rand.NewSource(33))
	cases := []struct {
		x             []int
		window, shift [3]int
		heads         int
	}{
		{[]int{1, 5, 6, 7, 6}, [3]int{3, 3, 3}, [3]int{0, 0, 0}, 2},
		{[]int{2, 5, 6, 7, 6}, [3]int{3, 3, 3}, [3]int{1, 1, 1}, 3},
		{[]int{1, 4, 2, 6, 4}, [3]int{3, 3, 3}, [3]int{1, 1, 2}, 1}, // H clipped to 2, its shift to 0
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%v window %v shift %v", c.x, c.window, c.shift), func(t *testing.T) {
			checkExecutorGraph(t, r, 1e-5, func(g *gorgonia.ExprGraph) (*gorgonia.Node, gorgonia.Nodes) {
				l, err := NewWindowAttention(g, "attn", WindowAttentionConfig{Dim: c.x[4], Heads: c.heads, Window: c.window},
					&LayerOptions{Rand: rng.New(uint64(40 + i))})
				if err != nil {
					t.Fatal(err)
				}
				// A larger table than MONAI's init, so that the bias matters.
				tab := l.BiasTable.Value().Data().([]float32)
				for j := range tab {
					tab[j] = float32(r.NormFloat64())
				}
				x := input(g, r, "x", 1, c.x...)
				params := gorgonia.Nodes{x}
				for _, p := range l.Params() {
					params = append(params, p.Node)
				}
				return must(t)(l.ForwardVolume(x, c.shift)), params
			})
		})
	}
}

// TestDevicePatchMerging: patch merging as the graph builds it (reshape,
// permute of the 2x2x2 neighbours to the channel axis, and for an order
// other than the natural one a constant selection matrix over the eight
// neighbours) runs on the device for any order, repeats included (MONAI's
// legacy order), forward and backward.
func TestDevicePatchMerging(t *testing.T) {
	r := rand.New(rand.NewSource(34))
	for _, order := range [][8]int{{0, 1, 2, 3, 4, 5, 6, 7}, {0, 4, 2, 1, 5, 2, 1, 7}, {7, 3, 5, 1, 6, 2, 4, 0}} {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			checkExecutorGraph(t, r, 1e-6, func(g *gorgonia.ExprGraph) (*gorgonia.Node, gorgonia.Nodes) {
				n, d, h, w, c := 2, 2, 3, 1, 5
				x := input(g, r, "x", 1, n, 2*d, 2*h, 2*w, c)
				y := must(t)(Reshape(x, n, d, 2, h, 2, w, 2, c))
				y = must(t)(Permute(y, 0, 1, 3, 5, 2, 4, 6, 7))
				if order != [8]int{0, 1, 2, 3, 4, 5, 6, 7} {
					y = must(t)(Reshape(y, n, d, h, w, 8, c))
					y = must(t)(Permute(y, 0, 1, 2, 3, 5, 4))
					sel := make([]float32, 64)
					for o, i := range order {
						sel[o*8+i] = 1
					}
					y = must(t)(LinearMap(y, gorgonia.NewConstant(tensor.New(tensor.WithShape(8, 8), tensor.WithBacking(sel)))))
					y = must(t)(Permute(y, 0, 1, 2, 3, 5, 4))
				}
				return must(t)(Reshape(y, n, d, h, w, 8*c)), gorgonia.Nodes{x}
			})
		})
	}
}

// TestDeviceLinear: nn.Linear (the Swin blocks' MLP and patch-merging
// reduction) on the device against the CPU, with and without a bias,
// forward and its three gradients, at odd sizes.
func TestDeviceLinear(t *testing.T) {
	r := rand.New(rand.NewSource(35))
	cases := []struct {
		x    []int
		out  int
		bias bool
	}{
		{[]int{2, 3, 5, 7}, 9, true},
		{[]int{13, 6}, 5, false},
		{[]int{1, 3, 2, 5, 12}, 24, true},
	}
	for _, d := range testDevices(t) {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%v to %d bias %v", d.Kind(), c.x, c.out, c.bias), func(t *testing.T) {
				in := []*tensor.Dense{f32Tensor(r, c.x...), f32Tensor(r, c.out, c.x[len(c.x)-1])}
				if c.bias {
					in = append(in, f32Tensor(r, c.out))
				}
				checkDeviceKernel(t, d, r, &linearKernel{bias: c.bias}, in, 1e-5)
			})
		}
	}
}
