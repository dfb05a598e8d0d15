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

A notebook that sets the paper beside its rebuild names the tables in its
metadata, {"unetlab": {"paper_tables": ["table1", "table2"]}}: some cell
must then show the table titled "Table 1: the paper beside this rebuild"
(or "Table 2: ..."), list every row of the paper's table, and its paper
columns must equal the paper's values, read from the verbatim copy of the
paper's table lines in paper/testdata/ (which package paper's tests check
against the paper's text and against its Go transcription). A floor on a
rebuilt validation Dice, {"unetlab": {"table1_val_dice_above": [["Lung",
"U-net", 0.1]]}}, fails the notebook when that row's rebuilt mean is not
above it.

Before it runs a notebook, it checks the outputs the notebook ships with
(`make notebooks-render`, render.py, writes them): every code cell with a
source carries in its metadata the sha256 of the source that made its
outputs and the render's scale and date,

    "metadata": {"unetlab": {"render": {"source_sha256": "...", "scale": "render", "date": "..."}}}

the notebook carries the render's stamp ({"unetlab": {"render": {"scale": ...,
"date": ..., "seconds": ..., "commit": ...}}}), and the shipped outputs meet
the same checks as a fresh run (no error, every cell run, the expected outputs, the
paper's tables). A cell whose source changed since the render fails, named
by its number, until the notebook is rendered again. With --require-rendered
a notebook without shipped outputs fails too; --shipped-only checks the
shipped outputs and runs nothing.

The run itself starts from the notebook with its outputs cleared
(nbconvert's ClearOutputPreprocessor runs before the execution), so no
shipped output can stand in for one the run failed to make.

Prints one line per failure and a summary; exits 1 when anything failed.
"""

import argparse
import hashlib
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


PAPER_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "paper", "testdata")

# Names the paper's tables print that differ from the designs' paper names
# (models.Arch.PaperName), and the task names its text garbles in Table 2.
PAPER_NAMES = {"Unet": "U-net", "Half-Unet": "Half-UNet"}
PAPER_TASKS = {"Livon": "Liver", "Hippocompus": "Hippocampus", "mppocampus": "Hippocampus",
               "Prostato": "Prostate", "1 lostate": "Prostate", "Pananona": "Pancreas", "rancreas": "Pancreas",
               "HenetieVessel": "HepaticVessel", "nepaticvessei": "HepaticVessel"}


def mean_sd(s):
    """(mean, sd) of a printed "0.81 ± 0.03" (or "$0.82 {\\pm} 0.02$"); None for NA."""
    s = s.strip().strip("$").replace("{\\pm}", "±")
    if s in ("NA", "NA.", ""):
        return None
    m, sd = s.split("±")
    return float(m), float(sd)


def paper_table1():
    """{(dataset, design): (val, train, val FWD)} as (mean, sd) pairs or None."""
    out, dataset = {}, ""
    with open(os.path.join(PAPER_DATA, "table1.txt"), encoding="utf-8") as f:
        lines = f.read().rstrip("\n").split("\n")[2:]
    for line in lines:
        f = line.split("\t")
        dataset = f[0] or dataset
        out[(dataset, PAPER_NAMES.get(f[1], f[1]))] = (mean_sd(f[2]), mean_sd(f[5]), mean_sd(f[3]))
    return out


def paper_table2():
    """{(task, "L1"): [U-net, Swin-UNETR, Conv-Skip]} as printed."""
    with open(os.path.join(PAPER_DATA, "table2.txt"), encoding="utf-8") as f:
        rows = [line.split("\t") for line in f.read().rstrip("\n").split("\n")[1:-1]]
    # The typeset table names a three-label task on its middle line only:
    # a line without a name belongs to the next line's task when that line
    # carries the task on (a higher label), otherwise to the previous one's.
    names = [PAPER_TASKS.get(r[0], r[0]) for r in rows]
    for i, r in enumerate(rows):
        if not names[i]:
            nxt = i + 1 < len(rows) and names[i + 1] and rows[i + 1][1] > r[1]
            names[i] = names[i + 1] if nxt else names[i - 1]
    return {(names[i], r[1]): [float(x) for x in r[2:5]] for i, r in enumerate(rows)}


def table_rows(text, title):
    """The rows of the viz.Table titled title in text, as lists of cells
    (columns are at least two spaces apart); None when there is none."""
    at = text.find(title)
    if at < 0:
        return None
    rows = []
    for line in text[at:].split("\n")[2:]:
        if not line.strip():
            break
        if set(line.strip()) <= set("=-"):
            continue
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def check_paper_tables(nb, code):
    """Problems with the paper-beside-rebuild tables nb's metadata names."""
    problems = []
    want = nb.metadata.get("unetlab", {}).get("paper_tables", [])
    texts = [cell_text(c) for _, c in code]
    if "table1" in want:
        title = "Table 1: the paper beside this rebuild"
        rows = next((r for r in (table_rows(t, title) for t in texts) if r is not None), None)
        if rows is None:
            problems.append(f"notebook: no cell shows {title!r}")
        else:
            paper, seen = paper_table1(), set()
            for r in rows:
                if len(r) != 11:
                    problems.append(f"paper Table 1: row {r}: {len(r)} cells, want 11")
                    continue
                key = (r[0], r[1])
                if key not in paper:
                    if r[2] != "not in the paper":
                        problems.append(f"paper Table 1: {key}: the paper has no such row, the table shows {r[2]!r}")
                    continue
                seen.add(key)
                for col, name, k in ((2, "val. Dice", 0), (5, "train Dice", 1), (8, "val. FWD", 2)):
                    got = mean_sd(r[col]) if r[col] != "not in the paper" else "missing"
                    if got != paper[key][k]:
                        problems.append(f"paper Table 1: {key[0]} {key[1]} {name}: shown {r[col]!r}, the paper prints {paper[key][k]}")
            for key in sorted(set(paper) - seen):
                problems.append(f"paper Table 1: the paper's row {key} is missing")
            problems += check_val_dice_above(nb, rows)
    if "table2" in want:
        title = "Table 2: the paper beside this rebuild"
        rows = next((r for r in (table_rows(t, title) for t in texts) if r is not None), None)
        if rows is None:
            problems.append(f"notebook: no cell shows {title!r}")
        else:
            paper, seen = paper_table2(), set()
            for r in rows:
                key = (r[0], r[1])
                if key not in paper or len(r) != 11:
                    problems.append(f"paper Table 2: row {r}: not a row of the paper's table, or not 11 cells")
                    continue
                seen.add(key)
                shown = [float(r[2 + 3 * m]) for m in range(3)]
                if shown != paper[key]:
                    problems.append(f"paper Table 2: {key[0]} {key[1]}: shown {shown}, the paper prints {paper[key]}")
            for key in sorted(set(paper) - seen):
                problems.append(f"paper Table 2: the paper's row {key} is missing")
    return problems


def check_val_dice_above(nb, rows):
    """Problems with the floors on rebuilt validation Dice a notebook names,
    {"unetlab": {"table1_val_dice_above": [["Lung", "U-net", 0.1]]}}: the
    mean of the rebuilt column of that row of the Table 1 side by side must
    be above the floor (02: the smoke phantoms are large enough to learn)."""
    problems = []
    for dataset, design, floor in nb.metadata.get("unetlab", {}).get("table1_val_dice_above", []):
        row = next((r for r in rows if len(r) == 11 and (r[0], r[1]) == (dataset, design)), None)
        if row is None:
            problems.append(f"paper Table 1: no row {dataset} {design} to check its rebuilt validation Dice against {floor}")
            continue
        try:
            got = mean_sd(row[3])
        except ValueError:
            got = None
        if got is None or not got[0] > floor:
            problems.append(f"paper Table 1: {dataset} {design} rebuilt val. Dice {row[3]!r}, want a mean above {floor}")
    return problems


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
    problems += check_paper_tables(nb, code)
    return problems


def source_sha256(cell):
    """The hex sha256 of a cell's source, as render.py stamps it."""
    return hashlib.sha256(cell.source.encode("utf-8")).hexdigest()


def printed_scale(nb):
    """The scale a notebook's settings cell printed ("scale smoke: ..."), or None."""
    for c in nb.cells:
        if c.cell_type == "code":
            m = re.search(r"^scale (\w+)\b", cell_text(c), re.M)
            if m:
                return m.group(1)
    return None


def check_shipped(nb, require_rendered=False):
    """Problems with the outputs a notebook ships with (see the module doc)."""
    stamp = nb.metadata.get("unetlab", {}).get("render")
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    has_outputs = any(c.get("outputs") or c.get("execution_count") is not None for _, c in code)
    if not stamp and not has_outputs:
        return ["no outputs: run `make notebooks-render`"] if require_rendered else []
    if not stamp:
        return ["shipped outputs without the render's stamp (notebook metadata unetlab.render): run `make notebooks-render`"]
    problems = []
    scale = stamp.get("scale")
    for n, (i, c) in enumerate(code, 1):
        where = f"code cell {n} (cell {i + 1})"
        if not c.source.strip():
            if c.get("outputs"):
                problems.append(f"{where}: has outputs but no source")
            continue
        r = c.metadata.get("unetlab", {}).get("render")
        if not r:
            problems.append(f"{where}: shipped without a render stamp (cell metadata unetlab.render): run `make notebooks-render`")
        elif r.get("source_sha256") != source_sha256(c):
            problems.append(f"{where}: its source changed since its outputs were rendered "
                            f"(source sha256 {source_sha256(c)[:12]}, outputs made by {str(r.get('source_sha256'))[:12]}): "
                            "run `make notebooks-render`")
        elif r.get("scale") != scale or r.get("date") != stamp.get("date"):
            problems.append(f"{where}: rendered at {r.get('scale')} on {r.get('date')}, the notebook at {scale} on {stamp.get('date')}")
    shown = printed_scale(nb)
    if shown is not None and shown != scale:
        problems.append(f"the outputs print scale {shown}, the render's stamp says {scale}")
    problems += check(nb)
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
            # Run from the notebook with its outputs cleared: a cell that
            # fails to run cannot keep a shipped output.
            "--ClearOutputPreprocessor.enabled=True",
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
    ap.add_argument("--require-rendered", action="store_true",
                    help="fail a notebook that ships without outputs (make notebooks-render)")
    ap.add_argument("--shipped-only", action="store_true", help="check the shipped outputs only; run nothing")
    args = ap.parse_args()
    failed = 0
    for path in args.notebooks:
        shipped = nbformat.read(path, as_version=4)
        stamp = shipped.metadata.get("unetlab", {}).get("render")
        problems = ["shipped: " + p for p in check_shipped(shipped, args.require_rendered)]
        what = f"shipped outputs {stamp.get('scale')} {stamp.get('date')}" if stamp else "no shipped outputs"
        secs = 0
        if not args.shipped_only:
            ran, secs = run(path, args.kernel, args.budget, args.keep)
            problems += ran
            what += f"; ran {secs:.0f} s at UNETLAB_SCALE={os.environ.get('UNETLAB_SCALE', '')}"
        status = "ok" if not problems else "FAIL"
        print(f"{status} {path} ({what})", flush=True)
        for p in problems:
            print("  " + p.replace("\n", "\n    "), flush=True)
        failed += bool(problems)
    print(f"{len(args.notebooks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
