#!/usr/bin/python3
"""Execute notebooks headless and check their outputs.

    check.py [--budget SECONDS] [--keep DIR] NOTEBOOK...

Each notebook runs through `jupyter nbconvert --to notebook --execute` on the
kernel named by $UNETLAB_KERNEL (default "unetlab"), from its own folder.
The check fails when nbconvert fails, when a code cell was not executed or
shows an error, when the run takes longer than the budget, or when a cell
lacks an output its metadata expects:

    "metadata": {"unetlab": {"expect": ["image/png", "re:Dice \\d\\.\\d+"]}}

An entry that is a MIME type ("image/png", "text/html") needs a display or
result of that type; "re:PATTERN" needs the cell's text (streams and
text/plain) to match the Python regular expression PATTERN. A notebook may
name further expectations in its own metadata under "unetlab" as
{"expect_any": [...]}: each must be met by at least one cell.

Prints one line per failure and a summary; exits 1 when anything failed.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import nbformat


def cell_text(cell):
    """The text a cell shows: streams, text/plain of results and errors."""
    out = []
    for o in cell.get("outputs", []):
        if o.output_type == "stream":
            out.append(o.text)
        elif o.output_type in ("execute_result", "display_data"):
            out.append(o.data.get("text/plain", ""))
        elif o.output_type == "error":
            out.append(f"{o.ename}: {o.evalue}")
    return "".join(out)


def mime_types(cell):
    kinds = set()
    for o in cell.get("outputs", []):
        if o.output_type in ("execute_result", "display_data"):
            kinds.update(o.data.keys())
    return kinds


def met(expect, cell):
    if expect.startswith("re:"):
        return re.search(expect[3:], cell_text(cell)) is not None
    return expect in mime_types(cell)


def check(nb):
    """Returns the list of problems of an executed notebook."""
    problems = []
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    seen_error = False
    for n, (i, c) in enumerate(code, 1):
        where = f"code cell {n} (cell {i + 1})"
        errors = [o for o in c.get("outputs", []) if o.output_type == "error"]
        for e in errors:
            if not seen_error:
                tb = "\n".join(e.get("traceback", []))[-1500:]
                problems.append(f"{where}: error {e.ename}: {e.evalue}\n{tb}")
            else:  # most likely a consequence of the first error: one line
                problems.append(f"{where}: error {e.ename}: {e.evalue.splitlines()[0] if e.evalue else ''}")
            seen_error = True
        if c.get("execution_count") is None and c.source.strip():
            problems.append(f"{where}: not executed")
        for want in c.metadata.get("unetlab", {}).get("expect", []):
            if not met(want, c):
                got = sorted(mime_types(c))
                problems.append(f"{where}: expected {want!r}; outputs {got}, text:\n{cell_text(c)[-800:]}")
    for want in nb.metadata.get("unetlab", {}).get("expect_any", []):
        if not any(met(want, c) for _, c in code):
            problems.append(f"notebook: no cell shows {want!r}")
    return problems


def run(path, kernel, budget, keep):
    """Executes path; returns (problems, seconds)."""
    path = os.path.abspath(path)
    name = os.path.splitext(os.path.basename(path))[0]
    with tempfile.TemporaryDirectory() as tmp:
        outdir = keep or tmp
        os.makedirs(outdir, exist_ok=True)
        out = os.path.join(outdir, name + ".out.ipynb")
        cmd = [
            sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute",
            f"--ExecutePreprocessor.kernel_name={kernel}",
            f"--ExecutePreprocessor.timeout={int(budget)}",
            "--allow-errors",  # run every cell, so that all faults are reported
            "--output-dir", outdir, "--output", os.path.basename(out), path,
        ]
        start = time.monotonic()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=budget + 60,
                                  cwd=os.path.dirname(path))
        except subprocess.TimeoutExpired:
            return [f"nbconvert still running after {budget + 60:.0f} s"], time.monotonic() - start
        secs = time.monotonic() - start
        problems = []
        if not os.path.exists(out):
            return [f"nbconvert failed (exit {proc.returncode}), no output notebook:\n{proc.stderr[-3000:]}"], secs
        nb = nbformat.read(out, as_version=4)
        problems = check(nb)
        if proc.returncode != 0 and not problems:
            problems.append(f"nbconvert exit {proc.returncode}:\n{proc.stderr[-3000:]}")
        if secs > budget:
            problems.append(f"took {secs:.0f} s, budget {budget:.0f} s")
        return problems, secs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--budget", type=float, default=300, help="seconds per notebook (default 300)")
    ap.add_argument("--keep", help="write the executed notebooks into this folder")
    ap.add_argument("--kernel", default=os.environ.get("UNETLAB_KERNEL", "unetlab"))
    args = ap.parse_args()
    failed = 0
    for path in args.notebooks:
        problems, secs = run(path, args.kernel, args.budget, args.keep)
        status = "ok" if not problems else "FAIL"
        print(f"{status} {path} ({secs:.0f} s, UNETLAB_SCALE={os.environ.get('UNETLAB_SCALE', '')})", flush=True)
        for p in problems:
            print("  " + p.replace("\n", "\n    "), flush=True)
        failed += bool(problems)
    print(f"{len(args.notebooks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
