package train

import (
	"fmt"

	"github.com/unetlab/unetlab/internal/cuda"
	"github.com/unetlab/unetlab/models/nn"
)

// lossParams converts the loss's options and shapes to the kernels' form.
func (op *lossOp) lossParams(x, t nn.DeviceTensor) (cuda.LossParams, error) {
	s, err := checkLossShapes(x.Shape, t.Shape)
	if err != nil {
		return cuda.LossParams{}, err
	}
	o := op.opt
	p := cuda.LossParams{DiceWeight: o.LambdaDice, CEWeight: o.LambdaCE, SmoothNr: o.SmoothNr, SmoothDr: o.SmoothDr,
		N: int32(s.n), C: int32(s.c), V: int32(s.v), TC: int32(s.tc)}
	if o.ExcludeBackground && s.c > 1 {
		p.C0 = 1
	}
	if o.Softmaxed {
		p.Softmaxed = 1
	}
	if o.Kind != CEOnly {
		p.UseDice = 1
	}
	if o.Kind != DiceOnly {
		p.UseCE = 1
	}
	return p, nil
}

// DeviceDo computes the loss on a device (nn.DeviceOp): in is (logits,
// target). A target value that is not a class index gives a NaN loss
// there (the CPU's Do returns an error).
func (op *lossOp) DeviceDo(k *cuda.Kernels, out nn.DeviceTensor, in []nn.DeviceTensor) error {
	if len(in) != 2 {
		return fmt.Errorf("%w: %s: %d inputs, want 2", ErrShape, op, len(in))
	}
	p, err := op.lossParams(in[0], in[1])
	if err != nil {
		return err
	}
	return k.Loss(p, in[0].Ptr, in[1].Ptr, out.Ptr)
}

// DeviceDo computes dLoss/dlogits on a device (nn.DeviceOp): in is
// (logits, target, dOut).
func (op *lossGradOp) DeviceDo(k *cuda.Kernels, out nn.DeviceTensor, in []nn.DeviceTensor) error {
	if len(in) != 3 {
		return fmt.Errorf("%w: %s: %d inputs, want 3", ErrShape, op, len(in))
	}
	p, err := op.loss.lossParams(in[0], in[1])
	if err != nil {
		return err
	}
	return k.LossGrad(p, in[0].Ptr, in[1].Ptr, in[2].Ptr, out.Ptr)
}
