#!/usr/bin/env bash
# Installs, when missing, the Debian packages `make test` uses, all for
# Debian's /usr/bin/python3:
#   - the integration suite and the kernel benchmark: jupyter_kernel_test,
#     nbconvert, nbclient, jupyter_client, ipykernel;
#   - the reference cross-checks of the Go tests (internal/reftest: they
#     fail without them in CI, and skip with a loud line elsewhere): numpy,
#     nibabel, torch (CPU). Set UNETLAB_TEST_REFERENCE=0 to leave these out
#     (and skip those tests) on your machine; CI installs them regardless;
#   - libopenblas0, which internal/blas opens at run time: without it the
#     engine falls back to pure-Go BLAS and the training tests run ~10x slower.
# A no-op (a few dpkg-query calls) when everything is present.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

PY="${PYTHON:-/usr/bin/python3}"
PKGS=(python3-jupyter-kernel-test jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel libopenblas0)
# The reference cross-checks (internal/reftest) fail in CI without these, so
# CI (CI set, and not false) installs them even with UNETLAB_TEST_REFERENCE=0.
case "${CI:-}" in
"" | false | False | FALSE | 0) ci= ;;
*) ci=1 ;;
esac
if [ "${UNETLAB_TEST_REFERENCE:-1}" != 0 ] || [ -n "$ci" ]; then
	PKGS+=(python3-numpy python3-nibabel python3-torch)
fi

if ! apt_have; then
	if "$PY" -c 'import jupyter_kernel_test, nbclient, nbconvert, jupyter_client, ipykernel' 2>/dev/null; then
		exit 0
	fi
	cat >&2 <<MSG
install/test-deps.sh: the integration tests need, for $PY (or PYTHON=...):
  jupyter_kernel_test, nbconvert, nbclient, jupyter_client, ipykernel
This is not a Debian/Ubuntu system (no apt-get); install them with your
package manager, or with pip into that Python.
MSG
	exit 1
fi

mapfile -t need < <(apt_missing "${PKGS[@]}")
if [ "${#need[@]}" -eq 0 ]; then
	exit 0
fi
apt_install install/test-deps.sh "${need[@]}" || exit 1

mapfile -t need < <(apt_missing "${PKGS[@]}")
if [ "${#need[@]}" -ne 0 ]; then
	echo "install/test-deps.sh: still missing after apt-get install: ${need[*]}" >&2
	exit 1
fi
if ! "$PY" -c 'import jupyter_kernel_test, nbclient, nbconvert, jupyter_client, ipykernel'; then
	echo "install/test-deps.sh: packages installed but $PY cannot import them" >&2
	exit 1
fi
