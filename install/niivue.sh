#!/usr/bin/env bash
# install/niivue.sh VENV: puts NiiVue's ES module (npm's @niivue/niivue,
# the version and checksum pinned below) at VENV/share/unetlab/niivue.js,
# where the kernel's 3D view (widget/views.Render3D) finds it. install/
# jupyter.sh runs it for the project's virtual environment. A no-op when
# that version is already there; without npm it says so and exits 0 (the
# 3D view then reports that NiiVue is missing; everything else works).
# The file never goes into the repository.
set -euo pipefail
version=0.69.0
# npm's dist.integrity of @niivue/niivue@0.69.0: the tarball's SHA-512.
integrity='sha512-YMjQvJgD1W2b7DuoxkwlC4VxbrgIePRJ5qyQzXKxi2v2MBVg285P/CIQyg46oDDGDIcaNlbd+MhtO/edMbXJkA=='

venv="${1:?usage: install/niivue.sh VENV}"
dest="$venv/share/unetlab"
stamp="$dest/niivue.version"
if [ -f "$dest/niivue.js" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
	exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
	echo "install/niivue.sh: no npm: the 3D view (NiiVue) stays unavailable; install Node.js and npm, then run install/jupyter.sh again" >&2
	exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "install/niivue.sh: fetching @niivue/niivue@$version (npm)" >&2
(cd "$tmp" && npm pack --silent "@niivue/niivue@$version" >/dev/null)
tgz="$tmp/niivue-niivue-$version.tgz"
got="sha512-$(python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tgz")"
if [ "$got" != "$integrity" ]; then
	echo "install/niivue.sh: $tgz has checksum $got, want the pinned $integrity" >&2
	exit 1
fi
tar -xzf "$tgz" -C "$tmp" package/dist/index.js
mkdir -p "$dest"
# The source map comment names a file that is not shipped.
grep -v '^//# sourceMappingURL=' "$tmp/package/dist/index.js" >"$dest/niivue.js.tmp"
mv "$dest/niivue.js.tmp" "$dest/niivue.js"
echo "$version" >"$stamp"
echo "install/niivue.sh: NiiVue $version in $dest/niivue.js" >&2
