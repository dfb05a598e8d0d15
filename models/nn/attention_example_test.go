package nn_test

import (
	"fmt"

	"github.com/unetlab/unetlab/models/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func ExampleWindowPartition() {
	// A 1x4x4x4 volume with one channel, channels last, voxel value = index.
	vals := make([]float32, 64)
	for i := range vals {
		vals[i] = float32(i)
	}
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 5, G.WithShape(1, 4, 4, 4, 1), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(1, 4, 4, 4, 1), tensor.WithBacking(vals))))
	w, err := nn.WindowPartition(x, [3]int{2, 2, 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(w.Shape())
	fmt.Println(w.Value().Data().([]float32)[:8])
	// Output:
	// (8, 8, 1)
	// [0 1 4 5 16 17 20 21]
}

func ExampleRelativePositionIndex() {
	idx, _ := nn.RelativePositionIndex([3]int{1, 2, 2})
	fmt.Println(nn.RelativePositionTableSize([3]int{1, 2, 2}))
	for i := 0; i < 4; i++ {
		fmt.Println(idx[i*4 : i*4+4])
	}
	// Output:
	// 9
	// [4 3 1 0]
	// [5 4 2 1]
	// [7 6 4 3]
	// [8 7 5 4]
}

func ExampleShiftedWindowMask() {
	// A 4x4x4 volume, windows of 2, shifted by 1: the corner windows mix
	// voxels from different regions.
	mask, _ := nn.ShiftedWindowMask([3]int{4, 4, 4}, [3]int{2, 2, 2}, [3]int{1, 1, 1})
	fmt.Println(mask.Shape())
	masked := 0
	for _, v := range mask.Data().([]float64) {
		if v != 0 {
			masked++
		}
	}
	fmt.Println(masked, "of", mask.DataSize(), "pairs masked")
	// Output:
	// (8, 8, 8)
	// 296 of 512 pairs masked
}

func ExampleNewWindowAttention() {
	g := G.NewGraph()
	attn, err := nn.NewWindowAttention(g, "blocks.0.attn", nn.WindowAttentionConfig{Dim: 48, Heads: 3, Window: [3]int{7, 7, 7}}, &nn.LayerOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range attn.Params() {
		fmt.Println(p.Name, p.Node.Shape())
	}
	// A (N, D, H, W, C) = (1, 8, 8, 8, 48) feature map, windows clipped to 7.
	x := G.NewTensor(g, tensor.Float32, 5, G.WithShape(1, 8, 8, 8, 48), G.WithName("x"))
	y, err := attn.ForwardVolume(x, [3]int{3, 3, 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(y.Shape())
	// Output:
	// blocks.0.attn.relative_position_bias_table (2197, 3)
	// blocks.0.attn.qkv.weight (144, 48)
	// blocks.0.attn.qkv.bias (144)
	// blocks.0.attn.proj.weight (48, 48)
	// blocks.0.attn.proj.bias (48)
	// (1, 8, 8, 8, 48)
}

func ExampleNewMultiHeadAttention() {
	g := G.NewGraph()
	mha, err := nn.NewMultiHeadAttention(g, "attn", nn.MultiHeadAttentionConfig{Dim: 64, Heads: 8}, &nn.LayerOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Query: 512 skip tokens; key and value: 64 decoder tokens.
	skip := G.NewTensor(g, tensor.Float32, 3, G.WithShape(2, 512, 64), G.WithName("skip"))
	dec := G.NewTensor(g, tensor.Float32, 3, G.WithShape(2, 64, 64), G.WithName("dec"))
	y, err := mha.Forward(skip, dec)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(y.Shape())
	_, err = mha.Forward(skip, G.NewTensor(g, tensor.Float32, 3, G.WithShape(2, 64, 32), G.WithName("bad")))
	fmt.Println(err)
	// Output:
	// (2, 512, 64)
	// nn: shape mismatch: nn.MultiHeadAttention attn: query shape (2, 512, 64), key/value shape (2, 64, 32), want (2, Lk, 64)
}

func ExampleSinusoidalPositionalEncoding3d() {
	pe, _ := nn.SinusoidalPositionalEncoding3d(6, 2, 1, 1, tensor.Float64)
	// Channels 0, 1 encode D (sin, cos), 2, 3 encode H, 4, 5 encode W.
	v := pe.Data().([]float64)
	for c := 0; c < 6; c++ {
		fmt.Printf("c%d: %.4f %.4f\n", c, v[c*2], v[c*2+1])
	}
	// Output:
	// c0: 0.0000 0.8415
	// c1: 1.0000 0.5403
	// c2: 0.0000 0.0000
	// c3: 1.0000 1.0000
	// c4: 0.0000 0.0000
	// c5: 1.0000 1.0000
}
