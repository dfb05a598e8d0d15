#!/usr/bin/env python3
"""bench/gpu/summary.py OUT: $OUT/summary.md from check.sh's results.jsonl
(and gpumem.csv where the GPU was sampled). Standard library only."""
import json
import os
import sys


def load(out):
    recs = []
    with open(os.path.join(out, "results.jsonl")) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    recs.append(json.loads(line))
                except ValueError:
                    recs.append({"kind": "unparsed", "line": line})
    mem = []
    path = os.path.join(out, "gpumem.csv")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                try:
                    t, m = line.strip().split(",")
                    mem.append((float(t), float(m)))
                except ValueError:
                    pass
    return recs, mem


def peak_mib(mem, step):
    """Peak GPU memory in use during a step, less the idle GPU's (the least
    sampled in the whole run: one process runs at a time)."""
    if not mem or "start" not in step:
        return None
    during = [m for t, m in mem if step["start"] <= t <= step["end"]]
    if not during:
        return None
    return max(during) - min(m for _, m in mem)


def fmt(x, f="%.3f"):
    return "-" if x is None else f % x


def main(out):
    recs, mem = load(out)
    steps = {r["step"]: r for r in recs if r.get("kind") == "step" and "step" in r}
    # A RESULT record belongs to the step whose record follows it.
    owner, pending = {}, []
    for i, r in enumerate(recs):
        if r.get("kind") == "step":
            for j in pending:
                owner[j] = r.get("step")
            pending = []
        else:
            pending.append(i)
    lines = ["# GPU check summary", ""]
    for r in recs:
        if r.get("kind") == "info":
            lines.append("PyTorch: " + ", ".join(f"{k} {v}" for k, v in r.items() if k not in ("kind", "pid", "time")))
    lines += ["", "## Each network's training step against the CPU engine", "",
              "| network | input | channels | pass | loss rel. err | grad rel. err (worst parameter) | CPU fallbacks | device s | CPU s |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in recs:
        if r.get("kind") == "grads":
            if "error" in r:
                lines.append(f"| {r['arch']} | {r.get('size')} | | FAIL | {r['error']} | | | | |")
                continue
            fb = str(r["fallbacks"]) + (" " + ", ".join(r["fallback_ops"]) if r["fallback_ops"] else "")
            lines.append(f"| {r['arch']} | {'x'.join(map(str, r['input']))} | {r['channels']} | {'yes' if r['pass'] else 'NO'} | "
                         f"{r['loss_rel_err']:.2e} | {r['grad_rel_err']:.2e} ({r['grad_worst_param']}) | {fb} | "
                         f"{r['device_seconds']:.3f} | {r['cpu_seconds']:.3f} |")
    go = {}
    torch = {}
    for i, r in enumerate(recs):
        if r.get("kind") in ("fit", "torch"):
            key = (r["arch"], r["size"], r["batch"], r.get("paper"))
            r["_mem"] = peak_mib(mem, steps.get(owner.get(i), {}))
            (go if r["kind"] == "fit" else torch)[key] = r
    # A Go run killed at its limit left only its epoch records: use them.
    epochs = {}
    for i, r in enumerate(recs):
        if r.get("kind") == "epoch":
            epochs.setdefault((r["arch"], r["size"], r["batch"]), []).append((i, r))
    for (arch, size, batch), es in epochs.items():
        if any(k[:3] == (arch, size, batch) for k in go):
            continue
        later = sorted(r["step_seconds"] for _, r in es if r["epoch"] > 1)
        g = {"epoch_loss": [r["loss"] for _, r in es], "error": "killed at its limit after %d epochs" % len(es)}
        if later:
            g["step_seconds"] = later[len(later) // 2]
        g["_mem"] = peak_mib(mem, steps.get(owner.get(es[0][0]), {}))
        paper = next((k[3] for k in torch if k[:3] == (arch, size, batch)), None)
        go[(arch, size, batch, paper)] = g
    lines += ["", "## Training step: the Go library (train.Fit) beside PyTorch eager", "",
              "Step time: median over the epochs after the first (Go: TrainSeconds / steps; PyTorch: each step to a "
              "synchronize). Memory: the peak GPU memory in use while the step's process ran, less the idle GPU's "
              "(nvidia-smi every 0.2 s; the CUDA context included on both sides).", "",
              "| network | config | input x batch | Go s/step | PyTorch s/step | Go / PyTorch | Go peak MiB | PyTorch peak MiB | PyTorch allocator peak MiB | losses Go | losses PyTorch |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for key in sorted(set(go) | set(torch), key=lambda k: (k[0] != "UNet", k)):
        g, t = go.get(key, {}), torch.get(key, {})
        gs, ts = g.get("step_seconds"), t.get("step_seconds")
        ratio = gs / ts if gs and ts else None
        gl = ", ".join("%.4f" % x for x in g.get("epoch_loss", [])) + (" ERROR " + g["error"] if "error" in g else "")
        tl = ", ".join("%.4f" % x for x in t.get("epoch_loss", [])) + (" ERROR " + t["error"] if "error" in t else "")
        lines.append(f"| {key[0]} | {'paper' if key[3] else 'small'} | {key[1]}^3 x {key[2]} | {fmt(gs)} | {fmt(ts)} | "
                     f"{fmt(ratio, '%.2f')} | {fmt(g.get('_mem'), '%.0f')} | {fmt(t.get('_mem'), '%.0f')} | "
                     f"{fmt(t.get('peak_allocated_mib'), '%.0f')} | {gl} | {tl} |")
    errs = [r for r in recs if r.get("kind") == "error"]
    if errs:
        lines += ["", "## Errors", ""]
        for r in errs:
            lines.append(f"- `{r.get('command')}`: {r.get('error')}")
    tests = [r for r in recs if r.get("kind") == "test"]
    if tests:
        lines += ["", "## Tests", ""]
        fails = [r for r in tests if "FAIL" in r["line"] or r["line"].startswith("panic")]
        npass = sum(1 for r in tests if r["line"].startswith("--- PASS"))
        nskip = sum(1 for r in tests if r["line"].startswith("--- SKIP"))
        lines.append(f"{npass} passed, {len(fails)} failure lines, {nskip} skipped")
        for r in fails:
            lines.append(f"- {r['step']}: `{r['line']}`")
    lines += ["", "## Steps", "", "| step | rc | seconds | note |", "|---|---|---|---|"]
    for r in recs:
        if r.get("kind") == "step":
            note = "skipped: " + r["skipped"] if "skipped" in r else ("killed at its limit" if r.get("timed_out") else "")
            lines.append(f"| {r['step']} | {r.get('rc', '-')} | {r.get('seconds', '-')} | {note} |")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1])
