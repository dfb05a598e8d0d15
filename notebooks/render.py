#!/usr/bin/python3
"""Render notebooks: run them and write them back with their outputs.

    render.py [--timeout SECONDS] NOTEBOOK...

Each notebook runs as check.py runs it (nbconvert, from the notebook with
its outputs cleared, on the kernel $UNETLAB_KERNEL, from its own folder, at
$UNETLAB_SCALE), in the order given (02 before 03: 03 reuses 02's grid).
When the run passes every check of check.py, each code cell is stamped
with the sha256 of its source, the scale and the date
(cell metadata unetlab.render), the notebook with the scale, the date, the
seconds the run took, the cores and the commit (notebook metadata
unetlab.render), and the notebook replaces the original atomically (a file
beside it, then os.replace). A notebook whose run fails is left as it was
and named; the exit status is then 1.

`make notebooks-render` runs it through check.sh --render (which installs
the built kernel) at UNETLAB_SCALE=render unless set otherwise.
"""

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time

import nbformat

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check  # noqa: E402


def commit():
    """git describe of the checkout the notebooks are in ("" outside git)."""
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                              cwd=os.path.dirname(os.path.abspath(__file__)), check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def stamp(nb, scale, date, seconds):
    """Stamps an executed notebook's code cells and the notebook itself."""
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        meta = c.metadata.setdefault("unetlab", {})
        if c.source.strip():
            meta["render"] = {"source_sha256": check.source_sha256(c), "scale": scale, "date": date}
        else:
            meta.pop("render", None)
        if not meta:
            del c.metadata["unetlab"]
    nb.metadata.setdefault("unetlab", {})["render"] = {
        "scale": scale, "date": date, "seconds": round(seconds), "cpus": os.cpu_count(), "commit": commit()}


def write_atomic(nb, path):
    """Writes nb to path through a file beside it and os.replace."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--timeout", type=float, default=4 * 3600, help="seconds per notebook (default 4 hours)")
    ap.add_argument("--kernel", default=os.environ.get("UNETLAB_KERNEL", "unetlab"))
    args = ap.parse_args()
    scale = os.environ.get("UNETLAB_SCALE") or "laptop"
    failed = 0
    start = time.monotonic()
    for path in args.notebooks:
        with tempfile.TemporaryDirectory() as keep:
            problems, secs = check.run(path, args.kernel, args.timeout, keep)
            if not problems:
                out = os.path.join(keep, os.path.splitext(os.path.basename(path))[0] + ".out.ipynb")
                nb = nbformat.read(out, as_version=4)
                date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                stamp(nb, scale, date, secs)
                problems = check.check_shipped(nb, require_rendered=True)
                if not problems:
                    write_atomic(nb, path)
        print(f"{'rendered' if not problems else 'FAIL, left as it was:'} {path} at {scale} in {secs:.0f} s", flush=True)
        for p in problems:
            print("  " + p.replace("\n", "\n    "), flush=True)
        failed += bool(problems)
    print(f"{len(args.notebooks) - failed} rendered, {failed} failed, {time.monotonic() - start:.0f} s in all")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
