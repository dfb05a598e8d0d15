package decathlon

import (
	"context"
	"fmt"
	"sync"

	"github.com/unetlab/unetlab/volume"
)

// PrepareOptions sets how Prepare turns cases into network inputs. The
// zero value is the paper's preprocessing at 128^3.
type PrepareOptions struct {
	// Shape is the target grid (X, Y, Z voxels); zero means 128x128x128.
	Shape [3]int
	// Intensity is the intensity normalisation (zero: z-score then
	// min-max, volume.ZScoreMinMax).
	Intensity volume.Intensity
	// Labels is the label resampling (zero: one-hot trilinear, argmax;
	// volume.LabelRound: one-hot trilinear, each channel rounded, as the
	// authors' code prepares labels; volume.LabelNearest: nearest voxel).
	Labels volume.LabelInterp
	// NoCache turns off the in-memory cache of prepared cases (by default
	// each case is read and resized once; 128^3 float32 is 8 MiB per
	// channel).
	NoCache bool
}

// Prepared serves a dataset's training cases normalised and resized, for
// the batch loader (it has the Len and Sample methods of batch.Source).
// It is safe for concurrent use.
type Prepared struct {
	ds    *Dataset
	opt   PrepareOptions
	mu    sync.Mutex
	cache map[int][2]*volume.Volume
}

// Prepare returns the training cases of d as Prepare options say; opt may
// be nil for the defaults. Nothing is read until Sample is called.
func (d *Dataset) Prepare(opt *PrepareOptions) *Prepared {
	o := PrepareOptions{}
	if opt != nil {
		o = *opt
	}
	if o.Shape == ([3]int{}) {
		o.Shape = [3]int{128, 128, 128}
	}
	return &Prepared{ds: d, opt: o, cache: map[int][2]*volume.Volume{}}
}

// Len returns the number of training cases.
func (p *Prepared) Len() int { return len(p.ds.Training) }

// Classes returns the number of classes, background included.
func (p *Prepared) Classes() int { return p.ds.Classes() }

// Shape returns the target grid (X, Y, Z).
func (p *Prepared) Shape() [3]int { return p.opt.Shape }

// Sample returns training case i normalised and resized: the image with
// one channel per modality, values in [0, 1] under the default
// normalisation, and the label map of class values, both of shape
// Shape(). Unless NoCache is set the volumes are the cached ones, shared
// by every call for i: Clone them before changing their voxels (the batch
// loader and augment.Pipeline copy them).
func (p *Prepared) Sample(ctx context.Context, i int) (image, label *volume.Volume, err error) {
	if !p.opt.NoCache {
		p.mu.Lock()
		c, ok := p.cache[i]
		p.mu.Unlock()
		if ok {
			return c[0], c[1], nil
		}
	}
	s, err := p.ds.Load(ctx, i)
	if err != nil {
		return nil, nil, err
	}
	img, err := volume.Normalize(s.Image, p.opt.Intensity)
	if err != nil {
		return nil, nil, fmt.Errorf("decathlon: %s: %w", s.Case.ID, err)
	}
	if img, err = volume.Resize(ctx, img, p.opt.Shape); err != nil {
		return nil, nil, fmt.Errorf("decathlon: %s: %w", s.Case.ID, err)
	}
	lab, err := volume.ResizeLabels(ctx, s.Label, p.opt.Shape, p.ds.Classes(), p.opt.Labels)
	if err != nil {
		return nil, nil, fmt.Errorf("decathlon: %s: %w", s.Case.ID, err)
	}
	if !p.opt.NoCache {
		p.mu.Lock()
		p.cache[i] = [2]*volume.Volume{img, lab}
		p.mu.Unlock()
	}
	return img, lab, nil
}
