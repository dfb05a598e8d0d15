package cuda

import (
	"errors"
	"testing"
)

func TestSizeClass(t *testing.T) {
	for _, c := range []struct{ n, want int }{
		{0, 256}, {1, 256}, {256, 256}, {257, 512}, {1000, 1024}, {1024, 1024},
		{1025, 1280}, {4096, 4096}, {4097, 4608}, {1 << 20, 1 << 20}, {1<<20 + 1, 1<<20 + 1<<17},
		{3_000_000, 3_145_728},
	} {
		if got := sizeClass(c.n); got != c.want {
			t.Errorf("sizeClass(%d) = %d, want %d", c.n, got, c.want)
		}
		if got := sizeClass(c.n); got < c.n || (c.n > 256 && float64(got) > 1.125*float64(c.n)+256) {
			t.Errorf("sizeClass(%d) = %d: below the request or over 1/8 above it", c.n, got)
		}
	}
}

// fakeMem is a Device of limit bytes that only allocates.
type fakeMem struct {
	Device
	limit, live int
	blocks      map[Ptr]int
	next        Ptr
}

func (f *fakeMem) Alloc(n int) (Ptr, error) {
	if f.live+n > f.limit {
		return 0, &Error{Call: "cuMemAlloc", Code: 2, Msg: "out of memory"}
	}
	f.next += 1 << 32
	f.blocks[f.next] = n
	f.live += n
	return f.next, nil
}

func (f *fakeMem) Free(p Ptr) error {
	n, ok := f.blocks[p]
	if !ok {
		return errors.New("fake: bad free")
	}
	delete(f.blocks, p)
	f.live -= n
	return nil
}

func (f *fakeMem) Close() error { return nil }

// TestCaching: a freed block serves the next request of its class without
// the driver; another class allocates; a double free is an error; out of
// memory, the cache is given back and the allocation retried; Release
// returns everything cached.
func TestCaching(t *testing.T) {
	f := &fakeMem{limit: 4096, blocks: map[Ptr]int{}}
	c := NewCaching(f)
	a, err := c.Alloc(1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Free(a); err != nil {
		t.Fatal(err)
	}
	if err := c.Free(a); err == nil {
		t.Error("a double free was accepted")
	}
	b, err := c.Alloc(900) // same class (1024)
	if err != nil {
		t.Fatal(err)
	}
	if b != a || c.MemStats().Mallocs != 1 {
		t.Errorf("a request of a cached class reached the driver: %#x after %#x, %+v", b, a, c.MemStats())
	}
	if err := c.Free(b); err != nil {
		t.Fatal(err)
	}
	// 1024 cached + 3584 > 4096: the cache must be given back first.
	d, err := c.Alloc(3500)
	if err != nil {
		t.Fatalf("out of memory with the cache holding 1024 bytes: %v", err)
	}
	st := c.MemStats()
	if st.Mallocs != 2 || st.InUse != 3584 || st.Held != 3584 || f.live != 3584 {
		t.Errorf("after the retry: %+v, driver holds %d", st, f.live)
	}
	if _, err := c.Alloc(1000); err == nil {
		t.Error("an allocation beyond the device succeeded")
	}
	c.ResetPeak()
	if err := c.Free(d); err != nil {
		t.Fatal(err)
	}
	if st := c.MemStats(); st.InUse != 0 || st.Held != 3584 || st.PeakInUse != 3584 {
		t.Errorf("after free: %+v", st)
	}
	if err := c.Release(); err != nil {
		t.Fatal(err)
	}
	if st := c.MemStats(); st.Held != 0 || f.live != 0 {
		t.Errorf("after Release: %+v, driver holds %d", st, f.live)
	}
}

// TestCachingKernels runs a kernel on cached memory of the emulated device
// and checks that closing it frees everything.
func TestCachingKernels(t *testing.T) {
	e, err := OpenEmulated()
	if err != nil {
		t.Skipf("no emulated device: %v", err)
	}
	c := NewCaching(e)
	k, err := NewKernels(c)
	if err != nil {
		t.Fatal(err)
	}
	x := upload(t, c, []float32{1, 2, 3})
	y := upload(t, c, []float32{0, 0, 0})
	if err := k.Add(3, x, x, y); err != nil {
		t.Fatal(err)
	}
	if got := download(t, c, y, 3); got[0] != 2 || got[1] != 4 || got[2] != 6 {
		t.Errorf("x+x on cached memory = %v", got)
	}
	if err := c.Free(x); err != nil {
		t.Fatal(err)
	}
	if LiveBytes(e) == 0 {
		t.Error("Free gave the block back to the device; want it cached")
	}
	k.Close()
	if err := c.Free(y); err != nil {
		t.Fatal(err)
	}
	if err := c.Release(); err != nil {
		t.Fatal(err)
	}
	if n := LiveBytes(e); n != 0 {
		t.Errorf("%d bytes still allocated after Release", n)
	}
	e.Close()
}
