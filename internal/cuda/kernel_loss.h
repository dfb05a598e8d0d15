// The segmentation loss of package train (Dice + cross-entropy, MONAI's
// DiceCELoss), float64 inside, as train's lossCompute: logits x (n, c, v),
// target t (n, tc, v) with tc = 1 (class indices) or c (probabilities).
#pragma once
#include "emu.h"
#include "kernel_reduce.h"

#define UB_LOSS_MAXC 32

// ub_loss_params mirrors cuda.LossParams.
struct ub_loss_params {
	double dice_weight, ce_weight, smooth_nr, smooth_dr;
	int n, c, v, tc, c0, softmaxed, use_dice, use_ce;
};

UB_DEVICE void ub_softmax_c(double *a, int c) {
	double m = -INFINITY, s = 0;
	for (int k = 0; k < c; k++) m = fmax(m, a[k]);
	for (int k = 0; k < c; k++) {
		a[k] = exp(a[k] - m);
		s += a[k];
	}
	for (int k = 0; k < c; k++) a[k] /= s;
}

// ub_loss_voxel fills, for voxel i of sample b, a (the loss's input: x or
// softmax(x)), pc = softmax(a), pd (what the Dice sees) and the target tt;
// it returns 1 for a class index outside 0..c-1, else 0.
UB_DEVICE int ub_loss_voxel(const ub_loss_params &p, const float *x, const float *t, int b, int i, double *a,
	double *pc, double *pd, double *tt) {
	const float *xs = x + (long long)b * p.c * p.v + i;
	for (int k = 0; k < p.c; k++) a[k] = xs[(long long)k * p.v];
	if (p.softmaxed) ub_softmax_c(a, p.c);
	for (int k = 0; k < p.c; k++) pc[k] = a[k];
	ub_softmax_c(pc, p.c);
	for (int k = 0; k < p.c; k++) pd[k] = p.softmaxed ? a[k] : pc[k];
	int bad = 0;
	if (p.tc == 1) {
		float val = t[(long long)b * p.v + i];
		int cls = (int)val;
		if ((float)cls != val || cls < 0 || cls >= p.c) bad = 1;
		for (int k = 0; k < p.c; k++) tt[k] = k == cls ? 1.0 : 0.0;
	} else {
		const float *ts = t + (long long)b * p.c * p.v + i;
		for (int k = 0; k < p.c; k++) tt[k] = ts[(long long)k * p.v];
	}
	return bad;
}

// ub_loss_dice_stats sets stats[(b*c + k)*3 + {0, 1, 2}] to the
// intersection, the sum of pd and the sum of the target of class k in
// sample b. One block of UB_REDUCE_THREADS threads per (b, k).
UB_KERNEL void ub_loss_dice_stats(ub_loss_params p, const float *__restrict__ x, const float *__restrict__ t,
	double *__restrict__ stats) {
	int b = blockIdx.x / p.c, k = blockIdx.x % p.c;
	double a[UB_LOSS_MAXC], pc[UB_LOSS_MAXC], pd[UB_LOSS_MAXC], tt[UB_LOSS_MAXC];
	double inter = 0, sp = 0, st = 0;
	for (int i = threadIdx.x; i < p.v; i += blockDim.x) {
		ub_loss_voxel(p, x, t, b, i, a, pc, pd, tt);
		inter += pd[k] * tt[k];
		sp += pd[k];
		st += tt[k];
	}
	inter = ub_block_sum(inter);
	sp = ub_block_sum(sp);
	st = ub_block_sum(st);
	if (threadIdx.x == 0) {
		stats[blockIdx.x * 3] = inter;
		stats[blockIdx.x * 3 + 1] = sp;
		stats[blockIdx.x * 3 + 2] = st;
	}
}

// ub_loss_ce_partial writes each block's cross-entropy sum and count of bad
// target values to partial[2*blockIdx.x] and [2*blockIdx.x + 1].
UB_KERNEL void ub_loss_ce_partial(ub_loss_params p, const float *__restrict__ x, const float *__restrict__ t,
	double *__restrict__ partial) {
	double a[UB_LOSS_MAXC], pc[UB_LOSS_MAXC], pd[UB_LOSS_MAXC], tt[UB_LOSS_MAXC];
	double ce = 0, bad = 0;
	int total = p.n * p.v;
	for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += blockDim.x * gridDim.x) {
		int b = e / p.v, i = e % p.v;
		bad += ub_loss_voxel(p, x, t, b, i, a, pc, pd, tt);
		for (int k = 0; k < p.c; k++)
			if (tt[k] != 0) ce -= tt[k] * log(pc[k]);
	}
	ce = ub_block_sum(ce);
	bad = ub_block_sum(bad);
	if (threadIdx.x == 0) {
		partial[2 * blockIdx.x] = ce;
		partial[2 * blockIdx.x + 1] = bad;
	}
}

// ub_loss_final sets out[0] to the loss from the statistics and the m
// partials (one block); a bad target value makes it NaN.
UB_KERNEL void ub_loss_final(ub_loss_params p, const double *__restrict__ stats, int m,
	const double *__restrict__ partial, float *__restrict__ out) {
	double ce = 0, bad = 0;
	for (int j = threadIdx.x; j < m; j += blockDim.x) {
		ce += partial[2 * j];
		bad += partial[2 * j + 1];
	}
	ce = ub_block_sum(ce);
	bad = ub_block_sum(bad);
	if (threadIdx.x != 0) return;
	double dice = 0;
	for (int b = 0; b < p.n; b++)
		for (int k = p.c0; k < p.c; k++) {
			const double *s = stats + (b * p.c + k) * 3;
			dice += 1 - (2 * s[0] + p.smooth_nr) / (s[1] + s[2] + p.smooth_dr);
		}
	double loss = 0;
	if (p.use_dice) loss += p.dice_weight * dice / ((double)p.n * (p.c - p.c0));
	if (p.use_ce) loss += p.ce_weight * ce / ((double)p.n * p.v);
	out[0] = bad > 0 ? NAN : (float)loss;
}

// ub_loss_grad sets dx = dOut[0] * dLoss/dx, one thread per voxel.
UB_KERNEL void ub_loss_grad(ub_loss_params p, const float *__restrict__ x, const float *__restrict__ t,
	const double *__restrict__ stats, const float *__restrict__ dout, float *__restrict__ dx) {
	double a[UB_LOSS_MAXC], pc[UB_LOSS_MAXC], pd[UB_LOSS_MAXC], tt[UB_LOSS_MAXC], ga[UB_LOSS_MAXC];
	double scale = dout[0];
	double dice_count = (double)p.n * (p.c - p.c0);
	int total = p.n * p.v;
	for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += blockDim.x * gridDim.x) {
		int b = e / p.v, i = e % p.v;
		ub_loss_voxel(p, x, t, b, i, a, pc, pd, tt);
		for (int k = 0; k < p.c; k++) ga[k] = 0;
		if (p.use_dice && p.dice_weight != 0) {
			for (int k = p.c0; k < p.c; k++) {
				const double *s = stats + (b * p.c + k) * 3;
				double num = 2 * s[0] + p.smooth_nr, den = s[1] + s[2] + p.smooth_dr;
				ga[k] = -p.dice_weight / dice_count / (den * den) * (2 * tt[k] * den - num);
			}
			if (!p.softmaxed) { // Dice's gradient is with respect to pd = softmax(a)
				double dot = 0;
				for (int k = 0; k < p.c; k++) dot += pd[k] * ga[k];
				for (int k = 0; k < p.c; k++) ga[k] = pd[k] * (ga[k] - dot);
			}
		}
		if (p.use_ce && p.ce_weight != 0) {
			double f = p.ce_weight / ((double)p.n * p.v), tsum = 0;
			for (int k = 0; k < p.c; k++) tsum += tt[k];
			for (int k = 0; k < p.c; k++) ga[k] += f * (pc[k] * tsum - tt[k]);
		}
		if (p.softmaxed) { // a = softmax(x): chain through the first softmax
			double dot = 0;
			for (int k = 0; k < p.c; k++) dot += a[k] * ga[k];
			for (int k = 0; k < p.c; k++) ga[k] = a[k] * (ga[k] - dot);
		}
		float *d = dx + (long long)b * p.c * p.v + i;
		for (int k = 0; k < p.c; k++) d[(long long)k * p.v] = (float)(scale * ga[k]);
	}
}
