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

// ub_roll mirrors cuda.Roll: out[j] = in[(j - shift) mod shape] along every
// axis (torch.roll; shift in [0, shape)).
struct ub_roll {
	int rank;
	int shape[UB_STRIDED_MAXRANK], shift[UB_STRIDED_MAXRANK];
};

UB_KERNEL void ub_roll_fwd(ub_roll g, int n, const float *__restrict__ src, float *__restrict__ dst) {
	for (int k = blockIdx.x * blockDim.x + threadIdx.x; k < n; k += blockDim.x * gridDim.x) {
		long long idx = 0, mul = 1;
		int q = k;
		for (int a = g.rank - 1; a >= 0; a--) {
			int c = q % g.shape[a] - g.shift[a];
			q /= g.shape[a];
			if (c < 0) c += g.shape[a];
			idx += (long long)c * mul;
			mul *= g.shape[a];
		}
		dst[k] = src[idx];
	}
}

// ub_gather sets dst[k] = src[idx[k]] for k < n (the relative position
// bias read from its table).
UB_KERNEL void ub_gather(int n, const int *__restrict__ idx, const float *__restrict__ src, float *__restrict__ dst) {
	for (int k = blockIdx.x * blockDim.x + threadIdx.x; k < n; k += blockDim.x * gridDim.x) dst[k] = src[idx[k]];
}

// ub_gather_sum is ub_gather's adjoint as a gather, so that no two threads
// add into one element: dst[i] = the sum of src[ent[e]] for e in
// [off[i], off[i+1]), in the order of ent (ascending k, the CPU engine's
// order), for i < n.
UB_KERNEL void ub_gather_sum(int n, const int *__restrict__ off, const int *__restrict__ ent,
	const float *__restrict__ src, float *__restrict__ dst) {
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
		float s = 0.0f;
		for (int e = off[i]; e < off[i + 1]; e++) s += src[ent[e]];
		dst[i] = s;
	}
}
