#!/usr/bin/python3
"""Regenerate the PyTorch fixtures of models/nn's attention tests.

Run with Debian's python3-torch (1.13): /usr/bin/python3 gen_torch.py
It writes torch_attention.json beside this file. The Swin pieces follow
MONAI 1.1 (monai/networks/nets/swin_unetr.py: window_partition,
window_reverse, compute_mask, WindowAttention), written out here because
MONAI is not packaged for Debian; the cross-attention is torch's own
nn.MultiheadAttention; the positional encoding follows the
positional-encodings package's PositionalEncoding3D.
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(20231127)
OUT = {}


def put(name, t):
    t = t.detach()
    OUT[name] = {"shape": list(t.shape), "data": t.reshape(-1).double().tolist()}


def window_partition(x, ws):
    b, d, h, w, c = x.shape
    x = x.view(b, d // ws[0], ws[0], h // ws[1], ws[1], w // ws[2], ws[2], c)
    return x.permute(0, 1, 3, 5, 2, 4, 6, 7).contiguous().view(-1, ws[0] * ws[1] * ws[2], c)


def window_reverse(windows, ws, dims):
    b, d, h, w = dims
    x = windows.view(b, d // ws[0], h // ws[1], w // ws[2], ws[0], ws[1], ws[2], -1)
    return x.permute(0, 1, 4, 2, 5, 3, 6, 7).contiguous().view(b, d, h, w, -1)


def compute_mask(dims, ws, ss):
    cnt = 0
    d, h, w = dims
    img_mask = torch.zeros((1, d, h, w, 1))
    for d in slice(-ws[0]), slice(-ws[0], -ss[0]), slice(-ss[0], None):
        for h in slice(-ws[1]), slice(-ws[1], -ss[1]), slice(-ss[1], None):
            for w in slice(-ws[2]), slice(-ws[2], -ss[2]), slice(-ss[2], None):
                img_mask[:, d, h, w, :] = cnt
                cnt += 1
    mask_windows = window_partition(img_mask, ws).squeeze(-1)
    attn_mask = mask_windows.unsqueeze(1) - mask_windows.unsqueeze(2)
    return attn_mask.masked_fill(attn_mask != 0, float(-100.0)).masked_fill(attn_mask == 0, float(0.0))


def relative_position_index(ws):
    coords = torch.stack(torch.meshgrid(torch.arange(ws[0]), torch.arange(ws[1]), torch.arange(ws[2]), indexing="ij"))
    cf = torch.flatten(coords, 1)
    rc = (cf[:, :, None] - cf[:, None, :]).permute(1, 2, 0).contiguous()
    rc[:, :, 0] += ws[0] - 1
    rc[:, :, 1] += ws[1] - 1
    rc[:, :, 2] += ws[2] - 1
    rc[:, :, 0] *= (2 * ws[1] - 1) * (2 * ws[2] - 1)
    rc[:, :, 1] *= 2 * ws[2] - 1
    return rc.sum(-1)


class WindowAttention(nn.Module):
    def __init__(self, dim, heads, ws):
        super().__init__()
        self.dim, self.num_heads, self.window_size = dim, heads, ws
        self.scale = (dim // heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(
            torch.randn((2 * ws[0] - 1) * (2 * ws[1] - 1) * (2 * ws[2] - 1), heads))
        self.register_buffer("relative_position_index", relative_position_index(ws))
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, mask):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        q = q * self.scale
        attn = q @ k.transpose(-2, -1)
        rpb = self.relative_position_bias_table[self.relative_position_index.clone()[:n, :n].reshape(-1)].reshape(n, n, -1)
        attn = attn + rpb.permute(2, 0, 1).contiguous().unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.view(b // nw, nw, self.num_heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.num_heads, n, n)
        attn = torch.softmax(attn, -1)
        x = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(x)


def posenc3d(ch, x, y, z):
    org = ch
    channels = int(np.ceil(ch / 6) * 2)
    if channels % 2:
        channels += 1
    inv_freq = 1.0 / (10000 ** (torch.arange(0, channels, 2).float() / channels))

    def get_emb(s):
        return torch.flatten(torch.stack((s.sin(), s.cos()), dim=-1), -2, -1)

    ex = get_emb(torch.einsum("i,j->ij", torch.arange(x).float(), inv_freq)).unsqueeze(1).unsqueeze(1)
    ey = get_emb(torch.einsum("i,j->ij", torch.arange(y).float(), inv_freq)).unsqueeze(1)
    ez = get_emb(torch.einsum("i,j->ij", torch.arange(z).float(), inv_freq))
    emb = torch.zeros((x, y, z, channels * 3))
    emb[:, :, :, :channels] = ex
    emb[:, :, :, channels:2 * channels] = ey
    emb[:, :, :, 2 * channels:] = ez
    return emb[:, :, :, :org].permute(3, 0, 1, 2)  # (C, D, H, W)


# Window partition and reverse, channels last.
x = torch.randn(2, 4, 6, 4, 3)
put("partition.x", x)
win = window_partition(x, (2, 3, 2))
put("partition.out", win)
put("reverse.out", window_reverse(win, (2, 3, 2), (2, 4, 6, 4)))

# Cyclic shift.
put("roll.out", torch.roll(x, shifts=(1, -2, 3), dims=(1, 2, 3)))

# Layout helpers.
y = torch.randn(2, 3, 2, 3, 4)
put("layout.x", y)
put("layout.channels_last", y.permute(0, 2, 3, 4, 1))
put("layout.tokens", y.flatten(2).transpose(1, 2))

# Relative position index and shifted-window masks.
put("rpi.2x3x4", relative_position_index((2, 3, 4)).float())
put("mask.4x6x4.w2x3x2.s1x1x1", compute_mask((4, 6, 4), (2, 3, 2), (1, 1, 1)))
put("mask.4x6x4.w2x3x2.s1x0x1", compute_mask((4, 6, 4), (2, 3, 2), (1, 0, 1)))

# Window attention (MONAI), with and without the shifted-window mask.
wa = WindowAttention(6, 2, (2, 2, 2))
with torch.no_grad():
    for p in wa.parameters():
        p.copy_(torch.randn_like(p) * 0.5)
for name, p in wa.named_parameters():
    put("wa." + name, p)
xw = torch.randn(8, 8, 6)
m = compute_mask((4, 4, 2), (2, 2, 2), (1, 1, 1))
put("wa.x", xw)
put("wa.mask", m)
put("wa.out", wa(xw, None))
put("wa.out_masked", wa(xw, m))
xw5 = torch.randn(3, 5, 6)
put("wa.x5", xw5)
put("wa.out5", wa(xw5, None))

# The attention half of a MONAI SwinTransformerBlock (forward_part1 after
# norm1): window (3, 3, 3) clipped to (3, 3, 2) on a 5x4x2 volume, shift
# (1, 1, 1) clipped to (1, 1, 0), padding to 6x6x2.
def get_window_size(x_size, window_size, shift_size):
    use_window_size, use_shift_size = list(window_size), list(shift_size)
    for i in range(len(x_size)):
        if x_size[i] <= window_size[i]:
            use_window_size[i] = x_size[i]
            use_shift_size[i] = 0
    return tuple(use_window_size), tuple(use_shift_size)


def swin_part1(attn, x, window_size, shift_size):
    b, d, h, w, c = x.shape
    ws, ss = get_window_size((d, h, w), window_size, shift_size)
    pd = (ws[0] - d % ws[0]) % ws[0]
    pb = (ws[1] - h % ws[1]) % ws[1]
    pr = (ws[2] - w % ws[2]) % ws[2]
    x = F.pad(x, (0, 0, 0, pr, 0, pb, 0, pd))
    _, dp, hp, wp, _ = x.shape
    if any(i > 0 for i in ss):
        x = torch.roll(x, shifts=(-ss[0], -ss[1], -ss[2]), dims=(1, 2, 3))
        mask = compute_mask([dp, hp, wp], ws, ss)
    else:
        mask = None
    xw = window_partition(x, ws)
    aw = attn(xw, mask)
    x = window_reverse(aw.view(-1, *(ws + (c,))), ws, [b, dp, hp, wp])
    if any(i > 0 for i in ss):
        x = torch.roll(x, shifts=ss, dims=(1, 2, 3))
    return x[:, :d, :h, :w, :].contiguous()


sw = WindowAttention(6, 2, (3, 3, 3))
with torch.no_grad():
    for p in sw.parameters():
        p.copy_(torch.randn_like(p) * 0.5)
for name, p in sw.named_parameters():
    put("swin." + name, p)
xs = torch.randn(2, 5, 4, 2, 6)
put("swin.x", xs)
put("swin.out_shifted", swin_part1(sw, xs, (3, 3, 3), (1, 1, 1)))
put("swin.out", swin_part1(sw, xs, (3, 3, 3), (0, 0, 0)))

# Cross-attention: query from one tensor, key = value from another.
mha = nn.MultiheadAttention(8, 2, batch_first=True)
with torch.no_grad():
    mha.in_proj_bias.copy_(torch.randn(24) * 0.5)
    mha.out_proj.bias.copy_(torch.randn(8) * 0.5)
for name, p in mha.named_parameters():
    put("mha." + name, p)
q = torch.randn(2, 3, 8)
kv = torch.randn(2, 5, 8)
put("mha.q", q)
put("mha.kv", kv)
put("mha.out", mha(q, kv, kv, need_weights=False)[0])

# Sinusoidal 3D positional encoding.
put("posenc.7x2x3x4", posenc3d(7, 2, 3, 4))
put("posenc.64x4x4x8", posenc3d(64, 4, 4, 8))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_attention.json")
with open(path + ".tmp", "w") as f:
    json.dump({"torch": torch.__version__, "tensors": OUT}, f, separators=(",", ":"))
    f.write("\n")
os.replace(path + ".tmp", path)
print("wrote", path, len(OUT), "tensors")
