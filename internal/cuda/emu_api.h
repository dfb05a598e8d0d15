// emu_api.h: the C interface of the emulated device (emu.cpp) for cgo.
#ifndef UNETLAB_EMU_API_H
#define UNETLAB_EMU_API_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif
int ub_emu_count(void);
const char *ub_emu_name(int i);
int ub_emu_nargs(int i);
size_t ub_emu_argsize(int i, int j);
// ub_emu_launch runs kernel i on a grid of g blocks of b threads with
// shared bytes of dynamic shared memory; args points to the arguments'
// values, as cuLaunchKernel's kernelParams. It returns NULL or a message.
const char *ub_emu_launch(int i, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
	size_t shared, void **args);
#ifdef __cplusplus
}
#endif
#endif
