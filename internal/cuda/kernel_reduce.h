// Reductions (float32 in, float64 accumulation).
#pragma once
#include "emu.h"

#define UB_REDUCE_THREADS 256

// ub_block_sum returns the sum of v over the block (blockDim.x ==
// UB_REDUCE_THREADS) in thread 0; every thread must call it.
UB_DEVICE double ub_block_sum(double v) {
	__shared__ double part[UB_REDUCE_THREADS];
	part[threadIdx.x] = v;
	__syncthreads();
	for (int s = UB_REDUCE_THREADS / 2; s > 0; s >>= 1) {
		if ((int)threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
		__syncthreads();
	}
	double r = part[0];
	__syncthreads(); // part is reused by the caller's next call
	return r;
}

// ub_sum_partial writes the sum of each block's share of x[0:n] to
// partial[blockIdx.x] (launch with UB_REDUCE_THREADS threads).
UB_KERNEL void ub_sum_partial(int n, const float *__restrict__ x, double *__restrict__ partial) {
	double s = 0;
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) s += x[i];
	s = ub_block_sum(s);
	if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// ub_sum_final sets out[0] = scale * sum(partial[0:m]) (one block of
// UB_REDUCE_THREADS threads): Sum is scale 1, Mean 1/n.
UB_KERNEL void ub_sum_final(int m, const double *__restrict__ partial, double scale, float *__restrict__ out) {
	double s = 0;
	for (int i = threadIdx.x; i < m; i += blockDim.x) s += partial[i];
	s = ub_block_sum(s);
	if (threadIdx.x == 0) out[0] = (float)(s * scale);
}

// ub_channel_sum sets out[ch] = sum over n and sp of x (n, c, sp): the bias
// gradient. One block of UB_REDUCE_THREADS threads per channel.
UB_KERNEL void ub_channel_sum(int n, int c, int sp, const float *__restrict__ x, float *__restrict__ out) {
	int ch = blockIdx.x;
	double s = 0;
	for (int b = 0; b < n; b++) {
		const float *p = x + ((long long)b * c + ch) * sp;
		for (int i = threadIdx.x; i < sp; i += blockDim.x) s += p[i];
	}
	s = ub_block_sum(s);
	if (threadIdx.x == 0) out[ch] = (float)s;
}
