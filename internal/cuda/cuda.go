// Package cuda is the device seam of unetlab's GPU engine: a small Device
// interface over what the engine needs from a CUDA driver (memory, copies,
// the project's kernel module, launches), with three implementations:
//
//   - OpenDriver: the NVIDIA driver, libcuda.so.1, opened at run time with
//     dlopen and declared by this package, so building needs no CUDA
//     toolkit and a machine without a GPU gets an error, not a crash;
//   - OpenEmulated: the same kernel sources (kernel_*.h) compiled as host
//     C++ under emu.h and run on the CPU, blocks as loops and a block's
//     threads as fibers, so `go test` checks every kernel without a GPU;
//   - a binding on gorgonia.org/cu, only with the build tag cudacu (its
//     package init exits the process where there is no GPU).
//
// The kernels are compiled by nvcc (generate.sh, `make generate`) into
// kernels.fatbin, embedded in the binary; kernels.sum records the hash of
// the sources it was built from, checked by TestFatbinCurrent.
//
// All kernels compute in float32 on NCDHW tensors (normalisation statistics,
// BatchNorm's running statistics, which BNRunning keeps on the device, and
// Adam's arithmetic in float64); Kernels gives them typed Go signatures. Caching wraps any Device with a caching allocator (what
// models/nn's devices use), so that repeated training steps stop
// allocating device memory.
package cuda

import (
	"errors"
	"fmt"
	"unsafe"
)

// ErrNoDriver is returned (wrapped) when libcuda.so.1 cannot be opened.
var ErrNoDriver = errors.New("cuda: no CUDA driver")

// ErrNoDevice is returned (wrapped) when the driver reports no usable device.
var ErrNoDevice = errors.New("cuda: no CUDA device")

// ErrDriverTooOld is returned (wrapped) when the driver's CUDA version is
// below MinDriverVersion.
var ErrDriverTooOld = errors.New("cuda: driver too old")

// ErrLaunch is returned (wrapped) for a kernel launch the device refused or
// that failed, and for arguments that do not match a kernel's parameters.
var ErrLaunch = errors.New("cuda: launch failed")

// MinDriverVersion is the oldest driver API version that loads the embedded
// kernels: 11080 (CUDA 11.8, driver 520 or newer), the toolkit that built
// them.
const MinDriverVersion = 11080

// Ptr is a device address; 0 is no memory.
type Ptr uint64

// Dim3 is a grid or block size; a zero Y or Z means 1.
type Dim3 struct{ X, Y, Z int }

func (d Dim3) norm() Dim3 {
	if d.Y == 0 {
		d.Y = 1
	}
	if d.Z == 0 {
		d.Z = 1
	}
	return d
}

// Function is a kernel of the loaded module, as returned by Device.Function.
type Function struct {
	name   string
	handle uintptr // the device's own handle (CUfunction, table index)
}

// Name is the kernel's name.
func (f Function) Name() string { return f.name }

// Kind says which implementation a Device is.
type Kind int

const (
	// KindDriver is a GPU through libcuda.
	KindDriver Kind = iota
	// KindEmulated is the CPU emulation of the kernels, a test device.
	KindEmulated
)

// String returns "emulated" for KindEmulated and "cuda" otherwise, as
// nn.DeviceKind and UNETLAB_DEVICE name them.
func (k Kind) String() string {
	if k == KindEmulated {
		return "emulated"
	}
	return "cuda"
}

// Device is one CUDA device with the project's kernel module loaded. Sizes
// are in bytes. Calls may come from any goroutine; launches and copies are
// issued on one stream, in order; copies to the host wait for the work
// before them.
type Device interface {
	// Name describes the device in one line ("NVIDIA H100 80GB HBM3,
	// sm_90, 79.1 GiB, driver 12.4" or "emulated CUDA device (CPU)").
	Name() string
	// Kind says which implementation this is.
	Kind() Kind
	// Alloc returns n bytes of device memory (uninitialised).
	Alloc(n int) (Ptr, error)
	// Free releases memory from Alloc; Free(0) does nothing.
	Free(p Ptr) error
	// CopyHtoD copies n bytes from host memory src (holding no Go
	// pointers) to dst.
	CopyHtoD(dst Ptr, src unsafe.Pointer, n int) error
	// CopyDtoH copies n bytes from src to host memory dst.
	CopyDtoH(dst unsafe.Pointer, src Ptr, n int) error
	// CopyDtoD copies n bytes between device buffers.
	CopyDtoD(dst, src Ptr, n int) error
	// Memset32 sets count 32-bit words at dst to v.
	Memset32(dst Ptr, v uint32, count int) error
	// Function looks a kernel of the module up by name.
	Function(name string) (Function, error)
	// Launch runs f on grid blocks of block threads with shared bytes of
	// dynamic shared memory. args are the kernel's parameters in order:
	// int32, uint32, int64, float32, float64, Ptr, or a struct of int32,
	// uint32, float32, int64 and float64 fields (arrays included) matching
	// a C struct.
	Launch(f Function, grid, block Dim3, shared int, args ...any) error
	// Sync waits for all issued work and returns its first error.
	Sync() error
	// Close releases the device's memory and module.
	Close() error
}

// openGPU opens the GPU for Open: OpenDriver, or OpenCU in a build with
// the tag cudacu.
var openGPU = OpenDriver

// Open opens a device of the given kind with the embedded kernels: the GPU
// (OpenDriver; OpenCU in a cudacu build) or the emulated device.
func Open(k Kind) (Device, error) {
	if k == KindEmulated {
		return OpenEmulated()
	}
	return openGPU()
}

// Error is a failed driver call: the call's name, the CUresult code and the
// driver's own description.
type Error struct {
	Call string
	Code int
	Msg  string
}

// Error reads "cuda: <call>: <driver message> (CUresult <code>)".
func (e *Error) Error() string {
	return fmt.Sprintf("cuda: %s: %s (CUresult %d)", e.Call, e.Msg, e.Code)
}

// F32Bytes returns the bytes of n float32 values.
func F32Bytes(n int) int { return 4 * n }
