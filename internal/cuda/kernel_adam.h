// One Adam (or AdamW) update in place, computed in float64 as train's
// adamUpdate; the gradient is zeroed afterwards (gorgonia's machines add
// each run's gradient to it).
#pragma once
#include "emu.h"

struct ub_adam_params {
	double beta1, beta2, eps, weight_decay, lr, step_size, sqrt_bc2;
	int decoupled, pad_;
};

UB_KERNEL void ub_adam(int n, ub_adam_params a, float *__restrict__ w, float *__restrict__ g, float *__restrict__ m,
	float *__restrict__ v) {
	for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < n; j += blockDim.x * gridDim.x) {
		double wj = w[j], gj = g[j];
		if (a.decoupled) wj *= 1 - a.lr * a.weight_decay;
		else if (a.weight_decay != 0) gj += a.weight_decay * wj;
		float mj = (float)(a.beta1 * (double)m[j] + (1 - a.beta1) * gj);
		float vj = (float)(a.beta2 * (double)v[j] + (1 - a.beta2) * gj * gj);
		m[j] = mj;
		v[j] = vj;
		w[j] = (float)(wj - a.step_size * (double)mj / (sqrt((double)vj) / a.sqrt_bc2 + a.eps));
		g[j] = 0.0f;
	}
}
