// Strided views (the token and head layouts of the attention blocks), as
// models/nn's stridedOp: with the output read in row-major order over the
// iteration shape iter, element k is in[offset + sum_j i_j*strides[j]].
#pragma once
#include "emu.h"

#define UB_STRIDED_MAXRANK 8

// ub_strided mirrors cuda.Strided.
struct ub_strided {
	int rank, offset;
	int iter[UB_STRIDED_MAXRANK], strides[UB_STRIDED_MAXRANK];
};

UB_DEVICE long long ub_strided_index(const ub_strided &s, int k) {
	long long idx = s.offset;
	for (int j = s.rank - 1; j >= 0; j--) {
		idx += (long long)(k % s.iter[j]) * s.strides[j];
		k /= s.iter[j];
	}
	return idx;
}

// ub_strided_gather sets dst[k] = src[index(k)] for k < n (n = prod iter).
UB_KERNEL void ub_strided_gather(ub_strided s, int n, const float *__restrict__ src, float *__restrict__ dst) {
	for (int k = blockIdx.x * blockDim.x + threadIdx.x; k < n; k += blockDim.x * gridDim.x) dst[k] = src[ub_strided_index(s, k)];
}

// ub_strided_scatter sets dst[index(k)] = src[k] (the view is injective,
// so no two threads write one element); the caller zeroes dst first when
// the view does not cover it.
UB_KERNEL void ub_strided_scatter(ub_strided s, int n, const float *__restrict__ src, float *__restrict__ dst) {
	for (int k = blockIdx.x * blockDim.x + threadIdx.x; k < n; k += blockDim.x * gridDim.x) dst[ub_strided_index(s, k)] = src[k];
}
