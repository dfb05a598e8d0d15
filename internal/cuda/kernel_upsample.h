// 3D nearest and trilinear upsampling (float32, NCDHW), as models/nn's
// upsampleKernel. The host computes the per-axis source maps (cuda.UpsampleMaps).
#pragma once
#include "emu.h"

// ub_ups_geom mirrors cuda.UpsampleGeom.
struct ub_ups_geom {
	int planes;
	int in[3], out[3];
};

// ub_ups_fwd sets y (planes, out...) from x (planes, in...). idx holds, per
// axis a, i0 then i1 (out[a] ints each); l1 the fraction toward i1 per
// output position, axes one after another (doubles).
UB_KERNEL void ub_ups_fwd(ub_ups_geom g, const int *__restrict__ idx, const double *__restrict__ l1,
	const float *__restrict__ x, float *__restrict__ y) {
	int outN = g.out[0] * g.out[1] * g.out[2], inN = g.in[0] * g.in[1] * g.in[2];
	int total = g.planes * outN;
	const int *id0 = idx, *id1 = idx + g.out[0];
	const int *ih0 = id1 + g.out[0], *ih1 = ih0 + g.out[1];
	const int *iw0 = ih1 + g.out[1], *iw1 = iw0 + g.out[2];
	const double *ld = l1, *lh = l1 + g.out[0], *lw = lh + g.out[1];
	for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += blockDim.x * gridDim.x) {
		int o = e % outN, pl = e / outN;
		int ow = o % g.out[2], oh = (o / g.out[2]) % g.out[1], od = o / (g.out[2] * g.out[1]);
		const float *src = x + (long long)pl * inN;
		int ds[2] = {id0[od], id1[od]}, hs[2] = {ih0[oh], ih1[oh]}, ws[2] = {iw0[ow], iw1[ow]};
		double dw[2] = {1 - ld[od], ld[od]}, hw[2] = {1 - lh[oh], lh[oh]}, ww[2] = {1 - lw[ow], lw[ow]};
		float acc = 0.0f;
		for (int a = 0; a < 2; a++)
			for (int b = 0; b < 2; b++)
				for (int c = 0; c < 2; c++) {
					double w = dw[a] * hw[b] * ww[c];
					if (w == 0) continue;
					acc += (float)w * src[(ds[a] * g.in[1] + hs[b]) * g.in[2] + ws[c]];
				}
		y[e] = acc;
	}
}

// ub_ups_bwd sets dx (planes, in...) from dy (planes, out...) by gathering:
// per axis a, off (in[a]+1 ints) delimits, for each input position, its
// entries in ent (output position) and wt (weight), axes one after another
// (cuda.UpsampleMaps builds them).
UB_KERNEL void ub_ups_bwd(ub_ups_geom g, const int *__restrict__ off, const int *__restrict__ ent,
	const double *__restrict__ wt, const float *__restrict__ dy, float *__restrict__ dx) {
	int outN = g.out[0] * g.out[1] * g.out[2], inN = g.in[0] * g.in[1] * g.in[2];
	int total = g.planes * inN;
	const int *offd = off, *offh = off + g.in[0] + 1, *offw = offh + g.in[1] + 1;
	for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += blockDim.x * gridDim.x) {
		int i = e % inN, pl = e / inN;
		int iw = i % g.in[2], ih = (i / g.in[2]) % g.in[1], id = i / (g.in[2] * g.in[1]);
		const float *gy = dy + (long long)pl * outN;
		float acc = 0.0f;
		for (int a = offd[id]; a < offd[id + 1]; a++)
			for (int b = offh[ih]; b < offh[ih + 1]; b++)
				for (int c = offw[iw]; c < offw[iw + 1]; c++) {
					double w = wt[a] * wt[b] * wt[c];
					if (w == 0) continue;
					acc += (float)w * gy[(ent[a] * g.out[1] + ent[b]) * g.out[2] + ent[c]];
				}
		dx[e] = acc;
	}
}
