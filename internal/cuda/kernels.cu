// kernels.cu: the nvcc entry point; the kernels live in the .h files so that
// the Go build (emu.cpp includes them) tracks their changes.
#include "kernels.h"
