package models

import (
	"fmt"
	"strings"
)

// Param describes one tensor of a model's state: its PyTorch-style dotted
// name (e.g. "encoder.conv_blocks.0.conv_block_1.convolution.weight") and
// shape. Buffers (BatchNorm running statistics) are state but not trained.
type Param struct {
	Name   string
	Shape  []int
	Buffer bool
	// Int64 marks an integer buffer (BatchNorm's num_batches_tracked).
	Int64 bool
}

// Numel is the number of elements of p.
func (p Param) Numel() int64 { return numel(p.Shape) }

// Layer is one row of a Summary: one PyTorch module (or one functional step
// such as an addition or a concatenation) with its output shape, its
// parameters and its compute.
type Layer struct {
	// Name is the module path ("decoder.upscaling_layers.0.transpose_conv");
	// functional steps carry the path of the block they belong to.
	Name string
	// Type is the PyTorch class or operation ("Conv3d", "Add", "WindowAttention").
	Type string
	// Output is the output shape: (N, C, D, H, W) for volumes, (N, D, H, W, C)
	// for channels-last steps and (N, L, E) for token sequences.
	Output []int
	Params []Param
	// MACs counts multiply-accumulates by thop 0.1.1's rules (the paper's
	// "FLOPs"): convolutions and transposed convolutions
	// out_numel x (Cin/groups) x prod(k) without bias, InstanceNorm
	// 2 x numel (x2 affine), BatchNorm and LayerNorm 4 x numel, Linear
	// in_features x out_numel, everything else 0.
	MACs int64
	// FLOPs counts floating-point operations truly performed: 2 x MACs for
	// convolutions (transposed ones by input size) and linear layers plus
	// the bias, 5 per element for a normalisation (+2 with affine), 1 per
	// element for ReLU, LeakyReLU and additions, 8 for GELU, k^3-1
	// comparisons per pooled output, 15 per trilinear output, and the
	// attention matmuls (2 x B x heads x Lq x Lk x head_dim each for QK^T
	// and AV, 5 per score for the softmax, 1 per score for a bias or mask).
	FLOPs int64
}

// NumParams is the number of trained parameters of l (buffers excluded).
func (l Layer) NumParams() int64 {
	var n int64
	for _, p := range l.Params {
		if !p.Buffer {
			n += p.Numel()
		}
	}
	return n
}

func numel(s []int) int64 {
	n := int64(1)
	for _, v := range s {
		n *= int64(v)
	}
	return n
}

func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = fmt.Sprint(v)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
