//go:build amd64 && !purego

package nn

import (
	"os"

	"golang.org/x/sys/cpu"
)

//go:generate go run ./internal/asmgen -o direct_amd64.s

var (
	directAVX512 = &directISA{name: "avx512", co: 8, vec: 16, block: 48, fwd: sconvFwd8x48, wgrad: sconvWGrad8x3,
		dwBlock: 192, dwFwd: sdwFwd192, dwWGrad: sdwWGrad16}
	directAVX2 = &directISA{name: "avx2", co: 4, vec: 8, block: 24, fwd: sconvFwd4x24, wgrad: sconvWGrad4x3,
		dwBlock: 96, dwFwd: sdwFwd96, dwWGrad: sdwWGrad8}
)

// directBest is the fastest micro-kernel set the CPU runs (x/sys/cpu also
// checks that the OS saves the vector registers), nil without AVX2+FMA.
var directBest = func() *directISA {
	switch {
	case cpu.X86.HasAVX512F && os.Getenv("UNETLAB_CONV") != "avx2":
		return directAVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return directAVX2
	}
	return nil
}()

// directAll lists every micro-kernel set this CPU runs, for the tests.
func directAll() []*directISA {
	var all []*directISA
	if cpu.X86.HasAVX512F {
		all = append(all, directAVX512)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		all = append(all, directAVX2)
	}
	return all
}

//go:noescape
func sconvFwd8x48(out *float32, ostride int, in *float32, offs *int, ntaps int, w *float32, nblk int)

//go:noescape
func sconvWGrad8x3(part *float32, dy *float32, dystride int, in *float32, offs *int, ntrip int, nvec int)

//go:noescape
func sconvFwd4x24(out *float32, ostride int, in *float32, offs *int, ntaps int, w *float32, nblk int)

//go:noescape
func sconvWGrad4x3(part *float32, dy *float32, dystride int, in *float32, offs *int, ntrip int, nvec int)

//go:noescape
func sdwFwd192(out *float32, in *float32, offs *int, ntaps int, w *float32, nblk int)

//go:noescape
func sdwWGrad16(part *float32, dy *float32, in *float32, offs *int, noct int, nvec int)

//go:noescape
func sdwFwd96(out *float32, in *float32, offs *int, ntaps int, w *float32, nblk int)

//go:noescape
func sdwWGrad8(part *float32, dy *float32, in *float32, offs *int, noct int, nvec int)
