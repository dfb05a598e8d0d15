package nn

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/unetlab/unetlab/internal/cuda"
)

// bnResident keeps BatchNorm running statistics on a device: per
// BatchNormStats, its mean and variance (C float64 values each), uploaded
// from the host at the first use and then updated in place by the
// ub_bn_running kernel at each training forward pass and read by eval mode
// there, with no copies. sync copies them back into the host statistics
// (for a checkpoint or the CPU engine). st, when not nil, counts the
// copies.
type bnResident struct {
	d     *Device
	st    *ExecStats
	stats map[*BatchNormStats]bnOnDevice
}

// bnOnDevice is one BatchNorm's running statistics on the device.
type bnOnDevice struct {
	mean, variance cuda.Ptr
	n              int
}

// get returns s's statistics on the device, uploading them at the first call.
func (r *bnResident) get(s *BatchNormStats, n int) (bnOnDevice, error) {
	if b, ok := r.stats[s]; ok {
		return b, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.Mean) != n || len(s.Var) != n {
		return bnOnDevice{}, fmt.Errorf("%w: BatchNorm running statistics of %d and %d channels, input of %d", ErrShape, len(s.Mean), len(s.Var), n)
	}
	b := bnOnDevice{n: n}
	var err error
	if b.mean, err = r.d.dev.Alloc(8 * max(n, 1)); err != nil {
		return b, fmt.Errorf("nn: BatchNorm running mean: %w", err)
	}
	if b.variance, err = r.d.dev.Alloc(8 * max(n, 1)); err != nil {
		r.d.dev.Free(b.mean)
		return b, fmt.Errorf("nn: BatchNorm running variance: %w", err)
	}
	if n > 0 {
		err = r.d.dev.CopyHtoD(b.mean, unsafe.Pointer(&s.Mean[0]), 8*n)
		if err == nil {
			err = r.d.dev.CopyHtoD(b.variance, unsafe.Pointer(&s.Var[0]), 8*n)
		}
	}
	if err != nil {
		r.d.dev.Free(b.mean)
		r.d.dev.Free(b.variance)
		return b, fmt.Errorf("nn: BatchNorm running statistics up: %w", err)
	}
	if r.st != nil {
		r.st.HostToDevice += 2
		r.st.BytesHtoD += int64(2 * 8 * n)
	}
	if r.stats == nil {
		r.stats = map[*BatchNormStats]bnOnDevice{}
	}
	r.stats[s] = b
	return b, nil
}

// sync copies every resident BatchNorm's running statistics into its host
// BatchNormStats.
func (r *bnResident) sync() error {
	for s, b := range r.stats {
		if b.n == 0 {
			continue
		}
		s.mu.Lock()
		err := r.d.dev.CopyDtoH(unsafe.Pointer(&s.Mean[0]), b.mean, 8*b.n)
		if err == nil {
			err = r.d.dev.CopyDtoH(unsafe.Pointer(&s.Var[0]), b.variance, 8*b.n)
		}
		s.mu.Unlock()
		if err != nil {
			return fmt.Errorf("nn: BatchNorm running statistics down: %w", err)
		}
		if r.st != nil {
			r.st.DeviceToHost += 2
			r.st.BytesDtoH += int64(2 * 8 * b.n)
		}
	}
	return nil
}

// free releases the device statistics (without syncing them).
func (r *bnResident) free() error {
	var errs []error
	for s, b := range r.stats {
		errs = append(errs, r.d.dev.Free(b.mean), r.d.dev.Free(b.variance))
		delete(r.stats, s)
	}
	return errors.Join(errs...)
}
