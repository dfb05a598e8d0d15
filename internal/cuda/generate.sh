#!/bin/sh
# generate.sh: compiles kernels.cu to kernels.fatbin (SASS for sm_80 and
# sm_90, PTX for compute_90 so newer GPUs JIT it) and records the sources'
# hash in kernels.sum, which TestFatbinCurrent checks without nvcc.
# Run by `go generate ./internal/cuda` (make generate); installs the CUDA
# 11.8 tools with install/cuda-tools.sh when nvcc is not found.
set -eu
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
nvcc=${NVCC:-}
if [ -z "$nvcc" ]; then
	if command -v nvcc >/dev/null 2>&1; then nvcc=nvcc; else
		nvcc=$("$root/install/cuda-tools.sh" | tail -1)/nvcc
	fi
fi
"$nvcc" --fatbin -O3 -std=c++14 -Xptxas -O3 \
	-gencode arch=compute_80,code=sm_80 \
	-gencode arch=compute_90,code=sm_90 \
	-gencode arch=compute_90,code=compute_90 \
	-o kernels.fatbin.tmp kernels.cu
mv kernels.fatbin.tmp kernels.fatbin
# The hash TestFatbinCurrent recomputes: each source's name and bytes, in
# byte order of the names.
for f in $(LC_ALL=C ls emu.h generate.sh kernels.cu kernels.h kernel_*.h | LC_ALL=C sort); do
	printf '%s\n' "$f"
	cat "$f"
done | sha256sum | cut -d' ' -f1 >kernels.sum
