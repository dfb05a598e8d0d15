package cuda

import "fmt"

// LossMaxClasses is the most classes the loss kernels take.
const LossMaxClasses = 32

// LossParams is the segmentation loss as ub_loss_params takes it: the
// weights of Dice and cross-entropy, the Dice's numerator and denominator
// smoothing (MONAI's smooth_nr and smooth_dr), logits (N, C, V), a
// target of TC = 1 (class indices) or C channels, C0 = 1 to leave the
// background out of the Dice, Softmaxed = 1 when the logits are already
// probabilities, UseDice and UseCE selecting the terms.
type LossParams struct {
	DiceWeight, CEWeight, SmoothNr, SmoothDr   float64
	N, C, V, TC, C0, Softmaxed, UseDice, UseCE int32
}

func (p LossParams) check() error {
	if p.C < 1 || p.C > LossMaxClasses || p.N < 1 || p.V < 1 || (p.TC != 1 && p.TC != p.C) {
		return fmt.Errorf("%w: loss of %d classes (at most %d), %d samples, %d voxels, target channels %d",
			ErrLaunch, p.C, LossMaxClasses, p.N, p.V, p.TC)
	}
	_, err := i32("loss size", int(p.N)*int(p.C)*int(p.V))
	return err
}

// lossScratch allocates the Dice statistics (N*C*3 float64) and, when
// partials, the cross-entropy partial sums.
func (k *Kernels) lossScratch(p LossParams, blocks int) (stats, partial Ptr, err error) {
	if stats, err = k.dev.Alloc(8 * 3 * int(p.N) * int(p.C)); err != nil {
		return 0, 0, err
	}
	if blocks > 0 {
		if partial, err = k.dev.Alloc(16 * blocks); err != nil {
			k.dev.Free(stats)
			return 0, 0, err
		}
	}
	return stats, partial, nil
}

// Loss sets out[0] to the loss of logits x against target t; a target
// value that is not a class index makes it NaN.
func (k *Kernels) Loss(p LossParams, x, t, out Ptr) error {
	if err := p.check(); err != nil {
		return err
	}
	blocks := max(1, min((int(p.N)*int(p.V)+blockThreads-1)/blockThreads, sumBlocks))
	stats, partial, err := k.lossScratch(p, blocks)
	if err != nil {
		return err
	}
	defer k.dev.Free(stats)
	defer k.dev.Free(partial)
	if err := k.dev.Launch(k.fn[kLossDiceStats], Dim3{X: int(p.N * p.C)}, Dim3{X: blockThreads}, 0, p, x, t, stats); err != nil {
		return err
	}
	if err := k.dev.Launch(k.fn[kLossCEPartial], Dim3{X: blocks}, Dim3{X: blockThreads}, 0, p, x, t, partial); err != nil {
		return err
	}
	return k.dev.Launch(k.fn[kLossFinal], Dim3{X: 1}, Dim3{X: blockThreads}, 0, p, stats, int32(blocks), partial, out)
}

// LossGrad sets dx (the logits' shape) to dout[0] times the loss's
// gradient with respect to x.
func (k *Kernels) LossGrad(p LossParams, x, t, dout, dx Ptr) error {
	if err := p.check(); err != nil {
		return err
	}
	stats, _, err := k.lossScratch(p, 0)
	if err != nil {
		return err
	}
	defer k.dev.Free(stats)
	if err := k.dev.Launch(k.fn[kLossDiceStats], Dim3{X: int(p.N * p.C)}, Dim3{X: blockThreads}, 0, p, x, t, stats); err != nil {
		return err
	}
	return k.launch1D(kLossGrad, int(p.N)*int(p.V), p, x, t, stats, dout, dx)
}
