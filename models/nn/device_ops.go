package nn

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/unetlab/unetlab/internal/cuda"
	"gorgonia.org/tensor"
)

// devTensor is a float32 tensor in device memory, laid out as the CPU
// engine's (row-major, NCDHW).
type devTensor struct {
	p     cuda.Ptr
	shape tensor.Shape
}

func (t devTensor) size() int { return t.shape.TotalSize() }

// alloc returns an uninitialised device tensor of the given shape.
func (d *Device) alloc(shape tensor.Shape) (devTensor, error) {
	if d.dev == nil {
		return devTensor{}, fmt.Errorf("%w: %s has no device memory", ErrDevice, d)
	}
	p, err := d.dev.Alloc(cuda.F32Bytes(shape.TotalSize()))
	if err != nil {
		return devTensor{}, fmt.Errorf("nn: device tensor %v: %w", shape, err)
	}
	return devTensor{p: p, shape: shape.Clone()}, nil
}

func (d *Device) free(t devTensor) error { return d.dev.Free(t.p) }

// upload copies a float32 host tensor to new device memory.
func (d *Device) upload(h *tensor.Dense) (devTensor, error) {
	v, ok := h.Data().([]float32)
	if !ok {
		return devTensor{}, fmt.Errorf("%w: device tensors are float32, got %v", ErrDtype, h.Dtype())
	}
	t, err := d.alloc(h.Shape())
	if err != nil {
		return t, err
	}
	if len(v) > 0 {
		if err := d.dev.CopyHtoD(t.p, unsafe.Pointer(&v[0]), cuda.F32Bytes(len(v))); err != nil {
			d.free(t)
			return devTensor{}, fmt.Errorf("nn: upload %v: %w", h.Shape(), err)
		}
	}
	return t, nil
}

// download copies a device tensor into the float32 host tensor h of the
// same size.
func (d *Device) download(h *tensor.Dense, t devTensor) error {
	v, ok := h.Data().([]float32)
	if !ok || len(v) != t.size() {
		return fmt.Errorf("%w: download of %v into %v %v", ErrShape, t.shape, h.Dtype(), h.Shape())
	}
	if len(v) == 0 {
		return nil
	}
	if err := d.dev.CopyDtoH(unsafe.Pointer(&v[0]), t.p, cuda.F32Bytes(len(v))); err != nil {
		return fmt.Errorf("nn: download %v: %w", t.shape, err)
	}
	return nil
}

// cudaGeom converts the CPU engine's convolution geometry to the kernels'.
func cudaGeom(g *convGeom) cuda.ConvGeom {
	c := cuda.ConvGeom{N: int32(g.n), CB: int32(g.cb), CS: int32(g.cs), Groups: int32(g.groups)}
	for i := 0; i < 3; i++ {
		c.Big[i], c.Small[i], c.K[i] = int32(g.big[i]), int32(g.small[i]), int32(g.k[i])
		c.Stride[i], c.Pad[i], c.Dilation[i] = int32(g.stride[i]), int32(g.pad[i]), int32(g.dil[i])
	}
	return c
}

// deviceForward runs a kernel's forward pass on the device: out from in,
// device tensors of the shapes the CPU kernel takes. It returns errNoDeviceOp
// (wrapped) for kernels the device does not implement yet. A BatchNorm's
// running statistics go up for the call and come back to the host after it.
func (d *Device) deviceForward(k kernel, out devTensor, in []devTensor) error {
	r := &bnResident{d: d}
	err := d.deviceForwardWith(k, out, in, r)
	if err == nil {
		err = r.sync()
	}
	return errors.Join(err, r.free())
}

// deviceForwardWith is deviceForward with BatchNorm's running statistics
// resident in r (see bnResident), which counts their copies.
func (d *Device) deviceForwardWith(k kernel, out devTensor, in []devTensor, r *bnResident) error {
	kn := d.kern
	switch k := k.(type) {
	case activation:
		return kn.Activation(cuda.Act(k.kind), float32(k.alpha), out.size(), in[0].p, out.p)
	case activationGrad:
		return kn.ActivationGrad(cuda.Act(k.kind), float32(k.alpha), out.size(), in[0].p, in[1].p, in[2].p, out.p)
	case *convKernel:
		g, err := k.geom(in[0].shape, in[1].shape)
		if err != nil {
			return err
		}
		cg := cudaGeom(g)
		if k.transposed {
			err = kn.Conv3dBackwardData(cg, in[0].p, in[1].p, out.p)
		} else {
			err = kn.Conv3dForward(cg, in[0].p, in[1].p, out.p)
		}
		if err != nil || !k.bias {
			return err
		}
		s := out.shape
		return kn.AddBias(s[0], s[1], s[2]*s[3]*s[4], in[2].p, out.p)
	case *convGradKernel:
		g, err := k.fwd.geom(in[0].shape, in[1].shape)
		if err != nil {
			return err
		}
		cg := cudaGeom(g)
		x, w, dy := in[0], in[1], in[len(in)-1]
		switch {
		case k.wrt == 2:
			s := dy.shape
			return kn.ChannelSum(s[0], s[1], s[2]*s[3]*s[4], dy.p, out.p)
		case !k.fwd.transposed && k.wrt == 0:
			return kn.Conv3dBackwardData(cg, dy.p, w.p, out.p)
		case !k.fwd.transposed && k.wrt == 1:
			return kn.Conv3dBackwardWeight(cg, dy.p, x.p, out.p)
		case k.fwd.transposed && k.wrt == 0:
			return kn.Conv3dForward(cg, dy.p, w.p, out.p)
		default:
			return kn.Conv3dBackwardWeight(cg, x.p, dy.p, out.p)
		}
	case *linearKernel:
		// y (m, o) = x (m, i) w^T (w is (o, i)), plus the bias per column.
		ws := in[1].shape
		o, i := ws[0], ws[1]
		m := in[0].size() / max(i, 1)
		if err := kn.Sgemm(cuda.Gemm{M: m, N: o, K: i, Alpha: 1, A: in[0].p, LDA: i, TransB: true, B: in[1].p, LDB: i, C: out.p, LDC: o}); err != nil || !k.bias {
			return err
		}
		return kn.AddBias(m, o, 1, in[2].p, out.p)
	case *linearGradKernel:
		ws := in[1].shape
		o, i := ws[0], ws[1]
		m := in[0].size() / max(i, 1)
		dy := in[len(in)-1]
		switch k.wrt {
		case 0: // dx (m, i) = dy (m, o) w (o, i)
			return kn.Sgemm(cuda.Gemm{M: m, N: i, K: o, Alpha: 1, A: dy.p, LDA: o, B: in[1].p, LDB: i, C: out.p, LDC: i})
		case 1: // dw (o, i) = dy^T x
			return kn.Sgemm(cuda.Gemm{TransA: true, M: o, N: i, K: m, Alpha: 1, A: dy.p, LDA: o, B: in[0].p, LDB: i, C: out.p, LDC: i})
		default: // db (o) = dy summed over rows
			return kn.ReduceRows(o, m, 1, dy.p, out.p)
		}
	case *concatKernel:
		n := out.shape[0]
		per, off := out.size()/max(n, 1), 0
		for _, x := range in[:k.n] {
			sz := x.size() / max(n, 1)
			if err := kn.Copy2D(n, sz, x.p, sz, out.p+cuda.Ptr(4*off), per); err != nil {
				return err
			}
			off += sz
		}
		return nil
	case *concatGradKernel:
		dy := in[len(in)-1]
		n := dy.shape[0]
		per, off := dy.size()/max(n, 1), 0
		for _, x := range in[:k.wrt] {
			off += x.size() / max(n, 1)
		}
		sz := out.size() / max(n, 1)
		return kn.Copy2D(n, sz, dy.p+cuda.Ptr(4*off), per, out.p, sz)
	case *poolKernel:
		return kn.Pool3dForward(poolGeom(k, in[0].shape, out.shape), in[0].p, out.p)
	case *poolGradKernel:
		return kn.Pool3dBackward(poolGeom(k.fwd, in[0].shape, in[2].shape), in[0].p, in[2].p, out.p)
	case *upsampleKernel:
		return d.upsample(k, in[0].shape, out.shape, func(m *cuda.UpsampleMaps) error {
			return kn.Upsample3dForward(m, in[0].p, out.p)
		})
	case *upsampleGradKernel:
		return d.upsample(k.fwd, in[0].shape, in[2].shape, func(m *cuda.UpsampleMaps) error {
			return kn.Upsample3dBackward(m, in[2].p, out.p)
		})
	case *softmaxKernel:
		v := k.view(in[0].shape)
		return kn.Softmax(cuda.View{P: v.p, Q: v.q, T: v.t}, k.log, in[0].p, out.p)
	case *softmaxGradKernel:
		v := k.fwd.view(in[0].shape)
		return kn.SoftmaxGrad(cuda.View{P: v.p, Q: v.q, T: v.t}, k.fwd.log, in[1].p, in[2].p, out.p)
	case *affineKernel:
		v := k.view(in[0].shape)
		return kn.Affine(cuda.View{P: v.p, Q: v.q, T: v.t}, in[0].p, in[1].p, in[2].p, out.p)
	case *affineGradKernel:
		v := k.fwd.view(in[0].shape)
		return kn.AffineGrad(cuda.View{P: v.p, Q: v.q, T: v.t}, k.wrt, in[0].p, in[1].p, in[4].p, out.p)
	case *normKernel:
		return d.norm(k, in[0], true, r, func(v cuda.View, mean, rstd cuda.Ptr) error {
			return kn.NormApply(v, k.across(), in[0].p, mean, rstd, out.p)
		})
	case *normGradKernel:
		return d.norm(k.fwd, in[0], false, r, func(v cuda.View, _, rstd cuda.Ptr) error {
			return kn.NormGrad(v, k.fwd.across(), k.fwd.evalMode(), in[1].p, in[2].p, rstd, out.p)
		})
	}
	return fmt.Errorf("%w: %s", errNoDeviceOp, k)
}

// poolGeom converts a pooling to the kernels' geometry for input xs and
// output ys.
func poolGeom(k *poolKernel, xs, ys tensor.Shape) cuda.PoolGeom {
	g := cuda.PoolGeom{Planes: int32(xs[0] * xs[1])}
	if k.max {
		g.Max = 1
	}
	for i := 0; i < 3; i++ {
		g.In[i], g.Out[i] = int32(xs[2+i]), int32(ys[2+i])
		g.K[i], g.Stride[i], g.Pad[i] = int32(k.p.k[i]), int32(k.p.stride[i]), int32(k.p.pad[i])
	}
	return g
}

// upsample uploads the CPU engine's axis maps for input xs and output ys,
// runs f with them and frees them.
func (d *Device) upsample(k *upsampleKernel, xs, ys tensor.Shape, f func(*cuda.UpsampleMaps) error) error {
	cm := k.maps(xs, ys)
	var axes [3]cuda.UpsampleAxis
	for i, a := range cm {
		axes[i] = cuda.UpsampleAxis{I0: a.i0, I1: a.i1, L1: a.l1}
	}
	m, err := d.kern.NewUpsampleMaps(xs[0]*xs[1], [3]int{xs[2], xs[3], xs[4]}, axes)
	if err != nil {
		return err
	}
	defer m.Free()
	return f(m)
}

// norm computes a normalisation's statistics of x on the device (in
// BatchNorm's eval mode, rstd from the running variance), runs f with the
// mean and rstd, and frees the temporaries. A BatchNorm's running
// statistics are resident in r: with update (the forward pass), a training
// BatchNorm updates them in place from the batch statistics (ub_bn_running,
// the CPU engine's formula); eval mode normalises with them. Neither copies
// anything between host and device.
func (d *Device) norm(k *normKernel, x devTensor, update bool, r *bnResident, f func(v cuda.View, mean, rstd cuda.Ptr) error) error {
	v := k.view(x.shape)
	cv := cuda.View{P: v.p, Q: v.q, T: v.t}
	n := v.q
	if k.across() {
		n = v.p * v.t
	}
	var run bnOnDevice
	if k.bn != nil {
		var err error
		if run, err = r.get(k.bn, n); err != nil {
			return fmt.Errorf("nn: %s: %w", k.name, err)
		}
	}
	var bufs [3]cuda.Ptr
	defer func() {
		for _, p := range bufs {
			d.dev.Free(p)
		}
	}()
	for i := range bufs {
		if i < 2 && k.evalMode() {
			continue // eval mode needs rstd only
		}
		p, err := d.dev.Alloc(8 * max(n, 1))
		if err != nil {
			return fmt.Errorf("nn: %s statistics: %w", k.name, err)
		}
		bufs[i] = p
	}
	mean, variance, rstd := bufs[0], bufs[1], bufs[2]
	if k.evalMode() {
		if err := d.kern.BNRunning(n, 0, 0, k.eps, 0, 0, run.mean, run.variance, rstd); err != nil {
			return err
		}
		return f(cv, run.mean, rstd)
	}
	if err := d.kern.NormStats(cv, k.across(), k.eps, x.p, mean, variance, rstd); err != nil {
		return err
	}
	if update && k.bn != nil && k.bn.Training {
		if err := d.kern.BNRunning(n, k.bn.Momentum, unbiasFor(v.p*v.t), 0, mean, variance, run.mean, run.variance, 0); err != nil {
			return err
		}
		k.bn.countBatch()
	}
	return f(cv, mean, rstd)
}

// errNoDeviceOp marks a kernel without a device implementation; the
// executor runs it on the CPU and counts it.
var errNoDeviceOp = fmt.Errorf("%w: no device kernel", ErrDevice)
