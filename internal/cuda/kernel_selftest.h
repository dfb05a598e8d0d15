// Two small kernels that check the emulator itself (emu_test.go): it must
// honour a barrier and report one that some threads skip.
#pragma once
#include "emu.h"

// ub_selftest_reverse sets y to x reversed within each block of blockDim.x
// elements, through shared memory; barrier == 0 leaves the barrier out,
// which gives wrong results (a data race on the device).
UB_KERNEL void ub_selftest_reverse(int barrier, const float *__restrict__ x, float *__restrict__ y) {
	__shared__ float s[1024];
	int t = threadIdx.x, base = blockIdx.x * blockDim.x;
	s[t] = x[base + t];
	if (barrier) __syncthreads();
	y[base + t] = s[blockDim.x - 1 - t];
}

// ub_selftest_early_exit has thread 0 leave before a barrier the others
// wait at: undefined on the device, an error in the emulator.
UB_KERNEL void ub_selftest_early_exit(float *y) {
	if (threadIdx.x == 0) return;
	__syncthreads();
	y[threadIdx.x] = 1.0f;
}
