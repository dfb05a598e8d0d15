//go:build cgo

package cuda

/*
#cgo CXXFLAGS: -std=c++17 -O2 -fno-strict-aliasing
#include <stdlib.h>
#include <string.h>
#include "emu_api.h"
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

// emulated is the CPU emulation of a CUDA device: device memory is C heap
// memory, and the kernels are the kernel_*.h sources compiled into this
// package as C++ (emu.cpp). Launches run synchronously on the calling
// thread. It counts the bytes it holds so that tests find leaks.
// emuAlloc is one allocation: its C memory and size.
type emuAlloc struct {
	p unsafe.Pointer
	n int
}

type emulated struct {
	mu     sync.Mutex
	live   map[Ptr]emuAlloc // allocations by address
	closed bool
	names  map[string]int
}

// OpenEmulated returns the emulated device: the project's kernels run on
// the CPU, blocks one after another and a block's threads as fibers. It is
// a test device, slow by design.
func OpenEmulated() (Device, error) {
	e := &emulated{live: map[Ptr]emuAlloc{}, names: map[string]int{}}
	for i := 0; i < int(C.ub_emu_count()); i++ {
		e.names[C.GoString(C.ub_emu_name(C.int(i)))] = i
	}
	return e, nil
}

func (e *emulated) Name() string { return "emulated CUDA device (CPU)" }
func (e *emulated) Kind() Kind   { return KindEmulated }

func (e *emulated) Alloc(n int) (Ptr, error) {
	if n < 0 {
		return 0, &Error{Call: "cuMemAlloc", Code: 1, Msg: fmt.Sprintf("invalid size %d", n)}
	}
	p := C.malloc(C.size_t(max(n, 1)))
	if p == nil {
		return 0, &Error{Call: "cuMemAlloc", Code: 2, Msg: "out of memory"}
	}
	// Poison: NaN bytes, so a kernel reading memory no one wrote shows.
	C.memset(p, 0xff, C.size_t(max(n, 1)))
	e.mu.Lock()
	defer e.mu.Unlock()
	a := Ptr(uintptr(p))
	e.live[a] = emuAlloc{p: p, n: n}
	return a, nil
}

func (e *emulated) Free(p Ptr) error {
	if p == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	a, ok := e.live[p]
	if !ok {
		return &Error{Call: "cuMemFree", Code: 1, Msg: fmt.Sprintf("address %#x was not allocated", uint64(p))}
	}
	delete(e.live, p)
	C.free(a.p)
	return nil
}

// host returns the host address of [p, p+n), which must lie inside one
// live allocation.
func (e *emulated) host(call string, p Ptr, n int) (unsafe.Pointer, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for base, a := range e.live {
		if p >= base && uint64(p)+uint64(n) <= uint64(base)+uint64(a.n) {
			return unsafe.Add(a.p, int(p-base)), nil
		}
	}
	return nil, &Error{Call: call, Code: 1, Msg: fmt.Sprintf("range %#x+%d is not inside an allocation", uint64(p), n)}
}

func (e *emulated) CopyHtoD(dst Ptr, src unsafe.Pointer, n int) error {
	d, err := e.host("cuMemcpyHtoD", dst, n)
	if err != nil {
		return err
	}
	if n > 0 {
		C.memcpy(d, src, C.size_t(n))
	}
	return nil
}

func (e *emulated) CopyDtoH(dst unsafe.Pointer, src Ptr, n int) error {
	s, err := e.host("cuMemcpyDtoH", src, n)
	if err != nil {
		return err
	}
	if n > 0 {
		C.memcpy(dst, s, C.size_t(n))
	}
	return nil
}

func (e *emulated) CopyDtoD(dst, src Ptr, n int) error {
	s, err := e.host("cuMemcpyDtoD", src, n)
	if err != nil {
		return err
	}
	d, err := e.host("cuMemcpyDtoD", dst, n)
	if err != nil {
		return err
	}
	if n > 0 {
		C.memmove(d, s, C.size_t(n))
	}
	return nil
}

func (e *emulated) Memset32(dst Ptr, v uint32, count int) error {
	d, err := e.host("cuMemsetD32", dst, 4*count)
	if err != nil {
		return err
	}
	w := unsafe.Slice((*uint32)(d), count)
	for i := range w {
		w[i] = v
	}
	return nil
}

func (e *emulated) Function(name string) (Function, error) {
	i, ok := e.names[name]
	if !ok {
		return Function{}, &Error{Call: "cuModuleGetFunction", Code: 500, Msg: "named symbol not found: " + name}
	}
	return Function{name: name, handle: uintptr(i)}, nil
}

func (e *emulated) Launch(f Function, grid, block Dim3, shared int, args ...any) error {
	i := C.int(f.handle)
	if int(C.ub_emu_nargs(i)) != len(args) {
		return fmt.Errorf("%w: %s takes %d arguments, got %d", ErrLaunch, f.name, int(C.ub_emu_nargs(i)), len(args))
	}
	p, err := pack(args)
	if err != nil {
		return fmt.Errorf("%s: %w", f.name, err)
	}
	defer p.free()
	for j, s := range p.sizes {
		if want := uintptr(C.ub_emu_argsize(i, C.int(j))); s != want {
			return fmt.Errorf("%w: %s argument %d has %d bytes, the kernel's %d", ErrLaunch, f.name, j, s, want)
		}
	}
	g, b := grid.norm(), block.norm()
	if g.X <= 0 || b.X <= 0 || shared < 0 {
		return fmt.Errorf("%w: %s: grid %v, block %v, shared %d", ErrLaunch, f.name, grid, block, shared)
	}
	msg := C.ub_emu_launch(i, C.uint(g.X), C.uint(g.Y), C.uint(g.Z), C.uint(b.X), C.uint(b.Y), C.uint(b.Z),
		C.size_t(shared), (*unsafe.Pointer)(p.ptrs))
	if msg != nil {
		return fmt.Errorf("%w: %s", ErrLaunch, C.GoString(msg))
	}
	return nil
}

func (e *emulated) Sync() error { return nil }

func (e *emulated) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.live {
		C.free(a.p)
	}
	e.live = map[Ptr]emuAlloc{}
	e.closed = true
	return nil
}

// LiveBytes returns the bytes a device holds allocated, for leak checks; -1
// where the device does not count them.
func LiveBytes(d Device) int {
	e, ok := d.(*emulated)
	if !ok {
		return -1
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, a := range e.live {
		n += a.n
	}
	return n
}
