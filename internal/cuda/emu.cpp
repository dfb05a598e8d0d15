// emu.cpp: the emulated device's runtime. It runs the kernels of kernels.h,
// compiled as host C++ under emu.h: a launch runs its blocks in order, and a
// block's threads as fibers scheduled round-robin (a hand-written stack
// switch on x86-64, ucontext elsewhere: glibc's swapcontext makes a system
// call per switch, 20 times slower); a fiber gives
// way only at __syncthreads or when it ends, so a barrier holds as on the
// device. A thread that ends while others wait at a barrier, or a barrier
// some threads never reach, is an error (it hangs or is undefined on the
// device).
#include "emu.h"
#include "emu_api.h"
#include "kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include <type_traits>
#include <utility>
#include <vector>

thread_local ub_thread *ub_cur_thread;
thread_local ub_block *ub_cur_block;

#if defined(__x86_64__)
// ub_switch_ctx saves the callee-saved registers on the current stack,
// stores its pointer in *save and resumes the stack at to.
asm(".text\n"
    ".globl ub_switch_ctx\n"
    ".hidden ub_switch_ctx\n"
    ".type ub_switch_ctx,@function\n"
    "ub_switch_ctx:\n"
    "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
    "  subq $8, %rsp\n"
    "  movq %rsp, (%rdi)\n"
    "  movq %rsi, %rsp\n"
    "  addq $8, %rsp\n"
    "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
    "  ret\n"
    ".size ub_switch_ctx, .-ub_switch_ctx\n");
extern "C" void ub_switch_ctx(void **save, void *to);
#define UB_FAST_SWITCH 1
#endif

namespace {

typedef void (*invoker)(void *kernel, void **args);

struct entry {
	const char *name;
	void *kernel;
	invoker call;
	int nargs;
	const size_t *sizes;
};

template <typename... A, size_t... I>
void call_with(void (*k)(A...), void **args, std::index_sequence<I...>) {
	k(*static_cast<typename std::decay<A>::type *>(args[I])...);
}

template <typename... A> entry make_entry(const char *name, void (*k)(A...)) {
	static const size_t sizes[sizeof...(A) + 1] = {sizeof(typename std::decay<A>::type)..., 0};
	return entry{name, (void *)k,
		[](void *kp, void **args) { call_with((void (*)(A...))kp, args, std::index_sequence_for<A...>{}); },
		(int)sizeof...(A), sizes};
}

#define UB_ENTRY(name) make_entry(#name, name),
const entry table[] = {UB_KERNELS(UB_ENTRY)};
const int ntable = sizeof(table) / sizeof(table[0]);

enum { RUNNABLE, AT_BARRIER, DONE };

struct fiber {
	ub_thread t;
#ifdef UB_FAST_SWITCH
	void *sp;
#else
	ucontext_t ctx;
#endif
	int state;
	long barriers;
};

struct runner {
#ifdef UB_FAST_SWITCH
	void *sched_sp;
#else
	ucontext_t sched;
#endif
	std::vector<fiber> fibers;
	std::vector<char> stacks;
	std::vector<char> shared;
	fiber *cur = nullptr;
	const entry *e = nullptr;
	void **args = nullptr;
};

const size_t stack_size = 64 << 10;
thread_local runner *R;

void fiber_main() {
	R->e->call(R->e->kernel, R->args);
	R->cur->state = DONE;
#ifdef UB_FAST_SWITCH
	ub_switch_ctx(&R->cur->sp, R->sched_sp); // never resumed
	abort();
#endif
	// with ucontext, returning resumes uc_link, the scheduler
}

// to_fiber runs f until it ends or reaches a barrier.
void to_fiber(runner &r, fiber &f) {
	r.cur = &f;
	ub_cur_thread = &f.t;
#ifdef UB_FAST_SWITCH
	ub_switch_ctx(&r.sched_sp, f.sp);
#else
	swapcontext(&r.sched, &f.ctx);
#endif
}

// init_fiber prepares f to start fiber_main on stack [lo, lo+size).
void init_fiber(runner &r, fiber &f, char *lo, size_t size) {
#ifdef UB_FAST_SWITCH
	// The stack as ub_switch_ctx leaves it: padding, six registers, then
	// fiber_main as the return address at a 16-byte boundary (so that the
	// stack is aligned as after a call) and a null return address above.
	uintptr_t top = ((uintptr_t)(lo + size)) & ~(uintptr_t)15;
	void **a = (void **)(top - 16);
	a[0] = (void *)fiber_main;
	a[1] = nullptr;
	for (int i = 1; i <= 7; i++) a[-i] = nullptr;
	f.sp = (void *)(a - 7);
	(void)r;
#else
	getcontext(&f.ctx);
	f.ctx.uc_stack.ss_sp = lo;
	f.ctx.uc_stack.ss_size = size;
	f.ctx.uc_link = &r.sched;
	makecontext(&f.ctx, fiber_main, 0);
#endif
}

thread_local char errbuf[256];

} // namespace

void ub_syncthreads(void) {
	fiber *f = R->cur;
	f->state = AT_BARRIER;
	f->barriers++;
#ifdef UB_FAST_SWITCH
	ub_switch_ctx(&f->sp, R->sched_sp);
#else
	swapcontext(&f->ctx, &R->sched);
#endif
}

extern "C" {

int ub_emu_count(void) { return ntable; }
const char *ub_emu_name(int i) { return table[i].name; }
int ub_emu_nargs(int i) { return table[i].nargs; }
size_t ub_emu_argsize(int i, int j) { return table[i].sizes[j]; }

const char *ub_emu_launch(int i, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
	size_t shared, void **args) {
	if (i < 0 || i >= ntable) return "emulator: no such kernel";
	unsigned long nt = (unsigned long)bx * by * bz;
	if (nt == 0 || nt > 1024 || gx == 0 || gy == 0 || gz == 0 || gy > 65535 || gz > 65535)
		return "emulator: invalid launch configuration (CUDA_ERROR_INVALID_VALUE)";
	if (shared > 48 * 1024) return "emulator: dynamic shared memory over 48 KiB";
	static thread_local runner r;
	R = &r;
	r.e = &table[i];
	r.args = args;
	r.fibers.resize(nt);
	r.stacks.resize(nt * stack_size);
	r.shared.assign(shared > 0 ? shared : 1, (char)0xff); // NaN-filled: reads before writes show
	ub_block blk;
	blk.dim = ub_dim3{bx, by, bz};
	blk.grid = ub_dim3{gx, gy, gz};
	blk.dynamic_shared = r.shared.data();
	ub_cur_block = &blk;
	for (unsigned z = 0; z < gz; z++)
		for (unsigned y = 0; y < gy; y++)
			for (unsigned x = 0; x < gx; x++) {
				blk.idx = ub_dim3{x, y, z};
				for (unsigned long t = 0; t < nt; t++) {
					fiber &f = r.fibers[t];
					f.t.idx = ub_dim3{(unsigned)(t % bx), (unsigned)(t / bx % by), (unsigned)(t / (bx * by))};
					f.state = RUNNABLE;
					f.barriers = 0;
					init_fiber(r, f, r.stacks.data() + t * stack_size, stack_size);
				}
				for (;;) {
					for (unsigned long t = 0; t < nt; t++) {
						fiber &f = r.fibers[t];
						if (f.state != RUNNABLE) continue;
						to_fiber(r, f);
					}
					unsigned long done = 0, waiting = 0;
					for (unsigned long t = 0; t < nt; t++) {
						if (r.fibers[t].state == DONE) done++;
						else waiting++;
					}
					if (waiting == 0) break;
					if (done > 0) {
						snprintf(errbuf, sizeof errbuf,
							"emulator: %s block (%u,%u,%u): %lu threads ended while %lu wait at __syncthreads",
							r.e->name, x, y, z, done, waiting);
						ub_cur_block = nullptr;
						return errbuf;
					}
					for (unsigned long t = 0; t < nt; t++) {
						fiber &f = r.fibers[t];
						if (f.barriers != r.fibers[0].barriers) {
							snprintf(errbuf, sizeof errbuf,
								"emulator: %s block (%u,%u,%u): threads at different __syncthreads counts",
								r.e->name, x, y, z);
							ub_cur_block = nullptr;
							return errbuf;
						}
						f.state = RUNNABLE;
					}
				}
			}
	ub_cur_block = nullptr;
	return nullptr;
}

} // extern "C"
