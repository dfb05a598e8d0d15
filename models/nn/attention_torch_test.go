package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The forward results of the attention ops and layers against PyTorch 1.13:
// testdata/attention/torch_attention.json is written by
// testdata/attention/gen_torch.py (run it with Debian's /usr/bin/python3).
// Tolerance: max |go - torch| <= 1e-5 * max |torch| per tensor, for float32
// and float64 graphs alike.

type torchTensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

func loadTorchAttention(t *testing.T) map[string]torchTensor {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "attention", "torch_attention.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Tensors map[string]torchTensor `json:"tensors"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f.Tensors
}

func (tt torchTensor) dense(dt tensor.Dtype) *tensor.Dense {
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(tt.Shape...), tensor.WithBacking(append([]float64(nil), tt.Data...)))
	}
	v := make([]float32, len(tt.Data))
	for i, x := range tt.Data {
		v[i] = float32(x)
	}
	return tensor.New(tensor.WithShape(tt.Shape...), tensor.WithBacking(v))
}

func attnInput(g *G.ExprGraph, name string, d *tensor.Dense) *G.Node {
	return G.NewTensor(g, d.Dtype(), d.Dims(), G.WithShape(d.Shape().Clone()...), G.WithName(name), G.WithValue(d))
}

// attnEval runs the graph and returns out's values as float64.
func attnEval(g *G.ExprGraph, out *G.Node) ([]float64, tensor.Shape, error) {
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		return nil, nil, err
	}
	d, ok := out.Value().(*tensor.Dense)
	if !ok {
		return nil, nil, fmt.Errorf("output is %T", out.Value())
	}
	return attnAsFloat64(d), d.Shape().Clone(), nil
}

func attnAsFloat64(d *tensor.Dense) []float64 {
	switch v := d.Data().(type) {
	case []float64:
		return append([]float64(nil), v...)
	case []float32:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	return nil
}

func attnCompare(t *testing.T, name string, got []float64, gotShape tensor.Shape, want torchTensor, tol float64) {
	t.Helper()
	if !slices.Equal(gotShape, want.Shape) {
		t.Fatalf("%s: shape %v, torch %v", name, gotShape, want.Shape)
	}
	scale, worst, at := 0.0, 0.0, 0
	for _, w := range want.Data {
		scale = math.Max(scale, math.Abs(w))
	}
	for i, w := range want.Data {
		if d := math.Abs(got[i] - w); d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	if worst > tol*scale || math.IsNaN(worst) {
		t.Fatalf("%s: element %d: got %.8g, torch %.8g (max |diff| %.3g > %.0e * %.3g)", name, at, got[at], want.Data[at], worst, tol, scale)
	}
}

func TestAttentionTorchOps(t *testing.T) {
	fx := loadTorchAttention(t)
	cases := []struct {
		name, in, want string
		build          func(x *G.Node) (*G.Node, error)
	}{
		{"WindowPartition", "partition.x", "partition.out", func(x *G.Node) (*G.Node, error) { return WindowPartition(x, [3]int{2, 3, 2}) }},
		{"WindowReverse", "partition.out", "reverse.out", func(x *G.Node) (*G.Node, error) {
			return WindowReverse(x, [3]int{2, 3, 2}, [4]int{2, 4, 6, 4})
		}},
		{"Roll3d", "partition.x", "roll.out", func(x *G.Node) (*G.Node, error) { return Roll3d(x, [3]int{1, -2, 3}) }},
		{"ToChannelsLast", "layout.x", "layout.channels_last", ToChannelsLast},
		{"ToTokens", "layout.x", "layout.tokens", ToTokens},
		{"FromTokens", "layout.tokens", "layout.x", func(x *G.Node) (*G.Node, error) { return FromTokens(x, 2, 3, 4) }},
		{"ToChannelsFirst", "layout.channels_last", "layout.x", ToChannelsFirst},
	}
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%v", c.name, dt), func(t *testing.T) {
				g := G.NewGraph()
				y, err := c.build(attnInput(g, "x", fx[c.in].dense(dt)))
				if err != nil {
					t.Fatal(err)
				}
				got, shape, err := attnEval(g, y)
				if err != nil {
					t.Fatal(err)
				}
				attnCompare(t, c.name, got, shape, fx[c.want], 0) // exact: data is only moved
			})
		}
	}
}

func TestAttentionTorchIndexAndMask(t *testing.T) {
	fx := loadTorchAttention(t)
	idx, err := RelativePositionIndex([3]int{2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float64, len(idx))
	for i, v := range idx {
		got[i] = float64(v)
	}
	attnCompare(t, "RelativePositionIndex", got, tensor.Shape{24, 24}, fx["rpi.2x3x4"], 0)
	for _, c := range []struct {
		name  string
		shift [3]int
	}{{"mask.4x6x4.w2x3x2.s1x1x1", [3]int{1, 1, 1}}, {"mask.4x6x4.w2x3x2.s1x0x1", [3]int{1, 0, 1}}} {
		m, err := ShiftedWindowMask([3]int{4, 6, 4}, [3]int{2, 3, 2}, c.shift)
		if err != nil {
			t.Fatal(err)
		}
		attnCompare(t, c.name, attnAsFloat64(m), m.Shape(), fx[c.name], 0)
	}
}

func TestAttentionTorchPositionalEncoding(t *testing.T) {
	fx := loadTorchAttention(t)
	for _, c := range []struct {
		name       string
		c, d, h, w int
	}{{"posenc.7x2x3x4", 7, 2, 3, 4}, {"posenc.64x4x4x8", 64, 4, 4, 8}} {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			pe, err := SinusoidalPositionalEncoding3d(c.c, c.d, c.h, c.w, dt)
			if err != nil {
				t.Fatal(err)
			}
			attnCompare(t, c.name, attnAsFloat64(pe), pe.Shape(), fx[c.name], 1e-5)
		}
	}
}

func TestAttentionTorchWindowAttention(t *testing.T) {
	fx := loadTorchAttention(t)
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, c := range []struct{ name, x, want, mask string }{
			{"plain", "wa.x", "wa.out", ""},
			{"masked", "wa.x", "wa.out_masked", "wa.mask"},
			{"5tokens", "wa.x5", "wa.out5", ""},
		} {
			t.Run(fmt.Sprintf("%s/%v", c.name, dt), func(t *testing.T) {
				g := G.NewGraph()
				l, err := NewWindowAttention(g, "wa", WindowAttentionConfig{Dim: 6, Heads: 2, Window: [3]int{2, 2, 2}}, &LayerOptions{Dtype: dt})
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range l.Params() {
					if err := G.Let(p.Node, fx[p.Name].dense(dt)); err != nil {
						t.Fatalf("%s: %v", p.Name, err)
					}
				}
				var mask *tensor.Dense
				if c.mask != "" {
					mask = fx[c.mask].dense(dt)
				}
				y, err := l.Forward(attnInput(g, "x", fx[c.x].dense(dt)), mask)
				if err != nil {
					t.Fatal(err)
				}
				got, shape, err := attnEval(g, y)
				if err != nil {
					t.Fatal(err)
				}
				attnCompare(t, c.want, got, shape, fx[c.want], 1e-5)
			})
		}
	}
}

func TestAttentionTorchCrossAttention(t *testing.T) {
	fx := loadTorchAttention(t)
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			g := G.NewGraph()
			l, err := NewMultiHeadAttention(g, "mha", MultiHeadAttentionConfig{Dim: 8, Heads: 2}, &LayerOptions{Dtype: dt})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range l.Params() {
				v, ok := fx[p.Name]
				if !ok {
					t.Fatalf("no torch parameter %q", p.Name)
				}
				if err := G.Let(p.Node, v.dense(dt)); err != nil {
					t.Fatalf("%s: %v", p.Name, err)
				}
			}
			y, err := l.Forward(attnInput(g, "q", fx["mha.q"].dense(dt)), attnInput(g, "kv", fx["mha.kv"].dense(dt)))
			if err != nil {
				t.Fatal(err)
			}
			got, shape, err := attnEval(g, y)
			if err != nil {
				t.Fatal(err)
			}
			attnCompare(t, "mha.out", got, shape, fx["mha.out"], 1e-5)
		})
	}
}

func TestAttentionTorchSwinWindowAttention(t *testing.T) {
	fx := loadTorchAttention(t)
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, c := range []struct {
			want  string
			shift [3]int
		}{{"swin.out", [3]int{}}, {"swin.out_shifted", [3]int{1, 1, 1}}} {
			t.Run(fmt.Sprintf("%s/%v", c.want, dt), func(t *testing.T) {
				g := G.NewGraph()
				l, err := NewWindowAttention(g, "swin", WindowAttentionConfig{Dim: 6, Heads: 2, Window: [3]int{3, 3, 3}}, &LayerOptions{Dtype: dt})
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range l.Params() {
					if err := G.Let(p.Node, fx[p.Name].dense(dt)); err != nil {
						t.Fatalf("%s: %v", p.Name, err)
					}
				}
				y, err := l.ForwardVolume(attnInput(g, "x", fx["swin.x"].dense(dt)), c.shift)
				if err != nil {
					t.Fatal(err)
				}
				got, shape, err := attnEval(g, y)
				if err != nil {
					t.Fatal(err)
				}
				attnCompare(t, c.want, got, shape, fx[c.want], 1e-5)
			})
		}
	}
}
