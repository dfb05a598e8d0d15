package cuda

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
)

// Caching is a Device whose Free keeps the memory for the next Alloc of the
// same size class instead of returning it to the driver: a training step
// that allocates and frees the same tensors each time stops calling
// cuMemAlloc and cuMemFree after its first run. Sizes are rounded up to
// classes at most 1/8 apart (256 bytes at least), so a cached block serves
// any request of its class. When the driver runs out of memory, Alloc
// returns the cached blocks to it and tries once more. Release gives the
// cached blocks back; Close releases them and closes the device.
type Caching struct {
	Device

	mu    sync.Mutex
	cache map[int][]Ptr // free blocks by size class
	used  map[Ptr]int   // blocks handed out, and their class
	st    MemStats
}

// MemStats is a Caching device's account of its memory, in bytes: InUse is
// held by callers, Held is obtained from the driver (in use plus cached);
// the peaks are since the last ResetPeak; Mallocs counts the allocations
// that reached the driver.
type MemStats struct {
	InUse, Held         int64
	PeakInUse, PeakHeld int64
	Mallocs             int
}

// NewCaching wraps d with a caching allocator.
func NewCaching(d Device) *Caching {
	return &Caching{Device: d, cache: map[int][]Ptr{}, used: map[Ptr]int{}}
}

// sizeClass rounds n bytes up to its class: a multiple of 256 bytes and of
// an eighth of the largest power of two below n.
func sizeClass(n int) int {
	if n <= 256 {
		return 256
	}
	step := max(256, 1<<(bits.Len(uint(n-1))-1)/8)
	return (n + step - 1) / step * step
}

// Alloc returns a cached block of n's size class, or a new one.
func (c *Caching) Alloc(n int) (Ptr, error) {
	if n < 0 {
		return 0, &Error{Call: "cuMemAlloc", Code: 1, Msg: fmt.Sprintf("invalid size %d", n)}
	}
	cl := sizeClass(n)
	c.mu.Lock()
	defer c.mu.Unlock()
	if free := c.cache[cl]; len(free) > 0 {
		p := free[len(free)-1]
		c.cache[cl] = free[:len(free)-1]
		c.hand(p, cl)
		return p, nil
	}
	p, err := c.Device.Alloc(cl)
	if err != nil {
		// Out of memory, perhaps because of what the cache holds: give it
		// back and try once more.
		if rerr := c.release(); rerr != nil {
			return 0, errors.Join(err, rerr)
		}
		if p, err = c.Device.Alloc(cl); err != nil {
			return 0, err
		}
	}
	c.st.Mallocs++
	c.st.Held += int64(cl)
	c.st.PeakHeld = max(c.st.PeakHeld, c.st.Held)
	c.hand(p, cl)
	return p, nil
}

func (c *Caching) hand(p Ptr, cl int) {
	c.used[p] = cl
	c.st.InUse += int64(cl)
	c.st.PeakInUse = max(c.st.PeakInUse, c.st.InUse)
}

// Free puts p back in the cache. Free(0) does nothing; freeing a pointer
// not from Alloc (or freed already) is an error.
func (c *Caching) Free(p Ptr) error {
	if p == 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, ok := c.used[p]
	if !ok {
		return &Error{Call: "cuMemFree", Code: 1, Msg: fmt.Sprintf("%#x is not allocated (freed twice?)", uint64(p))}
	}
	delete(c.used, p)
	c.st.InUse -= int64(cl)
	c.cache[cl] = append(c.cache[cl], p)
	return nil
}

// Release returns the cached blocks to the driver.
func (c *Caching) Release() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.release()
}

func (c *Caching) release() error {
	var first error
	for cl, free := range c.cache {
		for _, p := range free {
			if err := c.Device.Free(p); err != nil && first == nil {
				first = err
			}
			c.st.Held -= int64(cl)
		}
		delete(c.cache, cl)
	}
	return first
}

// MemStats returns the memory account.
func (c *Caching) MemStats() MemStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}

// ResetPeak sets the peaks to the present figures.
func (c *Caching) ResetPeak() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.PeakInUse, c.st.PeakHeld = c.st.InUse, c.st.Held
}

// Close releases the cache and closes the device (which frees what is
// still in use).
func (c *Caching) Close() error {
	err := c.Release()
	return errors.Join(err, c.Device.Close())
}
