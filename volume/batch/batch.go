// Package batch turns a source of samples into (N, C, D, H, W) float32
// batches, preparing the next batches in the background while the
// current one trains.
package batch

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/unetlab/unetlab/internal/invalid"
	"github.com/unetlab/unetlab/rng"
	"github.com/unetlab/unetlab/volume"
	"github.com/unetlab/unetlab/volume/augment"
)

// ErrBatch reports samples that cannot be stacked into one batch.
var ErrBatch = errors.New("batch: invalid batch")

// ErrOptions reports an invalid Options field; the message names the field,
// its value and the rule.
var ErrOptions = errors.New("batch: invalid options")

// Source gives samples by index: an image (C channels) and a label map
// (one channel of class values; nil when unlabelled) of one shape.
// decathlon.Prepared is a Source. Sample may be called from several
// goroutines at once.
type Source interface {
	Len() int
	Sample(ctx context.Context, i int) (image, label *volume.Volume, err error)
}

// Options controls a Loader. The zero value gives batches of 2 in index
// order, one batch prefetched, samples loaded on all CPUs, no
// augmentation, axes (D, H, W) = (Z, Y, X).
type Options struct {
	BatchSize int  // samples per batch (0 means 2)
	Shuffle   bool // a new order every epoch, drawn from Seed and the epoch
	Seed      uint64
	// Prefetch is the number of batches prepared ahead of the consumer (0
	// means 1; negative means none: each batch is made when asked for).
	Prefetch int
	// Workers is the number of samples of a batch prepared at once (0
	// means GOMAXPROCS).
	Workers int
	// DropLast drops a last, smaller batch.
	DropLast bool
	// Axes maps the volumes' X, Y, Z onto the tensors' D, H, W.
	Axes volume.Axes
	// Augment, when set, is applied to every sample with (epoch, index).
	Augment *augment.Pipeline
}

// Batch is N samples stacked.
type Batch struct {
	// Images holds Shape[0]*...*Shape[4] values: (N, C, D, H, W) row-major.
	Images []float32
	// Labels holds the class values as (N, 1, D, H, W); nil when the
	// source gave no labels.
	Labels  []float32
	Shape   [5]int // image shape (N, C, D, H, W)
	Indices []int  // the source index of each sample
	Epoch   int
}

// LabelShape returns (N, 1, D, H, W).
func (b *Batch) LabelShape() [5]int {
	s := b.Shape
	s[1] = 1
	return s
}

// OneHot returns the labels one-hot encoded as (N, classes, D, H, W).
// Values outside 0..classes-1 give an error.
func (b *Batch) OneHot(classes int) ([]float32, error) {
	if b.Labels == nil {
		return nil, fmt.Errorf("%w: batch has no labels", ErrBatch)
	}
	n, vox := b.Shape[0], b.Shape[2]*b.Shape[3]*b.Shape[4]
	out := make([]float32, n*classes*vox)
	for s := 0; s < n; s++ {
		for i, f := range b.Labels[s*vox : (s+1)*vox] {
			c := int(f)
			if c < 0 || c >= classes || float32(c) != f {
				return nil, fmt.Errorf("%w: sample %d voxel %d has label %g, want 0..%d", ErrBatch, s, i, f, classes-1)
			}
			out[(s*classes+c)*vox+i] = 1
		}
	}
	return out, nil
}

// Loader makes batches from a source.
type Loader struct {
	src     Source
	indices []int
	opt     Options
}

// New returns a loader over the given source indices (nil means all of
// them); opt may be nil: the defaults (batches of 2 in index order, one
// prefetched, GOMAXPROCS workers). New keeps a copy of *opt. An invalid field
// gives an error wrapping ErrOptions that names it.
func New(src Source, indices []int, opt *Options) (*Loader, error) {
	if src == nil {
		return nil, fmt.Errorf("%w: nil source", ErrBatch)
	}
	o := Options{}
	if opt != nil {
		o = *opt
	}
	switch {
	case o.BatchSize < 0:
		return nil, invalid.Field(ErrOptions, "BatchSize", o.BatchSize, "must be >= 0 (0: 2)")
	case o.Workers < 0:
		return nil, invalid.Field(ErrOptions, "Workers", o.Workers, "must be >= 0 (0: GOMAXPROCS)")
	case o.Axes != volume.AxesZYX && o.Axes != volume.AxesZXY:
		return nil, invalid.Field(ErrOptions, "Axes", o.Axes, fmt.Sprintf("must be %v or %v", volume.AxesZYX, volume.AxesZXY))
	}
	if o.BatchSize == 0 {
		o.BatchSize = 2
	}
	if o.Prefetch == 0 {
		o.Prefetch = 1
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	n := src.Len()
	if indices == nil {
		for i := 0; i < n; i++ {
			indices = append(indices, i)
		}
	}
	for _, i := range indices {
		if i < 0 || i >= n {
			return nil, fmt.Errorf("%w: index %d of a source of %d samples", ErrBatch, i, n)
		}
	}
	return &Loader{src: src, indices: append([]int(nil), indices...), opt: o}, nil
}

// Len returns the number of batches per epoch.
func (l *Loader) Len() int {
	n, b := len(l.indices), l.opt.BatchSize
	if l.opt.DropLast {
		return n / b
	}
	return (n + b - 1) / b
}

// order returns the sample indices of an epoch in batch order.
func (l *Loader) order(epoch int) []int {
	idx := append([]int(nil), l.indices...)
	if l.opt.Shuffle {
		r := rng.Derive(l.opt.Seed, uint64(epoch))
		r.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	}
	return idx
}

// Iter walks one epoch's batches:
//
//	it := loader.Epoch(ctx, epoch)
//	defer it.Close()
//	for it.Next() {
//		b := it.Batch()
//		...
//	}
//	if err := it.Err(); err != nil { ... }
type Iter struct {
	ch     chan result
	cancel context.CancelFunc
	cur    *Batch
	err    error
	done   sync.WaitGroup
	l      *Loader
	ctx    context.Context
	order  []int
	next   int // for Prefetch < 0
	epoch  int
}

type result struct {
	b   *Batch
	err error
}

// Epoch starts an epoch. Unless Prefetch is negative, a goroutine prepares
// up to Prefetch batches ahead; it stops at the end of the epoch, when ctx
// is cancelled or when Close is called.
func (l *Loader) Epoch(ctx context.Context, epoch int) *Iter {
	ctx, cancel := context.WithCancel(ctx)
	it := &Iter{l: l, ctx: ctx, cancel: cancel, order: l.order(epoch), epoch: epoch}
	if l.opt.Prefetch < 0 {
		return it
	}
	it.ch = make(chan result, l.opt.Prefetch)
	it.done.Add(1)
	go func() {
		defer it.done.Done()
		defer close(it.ch)
		for k := 0; k < l.Len(); k++ {
			b, err := l.make(ctx, epoch, it.order, k)
			select {
			case it.ch <- result{b, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return it
}

// Next advances to the next batch; it returns false at the end of the
// epoch or on an error (see Err).
func (it *Iter) Next() bool {
	if it.err != nil {
		return false
	}
	if it.ch == nil { // no prefetch
		if it.next >= it.l.Len() {
			return false
		}
		it.cur, it.err = it.l.make(it.ctx, it.epoch, it.order, it.next)
		it.next++
		return it.err == nil
	}
	select {
	case r, ok := <-it.ch:
		if !ok {
			if err := it.ctx.Err(); err != nil {
				it.err = fmt.Errorf("batch: %w", err)
			}
			return false
		}
		it.cur, it.err = r.b, r.err
		return it.err == nil
	case <-it.ctx.Done():
		it.err = fmt.Errorf("batch: %w", it.ctx.Err())
		return false
	}
}

// Batch returns the current batch.
func (it *Iter) Batch() *Batch { return it.cur }

// Err returns the error that ended the epoch early, if any (a cancelled
// context gives an error wrapping ctx.Err()).
func (it *Iter) Err() error { return it.err }

// Close stops the background goroutine and waits for it.
func (it *Iter) Close() {
	it.cancel()
	if it.ch != nil {
		for range it.ch {
		}
	}
	it.done.Wait()
}

// make builds batch k of an epoch, its samples prepared by Workers
// goroutines.
func (l *Loader) make(ctx context.Context, epoch int, order []int, k int) (*Batch, error) {
	lo := k * l.opt.BatchSize
	hi := min(lo+l.opt.BatchSize, len(order))
	idx := order[lo:hi]
	imgs := make([]*volume.Volume, len(idx))
	labs := make([]*volume.Volume, len(idx))
	errs := make([]error, len(idx))
	sem := make(chan struct{}, l.opt.Workers)
	var wg sync.WaitGroup
	for j, i := range idx {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			img, lab, err := l.src.Sample(ctx, i)
			if err == nil && l.opt.Augment != nil {
				img, lab, err = l.opt.Augment.Apply(img, lab, epoch, i)
			}
			imgs[j], labs[j], errs[j] = img, lab, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("batch: epoch %d batch %d: %w", epoch, k, err)
	}
	// A Source is user code: check what it gave before copying, so that a
	// volume whose Data does not match its shape can neither panic nor
	// spill into the next sample's part of the batch.
	for j := range idx {
		if imgs[j] == nil {
			return nil, fmt.Errorf("%w: epoch %d batch %d: sample %d has no image", ErrBatch, epoch, k, idx[j])
		}
		if err := imgs[j].Check(); err != nil {
			return nil, fmt.Errorf("batch: epoch %d batch %d: sample %d image: %w", epoch, k, idx[j], err)
		}
		if labs[j] != nil {
			if err := labs[j].Check(); err != nil {
				return nil, fmt.Errorf("batch: epoch %d batch %d: sample %d label: %w", epoch, k, idx[j], err)
			}
		}
	}
	shape := imgs[0].TensorShape(l.opt.Axes)
	b := &Batch{Shape: [5]int{len(idx), shape[0], shape[1], shape[2], shape[3]}, Indices: append([]int(nil), idx...), Epoch: epoch}
	per := shape[0] * shape[1] * shape[2] * shape[3]
	vox := shape[1] * shape[2] * shape[3]
	b.Images = make([]float32, len(idx)*per)
	hasLabels := labs[0] != nil
	if hasLabels {
		b.Labels = make([]float32, len(idx)*vox)
	}
	for j := range idx {
		if s := imgs[j].TensorShape(l.opt.Axes); s != shape {
			return nil, fmt.Errorf("%w: sample %d has shape %v, sample %d has %v", ErrBatch, idx[j], s, idx[0], shape)
		}
		imgs[j].CDHW(b.Images[j*per:(j+1)*per:(j+1)*per], l.opt.Axes)
		if (labs[j] != nil) != hasLabels {
			return nil, fmt.Errorf("%w: sample %d and sample %d disagree on having a label", ErrBatch, idx[j], idx[0])
		}
		if hasLabels {
			if labs[j].Channels != 1 || labs[j].Shape != imgs[j].Shape {
				return nil, fmt.Errorf("%w: sample %d: label %v for image %v", ErrBatch, idx[j], labs[j], imgs[j])
			}
			labs[j].CDHW(b.Labels[j*vox:(j+1)*vox:(j+1)*vox], l.opt.Axes)
		}
	}
	return b, nil
}
