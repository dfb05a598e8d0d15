package nn

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/unetlab/unetlab/internal/cuda"
)

// DeviceKind is where the engine computes.
type DeviceKind int

const (
	// DeviceCPU is the CPU engine (always available).
	DeviceCPU DeviceKind = iota
	// DeviceCUDA is an NVIDIA GPU through libcuda.so.1 (driver 520 or
	// newer, compute capability 8.0 or newer).
	DeviceCUDA
	// DeviceEmulated runs the CUDA kernels on the CPU, one thread at a
	// time: a test device for checking the GPU code without a GPU, far
	// slower than DeviceCPU.
	DeviceEmulated
)

// String returns the kind's UNETLAB_DEVICE name: "cpu", "cuda" or
// "emulated".
func (k DeviceKind) String() string {
	switch k {
	case DeviceCUDA:
		return "cuda"
	case DeviceEmulated:
		return "emulated"
	}
	return "cpu"
}

// ErrDevice is returned (wrapped) when a requested device cannot be used;
// the message says why (no libcuda, no GPU, a driver too old).
var ErrDevice = errors.New("nn: device unavailable")

// Device is the compute device chosen by SetDevice or UNETLAB_DEVICE. A
// CUDA or emulated device holds the opened driver and the project's kernels.
type Device struct {
	kind   DeviceKind
	name   string
	reason string      // why auto chose the CPU; "" otherwise
	dev    cuda.Device // mem, or nil on the CPU
	mem    *cuda.Caching
	kern   *cuda.Kernels
}

// Kind returns the device's kind.
func (d *Device) Kind() DeviceKind { return d.kind }

// Name describes the device: "cpu", the GPU's name, compute capability,
// memory and driver version, or "emulated CUDA device (CPU)".
func (d *Device) Name() string { return d.name }

// String is the one line the engine prints when it picks a device:
// "device: cuda: NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB, CUDA driver 12.4)"
// or "device: cpu (no GPU: cuda: no CUDA driver: libcuda.so.1: cannot open
// shared object file: No such file or directory)".
func (d *Device) String() string {
	switch {
	case d.kind != DeviceCPU:
		return "device: " + d.kind.String() + ": " + d.name
	case d.reason != "":
		return "device: cpu (" + d.reason + ")"
	}
	return "device: cpu"
}

var (
	devMu      sync.Mutex
	devCurrent *Device
)

// openDevice opens a device by name: "auto", "cuda", "cpu" or "emulated".
// auto never fails: without a usable GPU it returns the CPU and the reason.
func openDevice(name string) (*Device, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "cpu":
		return &Device{kind: DeviceCPU, name: "cpu"}, nil
	case "", "auto":
		d, err := openCUDA(cuda.KindDriver)
		if err != nil {
			return &Device{kind: DeviceCPU, name: "cpu", reason: "no GPU: " + err.Error()}, nil
		}
		return d, nil
	case "cuda", "gpu":
		d, err := openCUDA(cuda.KindDriver)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrDevice, err)
		}
		return d, nil
	case "emulated":
		d, err := openCUDA(cuda.KindEmulated)
		if err != nil {
			return nil, fmt.Errorf("%w: emulated: %w", ErrDevice, err)
		}
		return d, nil
	}
	return nil, fmt.Errorf("%w: %q is not auto, cuda, cpu or emulated", ErrDevice, name)
}

func openCUDA(k cuda.Kind) (*Device, error) {
	raw, err := cuda.Open(k)
	if err != nil {
		return nil, err
	}
	// Every device allocation goes through the caching allocator: a
	// training step's tensors, freed by liveness, serve the next step.
	dev := cuda.NewCaching(raw)
	kern, err := cuda.NewKernels(dev)
	if err != nil {
		dev.Close()
		return nil, err
	}
	kind := DeviceCUDA
	if k == cuda.KindEmulated {
		kind = DeviceEmulated
	}
	return &Device{kind: kind, name: dev.Name(), dev: dev, mem: dev, kern: kern}, nil
}

// OpenDevice opens the named device ("auto", "cuda", "cpu" or "emulated",
// as SetDevice takes them) without making it current, for a run that
// computes elsewhere than the current device (train.Options.Device). The
// caller closes it with Close when done with it.
func OpenDevice(name string) (*Device, error) { return openDevice(name) }

// Close releases a device from OpenDevice (its kernels and driver
// context); closing the CPU device does nothing. Do not close the current
// device: SetDevice closes the one it replaces.
func (d *Device) Close() {
	if d != nil {
		d.close()
	}
}

// SetDevice makes the named device current: "auto" (a GPU that answers,
// else the CPU with the reason), "cuda" (a GPU or an error wrapping
// ErrDevice that says why not), "cpu", or "emulated" (the test device). The
// device it replaces is closed.
func SetDevice(name string) (*Device, error) {
	d, err := openDevice(name)
	if err != nil {
		return nil, err
	}
	devMu.Lock()
	old := devCurrent
	devCurrent = d
	devMu.Unlock()
	if old != nil {
		old.close()
	}
	return d, nil
}

// CurrentDevice returns the current device. The first call without a
// SetDevice before it opens the one UNETLAB_DEVICE names (auto when unset)
// and prints its String on standard error; a device that cannot be opened
// gives the CPU, and the line says why.
func CurrentDevice() *Device {
	devMu.Lock()
	defer devMu.Unlock()
	if devCurrent != nil {
		return devCurrent
	}
	env := os.Getenv("UNETLAB_DEVICE")
	d, err := openDevice(env)
	if err != nil {
		d = &Device{kind: DeviceCPU, name: "cpu", reason: "UNETLAB_DEVICE=" + env + ": " + err.Error()}
	}
	devCurrent = d
	fmt.Fprintln(os.Stderr, "unetlab:", d)
	return d
}

func (d *Device) close() {
	if d.kern != nil {
		d.kern.Close()
		d.kern = nil
	}
	if d.dev != nil {
		d.dev.Close()
		d.dev = nil
	}
}
