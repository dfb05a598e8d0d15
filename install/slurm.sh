#!/usr/bin/env bash
# Installs, when missing, Debian's Slurm (slurm-wlm: slurmctld, slurmd and
# the client commands) and MUNGE, which grid/testdata/integration.sh starts as a
# single-node cluster for the Slurm half of the grid tests. A no-op (a few
# dpkg-query calls) when both are present. Needs root or passwordless sudo
# for apt-get. The packages' own services are not started here: the test
# starts munged and the Slurm daemons itself, with its own configuration.
set -euo pipefail

PKGS=(slurm-wlm munge)

missing() {
	local p
	for p in "${PKGS[@]}"; do
		if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
			echo "$p"
		fi
	done
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	if command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 && command -v munged >/dev/null 2>&1; then
		exit 0
	fi
	echo "install/slurm.sh: not a Debian/Ubuntu system (no apt-get): install Slurm (slurmctld, slurmd, sbatch) and MUNGE yourself" >&2
	exit 1
fi

mapfile -t need < <(missing)
if [ "${#need[@]}" -eq 0 ]; then
	exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		SUDO=(sudo -n)
	else
		echo "install/slurm.sh: need root to install: ${need[*]}" >&2
		echo "  run as root, or: sudo apt-get install -y ${need[*]}" >&2
		exit 1
	fi
fi

echo "install/slurm.sh: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
