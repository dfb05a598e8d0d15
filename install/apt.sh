# install/apt.sh: the Debian package steps the install scripts share
# (install/test-deps.sh, install/slurm.sh, install/cuda-tools.sh). Sourced,
# not run: `. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"`. Needs bash. Every
# function returns non-zero on failure itself, so that a caller's
# `apt_install ... || exit 1` stops (set -e does not act inside a function
# called from a || list).

# apt_have: true on a Debian/Ubuntu system (dpkg-query and apt-get exist).
apt_have() {
	command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1
}

# apt_missing PKG...: prints, one a line, each PKG that dpkg does not list as
# installed.
apt_missing() {
	local p
	for p in "$@"; do
		if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
			echo "$p"
		fi
	done
}

# apt_root WHO [PKG...]: sets the array SUDO to what runs apt-get as root:
# empty for root, (sudo -n) where passwordless sudo works. Otherwise it says
# on stderr, as WHO, that root is needed (with the apt-get line for the PKGs,
# if any) and returns 1.
apt_root() {
	local who=$1
	shift
	SUDO=()
	if [ "$(id -u)" -eq 0 ]; then
		return 0
	fi
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		SUDO=(sudo -n)
		return 0
	fi
	if [ "$#" -eq 0 ]; then
		echo "$who: need root or passwordless sudo for apt-get" >&2
	else
		echo "$who: need root to install: $*" >&2
		echo "  run as root, or: sudo apt-get install -y $*" >&2
	fi
	return 1
}

# apt_install WHO PKG...: installs, as root (apt_root), those of the PKGs
# that are missing (apt_missing), without recommends; a no-op (a few
# dpkg-query calls) when none is. WHO names the caller in messages.
apt_install() {
	local who=$1
	shift
	local need
	mapfile -t need < <(apt_missing "$@")
	if [ "${#need[@]}" -eq 0 ]; then
		return 0
	fi
	apt_root "$who" "${need[@]}" || return 1
	echo "$who: installing ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	"${SUDO[@]}" apt-get update -qq || return 1
	"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 || return 1
}
