//go:build amd64 && !purego

package nn

import "golang.org/x/sys/cpu"

//go:generate go run ./internal/asmgen -o direct_amd64.s

// haveDirect is true where the AVX-512 micro-kernels can run (the CPU has
// AVX-512F and the OS saves its registers).
var haveDirect = cpu.X86.HasAVX512F

// sconvFwd8x48 is the forward micro-kernel; see sconvFwd8x48Go.
//
//go:noescape
func sconvFwd8x48(out *float32, ostride int, in *float32, offs *int, ntaps int, w *float32, nblk int)

// sconvWGrad8x3 is the weight-gradient micro-kernel; see sconvWGrad8x3Go.
//
//go:noescape
func sconvWGrad8x3(part *float32, dy *float32, dystride int, in *float32, offs *int, ntrip int, nvec int)
