// emu.h: the CUDA C subset our kernels use, for compiling them as host C++
// (the emulated device, package cuda's emu.go). Under nvcc this header only
// defines the few portability macros; everything else is CUDA itself.
//
// Emulation model: a launch runs its blocks one after another on the calling
// thread; the threads of a block are fibers that run until they finish or
// reach __syncthreads, so a barrier holds exactly as on the device, and a
// thread that leaves while others wait at a barrier is reported as an error
// (undefined behaviour on the device). __shared__ variables are per OS
// thread statics, reused by each block in turn (their contents are undefined
// at a block's start, as on the device). atomicAdd needs no lock: fibers
// switch only at barriers.
#ifndef UNETLAB_EMU_H
#define UNETLAB_EMU_H

#ifdef __CUDACC__

#define UB_KERNEL extern "C" __global__
#define UB_DEVICE __device__ __forceinline__
// UB_DYNAMIC_SHARED declares the launch's dynamic shared memory as an array.
#define UB_DYNAMIC_SHARED(type, name) extern __shared__ type name[]

#else // host C++ emulation

#include <math.h>
#include <stdint.h>

struct ub_dim3 {
	unsigned int x, y, z;
};
typedef ub_dim3 dim3;

// ub_thread is the state of one emulated thread (fiber).
struct ub_thread {
	ub_dim3 idx;
};
struct ub_block {
	ub_dim3 idx, dim, grid;
	void *dynamic_shared;
};
extern thread_local ub_thread *ub_cur_thread;
extern thread_local ub_block *ub_cur_block;
void ub_syncthreads(void);

#define threadIdx (ub_cur_thread->idx)
#define blockIdx (ub_cur_block->idx)
#define blockDim (ub_cur_block->dim)
#define gridDim (ub_cur_block->grid)
#define __syncthreads() ub_syncthreads()

#define UB_KERNEL static
#define UB_DEVICE static inline
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __shared__ static thread_local
#define UB_DYNAMIC_SHARED(type, name) type *name = (type *)ub_cur_block->dynamic_shared

static inline float atomicAdd(float *p, float v) {
	float old = *p;
	*p = old + v;
	return old;
}
static inline int atomicAdd(int *p, int v) {
	int old = *p;
	*p = old + v;
	return old;
}
// glibc declares __expf and __logf itself.
static inline float rsqrtf(float v) { return 1.0f / sqrtf(v); }
static inline float __fdividef(float a, float b) { return a / b; }
static inline int min(int a, int b) { return a < b ? a : b; }
static inline int max(int a, int b) { return a > b ? a : b; }
#define __ldg(p) (*(p))

#endif // __CUDACC__
#endif // UNETLAB_EMU_H
