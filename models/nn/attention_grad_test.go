package nn

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/unetlab/unetlab/rng"
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Gradient checks of the attention ops against central finite differences
// (checkGrad, float64), one table row per op and configuration.
func TestAttentionGradients(t *testing.T) {
	rnd := rand.New(rand.NewSource(3))
	r := func(shape ...int) *tensor.Dense { return randTensor(rnd, shape...) }
	mask, err := ShiftedWindowMask([3]int{4, 4, 2}, [3]int{2, 2, 2}, [3]int{1, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	// A mask with -inf entries (whole rows stay finite on the diagonal).
	infMask := mask.Clone().(*tensor.Dense)
	for i, v := range infMask.Data().([]float64) {
		if v != 0 {
			infMask.Data().([]float64)[i] = negInf()
		}
	}
	cases := []struct {
		name   string
		inputs []*tensor.Dense
		build  gradBuild
	}{
		{"Permute5d", []*tensor.Dense{r(2, 3, 2, 3, 2)}, func(x []*G.Node) (*G.Node, error) { return Permute(x[0], 4, 0, 2, 1, 3) }},
		{"Reshape", []*tensor.Dense{r(2, 3, 4)}, func(x []*G.Node) (*G.Node, error) { return Reshape(x[0], 4, 6) }},
		{"ToChannelsLast", []*tensor.Dense{r(2, 3, 2, 3, 2)}, func(x []*G.Node) (*G.Node, error) { return ToChannelsLast(x[0]) }},
		{"ToChannelsFirst", []*tensor.Dense{r(2, 2, 3, 2, 3)}, func(x []*G.Node) (*G.Node, error) { return ToChannelsFirst(x[0]) }},
		{"ToTokens", []*tensor.Dense{r(2, 3, 2, 3, 2)}, func(x []*G.Node) (*G.Node, error) { return ToTokens(x[0]) }},
		{"FromTokens", []*tensor.Dense{r(2, 12, 3)}, func(x []*G.Node) (*G.Node, error) { return FromTokens(x[0], 2, 3, 2) }},
		{"WindowPartition", []*tensor.Dense{r(2, 4, 2, 6, 3)}, func(x []*G.Node) (*G.Node, error) { return WindowPartition(x[0], [3]int{2, 2, 3}) }},
		{"WindowPartitionOdd", []*tensor.Dense{r(1, 3, 5, 2, 2)}, func(x []*G.Node) (*G.Node, error) { return WindowPartition(x[0], [3]int{3, 5, 1}) }},
		{"WindowReverse", []*tensor.Dense{r(8, 12, 3)}, func(x []*G.Node) (*G.Node, error) {
			return WindowReverse(x[0], [3]int{2, 2, 3}, [4]int{2, 4, 2, 6})
		}},
		{"Pad", []*tensor.Dense{r(1, 3, 2, 3, 2)}, func(x []*G.Node) (*G.Node, error) { return PadChannelsLast(x[0], [3]int{1, 2, 0}) }},
		{"Crop", []*tensor.Dense{r(2, 4, 3, 3, 2)}, func(x []*G.Node) (*G.Node, error) { return CropChannelsLast(x[0], [3]int{3, 2, 3}) }},
		{"Roll3d", []*tensor.Dense{r(2, 3, 4, 5, 2)}, func(x []*G.Node) (*G.Node, error) { return Roll3d(x[0], [3]int{1, -2, 7}) }},
		{"RollLastAxis", []*tensor.Dense{r(3, 5)}, func(x []*G.Node) (*G.Node, error) { return Roll(x[0], []int{2, -1}, []int{1, 0}) }},
		{"BatchedMatMul", []*tensor.Dense{r(2, 3, 4, 5), r(2, 3, 5, 2)}, func(x []*G.Node) (*G.Node, error) { return BatchedMatMul(x[0], x[1], false, false) }},
		{"BatchedMatMulTransB", []*tensor.Dense{r(3, 4, 5), r(3, 2, 5)}, func(x []*G.Node) (*G.Node, error) { return BatchedMatMul(x[0], x[1], false, true) }},
		{"BatchedMatMulTransA", []*tensor.Dense{r(3, 5, 4), r(3, 5, 2)}, func(x []*G.Node) (*G.Node, error) { return BatchedMatMul(x[0], x[1], true, false) }},
		{"BatchedMatMulTransAB", []*tensor.Dense{r(3, 5, 4), r(3, 2, 5)}, func(x []*G.Node) (*G.Node, error) { return BatchedMatMul(x[0], x[1], true, true) }},
		{"LinearMap", []*tensor.Dense{r(2, 3, 5), r(4, 5)}, func(x []*G.Node) (*G.Node, error) { return LinearMap(x[0], x[1]) }},
		{"AddTrailing", []*tensor.Dense{r(2, 3, 4), r(3, 4)}, func(x []*G.Node) (*G.Node, error) { return AddTrailing(x[0], x[1]) }},
		{"Softmax", []*tensor.Dense{r(2, 3, 5)}, func(x []*G.Node) (*G.Node, error) { return MaskedSoftmax(x[0], nil) }},
		{"MaskedSoftmax", []*tensor.Dense{r(8, 2, 8, 8)}, func(x []*G.Node) (*G.Node, error) { return MaskedSoftmax(x[0], mask) }},
		{"MaskedSoftmaxInf", []*tensor.Dense{r(4, 1, 8, 8)}, func(x []*G.Node) (*G.Node, error) { return MaskedSoftmax(x[0], infMask) }},
		{"AttentionSoftmax", []*tensor.Dense{r(8, 2, 8, 8), r(2, 8, 8)}, func(x []*G.Node) (*G.Node, error) {
			return AttentionSoftmax(x[0], 0.7, x[1], mask)
		}},
		{"RelativePositionBias", []*tensor.Dense{r(RelativePositionTableSize([3]int{2, 3, 2}), 2)}, func(x []*G.Node) (*G.Node, error) {
			return RelativePositionBias(x[0], [3]int{2, 3, 2}, 12)
		}},
		{"RelativePositionBiasCut", []*tensor.Dense{r(RelativePositionTableSize([3]int{2, 2, 2}), 3)}, func(x []*G.Node) (*G.Node, error) {
			return RelativePositionBias(x[0], [3]int{2, 2, 2}, 5)
		}},
		{"AddPositionalEncoding3d", []*tensor.Dense{r(2, 7, 2, 3, 2)}, func(x []*G.Node) (*G.Node, error) { return AddPositionalEncoding3d(x[0]) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c.build, c.inputs) })
	}
}

// The attention layers' gradients with respect to their inputs and every
// parameter: the parameters become inputs of the checked expression.
func TestAttentionLayerGradients(t *testing.T) {
	rnd := rand.New(rand.NewSource(5))
	window := [3]int{2, 2, 2}
	mask, err := ShiftedWindowMask([3]int{4, 2, 2}, window, [3]int{1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, withMask := range []bool{false, true} {
		name := "WindowAttention"
		if withMask {
			name += "Masked"
		}
		t.Run(name, func(t *testing.T) {
			g := G.NewGraph()
			l, err := NewWindowAttention(g, "attn", WindowAttentionConfig{Dim: 4, Heads: 2, Window: window}, &LayerOptions{Dtype: tensor.Float64, Rand: rng.New(7)})
			if err != nil {
				t.Fatal(err)
			}
			inputs := []*tensor.Dense{randTensor(rnd, 4, 8, 4)}
			for _, p := range l.Params() {
				inputs = append(inputs, p.Node.Value().(*tensor.Dense).Clone().(*tensor.Dense))
			}
			var m *tensor.Dense
			if withMask {
				m = mask
			}
			checkGrad(t, func(x []*G.Node) (*G.Node, error) {
				l.BiasTable, l.QKVWeight, l.QKVBias, l.ProjWeight, l.ProjBias = x[1], x[2], x[3], x[4], x[5]
				return l.Forward(x[0], m)
			}, inputs)
		})
	}
	t.Run("MultiHeadAttention", func(t *testing.T) {
		g := G.NewGraph()
		l, err := NewMultiHeadAttention(g, "mha", MultiHeadAttentionConfig{Dim: 4, Heads: 2}, &LayerOptions{Dtype: tensor.Float64, Rand: rng.New(7)})
		if err != nil {
			t.Fatal(err)
		}
		inputs := []*tensor.Dense{randTensor(rnd, 2, 3, 4), randTensor(rnd, 2, 5, 4)}
		for _, p := range l.Params() {
			inputs = append(inputs, randTensor(rnd, p.Node.Shape()...)) // non-zero biases
		}
		checkGrad(t, func(x []*G.Node) (*G.Node, error) {
			l.InProjWeight, l.InProjBias, l.OutProjWeight, l.OutProjBias = x[2], x[3], x[4], x[5]
			return l.Forward(x[0], x[1])
		}, inputs)
	})
}

// gorgonia's own BatchedMatMul, checked for the brief: its gradients are
// right for every transpose combination (this package's BatchedMatMul is
// used for speed, not for correctness).
func TestGorgoniaBatchedMatMulGradient(t *testing.T) {
	rnd := rand.New(rand.NewSource(9))
	for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
		a := randTensor(rnd, 3, 4, 5)
		if tr[0] {
			a = randTensor(rnd, 3, 5, 4)
		}
		b := randTensor(rnd, 3, 5, 2)
		if tr[1] {
			b = randTensor(rnd, 3, 2, 5)
		}
		tr := tr
		t.Run("", func(t *testing.T) {
			checkGrad(t, func(x []*G.Node) (*G.Node, error) { return G.BatchedMatMul(x[0], x[1], tr[0], tr[1]) }, []*tensor.Dense{a, b})
		})
	}
}

func TestAttentionShapeErrors(t *testing.T) {
	g := G.NewGraph()
	n := func(shape ...int) *G.Node {
		return G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...))
	}
	wa, err := NewWindowAttention(g, "wa", WindowAttentionConfig{Dim: 6, Heads: 3, Window: [3]int{2, 2, 2}}, &LayerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mha, err := NewMultiHeadAttention(g, "mha", MultiHeadAttentionConfig{Dim: 8, Heads: 2}, &LayerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	badMask := tensor.New(tensor.WithShape(3, 8, 8), tensor.Of(tensor.Float64))
	cases := []struct {
		name string
		f    func() (*G.Node, error)
	}{
		{"PermuteAxes", func() (*G.Node, error) { return Permute(n(2, 3), 0, 0) }},
		{"RollEmpty", func() (*G.Node, error) { return Roll(n(2, 0), []int{1}, []int{1}) }},
		{"PermuteScalar", func() (*G.Node, error) { return Permute(G.NewScalar(g, tensor.Float32)) }},
		{"Reshape", func() (*G.Node, error) { return Reshape(n(2, 3), 4) }},
		{"ToChannelsLastRank", func() (*G.Node, error) { return ToChannelsLast(n(2, 3, 4)) }},
		{"FromTokens", func() (*G.Node, error) { return FromTokens(n(2, 7, 3), 2, 2, 2) }},
		{"WindowPartitionDivisible", func() (*G.Node, error) { return WindowPartition(n(1, 5, 4, 4, 2), [3]int{2, 2, 2}) }},
		{"WindowPartitionZeroWindow", func() (*G.Node, error) { return WindowPartition(n(1, 4, 4, 4, 2), [3]int{0, 2, 2}) }},
		{"WindowReverseCount", func() (*G.Node, error) { return WindowReverse(n(7, 8, 2), [3]int{2, 2, 2}, [4]int{1, 4, 4, 4}) }},
		{"Pad", func() (*G.Node, error) { return PadChannelsLast(n(1, 2, 2, 2, 1), [3]int{-1, 0, 0}) }},
		{"Crop", func() (*G.Node, error) { return CropChannelsLast(n(1, 2, 2, 2, 1), [3]int{3, 1, 1}) }},
		{"RollAxis", func() (*G.Node, error) { return Roll(n(2, 3), []int{1}, []int{2}) }},
		{"Roll3dRank", func() (*G.Node, error) { return Roll3d(n(2, 3, 4), [3]int{1, 1, 1}) }},
		{"BatchedMatMulInner", func() (*G.Node, error) { return BatchedMatMul(n(2, 3, 4), n(2, 5, 6), false, false) }},
		{"BatchedMatMulBatch", func() (*G.Node, error) { return BatchedMatMul(n(2, 3, 4), n(3, 4, 6), false, false) }},
		{"LinearMap", func() (*G.Node, error) { return LinearMap(n(2, 3, 4), n(5, 3)) }},
		{"AddTrailing", func() (*G.Node, error) { return AddTrailing(n(2, 3, 4), n(3)) }},
		{"MaskedSoftmaxMask", func() (*G.Node, error) { return MaskedSoftmax(n(8, 2, 8, 8), badMask) }},
		{"AttentionSoftmaxBias", func() (*G.Node, error) { return AttentionSoftmax(n(8, 2, 8, 8), 1, n(3, 8, 8), nil) }},
		{"RelativePositionBiasTable", func() (*G.Node, error) { return RelativePositionBias(n(26, 2), [3]int{2, 2, 2}, 8) }},
		{"RelativePositionBiasTokens", func() (*G.Node, error) { return RelativePositionBias(n(27, 2), [3]int{2, 2, 2}, 9) }},
		{"WindowAttentionChannels", func() (*G.Node, error) { return wa.Forward(n(4, 8, 5), nil) }},
		{"WindowAttentionTokens", func() (*G.Node, error) { return wa.Forward(n(4, 9, 6), nil) }},
		{"WindowAttentionMask", func() (*G.Node, error) { return wa.Forward(n(4, 8, 6), badMask) }},
		{"MultiHeadAttentionQuery", func() (*G.Node, error) { return mha.Forward(n(2, 3, 7), n(2, 4, 8)) }},
		{"MultiHeadAttentionBatch", func() (*G.Node, error) { return mha.Forward(n(2, 3, 8), n(3, 4, 8)) }},
		{"AddPositionalEncoding3dRank", func() (*G.Node, error) { return AddPositionalEncoding3d(n(2, 3, 4)) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := c.f()
			if !errors.Is(err, ErrShape) {
				t.Fatalf("got (%v, %v), want an error wrapping ErrShape", out, err)
			}
			t.Log(err)
		})
	}
	if _, err := NewWindowAttention(g, "bad", WindowAttentionConfig{Dim: 6, Heads: 4, Window: [3]int{2, 2, 2}}, &LayerOptions{}); !errors.Is(err, ErrConfig) {
		t.Errorf("dim 6 with 4 heads: %v, want ErrConfig", err)
	}
	if _, err := ShiftedWindowMask([3]int{4, 4, 4}, [3]int{2, 2, 2}, [3]int{2, 0, 0}); !errors.Is(err, ErrShape) {
		t.Errorf("shift = window: %v, want ErrShape", err)
	}
}

func negInf() float64 { return -1 / zero }

var zero = 0.0

// The whole shifted-window path (pad, roll, partition, masked attention,
// reverse, roll back, crop) with a clipped window.
func TestAttentionForwardVolumeGradient(t *testing.T) {
	rnd := rand.New(rand.NewSource(11))
	g := G.NewGraph()
	l, err := NewWindowAttention(g, "blk", WindowAttentionConfig{Dim: 4, Heads: 2, Window: [3]int{2, 2, 3}}, &LayerOptions{Dtype: tensor.Float64, Rand: rng.New(7)})
	if err != nil {
		t.Fatal(err)
	}
	inputs := []*tensor.Dense{randTensor(rnd, 1, 3, 4, 2, 4)}
	for _, p := range l.Params() {
		inputs = append(inputs, p.Node.Value().(*tensor.Dense).Clone().(*tensor.Dense))
	}
	checkGrad(t, func(x []*G.Node) (*G.Node, error) {
		l.BiasTable, l.QKVWeight, l.QKVBias, l.ProjWeight, l.ProjBias = x[1], x[2], x[3], x[4], x[5]
		return l.ForwardVolume(x[0], [3]int{1, 1, 1})
	}, inputs)
}

// Running a training graph twice gives the same values and gradients: the
// reused output buffers of the ops are fully rewritten each run.
func TestAttentionRerunStable(t *testing.T) {
	rnd := rand.New(rand.NewSource(12))
	g := G.NewGraph()
	l, err := NewWindowAttention(g, "blk", WindowAttentionConfig{Dim: 4, Heads: 2, Window: [3]int{2, 2, 2}}, &LayerOptions{Rand: rng.New(7)})
	if err != nil {
		t.Fatal(err)
	}
	xv := randTensor(rnd, 2, 4, 4, 2, 4)
	x32 := make([]float32, xv.DataSize())
	for i, v := range xv.Data().([]float64) {
		x32[i] = float32(v)
	}
	x := attnInput(g, "x", tensor.New(tensor.WithShape(2, 4, 4, 2, 4), tensor.WithBacking(x32)))
	y, err := l.ForwardVolume(x, [3]int{1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	sq, err := G.Square(y)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := G.Sum(sq)
	if err != nil {
		t.Fatal(err)
	}
	grads, err := G.Grad(loss, append(G.Nodes{x}, Nodes(l.Params())...)...)
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	var first [][]float64
	for run := 0; run < 3; run++ {
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		for i, gn := range grads {
			v := attnAsFloat64(gn.Value().(*tensor.Dense))
			if run == 0 {
				first = append(first, v)
				continue
			}
			for j := range v {
				if v[j] != first[i][j] {
					t.Fatalf("run %d: gradient %d element %d: %g, first run %g", run, i, j, v[j], first[i][j])
				}
			}
		}
	}
}

// PyTorch's and MONAI's initialisations: bounds, spread and zero biases.
func TestAttentionLayerInit(t *testing.T) {
	g := G.NewGraph()
	wa, err := NewWindowAttention(g, "wa", WindowAttentionConfig{Dim: 48, Heads: 3, Window: [3]int{7, 7, 7}}, &LayerOptions{Rand: rng.New(1)})
	if err != nil {
		t.Fatal(err)
	}
	mha, err := NewMultiHeadAttention(g, "mha", MultiHeadAttentionConfig{Dim: 64, Heads: 8}, &LayerOptions{Rand: rng.New(2)})
	if err != nil {
		t.Fatal(err)
	}
	stats := func(n *G.Node) (lo, hi, std float64) {
		v := attnAsFloat64(n.Value().(*tensor.Dense))
		lo, hi = v[0], v[0]
		var s, s2 float64
		for _, x := range v {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
			s += x
			s2 += x * x
		}
		m := s / float64(len(v))
		return lo, hi, math.Sqrt(s2/float64(len(v)) - m*m)
	}
	cases := []struct {
		name      string
		n         *G.Node
		bound     float64 // values in [-bound, bound]
		std       float64 // expected standard deviation
		stdRelTol float64
	}{
		{"relative_position_bias_table", wa.BiasTable, 2, 0.02, 0.05},
		{"qkv.weight", wa.QKVWeight, 1 / math.Sqrt(48), 1 / math.Sqrt(48) / math.Sqrt(3), 0.05},
		{"qkv.bias", wa.QKVBias, 1 / math.Sqrt(48), 1 / math.Sqrt(48) / math.Sqrt(3), 0.2},
		{"proj.weight", wa.ProjWeight, 1 / math.Sqrt(48), 1 / math.Sqrt(48) / math.Sqrt(3), 0.05},
		{"in_proj_weight", mha.InProjWeight, math.Sqrt(6.0 / 256), math.Sqrt(6.0/256) / math.Sqrt(3), 0.05},
		{"in_proj_bias", mha.InProjBias, 0, 0, 0},
		{"out_proj.weight", mha.OutProjWeight, 1.0 / 8, 1.0 / 8 / math.Sqrt(3), 0.05},
		{"out_proj.bias", mha.OutProjBias, 0, 0, 0},
	}
	for _, c := range cases {
		lo, hi, std := stats(c.n)
		if lo < -c.bound || hi > c.bound {
			t.Errorf("%s: values in [%g, %g], want within ±%g", c.name, lo, hi, c.bound)
		}
		if math.Abs(std-c.std) > c.stdRelTol*c.std {
			t.Errorf("%s: std %g, want %g", c.name, std, c.std)
		}
	}
	var names []string
	for _, s := range append(wa.State(), mha.State()...) {
		names = append(names, s.Name)
	}
	want := "[wa.relative_position_bias_table wa.qkv.weight wa.qkv.bias wa.proj.weight wa.proj.bias mha.in_proj_weight mha.in_proj_bias mha.out_proj.weight mha.out_proj.bias]"
	if got := fmt.Sprint(names); got != want {
		t.Errorf("state names %s, want %s", got, want)
	}
}

// The layers' state goes through SaveState and LoadState by name.
func TestAttentionLayerStateRoundTrip(t *testing.T) {
	mk := func(seed uint64) (*WindowAttention, *MultiHeadAttention) {
		g := G.NewGraph()
		wa, err := NewWindowAttention(g, "wa", WindowAttentionConfig{Dim: 6, Heads: 2, Window: [3]int{2, 3, 2}}, &LayerOptions{Rand: rng.New(seed)})
		if err != nil {
			t.Fatal(err)
		}
		mha, err := NewMultiHeadAttention(g, "mha", MultiHeadAttentionConfig{Dim: 4, Heads: 2}, &LayerOptions{Rand: rng.New(seed)})
		if err != nil {
			t.Fatal(err)
		}
		return wa, mha
	}
	wa1, mha1 := mk(1)
	wa2, mha2 := mk(2)
	var buf bytes.Buffer
	if err := SaveState(&buf, append(wa1.State(), mha1.State()...)); err != nil {
		t.Fatal(err)
	}
	if err := LoadState(&buf, append(wa2.State(), mha2.State()...)); err != nil {
		t.Fatal(err)
	}
	s1, s2 := append(wa1.State(), mha1.State()...), append(wa2.State(), mha2.State()...)
	for i := range s1 {
		a, b := attnAsFloat64(s1[i].Value), attnAsFloat64(s2[i].Value)
		for j := range a {
			if a[j] != b[j] {
				t.Fatalf("%s element %d: loaded %g, saved %g", s2[i].Name, j, b[j], a[j])
			}
		}
	}
}

func TestAttentionFastExp(t *testing.T) {
	worst := 0.0
	for x := -745.0; x <= 0; x += 0.00731 {
		want := math.Exp(x)
		got := attnExp(x)
		if want == 0 || want < 1e-300 {
			continue
		}
		worst = math.Max(worst, math.Abs(got/want-1))
	}
	if worst > 1e-8 {
		t.Fatalf("attnExp relative error %g, want < 1e-8", worst)
	}
	if attnExp(-1000) != 0 || attnExp(0) != 1 {
		t.Fatalf("attnExp(-1000) = %g, attnExp(0) = %g", attnExp(-1000), attnExp(0))
	}
}
