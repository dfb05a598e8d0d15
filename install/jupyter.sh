#!/usr/bin/env bash
# Makes sure a Jupyter front end (JupyterLab or the classic Notebook) is
# installed, for `make lab`. In order of preference:
#   1. already there: nothing to do;
#   2. apt-get works (root, or passwordless sudo): Debian's jupyter-notebook;
#   3. pip works: pip's jupyterlab, for this user;
#   4. otherwise: print what to install and fail.
set -euo pipefail

have_frontend() {
	command -v jupyter >/dev/null 2>&1 || return 1
	jupyter lab --version >/dev/null 2>&1 || jupyter notebook --version >/dev/null 2>&1
}

if have_frontend; then
	exit 0
fi

SUDO=()
can_apt=0
if command -v apt-get >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ]; then
		can_apt=1
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		SUDO=(sudo -n)
		can_apt=1
	fi
fi

if [ "$can_apt" = 1 ]; then
	echo "install/jupyter.sh: installing Debian's jupyter-notebook" >&2
	export DEBIAN_FRONTEND=noninteractive
	"${SUDO[@]}" apt-get update -qq
	if "${SUDO[@]}" apt-get install -y -qq jupyter-notebook python3-notebook >&2 && have_frontend; then
		exit 0
	fi
	echo "install/jupyter.sh: apt-get could not provide Jupyter; trying pip" >&2
fi

if command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; then
	echo "install/jupyter.sh: installing jupyterlab with python3 -m pip --user" >&2
	if python3 -m pip install --user jupyterlab >&2 || python3 -m pip install --user --break-system-packages jupyterlab >&2; then
		userbin="$(python3 -m site --user-base)/bin"
		export PATH="$userbin:$PATH"
		if have_frontend; then
			echo "install/jupyter.sh: installed; add $userbin to your PATH for 'jupyter'" >&2
			exit 0
		fi
	fi
fi

cat >&2 <<'MSG'
install/jupyter.sh: Jupyter is not installed and could not be installed here.
Install one of:
  Debian/Ubuntu:  sudo apt-get install jupyter-notebook
  pip:            python3 -m pip install --user jupyterlab
  conda:          conda install -c conda-forge jupyterlab
then run `make lab` again.
MSG
exit 1
