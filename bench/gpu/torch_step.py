#!/usr/bin/env python3
"""PyTorch eager side of bench/gpu/check.sh: one network's training step,
timed as gpucheck's `fit` times the Go library's, on the same shapes.

    torch_step.py info
    torch_step.py step --device cuda --arch UNet --paper --size 128 --batch 2 --epochs 2 --steps 2

The networks are models/testdata/gen_torch.py's PyTorch definitions of the
paper's designs (the ones the Go models are checked against), built from
the same configuration (`--paper`: models.Paper, else models.Small, at
--size^3). A step is what train.Fit does: the batch copied from the host,
forward, MONAI-style DiceCE (softmax Dice over each sample and class plus
cross-entropy), backward, Adam, the loss read back. fp32 (TF32 off),
cuDNN on with benchmark mode. The first --steps steps warm up; the step
time is the median of the others, each timed to a synchronize. Prints
"RESULT {json}" lines, as gpucheck does.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models", "testdata"))
import gen_torch  # noqa: E402


def result(kind, rec):
    rec.update(kind=kind, pid=os.getpid(), time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    print("RESULT " + json.dumps(rec), flush=True)


def dice_ce(logits, target, smooth=1e-5):
    """MONAI DiceCELoss(softmax=True, to_onehot_y=True) with its defaults."""
    c = logits.shape[1]
    p = torch.softmax(logits, 1)
    onehot = F.one_hot(target[:, 0].long(), c).permute(0, 4, 1, 2, 3).to(p.dtype)
    dims = (2, 3, 4)
    inter = (p * onehot).sum(dims)
    den = p.sum(dims) + onehot.sum(dims)
    dice = 1 - (2 * inter + smooth) / (den + smooth)
    return dice.mean() + F.cross_entropy(logits, target[:, 0].long())


def info(_):
    rec = {"torch": torch.__version__, "cuda": torch.cuda.is_available()}
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        rec.update(gpu=p.name, sm=f"{p.major}.{p.minor}", memory_gib=round(p.total_memory / 2**30, 1),
                   multiprocessors=p.multi_processor_count, cudnn=torch.backends.cudnn.version(),
                   torch_cuda=torch.version.cuda)
    result("info", rec)


def step(a):
    dev = torch.device(a.device)
    torch.backends.cudnn.enabled = True
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(1)
    kw = dict(size=a.size)
    if a.channels:
        kw["channels"] = [int(c) for c in a.channels.split(",")]
    cfg = gen_torch.config(a.arch, not a.paper, **kw)
    model = gen_torch.make(cfg).to(dev).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(1)
    shape = (a.batch, 1, a.size, a.size, a.size)
    xs = [torch.randn(shape, generator=gen) for _ in range(a.steps)]
    ys = [(x > 0).float() for x in xs]
    if dev.type == "cuda":
        xs = [x.pin_memory() for x in xs]
        ys = [y.pin_memory() for y in ys]
        torch.cuda.reset_peak_memory_stats()

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    rec = {"arch": a.arch, "paper": a.paper, "size": a.size, "batch": a.batch, "channels": cfg["channels"],
           "steps_per_epoch": a.steps, "device": str(dev), "torch": torch.__version__,
           "params": sum(p.numel() for p in model.parameters())}
    losses, secs = [], []
    t_start = time.perf_counter()
    try:
        for e in range(a.epochs):
            el = []
            for s in range(a.steps):
                sync()
                t0 = time.perf_counter()
                x = xs[s].to(dev, non_blocking=True)
                y = ys[s].to(dev, non_blocking=True)
                opt.zero_grad(set_to_none=True)
                loss = dice_ce(model(x), y)
                loss.backward()
                opt.step()
                el.append(loss.item())
                sync()
                if e > 0:
                    secs.append(time.perf_counter() - t0)
            losses.append(sum(el) / len(el))
            print(f"torch {a.arch} epoch {e + 1}/{a.epochs}: loss {losses[-1]:.4f}", flush=True)
    except Exception as ex:  # out of memory, a missing op: recorded, not hidden
        rec["error"] = f"{type(ex).__name__}: {ex}"
    rec["wall_seconds"] = time.perf_counter() - t_start
    rec["epoch_loss"] = losses
    if secs:
        rec["step_seconds"] = statistics.median(secs)
        rec["step_seconds_all"] = secs
    if dev.type == "cuda":
        rec["peak_allocated_mib"] = torch.cuda.max_memory_allocated() / 2**20
        rec["peak_reserved_mib"] = torch.cuda.max_memory_reserved() / 2**20
    result("torch", rec)
    return 1 if "error" in rec else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("info")
    s = sub.add_parser("step")
    s.add_argument("--device", default="cuda")
    s.add_argument("--arch", default="UNet")
    s.add_argument("--paper", action="store_true")
    s.add_argument("--size", type=int, default=128)
    s.add_argument("--batch", type=int, default=2)
    s.add_argument("--epochs", type=int, default=2)
    s.add_argument("--steps", type=int, default=2)
    s.add_argument("--channels", default="", help="channels per level, comma-separated (default: the configuration's)")
    a = ap.parse_args()
    try:
        if a.cmd == "info":
            return info(a)
        return step(a)
    except Exception as ex:  # no GPU, a network that does not build: recorded
        result("error", {"command": " ".join(sys.argv[1:]), "error": f"{type(ex).__name__}: {ex}"})
        raise


if __name__ == "__main__":
    sys.exit(main() or 0)
