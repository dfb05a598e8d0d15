#!/usr/bin/env bash
# Integration suite: installs the built kernel (bin/unetlab, or $UNETLAB_BIN)
# into a temporary JUPYTER_DATA_DIR and runs, with Debian's /usr/bin/python3,
# jupyter_kernel_test's protocol checks, jupyter_client scripts (interrupt,
# stdin, comms, streaming, signatures, crash, restart) and
# `jupyter nbconvert --execute` on notebooks/hello.ipynb, and every ```go
# block of README.md as the cells of one kernel (test_readme.py).
# Ends with "N passed, N failed"; exits non-zero on any failure.
# Extra arguments go to run.py, e.g. `-k Interrupt`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${UNETLAB_BIN:-$root/bin/unetlab}"
PY="${PYTHON:-/usr/bin/python3}"

if [ ! -x "$bin" ]; then
	echo "integration.sh: no kernel binary at $bin (run: go build -o bin/unetlab ./cmd/unetlab)" >&2
	exit 1
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/unetlab-it.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
export JUPYTER_DATA_DIR="$tmp/data" JUPYTER_RUNTIME_DIR="$tmp/runtime" JUPYTER_CONFIG_DIR="$tmp/config"
export IPYTHONDIR="$tmp/ipython" UNETLAB_KERNEL=unetlab
export UNETLAB_SCALE="${UNETLAB_SCALE:-smoke}"
export PYDEVD_DISABLE_FILE_VALIDATION=1
"$bin" install --user --name "$UNETLAB_KERNEL" >/dev/null

# Kernels log to this file; its tail is shown when something fails.
export UNETLAB_KERNEL_LOG="$tmp/kernel.log"
: >"$UNETLAB_KERNEL_LOG"

cd "$here"
status=0
"$PY" -u run.py "$@" || status=$?
if [ "$status" -ne 0 ]; then
	echo "--- last 60 lines of the kernels' log ($UNETLAB_KERNEL_LOG) ---" >&2
	tail -n 60 "$UNETLAB_KERNEL_LOG" >&2
fi
exit "$status"
