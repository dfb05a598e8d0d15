#!/usr/bin/env bash
# browser/run.sh: the end-to-end tests in headless Chromium (make browser).
#
# Installs what they need from the project's own files, then runs e2e.mjs:
#   - Debian's chromium (apt-get; never a downloaded browser);
#   - JupyterLab 4 and Notebook 7: install/jupyter.sh (a JupyterLab 4 on PATH
#     with Notebook 7 beside it, else .venv/ from install/jupyter-requirements.txt);
#   - playwright-core: npm ci from browser/package-lock.json;
#   - the kernel: bin/unetlab (make build), installed into each test server's
#     temporary JUPYTER_DATA_DIR.
# Outside CI a piece that cannot be installed skips the suite with a loud
# line; in CI (CI set, and not false) it is a failure.
# Screenshots go to build/browser-artifacts/ (ARTIFACTS=... to change).
# Which notebooks each front end runs with Run All: LAB_NOTEBOOKS (default
# every notebooks/NN_*.ipynb) and NB7_NOTEBOOKS (default hello.ipynb); ONLY
# is a regexp of test names.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
case "${CI:-}" in
"" | false | False | FALSE | 0) ci= ;;
*) ci=1 ;;
esac

missing() {
	if [ -n "$ci" ]; then
		echo "browser/run.sh: FAIL: $*" >&2
		exit 1
	fi
	echo "browser/run.sh: SKIPPED, MISSING: $*" >&2
	exit 0
}

# Chromium from Debian.
export CHROMIUM="${CHROMIUM:-$(command -v chromium || true)}"
if [ -z "$CHROMIUM" ]; then
	if command -v apt-get >/dev/null 2>&1; then
		SUDO=()
		if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
			SUDO=(sudo -n)
		fi
		if [ "$(id -u)" -eq 0 ] || [ "${#SUDO[@]}" -gt 0 ]; then
			echo "browser/run.sh: installing Debian's chromium" >&2
			export DEBIAN_FRONTEND=noninteractive
			"${SUDO[@]}" apt-get update -qq
			"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >&2
		fi
	fi
	CHROMIUM="$(command -v chromium || true)"
	[ -n "$CHROMIUM" ] || missing "chromium (apt-get install chromium, as root)"
fi

# JupyterLab 4 and Notebook 7.
JUPYTER_BIN="$("$root/install/jupyter.sh")" || missing "JupyterLab 4 (install/jupyter.sh failed)"
if ! "$JUPYTER_BIN/jupyter" notebook --version 2>/dev/null | grep -q '^7\.'; then
	echo "browser/run.sh: $JUPYTER_BIN has no Notebook 7; using the project's .venv" >&2
	JUPYTER_BIN="$(UNETLAB_USE_VENV=1 "$root/install/jupyter.sh")" || missing "Notebook 7 (install/jupyter.sh failed)"
fi
export JUPYTER_BIN

# playwright-core, as locked.
command -v npm >/dev/null 2>&1 || missing "node and npm (apt-get install nodejs npm)"
stamp="$here/node_modules/.unetlab-lock"
if ! cmp -s "$here/package-lock.json" "$stamp" 2>/dev/null; then
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2) || missing "playwright-core (npm ci in browser/ failed)"
	cp "$here/package-lock.json" "$stamp"
fi

export UNETLAB_BIN="${UNETLAB_BIN:-$root/bin/unetlab}"
[ -x "$UNETLAB_BIN" ] || { echo "browser/run.sh: no kernel at $UNETLAB_BIN (make build)" >&2; exit 1; }
export UNETLAB_SCALE="${UNETLAB_SCALE:-smoke}"
export ARTIFACTS="${ARTIFACTS:-$root/build/browser-artifacts}"
rm -rf "$ARTIFACTS"
exec node "$here/e2e.mjs"
