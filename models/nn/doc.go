// Package nn holds the 3D operations and layers of unetlab's networks as
// gorgonia Ops: convolution, transposed convolution, pooling, upsampling,
// normalisation, activations and the layers that own their parameters.
//
// Tensors are laid out (N, C, D, H, W) and hold float32 or float64. Every
// operation is a node constructor (Conv3d, MaxPool3d, …) that checks shapes
// when the graph is built and returns an error wrapping ErrShape that names
// the operation and both shapes. Each operation has a forward and a backward
// kernel, so gorgonia.Grad (symbolic differentiation, TapeMachine) and the
// LispMachine (automatic differentiation) both work. Kernels use all cores
// and keep their output buffers between runs of a machine.
//
// Writing a new operation: implement the unexported kernel interface in
// op.go (String, inferShape, forward, grad) and build nodes with apply. The
// test helper checkGrad (gradcheck_test.go) compares its gradients with
// central finite differences.
package nn
