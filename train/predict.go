package train

import (
	"context"
	"fmt"
	"github.com/unetlab/unetlab/stats"
	"github.com/unetlab/unetlab/volume/decathlon"
	"os"
	"path/filepath"

	"github.com/unetlab/unetlab/models"
	"github.com/unetlab/unetlab/models/nn"
	"github.com/unetlab/unetlab/volume"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// PredictOptions configures inference. The zero value is the paper's: the
// training normalisation (z-score then min-max), axes D=Z, H=Y, W=X, and the
// label map resized back by one-hot trilinear interpolation and argmax.
type PredictOptions struct {
	Intensity volume.Intensity
	Axes      volume.Axes
	Interp    volume.LabelInterp
}

// validate names the first field outside its set.
func (o *PredictOptions) validate() error {
	switch {
	case o.Intensity < volume.ZScoreMinMax || o.Intensity > volume.MinMax:
		return badOption("Intensity", o.Intensity, fmt.Sprintf("must be %v, %v or %v", volume.ZScoreMinMax, volume.ZScore, volume.MinMax))
	case o.Axes != volume.AxesZYX && o.Axes != volume.AxesZXY:
		return badOption("Axes", o.Axes, fmt.Sprintf("must be %v or %v", volume.AxesZYX, volume.AxesZXY))
	case o.Interp != volume.LabelLinear && o.Interp != volume.LabelNearest:
		return badOption("Interp", o.Interp, fmt.Sprintf("must be %v or %v", volume.LabelLinear, volume.LabelNearest))
	}
	return nil
}

// Predictor runs a model forward on whole volumes (Predict, Probabilities:
// normalised and resized to the model's input) or on raw batch tensors
// (Logits), one sample at a time, reusing one forward-only machine. It is not safe for concurrent use.
type Predictor struct {
	model  *models.Model
	x      *gorgonia.Node
	logits *gorgonia.Node
	vm     gorgonia.VM
	dev    *devicePredictor // instead of vm on a CUDA or emulated device
	buf    *tensor.Dense
}

// NewPredictor prepares inference with m at its Config.InputSize, on the
// current device (nn.CurrentDevice; a float64 model on the CPU). On a CUDA
// or emulated device the weights are copied there at the first prediction
// and kept: load new weights into m before that, or make a new Predictor.
func NewPredictor(m *models.Model) (*Predictor, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil model", ErrOptions)
	}
	p := &Predictor{model: m}
	p.x = m.Input(fmt.Sprintf("predict%p", p), 1)
	var err error
	if p.logits, err = m.Forward(p.x); err != nil {
		return nil, err
	}
	if d := nn.CurrentDevice(); d.Kind() != nn.DeviceCPU && m.Dtype() == tensor.Float32 {
		if p.dev, err = newDevicePredictor(d, p); err != nil {
			return nil, err
		}
	} else {
		p.vm = gorgonia.NewTapeMachine(m.Graph().SubgraphRoots(p.logits))
	}
	p.buf = tensor.New(tensor.Of(m.Dtype()), tensor.WithShape(p.x.Shape().Clone()...))
	return p, nil
}

// Close releases the machine (and the device memory).
func (p *Predictor) Close() {
	if p.dev != nil {
		p.dev.e.Close()
		return
	}
	p.vm.Close()
}

// gridFor returns the volume shape (X, Y, Z) whose tensor under axes is the
// model's input (D, H, W).
func gridFor(in [3]int, axes volume.Axes) ([3]int, error) {
	perms := [][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	for _, pm := range perms {
		s := [3]int{in[pm[0]], in[pm[1]], in[pm[2]]}
		v := volume.Volume{Shape: s, Channels: 1}
		ts := v.TensorShape(axes)
		if ts[1] == in[0] && ts[2] == in[1] && ts[3] == in[2] {
			return s, nil
		}
	}
	return [3]int{}, fmt.Errorf("%w: axes %v cannot give the input %v", ErrOptions, axes, in)
}

// Probabilities returns the softmax of the model's logits for img, as a
// volume of Classes channels on the model's input grid (img normalised and
// resized to it), with the resized image's spacing and affine.
func (p *Predictor) Probabilities(ctx context.Context, img *volume.Volume, opt *PredictOptions) (*volume.Volume, error) {
	lg, err := p.logitsFor(ctx, img, opt)
	if err != nil {
		return nil, err
	}
	c, v := lg.Channels, lg.Shape[0]*lg.Shape[1]*lg.Shape[2]
	a := make([]float64, c*v)
	for i, x := range lg.Data {
		a[i] = float64(x)
	}
	softmaxChannels(a, c, v)
	for i := range lg.Data {
		lg.Data[i] = float32(a[i])
	}
	return lg, nil
}

// logitsFor runs the model on img and returns the logits as a volume on the
// model's input grid.
func (p *Predictor) logitsFor(ctx context.Context, img *volume.Volume, opt *PredictOptions) (*volume.Volume, error) {
	var o PredictOptions
	if opt != nil {
		o = *opt
	}
	if img == nil {
		return nil, fmt.Errorf("%w: nil image", ErrOptions)
	}
	cfg := p.model.Config()
	if img.Channels != cfg.InChannels {
		return nil, fmt.Errorf("%w: image %v has %d channels, the model takes %d", ErrShape, img.Shape, img.Channels, cfg.InChannels)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	grid, err := gridFor(cfg.InputSize, o.Axes)
	if err != nil {
		return nil, err
	}
	norm, err := volume.Normalize(img, o.Intensity)
	if err != nil {
		return nil, err
	}
	resized, err := volume.Resize(ctx, norm, grid)
	if err != nil {
		return nil, err
	}
	data, _ := resized.CDHW(nil, o.Axes)
	lg, err := p.forward(ctx, data)
	if err != nil {
		return nil, err
	}
	d, h, w := cfg.InputSize[0], cfg.InputSize[1], cfg.InputSize[2]
	return volume.FromCDHW(lg, [4]int{cfg.Classes, d, h, w}, o.Axes, resized)
}

// forward runs the model in evaluation mode on one sample, x of shape
// (1, InChannels, D, H, W) at Config.InputSize, and returns a copy of its
// logits (1, Classes, D, H, W).
func (p *Predictor) forward(ctx context.Context, x []float32) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("train: predict: %w", err)
	}
	fill(p.buf, x)
	p.model.SetTraining(false)
	defer p.model.SetTraining(true)
	if p.dev != nil {
		return p.dev.forward(ctx, p)
	}
	if err := gorgonia.Let(p.x, p.buf); err != nil {
		return nil, err
	}
	defer p.vm.Reset()
	if err := p.vm.RunAll(); err != nil {
		return nil, fmt.Errorf("train: predict: %w", err)
	}
	return append([]float32(nil), logitsF32(p.logits, nil)...), nil
}

// Logits runs the model on a raw batch: x holds a row-major float32 tensor
// of the given shape (N, InChannels, D, H, W), (D, H, W) being the model's
// Config.InputSize, taken as it is (no normalisation, no resizing: what a
// volume.Batch or volume.Volume.CDHW gives). It returns the logits, a
// row-major tensor of shape (N, Classes, D, H, W), and that shape. The
// samples run one after another through the predictor's machine, in
// evaluation mode, so each sample's logits are those a batch of N would
// give; ctx is checked before each.
func (p *Predictor) Logits(ctx context.Context, x []float32, shape [5]int) ([]float32, [5]int, error) {
	cfg := p.model.Config()
	in := cfg.InputSize
	if shape[0] < 1 || shape[1] != cfg.InChannels || shape[2] != in[0] || shape[3] != in[1] || shape[4] != in[2] {
		return nil, [5]int{}, fmt.Errorf("%w: batch shape %v, want (N >= 1, %d, %d, %d, %d): the model's InChannels and InputSize",
			ErrShape, shape, cfg.InChannels, in[0], in[1], in[2])
	}
	per := shape[1] * shape[2] * shape[3] * shape[4]
	if per > 0 && (len(x)%per != 0 || len(x)/per != shape[0]) {
		return nil, [5]int{}, fmt.Errorf("%w: batch of %d values for shape %v (%d values)", ErrShape, len(x), shape, shape[0]*per)
	}
	out := [5]int{shape[0], cfg.Classes, shape[2], shape[3], shape[4]}
	logits := make([]float32, 0, out[0]*out[1]*out[2]*out[3]*out[4])
	for n := range shape[0] {
		lg, err := p.forward(ctx, x[n*per:(n+1)*per])
		if err != nil {
			return nil, [5]int{}, fmt.Errorf("sample %d of %d: %w", n, shape[0], err)
		}
		logits = append(logits, lg...)
	}
	return logits, out, nil
}

// PredictBatch is NewPredictor(m).Logits for one batch: the logits
// (N, Classes, D, H, W) of the raw batch x of shape (N, InChannels, D, H, W)
// at the model's InputSize. Use a [Predictor] for many batches: it builds
// the forward machine once.
func PredictBatch(ctx context.Context, m *models.Model, x []float32, shape [5]int) ([]float32, [5]int, error) {
	p, err := NewPredictor(m)
	if err != nil {
		return nil, [5]int{}, err
	}
	defer p.Close()
	return p.Logits(ctx, x, shape)
}

// Predict segments img (any grid, InChannels channels): it normalises it,
// resizes it to the model's input size, takes the argmax of the logits and
// resizes that label map back onto img's grid (shape, spacing, affine and
// header of img), one channel of class values.
func (p *Predictor) Predict(ctx context.Context, img *volume.Volume, opt *PredictOptions) (*volume.Volume, error) {
	lg, err := p.logitsFor(ctx, img, opt)
	if err != nil {
		return nil, err
	}
	lab, err := volume.Argmax(lg)
	if err != nil {
		return nil, err
	}
	var o PredictOptions
	if opt != nil {
		o = *opt
	}
	return volume.RestoreLabels(ctx, lab, img, p.model.Config().Classes, o.Interp)
}

// Predict is NewPredictor(m).Predict for one volume.
func Predict(ctx context.Context, m *models.Model, img *volume.Volume, opt *PredictOptions) (*volume.Volume, error) {
	p, err := NewPredictor(m)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	return p.Predict(ctx, img, opt)
}

// PredictFile segments the NIfTI image at in and writes the label map to out
// (uint8 NIfTI, gzipped when out ends in .gz) with the image's affine and
// header, atomically.
func (p *Predictor) PredictFile(ctx context.Context, in, out string, opt *PredictOptions) error {
	img, err := volume.Read(in)
	if err != nil {
		return err
	}
	lab, err := p.Predict(ctx, img, opt)
	if err != nil {
		return fmt.Errorf("train: %s: %w", in, err)
	}
	if dir := filepath.Dir(out); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return volume.Write(out, lab, &volume.WriteOptions{Datatype: volume.Uint8})
}

// LoadModel builds the model of the run in dir and loads the weights of its
// last checkpoint.
func LoadModel(dir string) (*models.Model, error) {
	ck, err := readCheckpoint(dir)
	if err != nil {
		return nil, err
	}
	s := ck.Run.Settings
	m, err := models.NewWithOptions(s.Model, &models.Options{Float64: s.Float64})
	if err != nil {
		return nil, err
	}
	if err := m.Load(filepath.Join(ck.src, WeightsFile)); err != nil {
		return nil, err
	}
	return m, nil
}

// PredictTest segments every test case of ds (ds.Test) and writes the label
// maps to dir/<case id>.nii.gz (uint8, the image's affine), returning the
// paths written in case order.
func (p *Predictor) PredictTest(ctx context.Context, ds *decathlon.Dataset, dir string, opt *PredictOptions) ([]string, error) {
	if ds == nil {
		return nil, fmt.Errorf("%w: nil dataset", ErrOptions)
	}
	var out []string
	for _, c := range ds.Test {
		path := filepath.Join(dir, c.ID+".nii.gz")
		if err := p.PredictFile(ctx, c.Image, path, opt); err != nil {
			return out, err
		}
		out = append(out, path)
	}
	return out, nil
}

// Evaluate segments the training cases of ds with the given indices (nil
// means all) on their original grids and returns the Dice of every
// foreground label per case: scores[i][k] is case indices[i], label k+1
// (NaN where the label is absent from both maps).
func (p *Predictor) Evaluate(ctx context.Context, ds *decathlon.Dataset, indices []int, opt *PredictOptions) ([][]float64, error) {
	if ds == nil {
		return nil, fmt.Errorf("%w: nil dataset", ErrOptions)
	}
	if indices == nil {
		for i := range ds.Training {
			indices = append(indices, i)
		}
	}
	classes := p.model.Config().Classes
	var scores [][]float64
	for _, i := range indices {
		s, err := ds.Load(ctx, i)
		if err != nil {
			return scores, err
		}
		pred, err := p.Predict(ctx, s.Image, opt)
		if err != nil {
			return scores, fmt.Errorf("train: case %s: %w", s.Case.ID, err)
		}
		d, err := stats.DicePerLabel(pred, s.Label, classes)
		if err != nil {
			return scores, fmt.Errorf("train: case %s: %w", s.Case.ID, err)
		}
		scores = append(scores, d)
	}
	return scores, nil
}
