#!/usr/bin/env bash
# Installs, when missing, the Debian packages the integration tests and the
# kernel benchmark use: jupyter_kernel_test, nbconvert, nbclient,
# jupyter_client and ipykernel, all for Debian's /usr/bin/python3.
# A no-op (well under a second) when everything is present.
set -euo pipefail

PY=/usr/bin/python3
PKGS=(python3-jupyter-kernel-test jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel)

present() {
	[ -x "$PY" ] || return 1
	[ -x /usr/bin/jupyter ] && [ -x /usr/bin/jupyter-nbconvert ] || return 1
	"$PY" -c 'import jupyter_kernel_test, nbclient, nbconvert, nbformat, jupyter_client, ipykernel' 2>/dev/null
}

if present; then
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	cat >&2 <<MSG
install/test-deps.sh: the integration tests need, for $PY:
  jupyter_kernel_test, nbconvert, nbclient, jupyter_client, ipykernel
This is not a Debian/Ubuntu system (no apt-get); install them with your
package manager, or with pip into the Python at $PY.
MSG
	exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		SUDO=(sudo -n)
	else
		echo "install/test-deps.sh: need root to run: apt-get install ${PKGS[*]}" >&2
		echo "  run it as root, or: sudo apt-get install -y ${PKGS[*]}" >&2
		exit 1
	fi
fi

echo "install/test-deps.sh: installing ${PKGS[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >&2

if ! present; then
	echo "install/test-deps.sh: installed ${PKGS[*]} but $PY still cannot import them" >&2
	exit 1
fi
