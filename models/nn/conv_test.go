package nn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// naiveConv3d is the textbook definition, used as the reference.
func naiveConv3d(x, w []float64, b []float64, xs, ws tensor.Shape, p convParams) ([]float64, tensor.Shape) {
	in := [3]int{xs[2], xs[3], xs[4]}
	o := convOutSize(in, p)
	n, cin, cout := xs[0], xs[1], ws[0]
	cg, mg := cin/p.groups, cout/p.groups
	y := make([]float64, n*cout*o[0]*o[1]*o[2])
	for bn := 0; bn < n; bn++ {
		for co := 0; co < cout; co++ {
			gr := co / mg
			for od := 0; od < o[0]; od++ {
				for oh := 0; oh < o[1]; oh++ {
					for ow := 0; ow < o[2]; ow++ {
						s := 0.0
						if b != nil {
							s = b[co]
						}
						for ci := 0; ci < cg; ci++ {
							for kd := 0; kd < p.k[0]; kd++ {
								for kh := 0; kh < p.k[1]; kh++ {
									for kw := 0; kw < p.k[2]; kw++ {
										id := od*p.stride[0] - p.pad[0] + kd*p.dil[0]
										ih := oh*p.stride[1] - p.pad[1] + kh*p.dil[1]
										iw := ow*p.stride[2] - p.pad[2] + kw*p.dil[2]
										if id < 0 || ih < 0 || iw < 0 || id >= in[0] || ih >= in[1] || iw >= in[2] {
											continue
										}
										xv := x[(((bn*cin+gr*cg+ci)*in[0]+id)*in[1]+ih)*in[2]+iw]
										wv := w[(((co*cg+ci)*p.k[0]+kd)*p.k[1]+kh)*p.k[2]+kw]
										s += xv * wv
									}
								}
							}
						}
						y[(((bn*cout+co)*o[0]+od)*o[1]+oh)*o[2]+ow] = s
					}
				}
			}
		}
	}
	return y, tensor.Shape{n, cout, o[0], o[1], o[2]}
}

// naiveConvT3d scatters each input voxel through the kernel.
func naiveConvT3d(x, w []float64, b []float64, xs, ws tensor.Shape, p convParams) ([]float64, tensor.Shape) {
	in := [3]int{xs[2], xs[3], xs[4]}
	o := convTOutSize(in, p)
	n, cin := xs[0], xs[1]
	cog := ws[1]
	cout := cog * p.groups
	cig := cin / p.groups
	y := make([]float64, n*cout*o[0]*o[1]*o[2])
	sp := o[0] * o[1] * o[2]
	for bn := 0; bn < n; bn++ {
		for co := 0; co < cout; co++ {
			for i := 0; i < sp; i++ {
				if b != nil {
					y[(bn*cout+co)*sp+i] = b[co]
				}
			}
		}
		for ci := 0; ci < cin; ci++ {
			gr := ci / cig
			for d := 0; d < in[0]; d++ {
				for h := 0; h < in[1]; h++ {
					for ww := 0; ww < in[2]; ww++ {
						xv := x[(((bn*cin+ci)*in[0]+d)*in[1]+h)*in[2]+ww]
						for c := 0; c < cog; c++ {
							co := gr*cog + c
							for kd := 0; kd < p.k[0]; kd++ {
								for kh := 0; kh < p.k[1]; kh++ {
									for kw := 0; kw < p.k[2]; kw++ {
										od := d*p.stride[0] - p.pad[0] + kd*p.dil[0]
										oh := h*p.stride[1] - p.pad[1] + kh*p.dil[1]
										ow := ww*p.stride[2] - p.pad[2] + kw*p.dil[2]
										if od < 0 || oh < 0 || ow < 0 || od >= o[0] || oh >= o[1] || ow >= o[2] {
											continue
										}
										wv := w[(((ci*cog+c)*p.k[0]+kd)*p.k[1]+kh)*p.k[2]+kw]
										y[(((bn*cout+co)*o[0]+od)*o[1]+oh)*o[2]+ow] += xv * wv
									}
								}
							}
						}
					}
				}
			}
		}
	}
	return y, tensor.Shape{n, cout, o[0], o[1], o[2]}
}

type convCase struct {
	name       string
	x          []int // N, C, D, H, W
	cout       int
	k          [3]int
	opt        ConvOptions
	bias       bool
	transposed bool
}

var convCases = []convCase{
	{name: "k3p1", x: []int{2, 3, 5, 6, 4}, cout: 4, k: [3]int{3, 3, 3}, opt: ConvOptions{Padding: [3]int{1, 1, 1}}, bias: true},
	{name: "k3nopad-nobias", x: []int{1, 2, 5, 5, 5}, cout: 3, k: [3]int{3, 3, 3}},
	{name: "k2s2", x: []int{1, 2, 6, 4, 4}, cout: 3, k: [3]int{2, 2, 2}, opt: ConvOptions{Stride: [3]int{2, 2, 2}}, bias: true},
	{name: "stride-odd", x: []int{1, 2, 7, 5, 6}, cout: 2, k: [3]int{3, 2, 3}, opt: ConvOptions{Stride: [3]int{2, 3, 2}, Padding: [3]int{1, 0, 2}}, bias: true},
	{name: "dilation", x: []int{1, 2, 7, 7, 6}, cout: 2, k: [3]int{3, 3, 2}, opt: ConvOptions{Dilation: [3]int{2, 1, 3}, Padding: [3]int{2, 1, 1}}, bias: true},
	{name: "groups2", x: []int{2, 4, 4, 5, 3}, cout: 6, k: [3]int{3, 1, 3}, opt: ConvOptions{Groups: 2, Padding: [3]int{1, 0, 1}}, bias: true},
	{name: "depthwise", x: []int{1, 3, 5, 5, 5}, cout: 3, k: [3]int{3, 3, 3}, opt: ConvOptions{Groups: 3, Padding: [3]int{1, 1, 1}}, bias: true},
	{name: "depthwise-k7", x: []int{1, 2, 4, 5, 3}, cout: 2, k: [3]int{7, 7, 7}, opt: ConvOptions{Groups: 2, Padding: [3]int{3, 3, 3}}},
	{name: "pointwise", x: []int{2, 3, 3, 4, 5}, cout: 5, k: [3]int{1, 1, 1}, bias: true},
	{name: "pointwise-groups", x: []int{2, 4, 3, 2, 5}, cout: 6, k: [3]int{1, 1, 1}, opt: ConvOptions{Groups: 2}},
	{name: "T-k2s2", x: []int{2, 3, 3, 2, 4}, cout: 2, k: [3]int{2, 2, 2}, opt: ConvOptions{Stride: [3]int{2, 2, 2}}, bias: true, transposed: true},
	{name: "T-k4s4", x: []int{1, 2, 2, 3, 2}, cout: 3, k: [3]int{4, 4, 4}, opt: ConvOptions{Stride: [3]int{4, 4, 4}}, bias: true, transposed: true},
	{name: "T-k3s2p1op1", x: []int{1, 2, 3, 4, 3}, cout: 2, k: [3]int{3, 3, 3}, opt: ConvOptions{Stride: [3]int{2, 2, 2}, Padding: [3]int{1, 1, 1}, OutputPadding: [3]int{1, 0, 1}}, bias: true, transposed: true},
	{name: "T-groups", x: []int{1, 4, 3, 3, 2}, cout: 6, k: [3]int{2, 3, 1}, opt: ConvOptions{Groups: 2, Stride: [3]int{1, 2, 1}, Dilation: [3]int{2, 1, 1}}, transposed: true},
	{name: "T-pointwise", x: []int{2, 3, 2, 3, 2}, cout: 4, k: [3]int{1, 1, 1}, bias: true, transposed: true},
}

func (c convCase) inputs(rng *rand.Rand) []*tensor.Dense {
	p, _ := c.opt.params(c.k)
	var ws []int
	if c.transposed {
		ws = []int{c.x[1], c.cout / p.groups, c.k[0], c.k[1], c.k[2]}
	} else {
		ws = []int{c.cout, c.x[1] / p.groups, c.k[0], c.k[1], c.k[2]}
	}
	in := []*tensor.Dense{randTensor(rng, c.x...), randTensor(rng, ws...)}
	if c.bias {
		in = append(in, randTensor(rng, c.cout))
	}
	return in
}

func (c convCase) build(xs []*gorgonia.Node) (*gorgonia.Node, error) {
	var b *gorgonia.Node
	if c.bias {
		b = xs[2]
	}
	if c.transposed {
		return ConvTranspose3d(xs[0], xs[1], b, &c.opt)
	}
	return Conv3d(xs[0], xs[1], b, &c.opt)
}

func TestConvForwardMatchesNaive(t *testing.T) {
	for _, c := range convCases {
		t.Run(c.name, func(t *testing.T) {
			in := c.inputs(rand.New(rand.NewSource(11)))
			p, _ := c.opt.params(c.k)
			var b []float64
			if c.bias {
				b = in[2].Data().([]float64)
			}
			var want []float64
			var wantShape tensor.Shape
			if c.transposed {
				want, wantShape = naiveConvT3d(in[0].Data().([]float64), in[1].Data().([]float64), b, in[0].Shape(), in[1].Shape(), p)
			} else {
				want, wantShape = naiveConv3d(in[0].Data().([]float64), in[1].Data().([]float64), b, in[0].Shape(), in[1].Shape(), p)
			}
			for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
				got, shape := runForward(t, c.build, in, dt)
				if !shape.Eq(wantShape) {
					t.Fatalf("%v: shape %v, want %v", dt, shape, wantShape)
				}
				tol := 1e-12
				if dt == tensor.Float32 {
					tol = 1e-5
				}
				for i := range want {
					if math.Abs(got[i]-want[i]) > tol*(1+math.Abs(want[i])) {
						t.Fatalf("%v: element %d = %v, want %v", dt, i, got[i], want[i])
					}
				}
			}
		})
	}
}

func TestConvGradients(t *testing.T) {
	for _, c := range convCases {
		t.Run(c.name, func(t *testing.T) {
			checkGrad(t, c.build, c.inputs(rand.New(rand.NewSource(5))))
		})
	}
}

func TestConvShapeErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	mk := func(s ...int) *gorgonia.Node {
		return gorgonia.NewTensor(g, tensor.Float32, len(s), gorgonia.WithShape(s...))
	}
	cases := []struct {
		name    string
		f       func() (*gorgonia.Node, error)
		wantErr error
	}{
		{"channels", func() (*gorgonia.Node, error) {
			return Conv3d(mk(1, 3, 4, 4, 4), mk(2, 4, 3, 3, 3), nil, &ConvOptions{})
		}, ErrShape},
		{"dims", func() (*gorgonia.Node, error) { return Conv3d(mk(3, 4, 4, 4), mk(2, 3, 3, 3, 3), nil, &ConvOptions{}) }, ErrShape},
		{"too small", func() (*gorgonia.Node, error) {
			return Conv3d(mk(1, 3, 2, 4, 4), mk(2, 3, 3, 3, 3), nil, &ConvOptions{})
		}, ErrShape},
		{"too small strided", func() (*gorgonia.Node, error) {
			// (5 - 2*3 - 1)/3 + 1 truncates to 1 in Go; the floor is 0: no output.
			return Conv3d(mk(1, 1, 5, 8, 8), mk(1, 1, 4, 1, 1), nil, &ConvOptions{Stride: [3]int{3, 1, 1}, Dilation: [3]int{2, 1, 1}})
		}, ErrShape},
		{"bias", func() (*gorgonia.Node, error) {
			return Conv3d(mk(1, 3, 4, 4, 4), mk(2, 3, 3, 3, 3), mk(3), &ConvOptions{})
		}, ErrShape},
		{"groups", func() (*gorgonia.Node, error) {
			return Conv3d(mk(1, 3, 4, 4, 4), mk(2, 1, 3, 3, 3), nil, &ConvOptions{Groups: 2})
		}, ErrConfig},
		{"T channels", func() (*gorgonia.Node, error) {
			return ConvTranspose3d(mk(1, 3, 4, 4, 4), mk(2, 4, 2, 2, 2), nil, &ConvOptions{Stride: [3]int{2, 2, 2}})
		}, ErrShape},
		{"dtype", func() (*gorgonia.Node, error) {
			w := gorgonia.NewTensor(g, tensor.Float64, 5, gorgonia.WithShape(2, 3, 3, 3, 3))
			return Conv3d(mk(1, 3, 4, 4, 4), w, nil, &ConvOptions{})
		}, ErrDtype},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.f()
			if !errorsIs(err, c.wantErr) {
				t.Fatalf("error %v, want %v", err, c.wantErr)
			}
			t.Log(err)
		})
	}
}

// runForward evaluates build on copies of in converted to dt and returns the
// output as float64.
func runForward(t *testing.T, build gradBuild, in []*tensor.Dense, dt tensor.Dtype) ([]float64, tensor.Shape) {
	t.Helper()
	g := gorgonia.NewGraph()
	nodes := make([]*gorgonia.Node, len(in))
	for i, v := range in {
		nodes[i] = gorgonia.NewTensor(g, dt, v.Dims(), gorgonia.WithShape(v.Shape().Clone()...),
			gorgonia.WithValue(convertDense(v, dt)), gorgonia.WithName(fmt.Sprintf("in%d", i)))
	}
	y, err := build(nodes)
	if err != nil {
		t.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	return toF64(y.Value().(*tensor.Dense)), y.Shape()
}

func convertDense(v *tensor.Dense, dt tensor.Dtype) *tensor.Dense {
	src := toF64(v)
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(v.Shape().Clone()...), tensor.WithBacking(append([]float64(nil), src...)))
	}
	d := make([]float32, len(src))
	for i, x := range src {
		d[i] = float32(x)
	}
	return tensor.New(tensor.WithShape(v.Shape().Clone()...), tensor.WithBacking(d))
}

func toF64(v *tensor.Dense) []float64 {
	switch d := v.Data().(type) {
	case []float64:
		return d
	case []float32:
		r := make([]float64, len(d))
		for i, x := range d {
			r[i] = float64(x)
		}
		return r
	case float64:
		return []float64{d}
	case float32:
		return []float64{float64(d)}
	}
	panic(fmt.Sprintf("toF64: %T", v.Data()))
}

// TestConvRandomGeometry draws convolutions and transposed convolutions
// with random sizes, kernels, strides, dilations, paddings (up to beyond
// the dilated kernel), output paddings and groups, and checks the forward
// pass against the naive definitions in float64 and float32, and every
// fifth case's gradients against finite differences.
func TestConvRandomGeometry(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	trials := 80
	if testing.Short() {
		trials = 20
	}
	done := 0
	for done < trials {
		c := convCase{transposed: r.Intn(3) == 0, bias: r.Intn(2) == 0}
		groups := 1 + r.Intn(2)
		c.opt.Groups = groups
		c.x = []int{1 + r.Intn(2), groups * (1 + r.Intn(3)), 1 + r.Intn(6), 1 + r.Intn(6), 1 + r.Intn(6)}
		c.cout = groups * (1 + r.Intn(3))
		for i := 0; i < 3; i++ {
			c.k[i] = 1 + r.Intn(4)
			c.opt.Stride[i] = 1 + r.Intn(3)
			c.opt.Dilation[i] = 1 + r.Intn(2)
			c.opt.Padding[i] = r.Intn(c.opt.Dilation[i]*(c.k[i]-1) + 2)
			if c.transposed && r.Intn(2) == 0 {
				c.opt.OutputPadding[i] = r.Intn(max(c.opt.Stride[i], c.opt.Dilation[i]))
			}
		}
		p, err := c.opt.params(c.k)
		if err != nil {
			continue
		}
		in := [3]int{c.x[2], c.x[3], c.x[4]}
		var out [3]int
		if c.transposed {
			out = convTOutSize(in, p)
			if convOutSize(out, p) != in {
				continue
			}
		} else {
			out = convOutSize(in, p)
		}
		if out[0] < 1 || out[1] < 1 || out[2] < 1 {
			continue
		}
		c.name = fmt.Sprintf("case %d: x %v cout %d %v transposed %v", done, c.x, c.cout, p, c.transposed)
		done++
		inputs := c.inputs(rand.New(rand.NewSource(int64(done))))
		var b []float64
		if c.bias {
			b = inputs[2].Data().([]float64)
		}
		var want []float64
		if c.transposed {
			want, _ = naiveConvT3d(inputs[0].Data().([]float64), inputs[1].Data().([]float64), b, inputs[0].Shape(), inputs[1].Shape(), p)
		} else {
			want, _ = naiveConv3d(inputs[0].Data().([]float64), inputs[1].Data().([]float64), b, inputs[0].Shape(), inputs[1].Shape(), p)
		}
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			got, _ := runForward(t, c.build, inputs, dt)
			tol := 1e-12
			if dt == tensor.Float32 {
				tol = 1e-5
			}
			for i := range want {
				if math.Abs(got[i]-want[i]) > tol*(1+math.Abs(want[i])) {
					t.Fatalf("%s %v: element %d = %v, want %v", c.name, dt, i, got[i], want[i])
				}
			}
		}
		if done%5 == 0 {
			if err := gradCheck(c.build, inputs); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
	}
}
