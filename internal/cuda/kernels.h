// kernels.h: every kernel of the device engine, for nvcc (kernels.cu) and
// for the emulator (emu.cpp). UB_KERNELS lists their names; the Go side
// (kernels.go) names the same list.
#include "kernel_elementwise.h"
#include "kernel_reduce.h"
#include "kernel_gemm.h"
#include "kernel_conv.h"
#include "kernel_selftest.h"

#define UB_KERNELS(X) \
	X(ub_fill) \
	X(ub_axpby) \
	X(ub_mul) \
	X(ub_act_fwd) \
	X(ub_act_bwd) \
	X(ub_add_bias) \
	X(ub_sum_partial) \
	X(ub_sum_final) \
	X(ub_channel_sum) \
	X(ub_sgemm) \
	X(ub_conv3d_fwd) \
	X(ub_conv3d_bwd_data) \
	X(ub_conv3d_bwd_weight) \
	X(ub_selftest_reverse) \
	X(ub_selftest_early_exit)
