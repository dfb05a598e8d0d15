#!/usr/bin/python3
"""Time the PyTorch side of BenchmarkWindowAttention (models/nn): shifted
window attention, forward and backward, on a (1, 28, 28, 28, 48) float32
feature map, 3 heads, window 7, shift 3, MONAI's code path."""
import time

import torch

import importlib.util
import os

spec = importlib.util.spec_from_file_location("gen", os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen_torch.py"))
src = open(spec.origin).read().split("# Window partition and reverse")[0]
ns = {}
exec(src, ns)
swin_src = open(spec.origin).read().split("def get_window_size")[1].split("sw = WindowAttention")[0]
exec("def get_window_size" + swin_src, ns)

torch.set_num_threads(2)
torch.manual_seed(1)
attn = ns["WindowAttention"](48, 3, (7, 7, 7))
x = torch.randn(1, 28, 28, 28, 48, requires_grad=True)
times = []
for i in range(6):
    t0 = time.perf_counter()
    y = ns["swin_part1"](attn, x, (7, 7, 7), (3, 3, 3))
    y.sum().backward()
    times.append(time.perf_counter() - t0)
print("torch %s threads %d: window attention fwd+bwd %.1f ms (median of last 5)" % (
    torch.__version__, torch.get_num_threads(), 1000 * sorted(times[1:])[2]))
