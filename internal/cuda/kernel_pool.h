// 3D max and average pooling (float32, NCDHW), as models/nn's poolKernel:
// max pooling pads with -Inf and its gradient goes to the first maximum of
// each window; average pooling divides by the whole window (padding counts).
#pragma once
#include "emu.h"

// ub_pool_geom mirrors cuda.PoolGeom.
struct ub_pool_geom {
	int planes; // N*C
	int in[3], out[3], k[3], stride[3], pad[3];
	int is_max;
};

// ub_pool_argmax returns the flat in-plane index of the first maximum of
// output (od, oh, ow)'s window in src, or -1 when the window is all padding.
UB_DEVICE int ub_pool_argmax(const ub_pool_geom &g, const float *src, int od, int oh, int ow) {
	float m = -INFINITY;
	int arg = -1;
	for (int kd = 0; kd < g.k[0]; kd++) {
		int id = od * g.stride[0] - g.pad[0] + kd;
		for (int kh = 0; kh < g.k[1]; kh++) {
			int ih = oh * g.stride[1] - g.pad[1] + kh;
			for (int kw = 0; kw < g.k[2]; kw++) {
				int iw = ow * g.stride[2] - g.pad[2] + kw;
				if (id < 0 || ih < 0 || iw < 0 || id >= g.in[0] || ih >= g.in[1] || iw >= g.in[2]) continue;
				int i = (id * g.in[1] + ih) * g.in[2] + iw;
				if (arg < 0 || src[i] > m) {
					m = src[i];
					arg = i;
				}
			}
		}
	}
	return arg;
}

// ub_pool_fwd sets y (planes, out...) from x (planes, in...); one thread per
// output element.
UB_KERNEL void ub_pool_fwd(ub_pool_geom g, const float *__restrict__ x, float *__restrict__ y) {
	int outN = g.out[0] * g.out[1] * g.out[2], inN = g.in[0] * g.in[1] * g.in[2];
	int total = g.planes * outN;
	float div = (float)(g.k[0] * g.k[1] * g.k[2]);
	for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += blockDim.x * gridDim.x) {
		int o = idx % outN, pl = idx / outN;
		int ow = o % g.out[2], oh = (o / g.out[2]) % g.out[1], od = o / (g.out[2] * g.out[1]);
		const float *src = x + (long long)pl * inN;
		if (g.is_max) {
			int a = ub_pool_argmax(g, src, od, oh, ow);
			y[idx] = a < 0 ? -INFINITY : src[a];
			continue;
		}
		float s = 0.0f;
		for (int kd = 0; kd < g.k[0]; kd++) {
			int id = od * g.stride[0] - g.pad[0] + kd;
			for (int kh = 0; kh < g.k[1]; kh++) {
				int ih = oh * g.stride[1] - g.pad[1] + kh;
				for (int kw = 0; kw < g.k[2]; kw++) {
					int iw = ow * g.stride[2] - g.pad[2] + kw;
					if (id < 0 || ih < 0 || iw < 0 || id >= g.in[0] || ih >= g.in[1] || iw >= g.in[2]) continue;
					s += src[(id * g.in[1] + ih) * g.in[2] + iw];
				}
			}
		}
		y[idx] = s / div;
	}
}

// ub_pool_range sets [lo, hi) to the outputs along one axis whose window
// holds input position i.
UB_DEVICE void ub_pool_range(int i, int k, int s, int p, int out, int *lo, int *hi) {
	int a = i + p - k + 1; // first output o with o*s + k - 1 >= i + p
	*lo = a <= 0 ? 0 : (a + s - 1) / s;
	int b = (i + p) / s + 1;
	*hi = b < out ? b : out;
}

// ub_pool_bwd sets dx (planes, in...) from x and dy (planes, out...),
// gathering per input element over the windows that hold it, in output
// order (the CPU engine's order of additions).
UB_KERNEL void ub_pool_bwd(ub_pool_geom g, const float *__restrict__ x, const float *__restrict__ dy,
	float *__restrict__ dx) {
	int outN = g.out[0] * g.out[1] * g.out[2], inN = g.in[0] * g.in[1] * g.in[2];
	int total = g.planes * inN;
	float div = (float)(g.k[0] * g.k[1] * g.k[2]);
	for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += blockDim.x * gridDim.x) {
		int i = idx % inN, pl = idx / inN;
		int iw = i % g.in[2], ih = (i / g.in[2]) % g.in[1], id = i / (g.in[2] * g.in[1]);
		const float *src = x + (long long)pl * inN;
		const float *gy = dy + (long long)pl * outN;
		int d0, d1, h0, h1, w0, w1;
		ub_pool_range(id, g.k[0], g.stride[0], g.pad[0], g.out[0], &d0, &d1);
		ub_pool_range(ih, g.k[1], g.stride[1], g.pad[1], g.out[1], &h0, &h1);
		ub_pool_range(iw, g.k[2], g.stride[2], g.pad[2], g.out[2], &w0, &w1);
		float acc = 0.0f;
		for (int od = d0; od < d1; od++)
			for (int oh = h0; oh < h1; oh++)
				for (int ow = w0; ow < w1; ow++) {
					int o = (od * g.out[1] + oh) * g.out[2] + ow;
					if (g.is_max) {
						if (ub_pool_argmax(g, src, od, oh, ow) == i) acc += gy[o];
					} else {
						acc += gy[o] / div;
					}
				}
		dx[idx] = acc;
	}
}
