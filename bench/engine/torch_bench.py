#!/usr/bin/python3
"""PyTorch 1.13 side of bench/engine: the same cases as main.go, one JSON
line per case (median seconds per iteration, GFLOP/s, peak RSS)."""
import argparse
import json
import resource
import time

import torch
import torch.nn as tnn
import torch.nn.functional as F


def conv_case(s):
    torch.manual_seed(1)
    x = torch.randn(1, 32, s, s, s, requires_grad=True)
    conv = tnn.Conv3d(32, 32, 3, padding=1)

    def step():
        x.grad = None
        conv.zero_grad(set_to_none=True)
        conv(x).sum().backward()

    return step, 3 * 2 * s ** 3 * 32 * 32 * 27


class UNet(tnn.Module):
    def __init__(self, ch=(16, 32, 64, 128, 256)):
        super().__init__()
        self.flops = 0
        unit = lambda cin, cout: tnn.Sequential(tnn.Conv3d(cin, cout, 3, padding=1), tnn.InstanceNorm3d(cout), tnn.ReLU())
        self.enc = tnn.ModuleList()
        cin = 1
        for c in ch:
            self.enc.append(tnn.Sequential(unit(cin, c), unit(c, c)))
            cin = c
        self.up = tnn.ModuleList([tnn.ConvTranspose3d(ch[i + 1], ch[i], 2, stride=2) for i in range(len(ch) - 1)])
        self.dec = tnn.ModuleList([tnn.Sequential(unit(2 * ch[i], ch[i]), unit(ch[i], ch[i])) for i in range(len(ch) - 1)])
        self.head = tnn.Conv3d(ch[0], 2, 1)

    def forward(self, x):
        skips = []
        for i, e in enumerate(self.enc):
            if i > 0:
                x = F.max_pool3d(x, 2)
            x = e(x)
            skips.append(x)
        for i in range(len(self.up) - 1, -1, -1):
            x = self.up[i](x)
            x = torch.cat([skips[i], x], 1)
            x = self.dec[i](x)
        return self.head(x)


def conv_flops(model, x):
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, tnn.Conv3d):
            total[0] += 2 * out.numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1] * m.kernel_size[2]
        elif isinstance(m, tnn.ConvTranspose3d):
            total[0] += 2 * inp[0].numel() * m.out_channels * m.kernel_size[0] * m.kernel_size[1] * m.kernel_size[2]

    hs = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model(x)
    for h in hs:
        h.remove()
    return total[0]


def unet_case(s):
    torch.manual_seed(1)
    model = UNet()
    x = torch.randn(1, 1, s, s, s)
    target = (x[:, 0] > 0).long()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    flops = 3 * conv_flops(model, x)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), target).backward()
        opt.step()

    return step, flops


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-case", default="conv")
    ap.add_argument("-iters", type=int, default=5)
    ap.add_argument("-size", type=int, default=64)
    ap.add_argument("-threads", type=int, default=0, help="0: torch's default")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    step, flops = {"conv": conv_case, "unet": unet_case}[a.case](a.size)
    step()  # warm-up
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    times = []
    for _ in range(a.iters):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime) / a.iters
    med = sorted(times)[len(times) // 2]
    print(json.dumps({"impl": "torch", "case": a.case, "backend": "torch " + torch.__version__,
                      "threads": torch.get_num_threads(), "seconds": med, "cpu_seconds": cpu, "all": times,
                      "gflop_per_iter": flops / 1e9, "gflop_per_s": flops / med / 1e9,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
