//go:build !cgo

package cuda

import "fmt"

// OpenDriver needs cgo (dlopen); this build has none.
func OpenDriver() (Device, error) {
	return nil, fmt.Errorf("%w: built without cgo (CGO_ENABLED=0)", ErrNoDriver)
}

// OpenEmulated needs cgo (the kernels compile as C++); this build has none.
func OpenEmulated() (Device, error) {
	return nil, fmt.Errorf("%w: the emulated device needs a cgo build", ErrNoDevice)
}

// LiveBytes is -1 without the emulated device.
func LiveBytes(Device) int { return -1 }
