#!/usr/bin/env bash
# check.sh: execute notebooks headless on the unetlab kernel and check them.
#
#   notebooks/check.sh [check.py options] NOTEBOOK...   (default: every notebooks/*.ipynb)
#   notebooks/check.sh --self-test                       (the checker against notebooks/testdata/)
#
# Installs the kernel ($UNETLAB_BIN, default bin/unetlab; build it with
# `go build -o bin/unetlab ./cmd/unetlab`) into a temporary JUPYTER_DATA_DIR,
# then runs check.py with Debian's python ($PYTHON, default /usr/bin/python3):
# `jupyter nbconvert --to notebook --execute` per notebook, failing on a cell
# error, a missing expected output (cell metadata unetlab.expect) or a run
# longer than --budget seconds (default 300). UNETLAB_SCALE defaults to smoke;
# training runs go to a temporary UNETLAB_RUNS, phantoms to UNETLAB_DATA (default data/).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
bin="${UNETLAB_BIN:-$root/bin/unetlab}"
PY="${PYTHON:-/usr/bin/python3}"
export UNETLAB_SCALE="${UNETLAB_SCALE:-smoke}"

if [ ! -x "$bin" ]; then
	echo "check.sh: no kernel binary at $bin (run: go build -o bin/unetlab ./cmd/unetlab)" >&2
	exit 1
fi
if ! "$PY" -c 'import nbformat, nbconvert' 2>/dev/null; then
	echo "check.sh: $PY lacks nbformat/nbconvert (apt-get install jupyter-nbconvert python3-nbclient, or make deps-test)" >&2
	exit 1
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/unetlab-nb.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
export JUPYTER_DATA_DIR="$tmp/data" JUPYTER_RUNTIME_DIR="$tmp/runtime" JUPYTER_CONFIG_DIR="$tmp/config"
export IPYTHONDIR="$tmp/ipython" PYDEVD_DISABLE_FILE_VALIDATION=1
export UNETLAB_KERNEL="${UNETLAB_KERNEL:-unetlab}"
# Training runs made by the notebooks go to the temporary folder.
export UNETLAB_RUNS="${UNETLAB_RUNS:-$tmp/runs}"
"$bin" install --user --name "$UNETLAB_KERNEL" >/dev/null

if [ "${1:-}" = "--self-test" ]; then
	# The good notebook passes; the bad one fails with each of its faults named.
	"$PY" "$here/check.py" --budget 120 "$here/testdata/good.ipynb"
	set +e
	out="$("$PY" "$here/check.py" --budget 120 "$here/testdata/bad.ipynb")"
	status=$?
	set -e
	# Indented, so that its "FAIL" and "0 passed, 1 failed" lines read as the
	# expected output they are, not as the run's verdict.
	echo "bad.ipynb, expected to fail:"
	printf '%s\n' "$out" | sed 's/^/  | /'
	fail=0
	[ "$status" -eq 1 ] || { echo "self-test: bad.ipynb exit $status, want 1" >&2; fail=1; }
	for want in "code cell 1 (cell 2): expected 'image/png'" "code cell 2 (cell 3): expected 're:Dice [0-9]'" \
		"code cell 3 (cell 4): error" "code cell 4 (cell 5): error" "notebook: no cell shows 're:never printed'" \
		"paper Table 1: Heart U-net val. Dice: shown '0.9 ± 0.03'" "paper Table 1: the paper's row ('Lung', 'Conv-Skip') is missing"; do
		grep -qF -- "$want" <<<"$out" || { echo "self-test: missing problem: $want" >&2; fail=1; }
	done
	[ "$fail" -eq 0 ] && echo "self-test passed"
	exit "$fail"
fi

if [ "$#" -eq 0 ]; then
	set -- "$here"/*.ipynb
fi
exec "$PY" "$here/check.py" "$@"
