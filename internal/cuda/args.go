//go:build cgo

package cuda

/*
#include <stdlib.h>
*/
import "C"

import (
	"fmt"
	"reflect"
	"unsafe"
)

// packed holds a launch's arguments in C memory: the values, 8-byte
// aligned, and the array of pointers to them that cuLaunchKernel (and the
// emulator) take as kernelParams. Go memory cannot hold them: the pointer
// array would be Go memory with Go pointers, which cgo forbids passing.
type packed struct {
	buf   unsafe.Pointer
	ptrs  unsafe.Pointer // *unsafe.Pointer, len(sizes) entries
	sizes []uintptr
}

func (p *packed) free() {
	C.free(p.buf)
	C.free(p.ptrs)
}

// argBytes returns the bytes of one kernel argument.
func argBytes(a any) ([]byte, error) {
	switch v := a.(type) {
	case int32, uint32, int64, uint64, float32, float64, Ptr:
		rv := reflect.ValueOf(v)
		p := reflect.New(rv.Type())
		p.Elem().Set(rv)
		return unsafe.Slice((*byte)(p.UnsafePointer()), rv.Type().Size()), nil
	case int:
		return nil, fmt.Errorf("%w: argument of type int: say int32 or int64 (a kernel's int is 32 bits)", ErrLaunch)
	}
	rv := reflect.ValueOf(a)
	if rv.Kind() != reflect.Struct || !plainStruct(rv.Type()) {
		return nil, fmt.Errorf("%w: argument of type %T: want int32, uint32, int64, float32, float64, Ptr or a struct of such fields", ErrLaunch, a)
	}
	p := reflect.New(rv.Type())
	p.Elem().Set(rv)
	return unsafe.Slice((*byte)(p.UnsafePointer()), rv.Type().Size()), nil
}

// plainStruct reports whether t holds only int32, uint32, float32, int64,
// uint64 (a Ptr) and float64 values, so its Go layout is its C layout (64-bit platforms
// align 8-byte values to 8 in both).
func plainStruct(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int32, reflect.Uint32, reflect.Float32, reflect.Int64, reflect.Uint64, reflect.Float64:
		return true
	case reflect.Array:
		return plainStruct(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if !plainStruct(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

func pack(args []any) (*packed, error) {
	vals := make([][]byte, len(args))
	total := 0
	for i, a := range args {
		b, err := argBytes(a)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i, err)
		}
		vals[i] = b
		total += (len(b) + 7) &^ 7
	}
	p := &packed{
		buf:   C.calloc(C.size_t(max(total, 8)), 1),
		ptrs:  C.calloc(C.size_t(max(len(args), 1)), C.size_t(unsafe.Sizeof(uintptr(0)))),
		sizes: make([]uintptr, len(args)),
	}
	ptrs := unsafe.Slice((*unsafe.Pointer)(p.ptrs), max(len(args), 1))
	off := 0
	for i, b := range vals {
		dst := unsafe.Add(p.buf, off)
		copy(unsafe.Slice((*byte)(dst), len(b)), b)
		ptrs[i] = dst
		p.sizes[i] = uintptr(len(b))
		off += (len(b) + 7) &^ 7
	}
	return p, nil
}
