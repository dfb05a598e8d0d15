#!/usr/bin/python3
"""Writes torch_losses.json: fixed logits, targets, loss values and input
gradients of the train package's losses, computed with PyTorch 1.13 in float64.

The losses are written out as MONAI 1.1's DiceCELoss computes them
(monai/losses/dice.py), so that MONAI itself is not needed:
  DiceLoss(softmax=True, to_onehot_y=True, include_background=..., smooth_nr=s,
           smooth_dr=s, squared_pred=False, jaccard=False, batch=False,
           reduction="mean")
  + CrossEntropyLoss(reduction="mean") on the logits (class-index target, or
  probabilities when the target is one-hot).
The authors' variant ("softmaxed") feeds softmax(logits) to
DiceCELoss(softmax=False): Dice on the probabilities, cross-entropy on them as
if they were logits.

Run with Debian's python (python3-torch): /usr/bin/python3 gen_torch.py
"""
import json
import os

import torch
import torch.nn.functional as F


def loss(x, t_idx, t_onehot, kind, wd, wce, smooth, exclude_bg, softmaxed, onehot_target):
    a = torch.softmax(x, 1) if softmaxed else x
    p = a if softmaxed else torch.softmax(a, 1)
    t = t_onehot
    total = 0.0
    if kind in ("dicece", "dice"):
        pp, tt = (p[:, 1:], t[:, 1:]) if exclude_bg else (p, t)
        dims = tuple(range(2, x.dim()))
        inter = (pp * tt).sum(dims)
        den = pp.sum(dims) + tt.sum(dims)
        dice = (1 - (2 * inter + smooth) / (den + smooth)).mean()
        total = total + wd * dice
    if kind in ("dicece", "ce"):
        target = t_onehot if onehot_target else t_idx
        total = total + wce * F.cross_entropy(a, target)
    return total


def main():
    g = torch.Generator().manual_seed(1234)
    cases = []
    shape = (2, 3, 3, 4, 5)
    specs = [
        dict(name="dicece", kind="dicece"),
        dict(name="dicece_onehot", kind="dicece", onehot=True),
        dict(name="dicece_weights", kind="dicece", wd=0.7, wce=1.3, smooth=1e-3),
        dict(name="dice", kind="dice"),
        dict(name="ce", kind="ce"),
        dict(name="dicece_nobg", kind="dicece", exclude_bg=True),
        dict(name="dicece_softmaxed", kind="dicece", softmaxed=True),
        dict(name="dice_softmaxed", kind="dice", softmaxed=True),
        dict(name="dicece_2class_3d", kind="dicece", shape=(1, 2, 4, 4, 4)),
    ]
    for spec in specs:
        shp = spec.get("shape", shape)
        x = (torch.randn(shp, generator=g, dtype=torch.float64) * 2).requires_grad_(True)
        n, c = shp[0], shp[1]
        t_idx = torch.randint(0, c, (n,) + shp[2:], generator=g)
        t_onehot = F.one_hot(t_idx, c).movedim(-1, 1).to(torch.float64)
        onehot = spec.get("onehot", False)
        l = loss(x, t_idx, t_onehot, spec["kind"], spec.get("wd", 1.0), spec.get("wce", 1.0),
                 spec.get("smooth", 1e-5), spec.get("exclude_bg", False), spec.get("softmaxed", False), onehot)
        l.backward()
        target = t_onehot if onehot else t_idx.unsqueeze(1).to(torch.float64)
        cases.append(dict(
            name=spec["name"], kind=spec["kind"],
            dice_weight=spec.get("wd", 1.0), ce_weight=spec.get("wce", 1.0),
            smooth=spec.get("smooth", 1e-5), exclude_background=spec.get("exclude_bg", False),
            softmaxed=spec.get("softmaxed", False),
            shape=list(shp), target_shape=list(target.shape),
            logits=x.detach().flatten().tolist(), target=target.flatten().tolist(),
            loss=l.item(), grad=x.grad.flatten().tolist()))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_losses.json")
    with open(out, "w") as f:
        json.dump(dict(torch=torch.__version__, cases=cases), f)
    print("wrote", out, len(cases), "cases")
    optim()


def optim():
    """torch_optim.json: Adam and AdamW trajectories on fixed gradients, and
    ReduceLROnPlateau's learning rates on a fixed sequence of losses."""
    g = torch.Generator().manual_seed(99)
    w0 = torch.randn(7, generator=g, dtype=torch.float64)
    grads = [torch.randn(7, generator=g, dtype=torch.float64) for _ in range(6)]
    runs = []
    for name, cls, wd in (("adam", torch.optim.Adam, 0.1), ("adam_paper", torch.optim.Adam, 1e-7),
                          ("adamw", torch.optim.AdamW, 0.1)):
        w = torch.nn.Parameter(w0.clone())
        opt = cls([w], lr=0.01, weight_decay=wd)
        traj = []
        for gr in grads:
            opt.zero_grad()
            w.grad = gr.clone()
            opt.step()
            traj.append(w.detach().clone().tolist())
        runs.append(dict(name=name, decoupled=cls is torch.optim.AdamW, weight_decay=wd, lr=0.01,
                         w0=w0.tolist(), grads=[x.tolist() for x in grads], traj=traj))
    values = [1.0, 0.9, 0.95, 0.9, 0.89995, 0.91, 0.92, 0.93, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75, 0.76, 0.7, 0.7]
    w = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([w], lr=1.0)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.1, patience=2)
    lrs = []
    for v in values:
        sched.step(v)
        lrs.append(opt.param_groups[0]["lr"])
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_optim.json")
    with open(out, "w") as f:
        json.dump(dict(torch=torch.__version__, adam=runs,
                       plateau=dict(factor=0.1, patience=2, lr=1.0, values=values, lrs=lrs)), f)
    print("wrote", out)


if __name__ == "__main__":
    main()
