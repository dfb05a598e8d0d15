#!/usr/bin/env bash
# Installs, when missing, Debian's Slurm (slurm-wlm: slurmctld, slurmd and
# the client commands) and MUNGE, which grid/testdata/integration.sh starts as a
# single-node cluster for the Slurm half of the grid tests. A no-op (a few
# dpkg-query calls) when both are present. Needs root or passwordless sudo
# for apt-get. The packages' own services are not started here: the test
# starts munged and the Slurm daemons itself, with its own configuration.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

PKGS=(slurm-wlm munge)

if ! apt_have; then
	if command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 && command -v munged >/dev/null 2>&1; then
		exit 0
	fi
	echo "install/slurm.sh: not a Debian/Ubuntu system (no apt-get): install Slurm (slurmctld, slurmd, sbatch) and MUNGE yourself" >&2
	exit 1
fi

apt_install install/slurm.sh "${PKGS[@]}" || exit 1
