package nn

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The fixtures come from testdata/gen_torch.py (PyTorch 1.13, Debian).
type torchRef struct {
	Offset int   `json:"offset"`
	Shape  []int `json:"shape"`
}

type torchCase struct {
	Name   string         `json:"name"`
	Op     string         `json:"op"`
	Params map[string]any `json:"params"`
	Inputs []torchRef     `json:"inputs"`
	Output torchRef       `json:"output"`

	bn *BatchNormStats // set by build for batchnorm cases
}

func loadTorchFixtures(t *testing.T) ([]torchCase, []float32) {
	t.Helper()
	js, err := os.ReadFile("testdata/torch_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		Cases []torchCase `json:"cases"`
	}
	if err := json.Unmarshal(js, &idx); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/torch_fixtures.bin")
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]float32, len(raw)/4)
	for i := range vals {
		vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return idx.Cases, vals
}

func (r torchRef) dense(vals []float32) *tensor.Dense {
	n := tensor.Shape(r.Shape).TotalSize()
	return tensor.New(tensor.WithShape(r.Shape...), tensor.WithBacking(append([]float32(nil), vals[r.Offset:r.Offset+n]...)))
}

func triple(p map[string]any, key string) [3]int {
	var r [3]int
	if v, ok := p[key].([]any); ok {
		for i := range r {
			r[i] = int(v[i].(float64))
		}
	}
	return r
}

func floats(p map[string]any, key string) []float64 {
	var r []float64
	for _, v := range p[key].([]any) {
		r = append(r, v.(float64))
	}
	return r
}

func (c *torchCase) build(xs []*gorgonia.Node) (*gorgonia.Node, error) {
	p := c.Params
	at := func(i int) *gorgonia.Node {
		if i < len(xs) {
			return xs[i]
		}
		return nil
	}
	switch c.Op {
	case "conv", "convT":
		opt := ConvOptions{Stride: triple(p, "stride"), Padding: triple(p, "padding"), Dilation: triple(p, "dilation"),
			OutputPadding: triple(p, "output_padding"), Groups: int(p["groups"].(float64))}
		if c.Op == "conv" {
			return Conv3d(xs[0], xs[1], at(2), &opt)
		}
		return ConvTranspose3d(xs[0], xs[1], at(2), &opt)
	case "maxpool", "avgpool":
		opt := PoolOptions{Kernel: triple(p, "kernel"), Stride: triple(p, "stride"), Padding: triple(p, "padding")}
		if c.Op == "maxpool" {
			return MaxPool3d(xs[0], &opt)
		}
		return AvgPool3d(xs[0], &opt)
	case "upsample":
		opt := UpsampleOptions{Size: triple(p, "size")}
		if s, ok := p["scale"].([]any); ok {
			for i := range opt.Scale {
				opt.Scale[i] = s[i].(float64)
			}
		}
		if p["mode"] == "trilinear" {
			opt.Mode = Trilinear
		}
		return Upsample3d(xs[0], &opt)
	case "instancenorm":
		return InstanceNorm3d(xs[0], at(1), at(2), 0)
	case "groupnorm":
		return GroupNorm(xs[0], int(p["groups"].(float64)), xs[1], xs[2], 0)
	case "layernorm_channels":
		return LayerNormChannels(xs[0], xs[1], xs[2], p["eps"].(float64))
	case "layernorm":
		return LayerNorm(xs[0], xs[1], xs[2], 0)
	case "batchnorm":
		st := NewBatchNormStats(xs[0].Shape()[1])
		copy(st.Mean, floats(p, "running_mean"))
		copy(st.Var, floats(p, "running_var"))
		st.Training = p["training"].(bool)
		c.bn = st
		return BatchNorm3d(xs[0], xs[1], xs[2], st, 0)
	case "relu":
		return ReLU(xs[0])
	case "leaky_relu":
		return LeakyReLU(xs[0], p["slope"].(float64))
	case "gelu":
		return GELU(xs[0])
	case "sigmoid":
		return Sigmoid(xs[0])
	case "softmax":
		return Softmax(xs[0])
	case "log_softmax":
		return LogSoftmax(xs[0])
	}
	return nil, nil
}

// TestForwardMatchesTorch runs every fixture in float32 and float64 and
// compares with PyTorch: |got-want| <= 1e-5 * (|want| + mean|want|).
func TestForwardMatchesTorch(t *testing.T) {
	cases, vals := loadTorchFixtures(t)
	if len(cases) < 25 {
		t.Fatalf("only %d fixture cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			c := &c
			in := make([]*tensor.Dense, len(c.Inputs))
			for i, r := range c.Inputs {
				in[i] = r.dense(vals)
			}
			want := toF64(c.Output.dense(vals))
			var scale float64
			for _, v := range want {
				scale += math.Abs(v)
			}
			scale /= float64(len(want))
			for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
				got, shape := runForward(t, c.build, in, dt)
				if !shape.Eq(tensor.Shape(c.Output.Shape)) {
					t.Fatalf("%v: shape %v, want %v", dt, shape, c.Output.Shape)
				}
				for i := range want {
					if d := math.Abs(got[i] - want[i]); d > 1e-5*(math.Abs(want[i])+scale) {
						t.Fatalf("%v: element %d = %.8g, want %.8g (diff %.3g)", dt, i, got[i], want[i], d)
					}
				}
				if _, ok := c.Params["updated_mean"]; ok {
					wm, wv := floats(c.Params, "updated_mean"), floats(c.Params, "updated_var")
					for i := range wm {
						if math.Abs(c.bn.Mean[i]-wm[i]) > 1e-6 || math.Abs(c.bn.Var[i]-wv[i]) > 1e-5*wv[i] {
							t.Fatalf("%v: running stats %v %v, want %v %v", dt, c.bn.Mean, c.bn.Var, wm, wv)
						}
					}
				}
			}
		})
	}
}
