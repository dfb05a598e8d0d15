// Direct 3D convolution, float32, NCDHW. The "big" side is the
// convolution's input (a transposed convolution's output), the "small"
// side its output; the weight is (cs, cb/groups, kD, kH, kW) for both, as in
// models/nn (convGeom) and PyTorch. A transposed convolution's forward pass
// is ub_conv3d_bwd_data, its input gradient ub_conv3d_fwd and its weight
// gradient ub_conv3d_bwd_weight with the roles of x and dy exchanged.
#pragma once
#include "emu.h"

// ub_conv_geom mirrors cuda.ConvGeom (all int32, in this order).
struct ub_conv_geom {
	int n, cb, cs, groups;
	int big[3], small[3], k[3], stride[3], pad[3], dil[3];
};

// ub_conv3d_fwd sets small (n, cs, small...) = conv(big (n, cb, big...), w).
// One thread per output element.
UB_KERNEL void ub_conv3d_fwd(ub_conv_geom g, const float *__restrict__ big, const float *__restrict__ w,
	float *__restrict__ small) {
	int sN = g.small[0] * g.small[1] * g.small[2], bN = g.big[0] * g.big[1] * g.big[2];
	int kvol = g.k[0] * g.k[1] * g.k[2];
	int cbg = g.cb / g.groups, csg = g.cs / g.groups;
	int total = g.n * g.cs * sN;
	for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += blockDim.x * gridDim.x) {
		int s = idx % sN, co = (idx / sN) % g.cs, b = idx / (sN * g.cs);
		int ow = s % g.small[2], oh = (s / g.small[2]) % g.small[1], od = s / (g.small[2] * g.small[1]);
		int grp = co / csg;
		const float *wp = w + (long long)co * cbg * kvol;
		const float *xp = big + ((long long)b * g.cb + grp * cbg) * bN;
		float acc = 0.0f;
		for (int ci = 0; ci < cbg; ci++, xp += bN, wp += kvol) {
			for (int kd = 0; kd < g.k[0]; kd++) {
				int id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
				if (id < 0 || id >= g.big[0]) continue;
				for (int kh = 0; kh < g.k[1]; kh++) {
					int ih = oh * g.stride[1] - g.pad[1] + kh * g.dil[1];
					if (ih < 0 || ih >= g.big[1]) continue;
					for (int kw = 0; kw < g.k[2]; kw++) {
						int iw = ow * g.stride[2] - g.pad[2] + kw * g.dil[2];
						if (iw < 0 || iw >= g.big[2]) continue;
						acc += xp[(id * g.big[1] + ih) * g.big[2] + iw] * wp[(kd * g.k[1] + kh) * g.k[2] + kw];
					}
				}
			}
		}
		small[idx] = acc;
	}
}

// ub_conv_src sets o to the output position t/stride that reads offset t
// of the big side and reports whether there is one (t >= 0, a multiple of
// the stride, o < n); stride 1 needs no division.
UB_DEVICE bool ub_conv_src(int t, int stride, int n, int &o) {
	if (t < 0) return false;
	if (stride == 1) {
		o = t;
	} else {
		if (t % stride != 0) return false;
		o = t / stride;
	}
	return o < n;
}

// ub_conv3d_bwd_data sets big (n, cb, big...) = conv^T(small (n, cs,
// small...), w): the input gradient, or a transposed convolution's forward.
// One thread per big element, gathering the outputs it contributed to.
UB_KERNEL void ub_conv3d_bwd_data(ub_conv_geom g, const float *__restrict__ small, const float *__restrict__ w,
	float *__restrict__ big) {
	int sN = g.small[0] * g.small[1] * g.small[2], bN = g.big[0] * g.big[1] * g.big[2];
	int kvol = g.k[0] * g.k[1] * g.k[2];
	int cbg = g.cb / g.groups, csg = g.cs / g.groups;
	int total = g.n * g.cb * bN;
	for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += blockDim.x * gridDim.x) {
		int s = idx % bN, ci = (idx / bN) % g.cb, b = idx / (bN * g.cb);
		int iw = s % g.big[2], ih = (s / g.big[2]) % g.big[1], id = s / (g.big[2] * g.big[1]);
		int grp = ci / cbg, cig = ci % cbg;
		float acc = 0.0f;
		for (int cog = 0; cog < csg; cog++) {
			int co = grp * csg + cog;
			const float *wp = w + ((long long)co * cbg + cig) * kvol;
			const float *yp = small + ((long long)b * g.cs + co) * sN;
			for (int kd = 0; kd < g.k[0]; kd++) {
				int od;
				if (!ub_conv_src(id + g.pad[0] - kd * g.dil[0], g.stride[0], g.small[0], od)) continue;
				for (int kh = 0; kh < g.k[1]; kh++) {
					int oh;
					if (!ub_conv_src(ih + g.pad[1] - kh * g.dil[1], g.stride[1], g.small[1], oh)) continue;
					for (int kw = 0; kw < g.k[2]; kw++) {
						int ow;
						if (!ub_conv_src(iw + g.pad[2] - kw * g.dil[2], g.stride[2], g.small[2], ow)) continue;
						acc += yp[(od * g.small[1] + oh) * g.small[2] + ow] * wp[(kd * g.k[1] + kh) * g.k[2] + kw];
					}
				}
			}
		}
		big[idx] = acc;
	}
}

#define UB_CONV_WG_THREADS 256

// ub_conv3d_bwd_weight sets dw (cs, cb/groups, k...) = sum over n and the
// small positions of small (dy) times the matching big (x) element. One
// block of UB_CONV_WG_THREADS threads per weight element.
UB_KERNEL void ub_conv3d_bwd_weight(ub_conv_geom g, const float *__restrict__ small, const float *__restrict__ big,
	float *__restrict__ dw) {
	__shared__ float part[UB_CONV_WG_THREADS];
	int sN = g.small[0] * g.small[1] * g.small[2], bN = g.big[0] * g.big[1] * g.big[2];
	int kvol = g.k[0] * g.k[1] * g.k[2];
	int cbg = g.cb / g.groups, csg = g.cs / g.groups;
	int e = blockIdx.x;
	int kk = e % kvol, cig = (e / kvol) % cbg, co = e / (kvol * cbg);
	int kw = kk % g.k[2], kh = (kk / g.k[2]) % g.k[1], kd = kk / (g.k[2] * g.k[1]);
	int ci = (co / csg) * cbg + cig;
	// Each warp takes rows (od, oh) of the small side in turn, its 32 lanes
	// the row's positions: reads stay coalesced along W and the row's
	// bounds are checked once.
	int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
	int rows = g.small[0] * g.small[1];
	float acc = 0.0f;
	for (int b = 0; b < g.n; b++) {
		const float *yp = small + ((long long)b * g.cs + co) * sN;
		const float *xp = big + ((long long)b * g.cb + ci) * bN;
		for (int row = warp; row < rows; row += warps) {
			int oh = row % g.small[1], od = row / g.small[1];
			int id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
			int ih = oh * g.stride[1] - g.pad[1] + kh * g.dil[1];
			if (id < 0 || id >= g.big[0] || ih < 0 || ih >= g.big[1]) continue;
			const float *yr = yp + (long long)row * g.small[2];
			const float *xr = xp + ((long long)id * g.big[1] + ih) * g.big[2];
			for (int ow = lane; ow < g.small[2]; ow += 32) {
				int iw = ow * g.stride[2] - g.pad[2] + kw * g.dil[2];
				if (iw < 0 || iw >= g.big[2]) continue;
				acc += yr[ow] * xr[iw];
			}
		}
	}
	part[threadIdx.x] = acc;
	__syncthreads();
	for (int s = UB_CONV_WG_THREADS / 2; s > 0; s >>= 1) {
		if ((int)threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
		__syncthreads();
	}
	if (threadIdx.x == 0) dw[e] = part[0];
}

// ub_conv3d_bwd_weight_thread is ub_conv3d_bwd_weight with one thread per
// weight element and no reduction across threads: for the deep layers,
// where the weights are many and the positions (n times the small side)
// few, a block per element would leave most of its threads idle.
UB_KERNEL void ub_conv3d_bwd_weight_thread(ub_conv_geom g, const float *__restrict__ small,
	const float *__restrict__ big, float *__restrict__ dw) {
	int sN = g.small[0] * g.small[1] * g.small[2], bN = g.big[0] * g.big[1] * g.big[2];
	int kvol = g.k[0] * g.k[1] * g.k[2];
	int cbg = g.cb / g.groups, csg = g.cs / g.groups;
	int total = g.cs * cbg * kvol;
	for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += blockDim.x * gridDim.x) {
		int kk = e % kvol, cig = (e / kvol) % cbg, co = e / (kvol * cbg);
		int kw = kk % g.k[2], kh = (kk / g.k[2]) % g.k[1], kd = kk / (g.k[2] * g.k[1]);
		int ci = (co / csg) * cbg + cig;
		float acc = 0.0f;
		for (int b = 0; b < g.n; b++) {
			const float *yp = small + ((long long)b * g.cs + co) * sN;
			const float *xp = big + ((long long)b * g.cb + ci) * bN;
			for (int s = 0; s < sN; s++) {
				int ow = s % g.small[2], oh = (s / g.small[2]) % g.small[1], od = s / (g.small[2] * g.small[1]);
				int id = od * g.stride[0] - g.pad[0] + kd * g.dil[0];
				int ih = oh * g.stride[1] - g.pad[1] + kh * g.dil[1];
				int iw = ow * g.stride[2] - g.pad[2] + kw * g.dil[2];
				if (id < 0 || id >= g.big[0] || ih < 0 || ih >= g.big[1] || iw < 0 || iw >= g.big[2]) continue;
				acc += yp[s] * xp[(id * g.big[1] + ih) * g.big[2] + iw];
			}
		}
		dw[e] = acc;
	}
}
