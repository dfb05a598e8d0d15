package train

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand"
	"os"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

type torchLossCase struct {
	Name              string    `json:"name"`
	Kind              string    `json:"kind"`
	DiceWeight        float64   `json:"dice_weight"`
	CEWeight          float64   `json:"ce_weight"`
	Smooth            float64   `json:"smooth"`
	ExcludeBackground bool      `json:"exclude_background"`
	Softmaxed         bool      `json:"softmaxed"`
	Shape             []int     `json:"shape"`
	TargetShape       []int     `json:"target_shape"`
	Logits            []float64 `json:"logits"`
	Target            []float64 `json:"target"`
	Loss              float64   `json:"loss"`
	Grad              []float64 `json:"grad"`
}

func (c torchLossCase) options() LossOptions {
	return LossOptions{Kind: LossKind(c.Kind), LambdaDice: c.DiceWeight, LambdaCE: c.CEWeight, SmoothNr: c.Smooth, SmoothDr: c.Smooth,
		ExcludeBackground: c.ExcludeBackground, Softmaxed: c.Softmaxed}
}

// runLoss builds Loss on the given values in dtype dt, runs it with its
// gradient and returns the loss and dLoss/dlogits as float64.
func runLoss(t *testing.T, dt tensor.Dtype, shape, tshape []int, x, tgt []float64, opt LossOptions) (float64, []float64) {
	t.Helper()
	g := gorgonia.NewGraph()
	mk := func(name string, shp []int, v []float64) *gorgonia.Node {
		var val *tensor.Dense
		if dt == tensor.Float32 {
			f := make([]float32, len(v))
			for i := range v {
				f[i] = float32(v[i])
			}
			val = tensor.New(tensor.WithShape(shp...), tensor.WithBacking(f))
		} else {
			val = tensor.New(tensor.WithShape(shp...), tensor.WithBacking(append([]float64(nil), v...)))
		}
		return gorgonia.NewTensor(g, dt, len(shp), gorgonia.WithShape(shp...), gorgonia.WithValue(val), gorgonia.WithName(name))
	}
	xn, tn := mk("x", shape, x), mk("t", tshape, tgt)
	l, err := Loss(xn, tn, &opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gorgonia.Grad(l, xn); err != nil {
		t.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(xn))
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	lv, err := scalarOf(l.Value())
	if err != nil {
		t.Fatal(err)
	}
	gv, err := xn.Grad()
	if err != nil {
		t.Fatal(err)
	}
	var grad []float64
	switch d := gv.Data().(type) {
	case []float32:
		for _, v := range d {
			grad = append(grad, float64(v))
		}
	case []float64:
		grad = append(grad, d...)
	}
	return lv, grad
}

func loadTorchLosses(t *testing.T) []torchLossCase {
	t.Helper()
	b, err := os.ReadFile("testdata/torch_losses.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []torchLossCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Cases
}

// TestLossTorch compares every loss variant and its gradient with PyTorch
// (testdata/gen_torch.py): float64 to 1e-10, float32 to 1e-5 relative.
func TestLossTorch(t *testing.T) {
	for _, c := range loadTorchLosses(t) {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			t.Run(c.Name+"/"+dt.String(), func(t *testing.T) {
				tol := 1e-10
				if dt == tensor.Float32 {
					tol = 1e-5
				}
				l, g := runLoss(t, dt, c.Shape, c.TargetShape, c.Logits, c.Target, c.options())
				if math.Abs(l-c.Loss) > tol*math.Max(1, math.Abs(c.Loss)) {
					t.Errorf("loss %.12g, torch %.12g", l, c.Loss)
				}
				gmax := 0.0
				for _, v := range c.Grad {
					gmax = math.Max(gmax, math.Abs(v))
				}
				for i := range g {
					if math.Abs(g[i]-c.Grad[i]) > tol*gmax {
						t.Fatalf("grad[%d] %.12g, torch %.12g (max |grad| %g)", i, g[i], c.Grad[i], gmax)
					}
				}
				opt := c.options()
				v, err := LossValue(f32(c.Logits), c.Shape, f32(c.Target), c.TargetShape, &opt)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(v-c.Loss) > 1e-5*math.Max(1, math.Abs(c.Loss)) {
					t.Errorf("LossValue %.12g, torch %.12g", v, c.Loss)
				}
			})
		}
	}
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i := range v {
		out[i] = float32(v[i])
	}
	return out
}

// TestLossGradFiniteDifference checks the analytic gradient of every variant
// against central differences in float64.
func TestLossGradFiniteDifference(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	shape := []int{2, 3, 2, 3, 2}
	n := 2 * 3 * 12
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64() * 1.5
	}
	tgt := make([]float64, 2*12)
	for i := range tgt {
		tgt[i] = float64(rng.Intn(3))
	}
	for _, opt := range []LossOptions{
		{}, {Kind: DiceOnly}, {Kind: CEOnly}, {Softmaxed: true}, {ExcludeBackground: true}, {LambdaDice: 0.3, LambdaCE: 2, SmoothNr: 0.1, SmoothDr: 0.2},
	} {
		o, _ := opt.withDefaults()
		t.Run(o.String(), func(t *testing.T) {
			_, g := runLoss(t, tensor.Float64, shape, []int{2, 1, 2, 3, 2}, x, tgt, opt)
			s, _ := checkLossShapes(tensor.Shape(shape), tensor.Shape{2, 1, 2, 3, 2})
			const h = 1e-6
			for i := range x {
				xp := append([]float64(nil), x...)
				xp[i] += h
				lp, _ := lossCompute(xp, tgt, s, o, nil, 0)
				xp[i] -= 2 * h
				lm, _ := lossCompute(xp, tgt, s, o, nil, 0)
				fd := (lp - lm) / (2 * h)
				if math.Abs(fd-g[i]) > 1e-7*math.Max(1, math.Abs(fd)) {
					t.Fatalf("d/dx[%d]: analytic %.10g, finite difference %.10g", i, g[i], fd)
				}
			}
		})
	}
}

func (o LossOptions) String() string {
	return (&lossOp{opt: o}).String()
}

func TestLossErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float32, 5, gorgonia.WithShape(2, 3, 4, 4, 4), gorgonia.WithName("x"))
	cases := []struct {
		name   string
		target []int
		dt     tensor.Dtype
		opt    LossOptions
		want   error
	}{
		{"channels", []int{2, 2, 4, 4, 4}, tensor.Float32, LossOptions{}, ErrShape},
		{"batch", []int{1, 1, 4, 4, 4}, tensor.Float32, LossOptions{}, ErrShape},
		{"spatial", []int{2, 1, 4, 4, 3}, tensor.Float32, LossOptions{}, ErrShape},
		{"rank", []int{2, 1, 64}, tensor.Float32, LossOptions{}, ErrShape},
		{"dtype", []int{2, 1, 4, 4, 4}, tensor.Float64, LossOptions{}, ErrShape},
		{"kind", []int{2, 1, 4, 4, 4}, tensor.Float32, LossOptions{Kind: "focal"}, ErrOptions},
		{"weight", []int{2, 1, 4, 4, 4}, tensor.Float32, LossOptions{LambdaCE: -1}, ErrOptions},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tn := gorgonia.NewTensor(g, c.dt, len(c.target), gorgonia.WithShape(c.target...))
			if _, err := Loss(x, tn, &c.opt); !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
	// A class value out of range is an error when the loss runs, not a panic.
	if _, err := LossValue(make([]float32, 6), []int{1, 3, 2}, []float32{0, 3}, []int{1, 1, 2}, &LossOptions{}); !errors.Is(err, ErrShape) {
		t.Fatalf("class 3 of 3: err %v, want ErrShape", err)
	}
}
