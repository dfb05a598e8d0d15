//go:build !amd64 || purego

package nn

// expVec is nil: the attention softmax's exp is scalar Go here.
var (
	expVec   func(z *float32, n int, mx float32) float32
	expLanes int
)

func expKernels() []expKernel { return nil }

const haveSoftmax16 = false

func scaleAddMax16(z, x, b *float32, n int, scale float32) float32 { panic("nn: no AVX-512") }
func scale16(d, z *float32, n int, s float32)                      { panic("nn: no AVX-512") }
func dot16(x, y *float32, n int) float32                           { panic("nn: no AVX-512") }
func softmaxGrad16(d, y, dy *float32, n int, mul, s float32)       { panic("nn: no AVX-512") }
