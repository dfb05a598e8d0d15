package nn

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gradients returns d(sum(build(in) * R))/d(in_i) for every input, computed
// in dtype dt (R fixed, seeded).
func gradients(t *testing.T, build gradBuild, in []*tensor.Dense, dt tensor.Dtype) [][]float64 {
	t.Helper()
	g := gorgonia.NewGraph()
	nodes := make([]*gorgonia.Node, len(in))
	for i, v := range in {
		nodes[i] = gorgonia.NewTensor(g, dt, v.Dims(), gorgonia.WithShape(v.Shape().Clone()...), gorgonia.WithValue(convertDense(v, dt)))
	}
	y, err := build(nodes)
	if err != nil {
		t.Fatal(err)
	}
	r := convertDense(randTensor(rand.New(rand.NewSource(3)), y.Shape()...), dt)
	rn := gorgonia.NewTensor(g, dt, y.Dims(), gorgonia.WithShape(y.Shape().Clone()...), gorgonia.WithValue(r))
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(y, rn))))
	grads, err := gorgonia.Grad(loss, nodes...)
	if err != nil {
		t.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, len(grads))
	for i, gn := range grads {
		out[i] = append([]float64(nil), toF64(gn.Value().(*tensor.Dense))...)
	}
	return out
}

// TestFloat32GradientsMatchFloat64 runs every backward kernel in float32
// and compares with the float64 gradients (which the finite-difference
// checks validate).
func TestFloat32GradientsMatchFloat64(t *testing.T) {
	type tc struct {
		name  string
		build gradBuild
		in    []*tensor.Dense
	}
	var cases []tc
	for _, c := range convCases {
		cases = append(cases, tc{"conv/" + c.name, c.build, c.inputs(rand.New(rand.NewSource(5)))})
	}
	for _, c := range opCases() {
		if c.name == "BatchNormTrain" || c.name == "BatchNormEval" {
			continue // shared running statistics; covered by the torch fixtures
		}
		rng := rand.New(rand.NewSource(9))
		in := make([]*tensor.Dense, len(c.inputs))
		for i, s := range c.inputs {
			in[i] = randTensor(rng, s...)
		}
		cases = append(cases, tc{"op/" + c.name, c.build, in})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g64 := gradients(t, c.build, c.in, tensor.Float64)
			g32 := gradients(t, c.build, c.in, tensor.Float32)
			for i := range g64 {
				var scale float64
				for _, v := range g64[i] {
					scale = math.Max(scale, math.Abs(v))
				}
				for j := range g64[i] {
					if d := math.Abs(g32[i][j] - g64[i][j]); d > 1e-4*(math.Abs(g64[i][j])+scale) {
						t.Fatalf("input %d element %d: float32 %v, float64 %v", i, j, g32[i][j], g64[i][j])
					}
				}
			}
		})
	}
}
