package nn

import (
	"bytes"
	"errors"
	"github.com/unetlab/unetlab/rng"
	"io"
	"math"
	"math/rand"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func stdOf(v []float64) (maxAbs, std float64) {
	var s, s2 float64
	for _, x := range v {
		maxAbs = math.Max(maxAbs, math.Abs(x))
		s += x
		s2 += x * x
	}
	n := float64(len(v))
	return maxAbs, math.Sqrt(s2/n - (s/n)*(s/n))
}

func TestLayerInit(t *testing.T) {
	g := gorgonia.NewGraph()
	opt := LayerOptions{Rand: rng.New(1)}
	conv, err := NewConv3d(g, "c", ConvConfig{InChannels: 16, OutChannels: 32, Kernel: [3]int{3, 3, 3}}, &opt)
	if err != nil {
		t.Fatal(err)
	}
	convT, err := NewConvTranspose3d(g, "t", ConvConfig{InChannels: 64, OutChannels: 8, Kernel: [3]int{2, 2, 2},
		ConvOptions: ConvOptions{Stride: [3]int{2, 2, 2}}}, &opt)
	if err != nil {
		t.Fatal(err)
	}
	lin, err := NewLinear(g, "l", 100, 300, false, &LayerOptions{Rand: rng.New(2), Dtype: tensor.Float64})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		node  *gorgonia.Node
		fanIn int
	}{
		{"conv.weight", conv.Weight, 16 * 27}, {"conv.bias", conv.Bias, 16 * 27},
		{"convT.weight", convT.Weight, 8 * 8}, {"convT.bias", convT.Bias, 8 * 8},
		{"linear.weight", lin.Weight, 100}, {"linear.bias", lin.Bias, 100},
	}
	for _, c := range cases {
		bound := 1 / math.Sqrt(float64(c.fanIn))
		v := toF64(c.node.Value().(*tensor.Dense))
		m, s := stdOf(v)
		if m > bound {
			t.Errorf("%s: max |w| %g above the bound %g", c.name, m, bound)
		}
		if want := bound / math.Sqrt(3); len(v) > 1000 && math.Abs(s-want) > 0.05*want {
			t.Errorf("%s: std %g, want %g (uniform ±%g)", c.name, s, want, bound)
		}
	}
	if got := conv.Weight.Shape(); !got.Eq(tensor.Shape{32, 16, 3, 3, 3}) {
		t.Errorf("conv weight shape %v", got)
	}
	if got := convT.Weight.Shape(); !got.Eq(tensor.Shape{64, 8, 2, 2, 2}) {
		t.Errorf("convT weight shape %v", got)
	}
	names := []string{}
	for _, p := range append(conv.Params(), lin.Params()...) {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "c.weight,c.bias,l.weight,l.bias" {
		t.Errorf("parameter names %v", names)
	}
}

func TestLayerShapeErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(1, 3, 8, 8, 8), gorgonia.WithName("x"))
	conv, _ := NewConv3d(g, "enc1.conv", ConvConfig{InChannels: 4, OutChannels: 8, Kernel: [3]int{3, 3, 3}}, &LayerOptions{})
	convT, _ := NewConvTranspose3d(g, "up", ConvConfig{InChannels: 2, OutChannels: 8, Kernel: [3]int{2, 2, 2}}, &LayerOptions{})
	norm, _ := NewInstanceNorm3d(g, "enc1.norm", NormConfig{Channels: 5}, &LayerOptions{})
	bn, _ := NewBatchNorm3d(g, "bn", NormConfig{Channels: 6, Affine: true}, &LayerOptions{})
	ln, _ := NewLayerNorm(g, "ln", NormConfig{Channels: 7, Affine: true}, &LayerOptions{})
	lin, _ := NewLinear(g, "fc", 9, 2, false, &LayerOptions{})
	cases := []struct {
		name string
		f    func(*gorgonia.Node) (*gorgonia.Node, error)
		want string
	}{
		{"conv", conv.Forward, "nn.Conv3d enc1.conv: input shape (1, 3, 8, 8, 8), want (N, 4, D, H, W)"},
		{"convT", convT.Forward, "nn.ConvTranspose3d up: input shape (1, 3, 8, 8, 8), want (N, 2, D, H, W)"},
		{"instancenorm", norm.Forward, "nn.InstanceNorm3d enc1.norm: input shape (1, 3, 8, 8, 8), want (N, 5, D, H, W)"},
		{"batchnorm", bn.Forward, "nn.BatchNorm3d bn: input shape (1, 3, 8, 8, 8), want (N, 6, D, H, W)"},
		{"layernorm", ln.Forward, "nn.LayerNorm ln: input shape (1, 3, 8, 8, 8), want (..., 7)"},
		{"linear", lin.Forward, "nn.Linear fc: input shape (1, 3, 8, 8, 8), want (..., 9)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.f(x)
			if !errors.Is(err, ErrShape) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
	if _, err := NewGroupNorm(g, "gn", NormConfig{Channels: 6, Groups: 4}, &LayerOptions{}); !errors.Is(err, ErrConfig) {
		t.Errorf("GroupNorm 6 channels in 4 groups: %v", err)
	}
	if _, err := NewConv3d(g, "bad", ConvConfig{InChannels: 3, OutChannels: 4, Kernel: [3]int{3, 3, 3}, ConvOptions: ConvOptions{Groups: 2}}, &LayerOptions{}); !errors.Is(err, ErrConfig) {
		t.Errorf("groups not dividing channels: %v", err)
	}
}

func TestLinearGradient(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for _, bias := range []bool{true, false} {
		in := []*tensor.Dense{randTensor(rng, 2, 3, 5), randTensor(rng, 4, 5)}
		if bias {
			in = append(in, randTensor(rng, 4))
		}
		checkGrad(t, func(xs []*gorgonia.Node) (*gorgonia.Node, error) {
			if bias {
				return apply(&linearKernel{bias: true}, xs...)
			}
			return apply(&linearKernel{}, xs...)
		}, in)
	}
}

func TestStateRoundTrip(t *testing.T) {
	g := gorgonia.NewGraph()
	conv, _ := NewConv3d(g, "conv", ConvConfig{InChannels: 2, OutChannels: 3, Kernel: [3]int{3, 3, 3}}, &LayerOptions{Rand: rng.New(3)})
	bn, _ := NewBatchNorm3d(g, "bn", NormConfig{Channels: 3, Affine: true}, &LayerOptions{Dtype: tensor.Float64})
	bn.Stats.Mean[1], bn.Stats.Var[2] = 0.25, 3.5
	state := append(conv.State(), bn.State()...)
	var buf bytes.Buffer
	if err := SaveState(&buf, state); err != nil {
		t.Fatal(err)
	}
	saved := buf.Bytes()

	g2 := gorgonia.NewGraph()
	conv2, _ := NewConv3d(g2, "conv", ConvConfig{InChannels: 2, OutChannels: 3, Kernel: [3]int{3, 3, 3}}, &LayerOptions{Rand: rng.New(99)})
	bn2, _ := NewBatchNorm3d(g2, "bn", NormConfig{Channels: 3, Affine: true}, &LayerOptions{Dtype: tensor.Float64})
	state2 := append(conv2.State(), bn2.State()...)
	if err := LoadState(bytes.NewReader(saved), state2); err != nil {
		t.Fatal(err)
	}
	for i := range state {
		a, b := toF64(state[i].Value), toF64(state2[i].Value)
		for j := range a {
			if a[j] != b[j] {
				t.Fatalf("%s[%d] = %v after load, want %v", state[i].Name, j, b[j], a[j])
			}
		}
	}
	if bn2.Stats.Mean[1] != 0.25 || bn2.Stats.Var[2] != 3.5 {
		t.Fatalf("running stats %v %v not loaded", bn2.Stats.Mean, bn2.Stats.Var)
	}

	// Errors: truncation, bad magic, wrong shape, missing tensor.
	if err := LoadState(bytes.NewReader(saved[:len(saved)-3]), state2); !errors.Is(err, io.ErrUnexpectedEOF) || !errors.Is(err, ErrFormat) {
		t.Errorf("truncated: %v", err)
	}
	bad := append([]byte("XXXXXXXX"), saved[8:]...)
	if err := LoadState(bytes.NewReader(bad), state2); !errors.Is(err, ErrFormat) {
		t.Errorf("bad magic: %v", err)
	}
	g3 := gorgonia.NewGraph()
	conv3, _ := NewConv3d(g3, "conv", ConvConfig{InChannels: 2, OutChannels: 4, Kernel: [3]int{3, 3, 3}}, &LayerOptions{})
	if err := LoadState(bytes.NewReader(saved), conv3.State()); !errors.Is(err, ErrShape) {
		t.Errorf("wrong shape: %v", err)
	}
	extra := append(conv2.State(), StateTensor{"other", tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{0}))})
	if err := LoadState(bytes.NewReader(saved), extra); !errors.Is(err, ErrFormat) {
		t.Errorf("missing tensor: %v", err)
	}

	path := t.TempDir() + "/state.bin"
	if err := SaveStateFile(path, state); err != nil {
		t.Fatal(err)
	}
	if err := LoadStateFile(path, state2); err != nil {
		t.Fatal(err)
	}
}
