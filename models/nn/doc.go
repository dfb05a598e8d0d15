// Package nn holds the 3D operations and layers of unetlab's networks as
// gorgonia Ops: convolution, transposed convolution, pooling, upsampling,
// normalisation, activations, channel concatenation, attention, and the
// layers that own their parameters.
//
// Tensors are laid out (N, C, D, H, W) and hold float32 or float64. Every
// operation is a node constructor (Conv3d, MaxPool3d, InstanceNorm3d, …)
// that checks shapes when the graph is built and returns an error wrapping
// ErrShape that names the operation and the shapes. Each operation has a
// forward and a backward kernel, so gorgonia.Grad (symbolic
// differentiation, run by a TapeMachine) and the LispMachine (automatic
// differentiation) both work.
//
// Layers own their parameters, initialised as PyTorch does, and list them
// by PyTorch state_dict names: Conv3dLayer and ConvTranspose3dLayer (the
// modules torch.nn.Conv3d and ConvTranspose3d; the functions Conv3d and
// ConvTranspose3d are their functional forms), Norm (InstanceNorm3d,
// BatchNorm3d, GroupNorm, LayerNorm, LayerNormChannels through their New…
// constructors) and Linear. SaveState and LoadState write and read their
// State.
//
// Speed and memory: float32 stride-1 convolutions (every 3x3x3 convolution
// of the paper's networks on volumes of 2048 voxels or more, and every
// depthwise one) run directly on a zero-padded copy of the input,
// with AVX-512 or AVX2+FMA assembly micro-kernels and no column matrix
// (direct.go says how; UNETLAB_CONV=gemm turns it off). The others
// (strided, pointwise, depthwise, float64, or a CPU without AVX2) are
// vol2col + GEMM in tiles spread over all cores, on OpenBLAS when
// libopenblas.so.0 is present and gonum otherwise (see BLASBackend and
// internal/blas). Each op keeps its output
// tensor between runs of a machine, so a training step allocates no new
// tensors; a value read from a node is therefore overwritten by the next
// run, and one graph must not be run by two machines at the same time.
//
// Writing a new operation: implement the unexported kernel interface in
// op.go (String, inferShape, forward, grad) and build nodes with apply. The
// test helper checkGrad (gradcheck_test.go) compares its gradients with
// central finite differences.
package nn
