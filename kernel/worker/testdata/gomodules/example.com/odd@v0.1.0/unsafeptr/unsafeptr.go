// Package unsafeptr is a test fixture that imports unsafe.
package unsafeptr

import "unsafe"

// Size is the size of an int in bytes.
func Size() uintptr { var i int; return unsafe.Sizeof(i) }
