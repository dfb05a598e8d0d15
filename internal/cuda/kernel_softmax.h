// Softmax and log-softmax along one axis (float32, double inside), x viewed
// as (p, q, t) and reduced over q, as models/nn's softmaxKernel. One thread
// per (p, t).
#pragma once
#include "emu.h"

UB_KERNEL void ub_softmax_fwd(int p, int q, int t, int log_, const float *__restrict__ x, float *__restrict__ y) {
	int total = p * t;
	for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += blockDim.x * gridDim.x) {
		int tt = e % t, pp = e / t;
		const float *xr = x + (long long)pp * q * t + tt;
		float *yr = y + (long long)pp * q * t + tt;
		double m = -INFINITY, s = 0;
		for (int j = 0; j < q; j++) m = fmax(m, (double)xr[(long long)j * t]);
		for (int j = 0; j < q; j++) s += exp((double)xr[(long long)j * t] - m);
		double ls = log(s);
		for (int j = 0; j < q; j++) {
			double v = (double)xr[(long long)j * t] - m;
			yr[(long long)j * t] = log_ ? (float)(v - ls) : (float)(exp(v) / s);
		}
	}
}

// ub_softmax_bwd: softmax dx = y*(dy - sum(dy*y)); log-softmax
// dx = dy - exp(y)*sum(dy), sums over q.
UB_KERNEL void ub_softmax_bwd(int p, int q, int t, int log_, const float *__restrict__ y, const float *__restrict__ dy,
	float *__restrict__ dx) {
	int total = p * t;
	for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += blockDim.x * gridDim.x) {
		int tt = e % t, pp = e / t;
		long long base = (long long)pp * q * t + tt;
		double s = 0;
		for (int j = 0; j < q; j++) {
			long long o = base + (long long)j * t;
			s += log_ ? (double)dy[o] : (double)dy[o] * (double)y[o];
		}
		for (int j = 0; j < q; j++) {
			long long o = base + (long long)j * t;
			dx[o] = log_ ? (float)((double)dy[o] - exp((double)y[o]) * s) : (float)((double)y[o] * ((double)dy[o] - s));
		}
	}
}

// ub_attn_mask mirrors cuda.AttnMask: what ub_attn_softmax adds to the
// scaled scores besides them. Pointers may be null (nothing added).
struct ub_attn_mask {
	const float *bias;    // nb values; row r reads bias[(r*m) % nb ...]
	const double *dense;  // (nw, l, m): row r adds dense[((w*l)+i)*m ...]
	const int *regions;   // (nw, l) labels: -100 where labels differ
	int nb, heads, l, nw; // w = (r / (l*heads)) % nw, i = r % l
};

// ub_attn_row_add returns what row r, column j gets added: the bias and
// the shifted-window mask, as models/nn's attnSoftmaxKernel.
UB_DEVICE double ub_attn_row_add(const ub_attn_mask &a, int r, int m, int j) {
	double z = 0;
	if (a.bias) z += a.bias[((long long)r * m) % a.nb + j];
	if (a.dense || a.regions) {
		int i = r % a.l, w = (r / (a.l * a.heads)) % a.nw;
		if (a.dense) z += a.dense[((long long)w * a.l + i) * m + j];
		else if (a.regions[w * a.l + j] != a.regions[w * a.l + i]) z += -100.0;
	}
	return z;
}

// ub_attn_softmax sets each row of y (rows x m) to softmax(scale*x + bias
// + mask) of the row (models/nn's AttentionSoftmax); a row whose maximum is
// -Inf or NaN gives zeros. One thread per row.
UB_KERNEL void ub_attn_softmax(int rows, int m, double scale, ub_attn_mask a, const float *__restrict__ x,
	float *__restrict__ y) {
	for (int r = blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += blockDim.x * gridDim.x) {
		const float *xr = x + (long long)r * m;
		float *yr = y + (long long)r * m;
		double mx = -INFINITY;
		for (int j = 0; j < m; j++) mx = fmax(mx, scale * xr[j] + ub_attn_row_add(a, r, m, j));
		if (isinf(mx) || isnan(mx)) {
			for (int j = 0; j < m; j++) yr[j] = 0.0f;
			continue;
		}
		double s = 0;
		for (int j = 0; j < m; j++) s += exp(scale * xr[j] + ub_attn_row_add(a, r, m, j) - mx);
		for (int j = 0; j < m; j++) yr[j] = (float)(exp(scale * xr[j] + ub_attn_row_add(a, r, m, j) - mx) / s);
	}
}

// ub_reduce_rows sets dst[i] = mul * sum over k < reps of x[k*n + i]: a
// broadcast operand's gradient (the relative position bias). One thread
// per output element, float64 accumulation.
UB_KERNEL void ub_reduce_rows(int n, int reps, double mul, const float *__restrict__ x, float *__restrict__ dst) {
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
		double s = 0;
		for (int k = 0; k < reps; k++) s += x[(long long)k * n + i];
		dst[i] = (float)(mul * s);
	}
}

// ub_attn_softmax_bwd sets dx = mul * y*(dy - sum(dy*y)) per row.
UB_KERNEL void ub_attn_softmax_bwd(int rows, int m, double mul, const float *__restrict__ y, const float *__restrict__ dy,
	float *__restrict__ dx) {
	for (int r = blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += blockDim.x * gridDim.x) {
		long long o = (long long)r * m;
		double s = 0;
		for (int j = 0; j < m; j++) s += (double)dy[o + j] * y[o + j];
		for (int j = 0; j < m; j++) dx[o + j] = (float)(mul * y[o + j] * ((double)dy[o + j] - s));
	}
}
