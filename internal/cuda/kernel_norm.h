// Normalisation to zero mean and unit (biased) variance, as models/nn's
// normKernel: x viewed as (p, q, t), statistics either per q over (p, t)
// ("middle": InstanceNorm and GroupNorm with p = 1, BatchNorm per channel)
// or per (p, t) over q ("across": LayerNorm over channels). Statistics are
// float64 arrays: mean, var, rstd = 1/sqrt(var + eps).
#pragma once
#include "emu.h"
#include "kernel_reduce.h"

// ub_norm_stats_middle: one block of UB_REDUCE_THREADS threads per q.
UB_KERNEL void ub_norm_stats_middle(int p, int q, int t, double eps, const float *__restrict__ x,
	double *__restrict__ mean, double *__restrict__ var, double *__restrict__ rstd) {
	int qq = blockIdx.x;
	double cnt = (double)p * t;
	double s = 0;
	for (int pp = 0; pp < p; pp++) {
		const float *r = x + ((long long)pp * q + qq) * t;
		for (int i = threadIdx.x; i < t; i += blockDim.x) s += r[i];
	}
	double m = ub_block_sum(s) / cnt;
	double s2 = 0;
	for (int pp = 0; pp < p; pp++) {
		const float *r = x + ((long long)pp * q + qq) * t;
		for (int i = threadIdx.x; i < t; i += blockDim.x) {
			double d = r[i] - m;
			s2 += d * d;
		}
	}
	double v = ub_block_sum(s2) / cnt;
	if (threadIdx.x == 0) {
		mean[qq] = m;
		var[qq] = v;
		rstd[qq] = 1 / sqrt(v + eps);
	}
}

// ub_norm_stats_across: one thread per (p, t), statistics at p*t + t.
UB_KERNEL void ub_norm_stats_across(int p, int q, int t, double eps, const float *__restrict__ x,
	double *__restrict__ mean, double *__restrict__ var, double *__restrict__ rstd) {
	int total = p * t;
	for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += blockDim.x * gridDim.x) {
		int tt = e % t, pp = e / t;
		const float *r = x + (long long)pp * q * t + tt;
		double m = 0, v = 0;
		for (int j = 0; j < q; j++) m += r[(long long)j * t];
		m /= q;
		for (int j = 0; j < q; j++) {
			double d = r[(long long)j * t] - m;
			v += d * d;
		}
		v /= q;
		mean[e] = m;
		var[e] = v;
		rstd[e] = 1 / sqrt(v + eps);
	}
}

// ub_norm_apply sets y = (x - mean)*rstd with the statistics of either layout.
UB_KERNEL void ub_norm_apply(int p, int q, int t, int across, const float *__restrict__ x,
	const double *__restrict__ mean, const double *__restrict__ rstd, float *__restrict__ y) {
	int total = p * q * t;
	for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += blockDim.x * gridDim.x) {
		int tt = e % t, qq = (e / t) % q, pp = e / (q * t);
		if (across) {
			int s = pp * t + tt;
			y[e] = (float)(((double)x[e] - mean[s]) * rstd[s]);
		} else {
			y[e] = (x[e] - (float)mean[qq]) * (float)rstd[qq];
		}
	}
}

// ub_norm_bwd_middle sets dx = rstd*(dy - mean(dy) - y*mean(dy*y)) per q
// (fixed != 0: dx = rstd*dy, running statistics). One block per q.
UB_KERNEL void ub_norm_bwd_middle(int p, int q, int t, int fixed, const float *__restrict__ y,
	const float *__restrict__ dy, const double *__restrict__ rstd, float *__restrict__ dx) {
	int qq = blockIdx.x;
	double cnt = (double)p * t;
	double sd = 0, sdy = 0;
	if (!fixed) {
		for (int pp = 0; pp < p; pp++) {
			long long o = ((long long)pp * q + qq) * t;
			for (int i = threadIdx.x; i < t; i += blockDim.x) {
				sd += dy[o + i];
				sdy += (double)dy[o + i] * y[o + i];
			}
		}
	}
	sd = ub_block_sum(sd);
	sdy = ub_block_sum(sdy);
	float md = (float)(sd / cnt), mdy = (float)(sdy / cnt), r = (float)rstd[qq];
	for (int pp = 0; pp < p; pp++) {
		long long o = ((long long)pp * q + qq) * t;
		for (int i = threadIdx.x; i < t; i += blockDim.x) dx[o + i] = r * (dy[o + i] - md - y[o + i] * mdy);
	}
}

// ub_norm_bwd_across is ub_norm_bwd_middle for the "across" layout, one
// thread per (p, t).
UB_KERNEL void ub_norm_bwd_across(int p, int q, int t, int fixed, const float *__restrict__ y,
	const float *__restrict__ dy, const double *__restrict__ rstd, float *__restrict__ dx) {
	int total = p * t;
	for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += blockDim.x * gridDim.x) {
		int tt = e % t, pp = e / t;
		long long base = (long long)pp * q * t + tt;
		double md = 0, mdy = 0;
		if (!fixed) {
			for (int j = 0; j < q; j++) {
				long long o = base + (long long)j * t;
				md += dy[o];
				mdy += (double)dy[o] * y[o];
			}
			md /= q;
			mdy /= q;
		}
		double r = rstd[e];
		for (int j = 0; j < q; j++) {
			long long o = base + (long long)j * t;
			dx[o] = (float)(r * ((double)dy[o] - md - (double)y[o] * mdy));
		}
	}
}

// ub_affine_fwd sets y = x*g[q] + b[q] for x viewed as (p, q, t) (the
// per-channel scale and shift after a norm).
UB_KERNEL void ub_affine_fwd(int p, int q, int t, const float *__restrict__ x, const float *__restrict__ g,
	const float *__restrict__ b, float *__restrict__ y) {
	int total = p * q * t;
	for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += blockDim.x * gridDim.x) {
		int qq = (e / t) % q;
		y[e] = x[e] * g[qq] + b[qq];
	}
}

// ub_affine_bwd_x sets dx = dy*g[q].
UB_KERNEL void ub_affine_bwd_x(int p, int q, int t, const float *__restrict__ g, const float *__restrict__ dy,
	float *__restrict__ dx) {
	int total = p * q * t;
	for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += blockDim.x * gridDim.x)
		dx[e] = dy[e] * g[(e / t) % q];
}

// ub_affine_bwd_param sets out[q] to the sum over (p, t) of dy*x (with_x:
// the scale's gradient) or of dy (the shift's). One block of
// UB_REDUCE_THREADS threads per q.
UB_KERNEL void ub_affine_bwd_param(int p, int q, int t, int with_x, const float *__restrict__ x,
	const float *__restrict__ dy, float *__restrict__ out) {
	int qq = blockIdx.x;
	double s = 0;
	for (int pp = 0; pp < p; pp++) {
		long long o = ((long long)pp * q + qq) * t;
		for (int i = threadIdx.x; i < t; i += blockDim.x) s += with_x ? (double)dy[o + i] * x[o + i] : (double)dy[o + i];
	}
	s = ub_block_sum(s);
	if (threadIdx.x == 0) out[qq] = (float)s;
}

// ub_norm_stats_thread is ub_norm_stats_middle with one thread per q, for
// many small groups (LayerNorm over channels last: a q per token, t its
// channels), where a block per q would leave most threads idle.
UB_KERNEL void ub_norm_stats_thread(int p, int q, int t, double eps, const float *__restrict__ x,
	double *__restrict__ mean, double *__restrict__ var, double *__restrict__ rstd) {
	double cnt = (double)p * t;
	for (int qq = blockIdx.x * blockDim.x + threadIdx.x; qq < q; qq += blockDim.x * gridDim.x) {
		double s = 0;
		for (int pp = 0; pp < p; pp++) {
			const float *r = x + ((long long)pp * q + qq) * t;
			for (int i = 0; i < t; i++) s += r[i];
		}
		double m = s / cnt, s2 = 0;
		for (int pp = 0; pp < p; pp++) {
			const float *r = x + ((long long)pp * q + qq) * t;
			for (int i = 0; i < t; i++) {
				double d = r[i] - m;
				s2 += d * d;
			}
		}
		double v = s2 / cnt;
		mean[qq] = m;
		var[qq] = v;
		rstd[qq] = 1 / sqrt(v + eps);
	}
}

// ub_norm_bwd_thread is ub_norm_bwd_middle with one thread per q.
UB_KERNEL void ub_norm_bwd_thread(int p, int q, int t, int fixed, const float *__restrict__ y,
	const float *__restrict__ dy, const double *__restrict__ rstd, float *__restrict__ dx) {
	double cnt = (double)p * t;
	for (int qq = blockIdx.x * blockDim.x + threadIdx.x; qq < q; qq += blockDim.x * gridDim.x) {
		double sd = 0, sdy = 0;
		if (!fixed) {
			for (int pp = 0; pp < p; pp++) {
				long long o = ((long long)pp * q + qq) * t;
				for (int i = 0; i < t; i++) {
					sd += dy[o + i];
					sdy += (double)dy[o + i] * y[o + i];
				}
			}
		}
		float md = (float)(sd / cnt), mdy = (float)(sdy / cnt), r = (float)rstd[qq];
		for (int pp = 0; pp < p; pp++) {
			long long o = ((long long)pp * q + qq) * t;
			for (int i = 0; i < t; i++) dx[o + i] = r * (dy[o + i] - md - y[o + i] * mdy);
		}
	}
}

// ub_bn_running updates BatchNorm's running statistics in place from a
// batch's, as models/nn's BatchNormStats.update: mean = (1-m)*mean +
// m*bmean, var = (1-m)*var + m*bvar*unbias (the unbiased batch variance),
// each product rounded before the sum (no fused multiply-add, as the CPU);
// with bmean null it only reads them. rstd (when not null) gets
// 1/sqrt(var + eps) of the (updated) running variance, for eval mode.
UB_DEVICE double ub_dmul(double a, double b) {
#ifdef __CUDA_ARCH__
	return __dmul_rn(a, b);
#else
	return a * b;
#endif
}
UB_DEVICE double ub_dadd(double a, double b) {
#ifdef __CUDA_ARCH__
	return __dadd_rn(a, b);
#else
	return a + b;
#endif
}
UB_KERNEL void ub_bn_running(int n, double momentum, double unbias, double eps, const double *__restrict__ bmean,
	const double *__restrict__ bvar, double *__restrict__ mean, double *__restrict__ var, double *__restrict__ rstd) {
	for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < n; e += blockDim.x * gridDim.x) {
		double v = var[e];
		if (bmean) {
			double keep = 1 - momentum;
			mean[e] = ub_dadd(ub_dmul(keep, mean[e]), ub_dmul(momentum, bmean[e]));
			v = ub_dadd(ub_dmul(keep, v), ub_dmul(ub_dmul(momentum, bvar[e]), unbias));
			var[e] = v;
		}
		if (rstd) rstd[e] = 1 / sqrt(v + eps);
	}
}
