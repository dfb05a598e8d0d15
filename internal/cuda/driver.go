//go:build cgo

package cuda

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdio.h>

// The few driver API entry points the engine uses, declared here (from the
// CUDA driver API reference) so that no CUDA header is needed to build.
typedef int CUresult;
typedef int CUdevice;
typedef void *CUcontext;
typedef void *CUmodule;
typedef void *CUfunction;
typedef unsigned long long CUdeviceptr;

static CUresult (*p_cuInit)(unsigned int);
static CUresult (*p_cuDriverGetVersion)(int *);
static CUresult (*p_cuDeviceGetCount)(int *);
static CUresult (*p_cuDeviceGet)(CUdevice *, int);
static CUresult (*p_cuDeviceGetName)(char *, int, CUdevice);
static CUresult (*p_cuDeviceTotalMem)(size_t *, CUdevice);
static CUresult (*p_cuDeviceGetAttribute)(int *, int, CUdevice);
static CUresult (*p_cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
static CUresult (*p_cuDevicePrimaryCtxRelease)(CUdevice);
static CUresult (*p_cuCtxSetCurrent)(CUcontext);
static CUresult (*p_cuCtxSynchronize)(void);
static CUresult (*p_cuMemAlloc)(CUdeviceptr *, size_t);
static CUresult (*p_cuMemFree)(CUdeviceptr);
static CUresult (*p_cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
static CUresult (*p_cuMemcpyDtoH)(void *, CUdeviceptr, size_t);
static CUresult (*p_cuMemcpyDtoD)(CUdeviceptr, CUdeviceptr, size_t);
static CUresult (*p_cuMemsetD32)(CUdeviceptr, unsigned int, size_t);
static CUresult (*p_cuModuleLoadData)(CUmodule *, const void *);
static CUresult (*p_cuModuleUnload)(CUmodule);
static CUresult (*p_cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
static CUresult (*p_cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
	unsigned, void *, void **, void **);
static CUresult (*p_cuGetErrorString)(CUresult, const char **);

// ub_cuda_load opens libcuda.so.1 and resolves the entry points; it returns
// NULL or the reason it could not.
static const char *ub_cuda_load(void) {
	static char first[512];
	void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *e = dlerror();
		snprintf(first, sizeof first, "%s", e ? e : "libcuda.so.1: cannot open");
		h = dlopen("libcuda.so", RTLD_NOW | RTLD_LOCAL);
	}
	if (h == NULL) return first; // the versioned name's error: the one that matters
#define SYM(p, name) if ((*(void **)&p = dlsym(h, name)) == NULL) return "libcuda lacks " name;
	SYM(p_cuInit, "cuInit")
	SYM(p_cuDriverGetVersion, "cuDriverGetVersion")
	SYM(p_cuDeviceGetCount, "cuDeviceGetCount")
	SYM(p_cuDeviceGet, "cuDeviceGet")
	SYM(p_cuDeviceGetName, "cuDeviceGetName")
	SYM(p_cuDeviceTotalMem, "cuDeviceTotalMem_v2")
	SYM(p_cuDeviceGetAttribute, "cuDeviceGetAttribute")
	SYM(p_cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain")
	SYM(p_cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2")
	SYM(p_cuCtxSetCurrent, "cuCtxSetCurrent")
	SYM(p_cuCtxSynchronize, "cuCtxSynchronize")
	SYM(p_cuMemAlloc, "cuMemAlloc_v2")
	SYM(p_cuMemFree, "cuMemFree_v2")
	SYM(p_cuMemcpyHtoD, "cuMemcpyHtoD_v2")
	SYM(p_cuMemcpyDtoH, "cuMemcpyDtoH_v2")
	SYM(p_cuMemcpyDtoD, "cuMemcpyDtoD_v2")
	SYM(p_cuMemsetD32, "cuMemsetD32_v2")
	SYM(p_cuModuleLoadData, "cuModuleLoadData")
	SYM(p_cuModuleUnload, "cuModuleUnload")
	SYM(p_cuModuleGetFunction, "cuModuleGetFunction")
	SYM(p_cuLaunchKernel, "cuLaunchKernel")
	SYM(p_cuGetErrorString, "cuGetErrorString")
#undef SYM
	return NULL;
}

static const char *ub_cuda_errstr(CUresult r) {
	const char *s = NULL;
	if (p_cuGetErrorString == NULL || p_cuGetErrorString(r, &s) != 0 || s == NULL) return "unknown error";
	return s;
}

static CUresult ub_init(void) { return p_cuInit(0); }
static CUresult ub_version(int *v) { return p_cuDriverGetVersion(v); }
static CUresult ub_count(int *n) { return p_cuDeviceGetCount(n); }
static CUresult ub_device(CUdevice *d, int i) { return p_cuDeviceGet(d, i); }
static CUresult ub_name(char *s, int n, CUdevice d) { return p_cuDeviceGetName(s, n, d); }
static CUresult ub_totalmem(size_t *b, CUdevice d) { return p_cuDeviceTotalMem(b, d); }
static CUresult ub_attr(int *v, int a, CUdevice d) { return p_cuDeviceGetAttribute(v, a, d); }
static CUresult ub_retain(CUcontext *c, CUdevice d) { return p_cuDevicePrimaryCtxRetain(c, d); }
static CUresult ub_release(CUdevice d) { return p_cuDevicePrimaryCtxRelease(d); }

// Every call below makes the context current first: goroutines move
// between OS threads, and the current context is per thread.
#define CUR(c) { CUresult r_ = p_cuCtxSetCurrent(c); if (r_ != 0) return r_; }
static CUresult ub_sync(CUcontext c) { CUR(c) return p_cuCtxSynchronize(); }
static CUresult ub_alloc(CUcontext c, CUdeviceptr *p, size_t n) { CUR(c) return p_cuMemAlloc(p, n); }
static CUresult ub_free(CUcontext c, CUdeviceptr p) { CUR(c) return p_cuMemFree(p); }
static CUresult ub_htod(CUcontext c, CUdeviceptr d, const void *s, size_t n) { CUR(c) return p_cuMemcpyHtoD(d, s, n); }
static CUresult ub_dtoh(CUcontext c, void *d, CUdeviceptr s, size_t n) { CUR(c) return p_cuMemcpyDtoH(d, s, n); }
static CUresult ub_dtod(CUcontext c, CUdeviceptr d, CUdeviceptr s, size_t n) { CUR(c) return p_cuMemcpyDtoD(d, s, n); }
static CUresult ub_memset32(CUcontext c, CUdeviceptr d, unsigned v, size_t n) { CUR(c) return p_cuMemsetD32(d, v, n); }
static CUresult ub_modload(CUcontext c, CUmodule *m, const void *img) { CUR(c) return p_cuModuleLoadData(m, img); }
static CUresult ub_modunload(CUcontext c, CUmodule m) { CUR(c) return p_cuModuleUnload(m); }
static CUresult ub_getfunc(CUcontext c, CUfunction *f, CUmodule m, const char *name) { CUR(c) return p_cuModuleGetFunction(f, m, name); }
static CUresult ub_launch(CUcontext c, CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
	unsigned bz, unsigned shared, void **args) {
	CUR(c) return p_cuLaunchKernel(f, gx, gy, gz, bx, by, bz, shared, NULL, args, NULL);
}
#undef CUR
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

var (
	loadOnce sync.Once
	loadMsg  string
	initRes  C.CUresult
)

// driver is a GPU through libcuda: the device's primary context with the
// embedded kernel module loaded.
type driver struct {
	dev     C.CUdevice
	ctx     C.CUcontext
	mod     C.CUmodule
	name    string
	mu      sync.Mutex
	funcs   map[string]Function
	cfuncs  []C.CUfunction // Function.handle indexes it
	version int
}

func check(call string, r C.CUresult) error {
	if r == 0 {
		return nil
	}
	return &Error{Call: call, Code: int(r), Msg: C.GoString(C.ub_cuda_errstr(r))}
}

// OpenDriver opens device 0 through libcuda.so.1 and loads the embedded
// kernels. Without libcuda it returns ErrNoDriver, without a device (or one
// older than compute capability 8.0) ErrNoDevice, and with a driver older
// than MinDriverVersion ErrDriverTooOld, each wrapped with the reason.
func OpenDriver() (Device, error) {
	loadOnce.Do(func() {
		if msg := C.ub_cuda_load(); msg != nil {
			loadMsg = C.GoString(msg)
			return
		}
		initRes = C.ub_init()
	})
	if loadMsg != "" {
		return nil, fmt.Errorf("%w: %s", ErrNoDriver, loadMsg)
	}
	if initRes != 0 {
		// cuInit fails with CUDA_ERROR_NO_DEVICE (100) without a GPU, and
		// with others where the kernel module is missing or mismatched.
		return nil, fmt.Errorf("%w: %w", ErrNoDevice, check("cuInit", initRes))
	}
	var ver C.int
	if err := check("cuDriverGetVersion", C.ub_version(&ver)); err != nil {
		return nil, err
	}
	if int(ver) < MinDriverVersion {
		return nil, fmt.Errorf("%w: it supports CUDA %d.%d, the kernels need %d.%d (driver 520 or newer)",
			ErrDriverTooOld, ver/1000, ver%1000/10, MinDriverVersion/1000, MinDriverVersion%1000/10)
	}
	var n C.int
	if err := check("cuDeviceGetCount", C.ub_count(&n)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoDevice, err)
	}
	if n < 1 {
		return nil, fmt.Errorf("%w: the driver reports none", ErrNoDevice)
	}
	d := &driver{funcs: map[string]Function{}, version: int(ver)}
	if err := check("cuDeviceGet", C.ub_device(&d.dev, 0)); err != nil {
		return nil, err
	}
	var buf [256]C.char
	if err := check("cuDeviceGetName", C.ub_name(&buf[0], C.int(len(buf)), d.dev)); err != nil {
		return nil, err
	}
	var major, minor C.int
	const ccMajor, ccMinor = 75, 76 // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, _MINOR
	if err := check("cuDeviceGetAttribute", C.ub_attr(&major, ccMajor, d.dev)); err != nil {
		return nil, err
	}
	if err := check("cuDeviceGetAttribute", C.ub_attr(&minor, ccMinor, d.dev)); err != nil {
		return nil, err
	}
	var mem C.size_t
	if err := check("cuDeviceTotalMem", C.ub_totalmem(&mem, d.dev)); err != nil {
		return nil, err
	}
	d.name = fmt.Sprintf("%s (sm_%d%d, %.1f GiB, CUDA driver %d.%d)", C.GoString(&buf[0]), major, minor,
		float64(mem)/(1<<30), ver/1000, ver%1000/10)
	if major < 8 {
		return nil, fmt.Errorf("%w: %s: compute capability %d.%d, the kernels need 8.0 or newer", ErrNoDevice, d.name, major, minor)
	}
	if err := check("cuDevicePrimaryCtxRetain", C.ub_retain(&d.ctx, d.dev)); err != nil {
		return nil, err
	}
	img := Fatbin()
	if err := check("cuModuleLoadData", C.ub_modload(d.ctx, &d.mod, unsafe.Pointer(&img[0]))); err != nil {
		C.ub_release(d.dev)
		return nil, fmt.Errorf("%s: embedded kernels: %w", d.name, err)
	}
	return d, nil
}

func (d *driver) Name() string { return d.name }
func (d *driver) Kind() Kind   { return KindDriver }

func (d *driver) Alloc(n int) (Ptr, error) {
	var p C.CUdeviceptr
	if err := check("cuMemAlloc", C.ub_alloc(d.ctx, &p, C.size_t(max(n, 1)))); err != nil {
		return 0, fmt.Errorf("%d bytes: %w", n, err)
	}
	return Ptr(p), nil
}

func (d *driver) Free(p Ptr) error {
	if p == 0 {
		return nil
	}
	return check("cuMemFree", C.ub_free(d.ctx, C.CUdeviceptr(p)))
}

func (d *driver) CopyHtoD(dst Ptr, src unsafe.Pointer, n int) error {
	if n == 0 {
		return nil
	}
	return check("cuMemcpyHtoD", C.ub_htod(d.ctx, C.CUdeviceptr(dst), src, C.size_t(n)))
}

func (d *driver) CopyDtoH(dst unsafe.Pointer, src Ptr, n int) error {
	if n == 0 {
		return nil
	}
	return check("cuMemcpyDtoH", C.ub_dtoh(d.ctx, dst, C.CUdeviceptr(src), C.size_t(n)))
}

func (d *driver) CopyDtoD(dst, src Ptr, n int) error {
	if n == 0 {
		return nil
	}
	return check("cuMemcpyDtoD", C.ub_dtod(d.ctx, C.CUdeviceptr(dst), C.CUdeviceptr(src), C.size_t(n)))
}

func (d *driver) Memset32(dst Ptr, v uint32, count int) error {
	if count == 0 {
		return nil
	}
	return check("cuMemsetD32", C.ub_memset32(d.ctx, C.CUdeviceptr(dst), C.uint(v), C.size_t(count)))
}

func (d *driver) Function(name string) (Function, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if f, ok := d.funcs[name]; ok {
		return f, nil
	}
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	var f C.CUfunction
	if err := check("cuModuleGetFunction", C.ub_getfunc(d.ctx, &f, d.mod, cs)); err != nil {
		return Function{}, fmt.Errorf("%s: %w", name, err)
	}
	fn := Function{name: name, handle: uintptr(len(d.cfuncs))}
	d.cfuncs = append(d.cfuncs, f)
	d.funcs[name] = fn
	return fn, nil
}

func (d *driver) Launch(f Function, grid, block Dim3, shared int, args ...any) error {
	p, err := pack(args)
	if err != nil {
		return fmt.Errorf("%s: %w", f.name, err)
	}
	defer p.free()
	d.mu.Lock()
	cf := d.cfuncs[f.handle]
	d.mu.Unlock()
	g, b := grid.norm(), block.norm()
	r := C.ub_launch(d.ctx, cf, C.uint(g.X), C.uint(g.Y), C.uint(g.Z),
		C.uint(b.X), C.uint(b.Y), C.uint(b.Z), C.uint(shared), (*unsafe.Pointer)(p.ptrs))
	if err := check("cuLaunchKernel", r); err != nil {
		return fmt.Errorf("%w: %s grid %v block %v: %w", ErrLaunch, f.name, g, b, err)
	}
	return nil
}

func (d *driver) Sync() error { return check("cuCtxSynchronize", C.ub_sync(d.ctx)) }

func (d *driver) Close() error {
	err := check("cuModuleUnload", C.ub_modunload(d.ctx, d.mod))
	if e := check("cuDevicePrimaryCtxRelease", C.ub_release(d.dev)); err == nil {
		err = e
	}
	return err
}
