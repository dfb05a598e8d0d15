//go:build !amd64 || purego

package nn

// expVec is nil: the attention softmax's exp is scalar Go here.
var (
	expVec   func(z *float32, n int, mx float32) float32
	expLanes int
)

func expKernels() []expKernel { return nil }
