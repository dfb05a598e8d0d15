package train

import (
	"fmt"
	"math"

	"github.com/unetlab/unetlab/internal/cuda"
	"github.com/unetlab/unetlab/models/nn"
	"gorgonia.org/gorgonia"
)

// deviceAdam runs Adam's updates on an nn.Executor's device: the
// parameters are the executor's resident nodes, their gradients the
// gradient nodes it computed, and the moments live in device memory. The
// host Adam's step count, learning rate and options drive it; syncToHost
// copies the moments back for a checkpoint (the parameters through
// Executor.SyncResident).
type deviceAdam struct {
	a     *Adam
	e     *nn.Executor
	grads gorgonia.Nodes // grads[i] is the gradient node of a.params[i]
	m, v  []cuda.Ptr
}

// newDeviceAdam prepares a's updates on e, with grads the gradient nodes
// of a's parameters in order; the moments start from a's host moments.
func newDeviceAdam(a *Adam, e *nn.Executor, grads gorgonia.Nodes) (*deviceAdam, error) {
	if len(grads) != len(a.params) {
		return nil, fmt.Errorf("%w: device Adam: %d gradients for %d parameters", ErrShape, len(grads), len(a.params))
	}
	d := &deviceAdam{a: a, e: e, grads: grads}
	for i, p := range a.params {
		m, ok1 := a.m[i].Data().([]float32)
		v, ok2 := a.v[i].Data().([]float32)
		if !ok1 || !ok2 {
			d.close()
			return nil, fmt.Errorf("%w: device Adam: parameter %s is not float32", ErrShape, p.Name)
		}
		for _, src := range [][]float32{m, v} {
			buf, err := e.Alloc(len(src))
			if err != nil {
				d.close()
				return nil, fmt.Errorf("train: device Adam moments of %s: %w", p.Name, err)
			}
			// Owned by d before the copy, so that close frees it when the
			// copy fails.
			if len(d.m) == len(d.v) {
				d.m = append(d.m, buf)
			} else {
				d.v = append(d.v, buf)
			}
			if err := e.CopyToDevice(buf, src); err != nil {
				d.close()
				return nil, fmt.Errorf("train: device Adam moments of %s: %w", p.Name, err)
			}
		}
	}
	return d, nil
}

// step updates every parameter on the device from its gradient of the
// executor's last run (and zeroes the gradient), as Adam.Step does on the
// host. When a parameter or gradient is not on the device it changes
// nothing, not even the step count.
func (d *deviceAdam) step() error {
	a := d.a
	w := make([]nn.DeviceTensor, len(a.params))
	g := make([]nn.DeviceTensor, len(a.params))
	for i, p := range a.params {
		var ok1, ok2 bool
		w[i], ok1 = d.e.Tensor(p.Node)
		g[i], ok2 = d.e.Tensor(d.grads[i])
		if !ok1 || !ok2 {
			return fmt.Errorf("%w: device Adam: %s or its gradient is not on the device (run the executor first)", ErrShape, p.Name)
		}
	}
	a.step++
	o := a.Options
	bc1 := 1 - math.Pow(o.Beta1, float64(a.step))
	bc2 := 1 - math.Pow(o.Beta2, float64(a.step))
	ap := cuda.AdamParams{Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps, WeightDecay: o.WeightDecay, LR: a.LR,
		StepSize: a.LR / bc1, SqrtBC2: math.Sqrt(bc2)}
	if o.Decoupled {
		ap.Decoupled = 1
	}
	k := d.e.Kernels()
	for i, p := range a.params {
		if err := k.Adam(w[i].Shape.TotalSize(), ap, w[i].Ptr, g[i].Ptr, d.m[i], d.v[i]); err != nil {
			return fmt.Errorf("train: device Adam on %s: %w", p.Name, err)
		}
	}
	return nil
}

// syncToHost copies the moments into the host Adam's (for SaveState).
func (d *deviceAdam) syncToHost() error {
	for i := range d.a.params {
		if err := d.e.CopyToHost(d.a.m[i].Data().([]float32), d.m[i]); err != nil {
			return err
		}
		if err := d.e.CopyToHost(d.a.v[i].Data().([]float32), d.v[i]); err != nil {
			return err
		}
	}
	return nil
}

func (d *deviceAdam) close() {
	for _, p := range append(d.m, d.v...) {
		d.e.FreeBuffer(p)
	}
	d.m, d.v = nil, nil
}
