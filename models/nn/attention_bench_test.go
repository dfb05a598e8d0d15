package nn

import (
	"github.com/unetlab/unetlab/rng"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BenchmarkWindowAttention times one forward and backward pass of shifted
// window attention (Swin-UNETR's first stage settings: 48 channels, 3
// heads, window 7, shift 3) over a (1, 28, 28, 28, 48) float32 feature map.
// testdata/attention/bench_torch.py times the same in PyTorch.
func BenchmarkWindowAttention(b *testing.B) {
	rnd := rand.New(rand.NewSource(1))
	g := G.NewGraph()
	l, err := NewWindowAttention(g, "attn", WindowAttentionConfig{Dim: 48, Heads: 3, Window: [3]int{7, 7, 7}}, &LayerOptions{Rand: rng.New(7)})
	if err != nil {
		b.Fatal(err)
	}
	shape := []int{1, 28, 28, 28, 48}
	x := G.NewTensor(g, tensor.Float32, 5, G.WithShape(shape...), G.WithName("x"), G.WithValue(randF32(rnd, shape...)))
	y, err := l.ForwardVolume(x, [3]int{3, 3, 3})
	if err != nil {
		b.Fatal(err)
	}
	benchGrad(b, g, y, append(G.Nodes{x}, Nodes(l.Params())...)...)
}

// BenchmarkBatchedMatMul compares gorgonia's BatchedMatMul with this
// package's on the attention scores of one Swin-UNETR window batch:
// (192, 343, 16) x (192, 343, 16)^T, forward and backward, float32.
func BenchmarkBatchedMatMul(b *testing.B) {
	for _, impl := range []struct {
		name string
		f    func(a, b *G.Node) (*G.Node, error)
	}{
		{"gorgonia", func(a, b *G.Node) (*G.Node, error) { return G.BatchedMatMul(a, b, false, true) }},
		{"nn", func(a, b *G.Node) (*G.Node, error) { return BatchedMatMul(a, b, false, true) }},
	} {
		b.Run(impl.name, func(b *testing.B) {
			rnd := rand.New(rand.NewSource(1))
			g := G.NewGraph()
			mk := func(name string) *G.Node {
				return G.NewTensor(g, tensor.Float32, 3, G.WithShape(192, 343, 16), G.WithName(name),
					G.WithValue(randF32(rnd, 192, 343, 16)))
			}
			q, k := mk("q"), mk("k")
			s, err := impl.f(q, k)
			if err != nil {
				b.Fatal(err)
			}
			benchGrad(b, g, s, q, k)
		})
	}
}
