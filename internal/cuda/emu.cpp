// emu.cpp: the emulated device's runtime. It runs the kernels of kernels.h,
// compiled as host C++ under emu.h: a launch runs its blocks in order, and a
// block's threads as fibers (ucontext) scheduled round-robin; a fiber gives
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
	ucontext_t ctx;
	int state;
	long barriers;
};

struct runner {
	ucontext_t sched;
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
	// returning resumes uc_link, the scheduler
}

char errbuf_storage[256];
thread_local char errbuf[256];

} // namespace

void ub_syncthreads(void) {
	fiber *f = R->cur;
	f->state = AT_BARRIER;
	f->barriers++;
	swapcontext(&f->ctx, &R->sched);
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
					getcontext(&f.ctx);
					f.ctx.uc_stack.ss_sp = r.stacks.data() + t * stack_size;
					f.ctx.uc_stack.ss_size = stack_size;
					f.ctx.uc_link = &r.sched;
					makecontext(&f.ctx, fiber_main, 0);
				}
				for (;;) {
					for (unsigned long t = 0; t < nt; t++) {
						fiber &f = r.fibers[t];
						if (f.state != RUNNABLE) continue;
						r.cur = &f;
						ub_cur_thread = &f.t;
						swapcontext(&r.sched, &f.ctx);
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
	(void)errbuf_storage;
	return nullptr;
}

} // extern "C"
