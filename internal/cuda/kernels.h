// kernels.h: every kernel of the device engine, for nvcc (kernels.cu) and
// for the emulator (emu.cpp). UB_KERNELS lists their names; the Go side
// (kernels.go) names the same list.
#include "kernel_elementwise.h"
#include "kernel_reduce.h"
#include "kernel_gemm.h"
#include "kernel_conv.h"
#include "kernel_pool.h"
#include "kernel_upsample.h"
#include "kernel_softmax.h"
#include "kernel_norm.h"
#include "kernel_adam.h"
#include "kernel_loss.h"
#include "kernel_layout.h"
#include "kernel_selftest.h"

#define UB_KERNELS(X) \
	X(ub_fill) \
	X(ub_fill_div) \
	X(ub_axpby) \
	X(ub_mul) \
	X(ub_add) \
	X(ub_copy2d) \
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
	X(ub_pool_fwd) \
	X(ub_pool_bwd) \
	X(ub_ups_fwd) \
	X(ub_ups_bwd) \
	X(ub_softmax_fwd) \
	X(ub_softmax_bwd) \
	X(ub_attn_softmax) \
	X(ub_attn_softmax_bwd) \
	X(ub_norm_stats_middle) \
	X(ub_norm_stats_across) \
	X(ub_norm_apply) \
	X(ub_norm_bwd_middle) \
	X(ub_norm_bwd_across) \
	X(ub_affine_fwd) \
	X(ub_affine_bwd_x) \
	X(ub_affine_bwd_param) \
	X(ub_adam) \
	X(ub_loss_dice_stats) \
	X(ub_loss_ce_partial) \
	X(ub_loss_final) \
	X(ub_loss_grad) \
	X(ub_strided_gather) \
	X(ub_strided_scatter) \
	X(ub_reduce_rows) \
	X(ub_roll_fwd) \
	X(ub_gather) \
	X(ub_gather_sum) \
	X(ub_conv3d_bwd_weight_thread) \
	X(ub_norm_stats_thread) \
	X(ub_norm_bwd_thread) \
	X(ub_bn_running) \
	X(ub_selftest_reverse) \
	X(ub_selftest_early_exit)
