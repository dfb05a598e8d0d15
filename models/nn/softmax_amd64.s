//go:build amd64 && !purego

#include "textflag.h"

// Constants of expSubSum16 (float32 bit patterns).
DATA expc<>+0(SB)/4, $0x3fb8aa3b  // log2(e)
DATA expc<>+4(SB)/4, $0x3f318000  // ln2, high part (0.693359375)
DATA expc<>+8(SB)/4, $0xb95e8083  // ln2, low part (-2.12194440e-4)
DATA expc<>+12(SB)/4, $0xc2ad0000 // -86.5: below it exp is flushed to 0 (no subnormals)
DATA expc<>+16(SB)/4, $0x3f800000 // 1
DATA expc<>+20(SB)/4, $0x3f000000 // 1/2
DATA expc<>+24(SB)/4, $0x3e2aaaab // 1/6
DATA expc<>+28(SB)/4, $0x3d2aaaab // 1/24
DATA expc<>+32(SB)/4, $0x3c088889 // 1/120
DATA expc<>+36(SB)/4, $0x3ab60b61 // 1/720
GLOBL expc<>(SB), RODATA|NOPTR, $40

// func expSubSum16(z *float32, n int, mx float32) float32
//
// z[i] = exp(z[i] - mx) for i < n (n a positive multiple of 16); returns
// the sum of the new z. exp(x) = 2^k * exp(r) with k = round(x/ln2),
// r = x - k*ln2 (|r| <= ln2/2) and exp(r) by its Taylor polynomial of
// degree 6 (relative error below 2e-7); VSCALEFPS applies 2^k. exp of
// x < -86.5 (-Inf included) is flushed to 0 (a NaN gives NaN):
// values under 3e-38 would be float32 subnormals, which cost a microcode
// assist each (masked attention rows are full of them: 4.6x slower).
TEXT ·expSubSum16(SB), NOSPLIT, $0-28
	MOVQ z+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $4, CX
	VBROADCASTSS mx+16(FP), Z31
	VBROADCASTSS expc<>+0(SB), Z30
	VBROADCASTSS expc<>+4(SB), Z29
	VBROADCASTSS expc<>+8(SB), Z28
	VBROADCASTSS expc<>+12(SB), Z27
	VBROADCASTSS expc<>+16(SB), Z26
	VBROADCASTSS expc<>+20(SB), Z25
	VBROADCASTSS expc<>+24(SB), Z24
	VBROADCASTSS expc<>+28(SB), Z23
	VBROADCASTSS expc<>+32(SB), Z22
	VBROADCASTSS expc<>+36(SB), Z21
	VPXORD Z0, Z0, Z0 // running sums
loop:
	VMOVUPS (SI), Z1
	VSUBPS Z31, Z1, Z1          // x = z - mx
	VCMPPS $0x15, Z27, Z1, K1   // K1: not x < -86.5 (NaN stays NaN)
	VMAXPS Z1, Z27, Z1          // x = max(x, -86.5), NaN kept
	VMULPS Z30, Z1, Z2          // x*log2(e)
	VRNDSCALEPS $0, Z2, Z2      // k = round(x*log2(e))
	VFNMADD231PS Z29, Z2, Z1    // r = x - k*ln2hi
	VFNMADD231PS Z28, Z2, Z1    // r -= k*ln2lo
	VMOVAPS Z21, Z3             // p = 1/720
	VFMADD213PS Z22, Z1, Z3     // p = p*r + 1/120
	VFMADD213PS Z23, Z1, Z3     // p = p*r + 1/24
	VFMADD213PS Z24, Z1, Z3     // p = p*r + 1/6
	VFMADD213PS Z25, Z1, Z3     // p = p*r + 1/2
	VFMADD213PS Z26, Z1, Z3     // p = p*r + 1
	VFMADD213PS Z26, Z1, Z3     // p = p*r + 1
	VSCALEFPS.Z Z2, Z3, K1, Z3  // p * 2^k, zero where not K1
	VMOVUPS Z3, (SI)
	VADDPS Z3, Z0, Z0
	ADDQ $64, SI
	DECQ CX
	JNZ loop
	VEXTRACTF32X8 $1, Z0, Y1
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	MOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func expSubSum8(z *float32, n int, mx float32) float32
//
// expSubSum16 for AVX2+FMA, 8 lanes (n a positive multiple of 8): the same
// reduction and polynomial, with 2^k built in the exponent field
// ((k+127) << 23) since AVX2 has no VSCALEFPS; k >= -125 after the clamp.
TEXT ·expSubSum8(SB), NOSPLIT, $0-28
	MOVQ z+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	VBROADCASTSS mx+16(FP), Y15
	VBROADCASTSS expc<>+0(SB), Y14
	VBROADCASTSS expc<>+4(SB), Y13
	VBROADCASTSS expc<>+8(SB), Y12
	VBROADCASTSS expc<>+12(SB), Y11
	VBROADCASTSS expc<>+16(SB), Y10
	VBROADCASTSS expc<>+20(SB), Y9
	VBROADCASTSS expc<>+24(SB), Y8
	VBROADCASTSS expc<>+28(SB), Y7
	VBROADCASTSS expc<>+32(SB), Y6
	VBROADCASTSS expc<>+36(SB), Y5
	MOVL $127, AX
	MOVQ AX, X4
	VPBROADCASTD X4, Y4         // 127
	VXORPS Y0, Y0, Y0           // running sums
loop8:
	VMOVUPS (SI), Y1
	VSUBPS Y15, Y1, Y1          // x = z - mx
	VCMPPS $0x15, Y11, Y1, Y3   // keep: not x < -86.5 (NaN stays NaN)
	VMAXPS Y1, Y11, Y1          // x = max(x, -86.5), NaN kept
	VMULPS Y14, Y1, Y2
	VROUNDPS $0, Y2, Y2         // k = round(x*log2(e))
	VFNMADD231PS Y13, Y2, Y1    // r = x - k*ln2hi
	VFNMADD231PS Y12, Y2, Y1    // r -= k*ln2lo
	VCVTPS2DQ Y2, Y2            // k as int32
	VPADDD Y4, Y2, Y2
	VPSLLD $23, Y2, Y2          // 2^k as float32 bits
	VANDPS Y3, Y2, Y2           // 0 where x < -86.5
	VMOVAPS Y5, Y3              // p = 1/720
	VFMADD213PS Y6, Y1, Y3      // p = p*r + 1/120
	VFMADD213PS Y7, Y1, Y3      // p = p*r + 1/24
	VFMADD213PS Y8, Y1, Y3      // p = p*r + 1/6
	VFMADD213PS Y9, Y1, Y3      // p = p*r + 1/2
	VFMADD213PS Y10, Y1, Y3     // p = p*r + 1
	VFMADD213PS Y10, Y1, Y3     // p = p*r + 1
	VMULPS Y2, Y3, Y3           // p * 2^k
	VMOVUPS Y3, (SI)
	VADDPS Y3, Y0, Y0
	ADDQ $32, SI
	DECQ CX
	JNZ loop8
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	MOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func scaleAddMax16(z, x, b *float32, n int, scale float32) float32
//
// z[i] = scale*x[i] + b[i] (b nil: no b) for i < n, a positive multiple
// of 16; returns the largest z, NaN ignored (-Inf if all are NaN).
TEXT ·scaleAddMax16(SB), NOSPLIT, $0-44
	MOVQ z+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $4, CX
	VBROADCASTSS scale+32(FP), Z31
	MOVL $0xff800000, AX
	VPBROADCASTD AX, Z0 // running max: -Inf
	TESTQ DX, DX
	JZ nobias
bias:
	VMOVUPS (SI), Z1
	VFMADD213PS (DX), Z31, Z1 // scale*x + b
	VMOVUPS Z1, (DI)
	VMAXPS Z0, Z1, Z0         // max(z, acc): a NaN z leaves acc
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ CX
	JNZ bias
	JMP reduce
nobias:
	VMULPS (SI), Z31, Z1
	VMOVUPS Z1, (DI)
	VMAXPS Z0, Z1, Z0
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ nobias
reduce:
	VEXTRACTF32X8 $1, Z0, Y1
	VMAXPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VMAXPS X1, X0, X0
	MOVSS X0, ret+40(FP)
	VZEROUPPER
	RET

// func scale16(d, z *float32, n int, s float32)
//
// d[i] = s*z[i] for i < n, a positive multiple of 16.
TEXT ·scale16(SB), NOSPLIT, $0-28
	MOVQ d+0(FP), DI
	MOVQ z+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	VBROADCASTSS s+24(FP), Z31
scaleloop:
	VMULPS (SI), Z31, Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ scaleloop
	VZEROUPPER
	RET

// func dot16(x, y *float32, n int) float32
//
// The sum of x[i]*y[i] for i < n, a positive multiple of 16 (two vector
// accumulators).
TEXT ·dot16(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DX
	MOVQ n+16(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z2, Z2, Z2
	SHRQ $4, CX
	TESTQ $1, CX
	JZ dotpairs
	VMOVUPS (SI), Z1
	VFMADD231PS (DX), Z1, Z0
	ADDQ $64, SI
	ADDQ $64, DX
dotpairs:
	SHRQ $1, CX
	JZ dotreduce
dotloop:
	VMOVUPS (SI), Z1
	VFMADD231PS (DX), Z1, Z0
	VMOVUPS 64(SI), Z3
	VFMADD231PS 64(DX), Z3, Z2
	ADDQ $128, SI
	ADDQ $128, DX
	DECQ CX
	JNZ dotloop
dotreduce:
	VADDPS Z2, Z0, Z0
	VEXTRACTF32X8 $1, Z0, Y1
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	MOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func softmaxGrad16(d, y, dy *float32, n int, mul, s float32)
//
// d[i] = mul * y[i] * (dy[i] - s) for i < n, a positive multiple of 16.
TEXT ·softmaxGrad16(SB), NOSPLIT, $0-40
	MOVQ d+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ dy+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $4, CX
	VBROADCASTSS mul+32(FP), Z31
	VBROADCASTSS s+36(FP), Z30
gradloop:
	VMOVUPS (DX), Z1
	VSUBPS Z30, Z1, Z1  // dy - s
	VMULPS (SI), Z1, Z1 // y*(dy - s)
	VMULPS Z31, Z1, Z1  // mul*...
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ CX
	JNZ gradloop
	VZEROUPPER
	RET
