package nn

import (
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
// (wrapped) for kernels the device does not implement yet.
func (d *Device) deviceForward(k kernel, out devTensor, in []devTensor) error {
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
	}
	return fmt.Errorf("%w: %s", errNoDeviceOp, k)
}

// errNoDeviceOp marks a kernel without a device implementation; the
// executor runs it on the CPU and counts it.
var errNoDeviceOp = fmt.Errorf("%w: no device kernel", ErrDevice)
