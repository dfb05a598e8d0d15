package cuda

import (
	"fmt"
	"math"
	"sync"
)

// kernelNames lists the kernels of kernels.h (UB_KERNELS), in its order.
var kernelNames = []string{
	"ub_fill", "ub_fill_div", "ub_axpby", "ub_mul", "ub_add", "ub_copy2d", "ub_act_fwd", "ub_act_bwd", "ub_add_bias",
	"ub_sum_partial", "ub_sum_final", "ub_channel_sum", "ub_sgemm",
	"ub_conv3d_fwd", "ub_conv3d_bwd_data", "ub_conv3d_bwd_weight",
	"ub_pool_fwd", "ub_pool_bwd", "ub_ups_fwd", "ub_ups_bwd", "ub_softmax_fwd", "ub_softmax_bwd", "ub_attn_softmax", "ub_attn_softmax_bwd",
	"ub_norm_stats_middle", "ub_norm_stats_across", "ub_norm_apply", "ub_norm_bwd_middle", "ub_norm_bwd_across",
	"ub_affine_fwd", "ub_affine_bwd_x", "ub_affine_bwd_param", "ub_adam",
	"ub_loss_dice_stats", "ub_loss_ce_partial", "ub_loss_final", "ub_loss_grad",
	"ub_strided_gather", "ub_strided_scatter",
	"ub_reduce_rows", "ub_roll_fwd", "ub_gather", "ub_gather_sum", "ub_conv3d_bwd_weight_thread",
	"ub_norm_stats_thread", "ub_norm_bwd_thread", "ub_bn_running",
	"ub_selftest_reverse", "ub_selftest_early_exit",
}

const (
	kFill = iota
	kFillDiv
	kAxpby
	kMul
	kAdd
	kCopy2D
	kActFwd
	kActBwd
	kAddBias
	kSumPartial
	kSumFinal
	kChannelSum
	kSgemm
	kConvFwd
	kConvBwdData
	kConvBwdWeight
	kPoolFwd
	kPoolBwd
	kUpsFwd
	kUpsBwd
	kSoftmaxFwd
	kSoftmaxBwd
	kAttnSoftmax
	kAttnSoftmaxBwd
	kNormStatsMiddle
	kNormStatsAcross
	kNormApply
	kNormBwdMiddle
	kNormBwdAcross
	kAffineFwd
	kAffineBwdX
	kAffineBwdParam
	kAdam
	kLossDiceStats
	kLossCEPartial
	kLossFinal
	kLossGrad
	kStridedGather
	kStridedScatter
	kReduceRows
	kRollFwd
	kGather
	kGatherSum
	kConvBwdWeightThread
	kNormStatsThread
	kNormBwdThread
	kBNRunning
	kSelftestReverse
	kSelftestEarlyExit
)

// Act is an activation of Kernels.Activation, numbered as the CPU engine's.
type Act int32

// The activations, numbered as models/nn's CPU activations.
const (
	ActReLU      Act = iota // max(x, 0)
	ActLeakyReLU            // x for x > 0, alpha·x otherwise
	ActGELU                 // x·Φ(x), the exact (erf) form
	ActSigmoid              // 1 / (1 + e^-x)
)

// Kernels launches the project's kernels on a device with Go signatures.
// Pointers are device addresses of float32 arrays laid out as the CPU
// engine's tensors (row-major, NCDHW). A Kernels is safe for one goroutine
// at a time.
type Kernels struct {
	dev Device
	fn  []Function

	mu      sync.Mutex
	partial Ptr // Sum's per-block partial sums (float64)
}

// threads per block of the elementwise and reduction kernels
// (UB_REDUCE_THREADS, UB_CONV_WG_THREADS in the sources).
const blockThreads = 256

// NewKernels resolves every kernel of the module on d.
func NewKernels(d Device) (*Kernels, error) {
	k := &Kernels{dev: d, fn: make([]Function, len(kernelNames))}
	for i, name := range kernelNames {
		f, err := d.Function(name)
		if err != nil {
			return nil, fmt.Errorf("cuda: %s: kernel %s: %w", d.Name(), name, err)
		}
		k.fn[i] = f
	}
	return k, nil
}

// Device returns the device the kernels run on.
func (k *Kernels) Device() Device { return k.dev }

// Close frees the Kernels' scratch memory (not the device).
func (k *Kernels) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	err := k.dev.Free(k.partial)
	k.partial = 0
	return err
}

// i32 converts a size to a kernel's int, failing above 2^31-1.
func i32(what string, n int) (int32, error) {
	if n < 0 || n > math.MaxInt32 {
		return 0, fmt.Errorf("%w: %s = %d does not fit a 32-bit int", ErrLaunch, what, n)
	}
	return int32(n), nil
}

// gridFor returns the blocks of a grid-stride launch over n elements.
func gridFor(n int) Dim3 {
	return Dim3{X: max(1, min((n+blockThreads-1)/blockThreads, 1<<16))}
}

func (k *Kernels) launch1D(f, n int, args ...any) error {
	if n == 0 {
		return nil
	}
	return k.dev.Launch(k.fn[f], gridFor(n), Dim3{X: blockThreads}, 0, args...)
}

// Fill sets y[0:n] to v.
func (k *Kernels) Fill(n int, v float32, y Ptr) error {
	n32, err := i32("n", n)
	if err != nil {
		return err
	}
	return k.launch1D(kFill, n, n32, v, y)
}

// FillDiv sets y[0:n] to s[0]/div (s a device scalar), divided in float64.
func (k *Kernels) FillDiv(n int, s Ptr, div float64, y Ptr) error {
	n32, err := i32("n", n)
	if err != nil {
		return err
	}
	return k.launch1D(kFillDiv, n, n32, s, div, y)
}

// Axpby sets y = a*x + b*y over n elements; b = 0 overwrites y.
func (k *Kernels) Axpby(n int, a float32, x Ptr, b float32, y Ptr) error {
	n32, err := i32("n", n)
	if err != nil {
		return err
	}
	return k.launch1D(kAxpby, n, n32, a, x, b, y)
}

// Mul sets y = a*b elementwise over n elements.
func (k *Kernels) Mul(n int, a, b, y Ptr) error {
	n32, err := i32("n", n)
	if err != nil {
		return err
	}
	return k.launch1D(kMul, n, n32, a, b, y)
}

// Add sets y = a + b elementwise over n elements.
func (k *Kernels) Add(n int, a, b, y Ptr) error {
	n32, err := i32("n", n)
	if err != nil {
		return err
	}
	return k.launch1D(kAdd, n, n32, a, b, y)
}

// Copy2D copies rows x cols float32 values from src, rows srcStride
// elements apart, to dst, rows dstStride apart.
func (k *Kernels) Copy2D(rows, cols int, src Ptr, srcStride int, dst Ptr, dstStride int) error {
	total, err := i32("rows*cols", rows*cols)
	if err != nil {
		return err
	}
	if _, err := i32("stride", max(srcStride, dstStride)); err != nil {
		return err
	}
	return k.launch1D(kCopy2D, int(total), int32(rows), int32(cols), src, int32(srcStride), dst, int32(dstStride))
}

// Activation sets y = act(x) over n elements; alpha is LeakyReLU's slope.
func (k *Kernels) Activation(act Act, alpha float32, n int, x, y Ptr) error {
	n32, err := i32("n", n)
	if err != nil {
		return err
	}
	return k.launch1D(kActFwd, n, n32, int32(act), alpha, x, y)
}

// ActivationGrad sets dx = act'(x)*dy over n elements, from x, the forward
// output y (Sigmoid reads it) and dy.
func (k *Kernels) ActivationGrad(act Act, alpha float32, n int, x, y, dy, dx Ptr) error {
	n32, err := i32("n", n)
	if err != nil {
		return err
	}
	return k.launch1D(kActBwd, n, n32, int32(act), alpha, x, y, dy, dx)
}

// AddBias adds b[c] to y of shape (n, c, sp), sp the spatial size.
func (k *Kernels) AddBias(n, c, sp int, b, y Ptr) error {
	total, err := i32("n*c*sp", n*c*sp)
	if err != nil {
		return err
	}
	return k.launch1D(kAddBias, int(total), int32(n), int32(c), int32(sp), b, y)
}

// sumBlocks is the most blocks of Sum's first pass.
const sumBlocks = 1024

// Sum sets out[0] = scale * sum(x[0:n]), accumulated in float64: scale 1
// is Sum, 1/n Mean.
func (k *Kernels) Sum(n int, x Ptr, scale float64, out Ptr) error {
	n32, err := i32("n", n)
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.partial == 0 {
		if k.partial, err = k.dev.Alloc(8 * sumBlocks); err != nil {
			return err
		}
	}
	blocks := max(1, min((n+blockThreads-1)/blockThreads, sumBlocks))
	if err := k.dev.Launch(k.fn[kSumPartial], Dim3{X: blocks}, Dim3{X: blockThreads}, 0, n32, x, k.partial); err != nil {
		return err
	}
	return k.dev.Launch(k.fn[kSumFinal], Dim3{X: 1}, Dim3{X: blockThreads}, 0, int32(blocks), k.partial, scale, out)
}

// ChannelSum sets out[ch] = the sum of x (n, c, sp) over n and sp: a bias
// gradient.
func (k *Kernels) ChannelSum(n, c, sp int, x, out Ptr) error {
	if _, err := i32("n*c*sp", n*c*sp); err != nil {
		return err
	}
	if c == 0 {
		return nil
	}
	return k.dev.Launch(k.fn[kChannelSum], Dim3{X: c}, Dim3{X: blockThreads}, 0, int32(n), int32(c), int32(sp), x, out)
}

// Gemm is one (batched) matrix product C = Alpha*op(A)*op(B) + Beta*C of
// row-major float32 matrices: op(A) is M x K, op(B) K x N, C M x N, with
// leading dimensions LDA, LDB, LDC (elements). Batch products (0 means 1)
// take A, B and C at strides SA, SB, SC elements apart.
type Gemm struct {
	TransA, TransB bool
	M, N, K        int
	Alpha, Beta    float32
	A, B, C        Ptr
	LDA, LDB, LDC  int
	Batch          int
	SA, SB, SC     int
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// Sgemm runs g with the tiled shared-memory kernel (64 x 64 tiles).
func (k *Kernels) Sgemm(g Gemm) error {
	batch := max(g.Batch, 1)
	if g.M < 0 || g.N < 0 || g.K < 0 || batch > 65535 {
		return fmt.Errorf("%w: sgemm M=%d N=%d K=%d batch %d", ErrLaunch, g.M, g.N, g.K, batch)
	}
	for _, v := range []int{g.M, g.N, g.K, g.LDA, g.LDB, g.LDC} {
		if _, err := i32("sgemm size", v); err != nil {
			return err
		}
	}
	if g.M == 0 || g.N == 0 {
		return nil
	}
	grid := Dim3{X: (g.N + 63) / 64, Y: (g.M + 63) / 64, Z: batch}
	return k.dev.Launch(k.fn[kSgemm], grid, Dim3{X: 256}, 0, b2i(g.TransA), b2i(g.TransB),
		int32(g.M), int32(g.N), int32(g.K), g.Alpha, g.A, int32(g.LDA), int64(g.SA), g.B, int32(g.LDB), int64(g.SB),
		g.Beta, g.C, int32(g.LDC), int64(g.SC))
}

// ConvGeom is the geometry of a 3D convolution as the kernels take it
// (ub_conv_geom): batch N, channels CB of the big side (the convolution's
// input, a transposed convolution's output) and CS of the small side, the
// groups, the spatial sizes (D, H, W) of both sides, and kernel size,
// stride, padding and dilation per axis. The weight is (CS, CB/Groups, K...).
type ConvGeom struct {
	N, CB, CS, Groups                    int32
	Big, Small, K, Stride, Pad, Dilation [3]int32
}

func (g ConvGeom) sizes() (big, small, w int) {
	big = int(g.N) * int(g.CB) * int(g.Big[0]) * int(g.Big[1]) * int(g.Big[2])
	small = int(g.N) * int(g.CS) * int(g.Small[0]) * int(g.Small[1]) * int(g.Small[2])
	w = int(g.CS) * int(g.CB/max(g.Groups, 1)) * int(g.K[0]) * int(g.K[1]) * int(g.K[2])
	return
}

func (g ConvGeom) check() error {
	big, small, w := g.sizes()
	if g.Groups < 1 || g.CB%g.Groups != 0 || g.CS%g.Groups != 0 {
		return fmt.Errorf("%w: conv3d: groups %d, channels %d and %d", ErrLaunch, g.Groups, g.CB, g.CS)
	}
	for i := 0; i < 3; i++ {
		if g.Stride[i] < 1 || g.Dilation[i] < 1 || g.K[i] < 1 || g.Pad[i] < 0 {
			return fmt.Errorf("%w: conv3d: geometry %+v", ErrLaunch, g)
		}
	}
	for _, n := range []int{big, small, w} {
		if _, err := i32("conv3d tensor size", n); err != nil {
			return err
		}
	}
	return nil
}

// Conv3dForward sets small (N, CS, Small...) to the convolution of big
// (N, CB, Big...) with w; no bias (AddBias adds it).
func (k *Kernels) Conv3dForward(g ConvGeom, big, w, small Ptr) error {
	if err := g.check(); err != nil {
		return err
	}
	_, n, _ := g.sizes()
	return k.launch1D(kConvFwd, n, g, big, w, small)
}

// Conv3dBackwardData sets big (N, CB, Big...) to the transposed convolution
// of small (N, CS, Small...) with w: a convolution's input gradient, or a
// transposed convolution's forward pass.
func (k *Kernels) Conv3dBackwardData(g ConvGeom, small, w, big Ptr) error {
	if err := g.check(); err != nil {
		return err
	}
	n, _, _ := g.sizes()
	return k.launch1D(kConvBwdData, n, g, small, w, big)
}

// wgThreadPositions is the most positions (batch times the small side)
// for which Conv3dBackwardWeight gives each weight element a thread rather
// than a block: the deep layers, with many weights and few positions.
const wgThreadPositions = 4096

// Conv3dBackwardWeight sets dw (CS, CB/Groups, K...) to the weight gradient
// from small (the output gradient of a convolution; a transposed
// convolution's input) and big (its input; a transposed convolution's
// output gradient).
func (k *Kernels) Conv3dBackwardWeight(g ConvGeom, small, big, dw Ptr) error {
	if err := g.check(); err != nil {
		return err
	}
	_, _, n := g.sizes()
	if n == 0 {
		return nil
	}
	if n > math.MaxInt32 {
		return fmt.Errorf("%w: conv3d weight of %d elements", ErrLaunch, n)
	}
	if int(g.N)*int(g.Small[0])*int(g.Small[1])*int(g.Small[2]) <= wgThreadPositions {
		return k.launch1D(kConvBwdWeightThread, n, g, small, big, dw)
	}
	return k.dev.Launch(k.fn[kConvBwdWeight], Dim3{X: n}, Dim3{X: blockThreads}, 0, g, small, big, dw)
}
