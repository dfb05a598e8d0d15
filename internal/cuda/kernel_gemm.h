// SGEMM: C = alpha*op(A)*op(B) + beta*C, row-major, op(A) (M x K), op(B)
// (K x N), C (M x N) with leading dimensions lda, ldb, ldc. Each block of
// 256 threads computes a 64 x 64 tile of C from 64 x 16 and 16 x 64 tiles of
// op(A) and op(B) staged in shared memory, each thread a 4 x 4 sub-tile held
// in registers. Launch: grid (ceil(N/64), ceil(M/64), batch), block 256.
// batch > 1 runs independent products at strides sa, sb, sc (elements).
#pragma once
#include "emu.h"

#define UB_GEMM_BM 64
#define UB_GEMM_BN 64
#define UB_GEMM_BK 16

UB_KERNEL void ub_sgemm(int transA, int transB, int M, int N, int K, float alpha, const float *__restrict__ A,
	int lda, long long sa, const float *__restrict__ B, int ldb, long long sb, float beta, float *__restrict__ C,
	int ldc, long long sc) {
	__shared__ float as[UB_GEMM_BK][UB_GEMM_BM + 4]; // as[k][m]: op(A) transposed, padded against bank conflicts
	__shared__ float bs[UB_GEMM_BK][UB_GEMM_BN + 4]; // bs[k][n]
	A += sa * blockIdx.z;
	B += sb * blockIdx.z;
	C += sc * blockIdx.z;
	int tid = threadIdx.x;
	int tx = tid % 16, ty = tid / 16; // thread's 4x4 sub-tile at rows ty*4, columns tx*4
	int m0 = blockIdx.y * UB_GEMM_BM, n0 = blockIdx.x * UB_GEMM_BN;
	float acc[4][4];
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;
	for (int k0 = 0; k0 < K; k0 += UB_GEMM_BK) {
		// Load 64x16 of op(A) and 16x64 of op(B): 1024 elements each, 4 per thread.
		for (int l = 0; l < 4; l++) {
			int e = tid + l * 256;
			int am, ak, bk, bn;
			if (transA) { // consecutive threads read consecutive m (contiguous in memory)
				am = e % UB_GEMM_BM; ak = e / UB_GEMM_BM;
			} else {
				ak = e % UB_GEMM_BK; am = e / UB_GEMM_BK;
			}
			int gm = m0 + am, gk = k0 + ak;
			float va = 0.0f;
			if (gm < M && gk < K) va = transA ? A[(long long)gk * lda + gm] : A[(long long)gm * lda + gk];
			as[ak][am] = va;
			if (transB) {
				bk = e % UB_GEMM_BK; bn = e / UB_GEMM_BK;
			} else {
				bn = e % UB_GEMM_BN; bk = e / UB_GEMM_BN;
			}
			int gn = n0 + bn;
			gk = k0 + bk;
			float vb = 0.0f;
			if (gn < N && gk < K) vb = transB ? B[(long long)gn * ldb + gk] : B[(long long)gk * ldb + gn];
			bs[bk][bn] = vb;
		}
		__syncthreads();
		for (int k = 0; k < UB_GEMM_BK; k++) {
			float a[4], b[4];
			for (int i = 0; i < 4; i++) a[i] = as[k][ty * 4 + i];
			for (int j = 0; j < 4; j++) b[j] = bs[k][tx * 4 + j];
			for (int i = 0; i < 4; i++)
				for (int j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
		}
		__syncthreads();
	}
	for (int i = 0; i < 4; i++) {
		int gm = m0 + ty * 4 + i;
		if (gm >= M) break;
		for (int j = 0; j < 4; j++) {
			int gn = n0 + tx * 4 + j;
			if (gn >= N) break;
			float *c = C + (long long)gm * ldc + gn;
			*c = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *c;
		}
	}
}
