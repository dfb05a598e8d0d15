#!/usr/bin/env bash
# cuda-tools.sh: installs the CUDA 11.8 compile tools from Debian bookworm's
# non-free archive into a project folder, for `make generate` (nvcc builds the
# embedded kernels), the register-spill check (ptxas -v) and the cudacu build
# (cuda.h and the stub libcuda.so). It needs no GPU and touches nothing of the
# system but one temporary apt sources file and, where missing, g++-11 (nvcc
# 11.8's newest host compiler) from bookworm main.
#
# Usage: install/cuda-tools.sh [PREFIX]     (default: .cuda in the repository)
# Prints the prefix's bin directory last. Idempotent: a second run with the
# tools present only prints it. Needs root or passwordless sudo for apt-get.
#
# What goes in PREFIX/root (dpkg -x of the debs, relocated by our nvcc.profile):
#   nvidia-cuda-toolkit (84 MB): nvcc, cicc, ptxas, fatbinary, cuobjdump, libdevice
#   nvidia-cuda-dev (774 MB download): only usr/include and the link stubs
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

here=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:-$here/.cuda}
version=11.8.89~11.8.0-5~deb12u1
stamp=$prefix/installed-$version

if [ -f "$stamp" ]; then
	echo "$prefix/bin"
	exit 0
fi

apt_root cuda-tools || exit 1

list=/etc/apt/sources.list.d/unetlab-nonfree.list
cleanup() { "${SUDO[@]}" rm -f "$list"; [ -n "${work:-}" ] && rm -rf "$work"; }
trap cleanup EXIT INT TERM
work=$(mktemp -d)

echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm contrib non-free non-free-firmware" |
	"${SUDO[@]}" tee "$list" >/dev/null
# Update only our list, leaving the system's package lists as they are.
"${SUDO[@]}" apt-get update -qq -o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=- \
	-o APT::Get::List-Cleanup=0

if ! command -v g++-11 >/dev/null 2>&1; then
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++-11 >/dev/null
fi

cd "$work"
chmod 777 "$work"   # apt's _apt user downloads into it
"${SUDO[@]}" apt-get download -qq "nvidia-cuda-toolkit=$version" "nvidia-cuda-dev=$version" 2>/dev/null
rm -rf "$prefix/root" "$prefix/bin"
mkdir -p "$prefix/root" "$prefix/bin"
dpkg -x nvidia-cuda-toolkit_*.deb "$prefix/root"
dpkg-deb --fsys-tarfile nvidia-cuda-dev_*.deb |
	tar -x -C "$prefix/root" --wildcards './usr/include/*' './usr/lib/x86_64-linux-gnu/stubs/*'

# Relocate: Debian's nvcc.profile links to /etc and names /usr paths; ours
# names the prefix (nvcc resolves _HERE_ through the bin/ symlink, so absolute).
nvbin=$prefix/root/usr/lib/nvidia-cuda-toolkit/bin
rm -f "$nvbin/nvcc.profile"
top=$prefix/root
cat >"$nvbin/nvcc.profile" <<PROFILE
NVVMIR_LIBRARY_DIR = $top/usr/lib/nvidia-cuda-toolkit/libdevice
PATH += $top/usr/lib/nvidia-cuda-toolkit/bin:$top/usr/bin:
INCLUDES += "-I$top/usr/include" \$(_SPACE_)
LIBRARIES =+ \$(_SPACE_) "-L$top/usr/lib/x86_64-linux-gnu/stubs"
PROFILE
# A wrapper, not a link: nvcc reads nvcc.profile from the directory it was
# started from.
printf '#!/bin/sh\nexec "%s" "$@"\n' "$nvbin/nvcc" >"$prefix/bin/nvcc"
chmod +x "$prefix/bin/nvcc"
for t in ptxas fatbinary cuobjdump nvdisasm; do
	ln -s "../root/usr/bin/$t" "$prefix/bin/$t"
done
"$prefix/bin/nvcc" --version | tail -2 >&2
touch "$stamp"
echo "$prefix/bin"
