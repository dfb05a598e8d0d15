#!/usr/bin/env bash
# Makes sure JupyterLab 4 (with Notebook 7) is there, for `make lab` and
# `make browser`, and prints the directory of its `jupyter` command:
#   1. a JupyterLab 4 (or newer) on PATH is used as it is;
#   2. otherwise the project's virtual environment .venv/ (python3 -m venv),
#      with every package pinned in install/jupyter-requirements.txt, made
#      or brought up to date with pip (a no-op when it matches the file).
# Set UNETLAB_VENV to put the environment elsewhere, PYTHON3 for the Python
# that makes it (default python3). Messages go to stderr; stdout is the
# directory only.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
req="$root/install/jupyter-requirements.txt"
venv="${UNETLAB_VENV:-$root/.venv}"
py="${PYTHON3:-python3}"

# lab4 DIR: DIR/jupyter runs a JupyterLab of major version 4 or later.
lab4() {
	local v
	v="$("$1/jupyter" lab --version 2>/dev/null)" || return 1
	[ "${v%%.*}" -ge 4 ] 2>/dev/null
}

if [ "${UNETLAB_USE_VENV:-0}" != 1 ] && command -v jupyter >/dev/null 2>&1; then
	dir="$(dirname "$(command -v jupyter)")"
	if lab4 "$dir"; then
		echo "install/jupyter.sh: using JupyterLab $("$dir/jupyter" lab --version) from $dir" >&2
		echo "$dir"
		exit 0
	fi
fi

stamp="$venv/.unetlab-requirements"
if [ -x "$venv/bin/jupyter" ] && [ -f "$stamp" ] && cmp -s "$stamp" "$req" && lab4 "$venv/bin"; then
	bash "$root/install/niivue.sh" "$venv" >&2
	echo "$venv/bin"
	exit 0
fi

if ! "$py" -m venv --help >/dev/null 2>&1; then
	cat >&2 <<MSG
install/jupyter.sh: $py cannot make a virtual environment (python3 -m venv).
Install Python 3.9+ with venv (Debian/Ubuntu: apt-get install python3-venv),
or install JupyterLab 4 yourself (pip install 'jupyterlab>=4' notebook), then
run make lab again.
MSG
	exit 1
fi
echo "install/jupyter.sh: installing JupyterLab 4 and Notebook 7 into $venv (pip, pinned in ${req#"$root/"})" >&2
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv" >&2
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req" >&2
if ! lab4 "$venv/bin"; then
	echo "install/jupyter.sh: $venv/bin/jupyter lab --version is not 4.x after pip install" >&2
	exit 1
fi
cp "$req" "$stamp"
bash "$root/install/niivue.sh" "$venv" >&2
echo "install/jupyter.sh: installed JupyterLab $("$venv/bin/jupyter" lab --version), Notebook $("$venv/bin/jupyter" notebook --version)" >&2
echo "$venv/bin"
