// Elementwise kernels and activations (float32). Every kernel walks its n
// elements with a grid-stride loop, so any grid covers any n.
#pragma once
#include "emu.h"

// ub_bits returns the bits of v (CUDA's __float_as_uint).
UB_DEVICE unsigned int ub_bits(float v) {
#ifdef __CUDACC__
	return __float_as_uint(v);
#else
	unsigned int u;
	__builtin_memcpy(&u, &v, 4);
	return u;
#endif
}

#define UB_GRID_LOOP(i, n) \
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += blockDim.x * gridDim.x)

// ub_fill sets y[0:n] to v.
UB_KERNEL void ub_fill(int n, float v, float *__restrict__ y) {
	UB_GRID_LOOP(i, n) y[i] = v;
}

// ub_axpby sets y = a*x + b*y; b == 0 overwrites y (NaN in y does not leak).
UB_KERNEL void ub_axpby(int n, float a, const float *__restrict__ x, float b, float *__restrict__ y) {
	if (b == 0.0f) {
		UB_GRID_LOOP(i, n) y[i] = a * x[i];
	} else {
		UB_GRID_LOOP(i, n) y[i] = a * x[i] + b * y[i];
	}
}

// ub_mul sets y = a*b elementwise.
UB_KERNEL void ub_mul(int n, const float *__restrict__ a, const float *__restrict__ b, float *__restrict__ y) {
	UB_GRID_LOOP(i, n) y[i] = a[i] * b[i];
}

// Activation kinds, in the order of models/nn's actKind.
#define UB_ACT_RELU 0
#define UB_ACT_LEAKY 1
#define UB_ACT_GELU 2
#define UB_ACT_SIGMOID 3

// ub_positive is x > 0 with +NaN counted as positive (the CPU engine's mask:
// the sign bit clear and not +0).
UB_DEVICE bool ub_positive(float x) { return (int)ub_bits(x) > 0; }

UB_DEVICE float ub_sigmoid(float v) {
	if (v >= 0.0f) return 1.0f / (1.0f + expf(-v));
	float e = expf(v);
	return e / (1.0f + e);
}

// ub_act_fwd sets y = act(x): ReLU, LeakyReLU(alpha), GELU (erf form), Sigmoid.
UB_KERNEL void ub_act_fwd(int n, int kind, float alpha, const float *__restrict__ x, float *__restrict__ y) {
	UB_GRID_LOOP(i, n) {
		float v = x[i], r;
		switch (kind) {
		case UB_ACT_RELU: r = ub_positive(v) ? v : 0.0f; break;
		case UB_ACT_LEAKY: r = ub_positive(v) ? v : alpha * v; break;
		case UB_ACT_GELU: r = 0.5f * v * (1.0f + erff(v * 0.70710678118654752f)); break;
		default: r = ub_sigmoid(v);
		}
		y[i] = r;
	}
}

// ub_act_bwd sets dx = act'(x)*dy, from x, the forward output y and dy.
UB_KERNEL void ub_act_bwd(int n, int kind, float alpha, const float *__restrict__ x, const float *__restrict__ y,
	const float *__restrict__ dy, float *__restrict__ dx) {
	UB_GRID_LOOP(i, n) {
		float v = x[i], g = dy[i], r;
		switch (kind) {
		case UB_ACT_RELU: r = ub_positive(v) ? g : 0.0f; break;
		case UB_ACT_LEAKY: r = ub_positive(v) ? g : alpha * g; break;
		case UB_ACT_GELU: {
			float d = 0.5f * (1.0f + erff(v * 0.70710678118654752f)) + v * 0.3989422804014327f * expf(-0.5f * v * v);
			r = d * g;
			break;
		}
		default: r = g * y[i] * (1.0f - y[i]);
		}
		dx[i] = r;
	}
}

// ub_add_bias adds b[c] to y of shape (n, c, sp).
UB_KERNEL void ub_add_bias(int n, int c, int sp, const float *__restrict__ b, float *__restrict__ y) {
	int total = n * c * sp;
	UB_GRID_LOOP(i, total) y[i] += b[(i / sp) % c];
}

// ub_fill_div sets y[0:n] to s[0]/div, divided in float64 (the gradient of
// Sum, div 1, and Mean, div n).
UB_KERNEL void ub_fill_div(int n, const float *__restrict__ s, double div, float *__restrict__ y) {
	float v = (float)((double)s[0] / div);
	UB_GRID_LOOP(i, n) y[i] = v;
}

// ub_add sets y = a + b elementwise.
UB_KERNEL void ub_add(int n, const float *__restrict__ a, const float *__restrict__ b, float *__restrict__ y) {
	UB_GRID_LOOP(i, n) y[i] = a[i] + b[i];
}

// ub_copy2d copies rows x cols values from src (rows spaced src_stride
// apart) to dst (dst_stride apart): channel concatenation and its gradient.
UB_KERNEL void ub_copy2d(int rows, int cols, const float *__restrict__ src, int src_stride, float *__restrict__ dst,
	int dst_stride) {
	int total = rows * cols;
	UB_GRID_LOOP(i, total) {
		int r = i / cols, c = i % cols;
		dst[(long long)r * dst_stride + c] = src[(long long)r * src_stride + c];
	}
}
