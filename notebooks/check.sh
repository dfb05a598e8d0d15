#!/usr/bin/env bash
# check.sh: execute notebooks headless on the unetlab kernel and check them.
#
#   notebooks/check.sh [check.py options] NOTEBOOK...   (default: every notebooks/*.ipynb)
#   notebooks/check.sh --self-test                       (the checker against notebooks/testdata/)
#   notebooks/check.sh --render [render.py options] NOTEBOOK...
#                                                        (run them and write them back with outputs)
#
# Installs the kernel ($UNETLAB_BIN, default bin/unetlab; build it with
# `go build -o bin/unetlab ./cmd/unetlab`) into a temporary JUPYTER_DATA_DIR,
# then runs check.py with Debian's python ($PYTHON, default /usr/bin/python3):
# `jupyter nbconvert --to notebook --execute` per notebook, failing on a cell
# error, a missing expected output (cell metadata unetlab.expect) or a run
# longer than --budget seconds (default 300), after checking the outputs each
# notebook ships with (their cells' source hashes; see check.py).
# UNETLAB_SCALE defaults to smoke; training runs go to a temporary
# UNETLAB_RUNS, phantoms to UNETLAB_DATA (default data/).
#
# --render runs render.py instead: UNETLAB_SCALE defaults to render, and
# UNETLAB_DATA and UNETLAB_RUNS keep the notebooks' defaults (data/ and
# runs/ of the repository), so that the shipped outputs show those paths and
# a second render reuses the grid's finished jobs by key.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
bin="${UNETLAB_BIN:-$root/bin/unetlab}"
PY="${PYTHON:-/usr/bin/python3}"
render=0
if [ "${1:-}" = "--render" ]; then
	render=1
	shift
	export UNETLAB_SCALE="${UNETLAB_SCALE:-render}"
fi
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
"$bin" install --user --name "$UNETLAB_KERNEL" >/dev/null
if [ "$render" = 1 ]; then
	if [ "$#" -eq 0 ]; then
		set -- "$here"/[0-9][0-9]_*.ipynb
	fi
	exec "$PY" "$here/render.py" "$@"
fi
# Training runs made by the notebooks go to the temporary folder.
export UNETLAB_RUNS="${UNETLAB_RUNS:-$tmp/runs}"

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
		"paper Table 1: Heart U-net val. Dice: shown '0.9 ± 0.03'" "paper Table 1: the paper's row ('Lung', 'Conv-Skip') is missing" \
		"paper Table 1: Heart U-net rebuilt val. Dice '0.500 ± 0.100', want a mean above 0.6" \
		"paper Table 1: no row Lung U-net to check its rebuilt validation Dice against 0.1"; do
		grep -qF -- "$want" <<<"$out" || { echo "self-test: missing problem: $want" >&2; fail=1; }
	done
	# Shipped outputs: render good.ipynb into a temporary copy; its outputs
	# pass; an edited cell, a notebook without outputs and outputs without
	# the render's stamp fail, each named; so does a copy of the shipped 02
	# with one code cell edited.
	sdir="$tmp/shipped"
	mkdir -p "$sdir"
	cp "$here/testdata/good.ipynb" "$sdir/good.ipynb"
	UNETLAB_SCALE=smoke "$PY" "$here/render.py" --timeout 120 "$sdir/good.ipynb" >"$sdir/render.log" 2>&1 ||
		{ echo "self-test: render.py failed on good.ipynb:" >&2; cat "$sdir/render.log" >&2; fail=1; }
	"$PY" "$here/check.py" --shipped-only --require-rendered "$sdir/good.ipynb" >"$sdir/ok.log" 2>&1 ||
		{ echo "self-test: the rendered good.ipynb fails the shipped check:" >&2; cat "$sdir/ok.log" >&2; fail=1; }
	"$PY" - "$sdir" "$here/02_cross_validation.ipynb" <<'PYEOF'
import copy, sys, nbformat
d = sys.argv[1]
nb = nbformat.read(f"{d}/good.ipynb", as_version=4)
edited = copy.deepcopy(nb)
edited.cells[2].source = edited.cells[2].source.replace("0.875", "0.5")
nbformat.write(edited, f"{d}/edited.ipynb")
cleared = copy.deepcopy(nb)
for c in cleared.cells:
    if c.cell_type == "code":
        c.outputs, c.execution_count = [], None
del cleared.metadata["unetlab"]["render"]
nbformat.write(cleared, f"{d}/cleared.ipynb")
unstamped = copy.deepcopy(nb)
del unstamped.cells[1].metadata["unetlab"]["render"]
nbformat.write(unstamped, f"{d}/unstamped.ipynb")
# A shipped notebook with one character of its third code cell changed.
shipped = nbformat.read(sys.argv[2], as_version=4)
code = [c for c in shipped.cells if c.cell_type == "code"]
code[2].source += "\n"
nbformat.write(shipped, f"{d}/shipped-edited.ipynb")
PYEOF
	for want in "edited.ipynb:code cell 2 (cell 3): its source changed since its outputs were rendered" \
		"cleared.ipynb:shipped: no outputs" \
		"unstamped.ipynb:code cell 1 (cell 2): shipped without a render stamp" \
		"shipped-edited.ipynb:code cell 3 (cell "; do
		nb="${want%%:*}" problem="${want#*:}"
		set +e
		out="$("$PY" "$here/check.py" --shipped-only --require-rendered "$sdir/$nb")"
		status=$?
		set -e
		echo "$nb, expected to fail:"
		printf '%s\n' "$out" | sed 's/^/  | /'
		[ "$status" -eq 1 ] || { echo "self-test: $nb exit $status, want 1" >&2; fail=1; }
		grep -qF -- "$problem" <<<"$out" || { echo "self-test: $nb: missing problem: $problem" >&2; fail=1; }
		[ "$(grep -c '^  shipped: ' <<<"$out")" -eq 1 ] || { echo "self-test: $nb: want exactly one problem" >&2; fail=1; }
		grep -qF -- "FAIL $sdir/$nb" <<<"$out" || { echo "self-test: $nb: the failure does not name the notebook" >&2; fail=1; }
	done
	[ "$fail" -eq 0 ] && echo "self-test passed"
	exit "$fail"
fi

if [ "$#" -eq 0 ]; then
	set -- "$here"/*.ipynb
fi
exec "$PY" "$here/check.py" "$@"
