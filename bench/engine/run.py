#!/usr/bin/python3
"""Runs the Go engine (main.go) and PyTorch (torch_bench.py) alternately on
each case and prints a table of median times, Go/PyTorch ratios, GFLOP/s and
peak RSS. Each side runs in its own process (so peak RSS is its own).

    /usr/bin/python3 bench/engine/run.py [--rounds 3] [--iters 3] [--size 64] [--tags purego]

Run from the repository root. Results are also written as JSON to
bench/engine/results.json unless --no-save.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, env):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env={**os.environ, **env}).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3, help="alternating Go/PyTorch rounds per case")
    ap.add_argument("--iters", type=int, default=3, help="timed iterations per process")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--cases", default="conv,unet")
    ap.add_argument("--tags", default="", help="go build tags (purego: gonum BLAS)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="threads for both sides (GOMAXPROCS, torch.set_num_threads)")
    ap.add_argument("--no-save", action="store_true")
    a = ap.parse_args()
    binary = os.path.join(HERE, f".engine-bench-{os.getpid()}")
    build = ["go", "build", "-o", binary]
    if a.tags:
        build += ["-tags", a.tags]
    subprocess.run(build + ["./bench/engine"], check=True)
    rows = []
    for case in a.cases.split(","):
        res = {"go": [], "torch": []}
        for r in range(a.rounds):
            args = ["-case", case, "-iters", str(a.iters), "-size", str(a.size)]
            res["go"].append(run([binary] + args, {"GOMAXPROCS": str(a.threads)}))
            res["torch"].append(run([sys.executable, os.path.join(HERE, "torch_bench.py")] + args +
                                    ["-threads", str(a.threads)], {}))
            print(f"{case} round {r + 1}: go {res['go'][-1]['seconds']:.3f}s (cpu {res['go'][-1]['cpu_seconds']:.3f}s)  "
                  f"torch {res['torch'][-1]['seconds']:.3f}s (cpu {res['torch'][-1]['cpu_seconds']:.3f}s)", file=sys.stderr)
        g = statistics.median(x["seconds"] for x in res["go"])
        t = statistics.median(x["seconds"] for x in res["torch"])
        rows.append({
            "case": case, "go_s": g, "torch_s": t, "ratio": g / t,
            "go_cpu_s": statistics.median(x["cpu_seconds"] for x in res["go"]),
            "torch_cpu_s": statistics.median(x["cpu_seconds"] for x in res["torch"]),
            "go_gflops": res["go"][0]["gflop_per_iter"] / g, "torch_gflops": res["torch"][0]["gflop_per_iter"] / t,
            "go_rss_mb": max(x["peak_rss_mb"] for x in res["go"]),
            "torch_rss_mb": max(x["peak_rss_mb"] for x in res["torch"]),
            "go_backend": res["go"][0]["backend"], "threads": res["go"][0]["threads"],
            "raw": res,
        })
    os.remove(binary)
    print(f"{'case':6} {'Go s':>8} {'torch s':>8} {'Go/torch':>9} {'CPU-s ratio':>11} {'Go GF/s':>8} {'torch GF/s':>10} "
          f"{'Go RSS MB':>10} {'torch RSS MB':>12}")
    for r in rows:
        print(f"{r['case']:6} {r['go_s']:8.3f} {r['torch_s']:8.3f} {r['ratio']:9.2f} {r['go_cpu_s'] / r['torch_cpu_s']:11.2f} "
              f"{r['go_gflops']:8.1f} {r['torch_gflops']:10.1f} {r['go_rss_mb']:10.0f} {r['torch_rss_mb']:12.0f}")
    print(f"(Go: {rows[0]['go_backend']}, {rows[0]['threads']} threads; size {a.size}^3; "
          f"medians of {a.rounds} alternating rounds x {a.iters} iterations)")
    if not a.no_save:
        with open(os.path.join(HERE, "results.json"), "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
