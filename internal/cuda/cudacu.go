//go:build cudacu && cgo

// The binding on gorgonia.org/cu. Build with -tags cudacu against the CUDA
// headers and libcuda (the toolkit's stub links):
//
//	CGO_CFLAGS=-I.cuda/root/usr/include \
//	CGO_LDFLAGS=-L.cuda/root/usr/lib/x86_64-linux-gnu/stubs \
//	go build -tags cudacu ./...
//
// gorgonia.org/cu links libcuda at build time and its package init calls
// cuInit and exits the process where that fails, so a binary built with
// this tag dies on a machine without a GPU: the default build leaves it out.

package cuda

/*
#cgo LDFLAGS: -lcuda
#include <cuda.h>

static CUresult ub_cu_launch(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
	unsigned bz, unsigned shared, void **args) {
	return cuLaunchKernel(f, gx, gy, gz, bx, by, bz, shared, NULL, args, NULL);
}
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"

	"gorgonia.org/cu"
)

func init() { openGPU = OpenCU }

// cuDevice is a GPU through gorgonia.org/cu: device 0's primary context with
// the embedded kernels loaded.
type cuDevice struct {
	dev   cu.Device
	ctx   cu.CUContext
	mod   cu.Module
	name  string
	mu    sync.Mutex
	funcs map[string]Function
	cf    []cu.Function
}

func cuErr(call string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("cuda: gorgonia.org/cu %s: %w", call, err)
}

// OpenCU opens device 0 through gorgonia.org/cu and loads the embedded
// kernels, with the same checks as OpenDriver.
func OpenCU() (Device, error) {
	if v := cu.Version(); v < MinDriverVersion {
		return nil, fmt.Errorf("%w: it supports CUDA %d.%d, the kernels need %d.%d (driver 520 or newer)",
			ErrDriverTooOld, v/1000, v%1000/10, MinDriverVersion/1000, MinDriverVersion%1000/10)
	}
	n, err := cu.NumDevices()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoDevice, cuErr("NumDevices", err))
	}
	if n < 1 {
		return nil, fmt.Errorf("%w: the driver reports none", ErrNoDevice)
	}
	d := &cuDevice{funcs: map[string]Function{}}
	if d.dev, err = cu.GetDevice(0); err != nil {
		return nil, cuErr("GetDevice", err)
	}
	name, err := d.dev.Name()
	if err != nil {
		return nil, cuErr("Device.Name", err)
	}
	major, minor, err := d.dev.ComputeCapability()
	if err != nil {
		return nil, cuErr("ComputeCapability", err)
	}
	mem, err := d.dev.TotalMem()
	if err != nil {
		return nil, cuErr("TotalMem", err)
	}
	v := cu.Version()
	d.name = fmt.Sprintf("%s (sm_%d%d, %.1f GiB, CUDA driver %d.%d, gorgonia.org/cu)", name, major, minor,
		float64(mem)/(1<<30), v/1000, v%1000/10)
	if major < 8 {
		return nil, fmt.Errorf("%w: %s: compute capability %d.%d, the kernels need 8.0 or newer", ErrNoDevice, d.name, major, minor)
	}
	if d.ctx, err = d.dev.RetainPrimaryCtx(); err != nil {
		return nil, cuErr("RetainPrimaryCtx", err)
	}
	if err := d.current(); err != nil {
		return nil, err
	}
	if d.mod, err = cu.LoadData(string(Fatbin())); err != nil {
		return nil, fmt.Errorf("%s: embedded kernels: %w", d.name, cuErr("LoadData", err))
	}
	return d, nil
}

// current makes the context current on this OS thread (goroutines move).
func (d *cuDevice) current() error { return cuErr("SetCurrentContext", cu.SetCurrentContext(d.ctx)) }

func (d *cuDevice) Name() string { return d.name }
func (d *cuDevice) Kind() Kind   { return KindDriver }

func (d *cuDevice) Alloc(n int) (Ptr, error) {
	if err := d.current(); err != nil {
		return 0, err
	}
	p, err := cu.MemAlloc(int64(max(n, 1)))
	if err != nil {
		return 0, fmt.Errorf("%d bytes: %w", n, cuErr("MemAlloc", err))
	}
	return Ptr(p), nil
}

func (d *cuDevice) Free(p Ptr) error {
	if p == 0 {
		return nil
	}
	if err := d.current(); err != nil {
		return err
	}
	return cuErr("MemFree", cu.MemFree(cu.DevicePtr(p)))
}

func (d *cuDevice) CopyHtoD(dst Ptr, src unsafe.Pointer, n int) error {
	if n == 0 {
		return nil
	}
	if err := d.current(); err != nil {
		return err
	}
	return cuErr("MemcpyHtoD", cu.MemcpyHtoD(cu.DevicePtr(dst), src, int64(n)))
}

func (d *cuDevice) CopyDtoH(dst unsafe.Pointer, src Ptr, n int) error {
	if n == 0 {
		return nil
	}
	if err := d.current(); err != nil {
		return err
	}
	return cuErr("MemcpyDtoH", cu.MemcpyDtoH(dst, cu.DevicePtr(src), int64(n)))
}

func (d *cuDevice) CopyDtoD(dst, src Ptr, n int) error {
	if n == 0 {
		return nil
	}
	if err := d.current(); err != nil {
		return err
	}
	return cuErr("MemcpyDtoD", cu.MemcpyDtoD(cu.DevicePtr(dst), cu.DevicePtr(src), int64(n)))
}

func (d *cuDevice) Memset32(dst Ptr, v uint32, count int) error {
	if count == 0 {
		return nil
	}
	if err := d.current(); err != nil {
		return err
	}
	return cuErr("MemsetD32", cu.MemsetD32(cu.DevicePtr(dst), v, int64(count)))
}

func (d *cuDevice) Function(name string) (Function, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if f, ok := d.funcs[name]; ok {
		return f, nil
	}
	if err := d.current(); err != nil {
		return Function{}, err
	}
	f, err := d.mod.Function(name)
	if err != nil {
		return Function{}, fmt.Errorf("%s: %w", name, cuErr("Module.Function", err))
	}
	fn := Function{name: name, handle: uintptr(len(d.cf))}
	d.cf = append(d.cf, f)
	d.funcs[name] = fn
	return fn, nil
}

// Launch calls cuLaunchKernel itself with the packed arguments:
// cu.Function.Launch copies every argument as 8 bytes, which loses the
// struct arguments of the convolution kernels. The CUfunction is the one
// field of cu.Function.
func (d *cuDevice) Launch(f Function, grid, block Dim3, shared int, args ...any) error {
	p, err := pack(args)
	if err != nil {
		return fmt.Errorf("%s: %w", f.name, err)
	}
	defer p.free()
	d.mu.Lock()
	cf := d.cf[f.handle]
	d.mu.Unlock()
	if err := d.current(); err != nil {
		return err
	}
	h := *(*C.CUfunction)(unsafe.Pointer(&cf))
	g, b := grid.norm(), block.norm()
	if r := C.ub_cu_launch(h, C.uint(g.X), C.uint(g.Y), C.uint(g.Z), C.uint(b.X), C.uint(b.Y), C.uint(b.Z),
		C.uint(shared), (*unsafe.Pointer)(p.ptrs)); r != 0 {
		return fmt.Errorf("%w: %s grid %v block %v: CUresult %d", ErrLaunch, f.name, g, b, int(r))
	}
	return nil
}

func (d *cuDevice) Sync() error {
	if err := d.current(); err != nil {
		return err
	}
	return cuErr("Synchronize", cu.Synchronize())
}

func (d *cuDevice) Close() error {
	if err := d.current(); err != nil {
		return err
	}
	return cuErr("Module.Unload", d.mod.Unload())
}
