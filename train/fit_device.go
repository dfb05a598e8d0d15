package train

import (
	"context"
	"fmt"
	"strings"

	"github.com/unetlab/unetlab/models/nn"
	"gorgonia.org/gorgonia"
)

// runDevice picks the device a run computes on: opt.Device, else
// nn.CurrentDevice (UNETLAB_DEVICE, or nn.SetDevice's choice). A float64
// run stays on the CPU (devices run float32). It returns nil for the CPU
// engine and the description the record keeps (Settings.Device).
func runDevice(opt *Options, float64Run bool) (*nn.Device, string) {
	d := opt.Device
	if d == nil {
		d = nn.CurrentDevice()
	}
	desc := strings.TrimPrefix(d.String(), "device: ")
	if d.Kind() == nn.DeviceCPU {
		return nil, desc
	}
	if float64Run {
		return nil, "cpu (Float64: " + desc + " runs float32 only)"
	}
	return d, desc
}

// onDevice is a trainer's state on a CUDA or emulated device: one executor
// runs the training step (loss, logits, gradients) and the validation
// forward pass, the parameters resident in its memory across both, and
// Adam's moments live beside them. The host copies of a step are the batch
// in and the loss and logits out (for the Dice); the parameters and moments
// come back to the host only for a checkpoint.
type onDevice struct {
	dev       *nn.Device
	e         *nn.Executor
	adam      *deviceAdam
	grads     gorgonia.Nodes
	stepRoots gorgonia.Nodes
}

// newOnDevice prepares t's graph for dev; memory is taken at the first step.
func newOnDevice(t *trainer, dev *nn.Device, grads gorgonia.Nodes) (*onDevice, error) {
	roots := append(gorgonia.Nodes{t.loss, t.logits}, grads...)
	e, err := nn.NewExecutor(dev, t.model.Learnables(), append(roots, t.logitsV)...)
	if err != nil {
		return nil, fmt.Errorf("train: on %s: %w", dev.Name(), err)
	}
	return &onDevice{dev: dev, e: e, grads: grads, stepRoots: roots}, nil
}

// step runs the training step on the device from the batch in t.xBuf and
// t.yBuf and returns the loss; the logits are in t.logitsHost. Adam is not
// stepped (see adamStep).
func (d *onDevice) step(ctx context.Context, t *trainer) (float64, error) {
	if err := gorgonia.Let(t.x, t.xBuf); err != nil {
		return 0, err
	}
	if err := gorgonia.Let(t.y, t.yBuf); err != nil {
		return 0, err
	}
	if err := d.e.RunFor(ctx, d.stepRoots...); err != nil {
		return 0, err
	}
	lv, err := d.e.Value(t.loss)
	if err != nil {
		return 0, err
	}
	loss := float64(lv.Data().([]float32)[0])
	lg, err := d.e.Value(t.logits)
	if err != nil {
		return 0, err
	}
	t.logitsHost = append(t.logitsHost[:0], lg.Data().([]float32)...)
	return loss, nil
}

// adamStep updates the parameters on the device from the step's gradients.
// The device Adam is made at the first step, from the host moments (zero,
// or a checkpoint's).
func (d *onDevice) adamStep(t *trainer) error {
	if d.adam == nil {
		a, err := newDeviceAdam(t.adam, d.e, d.grads)
		if err != nil {
			return err
		}
		d.adam = a
	}
	return d.adam.step()
}

// forward runs the validation forward pass on the sample in t.xvBuf and
// returns its logits (the executor's host buffer).
func (d *onDevice) forward(ctx context.Context, t *trainer) ([]float32, error) {
	if err := gorgonia.Let(t.xv, t.xvBuf); err != nil {
		return nil, err
	}
	if err := d.e.RunFor(ctx, t.logitsV); err != nil {
		return nil, err
	}
	lg, err := d.e.Value(t.logitsV)
	if err != nil {
		return nil, err
	}
	return lg.Data().([]float32), nil
}

// sync copies the parameters and Adam's moments to the host (for a
// checkpoint).
func (d *onDevice) sync() error {
	if err := d.e.SyncResident(); err != nil {
		return fmt.Errorf("train: parameters from %s: %w", d.dev.Name(), err)
	}
	if d.adam != nil {
		if err := d.adam.syncToHost(); err != nil {
			return fmt.Errorf("train: Adam's moments from %s: %w", d.dev.Name(), err)
		}
	}
	return nil
}

// stats returns the executor's counts.
func (d *onDevice) stats() nn.ExecStats { return d.e.Stats() }

func (d *onDevice) close() {
	if d.adam != nil {
		d.adam.close()
	}
	d.e.Close()
}

// devicePredictor is a Predictor's forward pass on a device: the model's
// parameters are uploaded at the first call and stay on the device.
type devicePredictor struct {
	dev *nn.Device
	e   *nn.Executor
}

func newDevicePredictor(dev *nn.Device, p *Predictor) (*devicePredictor, error) {
	e, err := nn.NewExecutor(dev, p.model.Learnables(), p.logits)
	if err != nil {
		return nil, fmt.Errorf("train: predict on %s: %w", dev.Name(), err)
	}
	return &devicePredictor{dev: dev, e: e}, nil
}

// forward runs p's forward pass on the sample in p.buf and returns a copy
// of the logits.
func (d *devicePredictor) forward(ctx context.Context, p *Predictor) ([]float32, error) {
	if err := gorgonia.Let(p.x, p.buf); err != nil {
		return nil, err
	}
	if err := d.e.RunFor(ctx, p.logits); err != nil {
		return nil, fmt.Errorf("train: predict: %w", err)
	}
	lg, err := d.e.Value(p.logits)
	if err != nil {
		return nil, err
	}
	return append([]float32(nil), lg.Data().([]float32)...), nil
}
