#!/usr/bin/python3
"""Reference parameter counts and thop-style MAC counts for package models.

Run with Debian's python3 (python3-torch 1.13, no MONAI, no thop):

    /usr/bin/python3 models/testdata/gen_torch.py > models/testdata/torch_counts.json

The script holds PyTorch definitions of the eight architectures of the paper,
written from ../shared/paper/PROTOCOL.md with the module names of the authors'
code (encoder.conv_blocks.i.conv_block_1.convolution, ...) and, for
SwinUNETR, of MONAI 1.1. For every configuration it prints the parameter
count, every state tensor (name, shape, buffer or not) and, where a forward
pass is affordable, the multiply-accumulates counted with thop 0.1.1's rules
by forward hooks on leaf modules:

  Conv3d, ConvTranspose3d: out_numel * (in_channels // groups) * prod(kernel)
  InstanceNorm3d, BatchNorm3d, LayerNorm: 2 * in_numel, doubled with affine
  Linear (exact type, as thop looks up type(m)): in_features * out_numel
  everything else: 0

The safetensors helpers at the end write and read the format by hand (torch
1.13 has no safetensors package). The Go tests also call

    gen_torch.py --write-safetensors DIR KEY...   (weights, input, output per key)
    gen_torch.py --check-safetensors WEIGHTS IO OUT KEY

to check that the Go networks reproduce these PyTorch definitions and that
PyTorch loads weights saved by Go (models/torch_test.go).
"""
import itertools
import json
import math
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

# --------------------------------------------------------------------------
# The authors' convolutional building blocks (models/blocks/conv_blocks.py).


def make_norm(kind, affine, ch):
    if kind == "instance":
        return nn.InstanceNorm3d(ch, affine=affine)
    if kind == "batch":
        return nn.BatchNorm3d(ch)
    return nn.Identity()


def make_act(kind, slope):
    if kind == "relu":
        return nn.ReLU()
    if kind == "gelu":
        return nn.GELU()
    return nn.LeakyReLU(slope)


class Conv3DNormActivation(nn.Module):
    def __init__(self, cin, cout, k, stride, padding, cfg, groups=1, norm=None, act=None):
        super().__init__()
        self.convolution = nn.Conv3d(cin, cout, k, stride=stride, padding=padding, groups=groups)
        self.normalization = norm if norm is not None else make_norm(cfg["norm"], cfg["affine"], cout)
        self.activation = act if act is not None else make_act(cfg["act"], cfg["slope"])

    def forward(self, x):
        return self.activation(self.normalization(self.convolution(x)))


def unit(cin, cout, cfg):
    return Conv3DNormActivation(cin, cout, 3, 1, 1, cfg)


class DoubleConvBlock(nn.Module):
    def __init__(self, cin, cout, cfg):
        super().__init__()
        self.conv_block_1 = unit(cin, cout, cfg)
        self.conv_block_2 = unit(cout, cout, cfg)

    def forward(self, x):
        return self.conv_block_2(self.conv_block_1(x))


class ResConvBlockUnetr(nn.Module):  # ResBlock1
    def __init__(self, cin, cout, cfg):
        super().__init__()
        self.conv_block_1 = unit(cin, cout, cfg)
        self.conv_block_2 = unit(cout, cout, cfg)
        self.skip_resize = nn.Conv3d(cin, cout, 1)

    def forward(self, x):
        s = self.skip_resize(x)
        return self.conv_block_2(self.conv_block_1(x)) + s


class ResConvBlock(nn.Module):  # ResBlock2
    def __init__(self, cin, cout, cfg):
        super().__init__()
        self.conv_block_1 = unit(cin, cout, cfg)
        self.conv_block_2 = unit(cout, cout, cfg)
        self.conv_block_3 = unit(cout, cout, cfg)

    def forward(self, x):
        y = self.conv_block_1(x)
        return self.conv_block_3(self.conv_block_2(y)) + y


class BaseConvNextBlock(nn.Module):  # the authors' ConvNeXt
    def __init__(self, ch, cfg):
        super().__init__()
        k, e = cfg["cn_kernel"], cfg["cn_expansion"]
        self.depth_conv = nn.Conv3d(ch, ch, k, padding=k // 2, groups=ch)
        self.normalization = make_norm(cfg["norm"], cfg["affine"], ch)
        self.conv1 = nn.Conv3d(ch, e * ch, 1)
        self.activation = make_act(cfg["act"], cfg["slope"])
        self.conv2 = nn.Conv3d(e * ch, ch, 1)

    def forward(self, x):
        y = self.conv2(self.activation(self.conv1(self.normalization(self.depth_conv(x)))))
        return y + x


class OriginalConvNextBlock(nn.Module):  # Liu et al. 2022, in 3D
    def __init__(self, ch, cfg):
        super().__init__()
        k, e = cfg["cn_kernel"], cfg["cn_expansion"]
        self.dwconv = nn.Conv3d(ch, ch, k, padding=k // 2, groups=ch)
        self.norm = nn.LayerNorm(ch, eps=1e-6)
        self.pwconv1 = nn.Linear(ch, e * ch)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(e * ch, ch)
        self.gamma = nn.Parameter(cfg["cn_scale"] * torch.ones(ch))

    def forward(self, x):
        y = self.dwconv(x).permute(0, 2, 3, 4, 1)
        y = self.pwconv2(self.act(self.pwconv1(self.norm(y)))) * self.gamma
        return y.permute(0, 4, 1, 2, 3) + x


class ConvNextBLock(nn.Module):
    def __init__(self, cin, cout, cfg):
        super().__init__()
        self.resize = nn.Conv3d(cin, cout, 1)
        if cfg["cn_variant"] == "original":
            self.convnext = OriginalConvNextBlock(cout, cfg)
        else:
            self.convnext = BaseConvNextBlock(cout, cfg)

    def forward(self, x):
        return self.convnext(self.resize(x))


BLOCKS = {
    "UNet": DoubleConvBlock,
    "ResBlock1": ResConvBlockUnetr,
    "ResBlock2": ResConvBlock,
    "ConvNeXt": ConvNextBLock,
    "ConvSkip": DoubleConvBlock,
    "ConvSkipResBlock2": ResConvBlock,
    "TransUNet": DoubleConvBlock,
    "HalfUNet": DoubleConvBlock,
}

# --------------------------------------------------------------------------
# Encoder, decoder and the U-net family.


class ConvEncoder(nn.Module):
    def __init__(self, cin, chans, block, cfg):
        super().__init__()
        self.conv_blocks = nn.ModuleList()
        self.downscaling_layers = nn.ModuleList()
        for i, c in enumerate(chans):
            self.conv_blocks.append(block(cin, c, cfg))
            cin = c
            if i < len(chans) - 1:
                self.downscaling_layers.append(nn.MaxPool3d(2))

    def forward(self, x):
        skips = []
        for i, blk in enumerate(self.conv_blocks):
            x = blk(x)
            if i < len(self.conv_blocks) - 1:
                skips.append(x)
                x = self.downscaling_layers[i](x)
        return x, skips


class TransposeConv3dUpsample(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.transpose_conv = nn.ConvTranspose3d(cin, cout, k, stride=k)

    def forward(self, x):
        return self.transpose_conv(x)


class InterpolateUpsample(nn.Module):
    def __init__(self, mode):
        super().__init__()
        self.mode = mode

    def forward(self, x):
        return F.interpolate(x, scale_factor=2, mode=self.mode)


def sinusoid3d(x):
    """PositionalEncodingPermute3D of the positional-encodings package."""
    b, orig, d, h, w = x.shape
    ch = int(math.ceil(orig / 6) * 2)
    if ch % 2:
        ch += 1
    inv = 1.0 / (10000 ** (torch.arange(0, ch, 2).float() / ch))

    def emb(n):
        s = torch.einsum("i,j->ij", torch.arange(n).float(), inv)
        return torch.stack((s.sin(), s.cos()), dim=-1).flatten(-2)

    e = torch.zeros((d, h, w, ch * 3))
    e[:, :, :, :ch] = emb(d)[:, None, None, :]
    e[:, :, :, ch:2 * ch] = emb(h)[None, :, None, :]
    e[:, :, :, 2 * ch:] = emb(w)[None, None, :, :]
    return e[None, :, :, :, :orig].permute(0, 4, 1, 2, 3).expand(b, -1, -1, -1, -1).to(x.dtype)


class PosEnc(nn.Module):
    def forward(self, x):
        return sinusoid3d(x)


class VisionMultiheadAttention(nn.Module):
    def __init__(self, embed, heads):
        super().__init__()
        self.query_pos_encoder = PosEnc()
        self.key_val_pos_encoder = PosEnc()
        self.multihead_attention_block = nn.MultiheadAttention(embed, heads, batch_first=True)

    def forward(self, q, kv):
        shape = q.shape
        q = q + self.query_pos_encoder(q)
        kv = kv + self.key_val_pos_encoder(kv)
        q = q.flatten(2).transpose(1, 2)
        kv = kv.flatten(2).transpose(1, 2)
        o, _ = self.multihead_attention_block(q, kv, kv)
        return o.transpose(1, 2).reshape(shape)


class PatchifyVisionMultiheadAttention(nn.Module):
    def __init__(self, skip_ch, dec_ch, patch, cfg):
        super().__init__()
        e = cfg["embed"]
        self.query_decoder = cfg["query"] == "decoder"
        self.patch_embed_skip = Conv3DNormActivation(skip_ch, e, patch, patch, 0, cfg,
                                                     norm=nn.BatchNorm3d(e), act=nn.Identity())
        self.patch_embed_decoder = Conv3DNormActivation(dec_ch, e, patch, patch, 0, cfg,
                                                        norm=nn.BatchNorm3d(e), act=nn.Identity())
        self.vision_attention = VisionMultiheadAttention(e, cfg["heads"])
        k = 2 * patch if self.query_decoder else patch
        self.upscale_attention = TransposeConv3dUpsample(e, skip_ch, k)
        self.normalization = nn.BatchNorm3d(skip_ch)

    def forward(self, skip, dec):
        s = self.patch_embed_skip(skip)
        d = self.patch_embed_decoder(dec)
        if self.query_decoder:
            # the positional encoders keep their roles: query, then key/value
            o = self.vision_attention(d, s)
        else:
            o = self.vision_attention(s, d)
        return self.normalization(self.upscale_attention(o) + skip)


class ConvDecoder(nn.Module):
    def __init__(self, chans, block, cfg, attention=False, sizes=None):
        super().__init__()
        self.skip_add = cfg["skip"] == "add"
        self.upscaling_layers = nn.ModuleList()
        self.conv_blocks = nn.ModuleList()
        if attention:
            self.attention_blocks = nn.ModuleList()
        cin = chans[-1]
        for j in range(len(chans) - 1):
            level = len(chans) - 2 - j
            c = chans[level]
            if attention:
                patch = sizes[level] // cfg["tokens"]
                self.attention_blocks.append(PatchifyVisionMultiheadAttention(c, cin, patch, cfg))
            if cfg["up"] == "convtranspose":
                self.upscaling_layers.append(TransposeConv3dUpsample(cin, c, 2))
                upc = c
            else:
                self.upscaling_layers.append(InterpolateUpsample(cfg["up"]))
                upc = cin
            bin = upc if self.skip_add else upc + c
            self.conv_blocks.append(block(bin, c, cfg))
            cin = c

    def forward(self, x, skips):
        for j in range(len(self.conv_blocks)):
            skip = skips[len(skips) - 1 - j]
            if hasattr(self, "attention_blocks"):
                skip = self.attention_blocks[j](skip, x)
            x = self.upscaling_layers[j](x)
            x = x + skip if self.skip_add else torch.cat([skip, x], dim=1)
            x = self.conv_blocks[j](x)
        return x


class ConvSkipBloc(nn.Module):
    def __init__(self, chans, block, cfg, leak):
        super().__init__()
        self.leak = leak
        self.modif_skip = nn.ModuleList([block(c, c, cfg) for c in chans[:-1]])

    def forward(self, skips):
        out = []
        for blk, s in zip(self.modif_skip, skips):
            y = blk(s)
            out.append(y + s if self.leak else y)
        return out


class UNetFamily(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        arch, chans = cfg["arch"], cfg["channels"]
        block = BLOCKS[arch]
        self.encoder = ConvEncoder(cfg["in"], chans, block, cfg)
        if arch in ("ConvSkip", "ConvSkipResBlock2"):
            self.modify_skips = ConvSkipBloc(chans, block, cfg, leak=arch == "ConvSkip")
        sizes = [cfg["size"] >> i for i in range(len(chans))]
        self.decoder = ConvDecoder(chans, block, cfg, attention=arch == "TransUNet", sizes=sizes)
        self.output_layer = nn.Conv3d(chans[0], cfg["classes"], 1)

    def forward(self, x):
        x, skips = self.encoder(x)
        if hasattr(self, "modify_skips"):
            skips = self.modify_skips(skips)
        return self.output_layer(self.decoder(x, skips))


class HalfDecoder(nn.Module):
    def __init__(self, chans, cfg):
        super().__init__()
        self.upscaling_layers = nn.ModuleList()
        for j in range(len(chans) - 1):
            level = len(chans) - 2 - j
            self.upscaling_layers.append(TransposeConv3dUpsample(chans[level + 1], chans[level], 2))
        c0 = chans[0]
        self.resize = nn.Conv3d(c0, 2 * c0, 1)
        self.conv_blocks = nn.ModuleList([DoubleConvBlock(2 * c0, 2 * c0, cfg), DoubleConvBlock(2 * c0, c0, cfg)])

    def forward(self, x, skips):
        for j, up in enumerate(self.upscaling_layers):
            x = up(x) + skips[len(skips) - 1 - j]
        x = self.resize(x)
        for blk in self.conv_blocks:
            x = blk(x)
        return x


class HalfUNetAuthors(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        chans = cfg["channels"]
        self.encoder = ConvEncoder(cfg["in"], chans, DoubleConvBlock, cfg)
        self.decoder = HalfDecoder(chans, cfg)
        self.output_layer = nn.Conv3d(chans[0], cfg["classes"], 1)

    def forward(self, x):
        x, skips = self.encoder(x)
        return self.output_layer(self.decoder(x, skips))


class Cheap(nn.Module):
    def __init__(self, ch, cfg):
        super().__init__()
        self.convolution = nn.Conv3d(ch, ch, 3, padding=1, groups=ch)
        self.normalization = make_norm(cfg["norm"], cfg["affine"], ch)
        self.activation = make_act(cfg["act"], cfg["slope"])

    def forward(self, x):
        return self.activation(self.normalization(self.convolution(x)))


class Ghost(nn.Module):
    def __init__(self, cin, width, cfg):
        super().__init__()
        self.primary = unit(cin, width // 2, cfg)
        self.cheap = Cheap(width // 2, cfg)

    def forward(self, x):
        a = self.primary(x)
        return torch.cat([a, self.cheap(a)], dim=1)


class GhostBlock(nn.Module):
    def __init__(self, cin, width, cfg):
        super().__init__()
        self.ghost_1 = Ghost(cin, width, cfg)
        self.ghost_2 = Ghost(width, width, cfg)

    def forward(self, x):
        return self.ghost_2(self.ghost_1(x))


class LuEncoder(nn.Module):
    def __init__(self, cin, levels, width, cfg):
        super().__init__()
        self.conv_blocks = nn.ModuleList()
        self.downscaling_layers = nn.ModuleList([nn.MaxPool3d(2) for _ in range(levels - 1)])
        for i in range(levels):
            self.conv_blocks.append(GhostBlock(cin if i == 0 else width, width, cfg))


class LuDecoder(nn.Module):
    def __init__(self, width, cfg):
        super().__init__()
        self.ghost_1 = Ghost(width, width, cfg)
        self.ghost_2 = Ghost(width, width, cfg)


class HalfUNetLu(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        w, levels = cfg["width"], len(cfg["channels"])
        self.mode = "trilinear" if cfg["up"] == "convtranspose" else cfg["up"]
        self.encoder = LuEncoder(cfg["in"], levels, w, cfg)
        self.decoder = LuDecoder(w, cfg)
        self.output_layer = nn.Conv3d(w, cfg["classes"], 1)

    def forward(self, x):
        fused = None
        for i, blk in enumerate(self.encoder.conv_blocks):
            if i > 0:
                x = self.encoder.downscaling_layers[i - 1](x)
            x = blk(x)
            if i == 0:
                fused = x
            else:
                fused = fused + F.interpolate(x, scale_factor=2 ** i, mode=self.mode)
        fused = self.decoder.ghost_2(self.decoder.ghost_1(fused))
        return self.output_layer(fused)


# --------------------------------------------------------------------------
# SwinUNETR as MONAI 1.1 builds it.


def window_partition(x, ws):
    b, d, h, w, c = x.shape
    x = x.view(b, d // ws[0], ws[0], h // ws[1], ws[1], w // ws[2], ws[2], c)
    return x.permute(0, 1, 3, 5, 2, 4, 6, 7).contiguous().view(-1, ws[0] * ws[1] * ws[2], c)


def window_reverse(windows, ws, dims):
    b, d, h, w = dims
    x = windows.view(b, d // ws[0], h // ws[1], w // ws[2], ws[0], ws[1], ws[2], -1)
    return x.permute(0, 1, 4, 2, 5, 3, 6, 7).contiguous().view(b, d, h, w, -1)


def get_window_size(x_size, window_size, shift_size):
    ws, ss = list(window_size), list(shift_size)
    for i in range(len(x_size)):
        if x_size[i] <= window_size[i]:
            ws[i] = x_size[i]
            ss[i] = 0
    return tuple(ws), tuple(ss)


def compute_mask(dims, ws, ss):
    cnt = 0
    d, h, w = dims
    img = torch.zeros((1, d, h, w, 1))
    for a in slice(-ws[0]), slice(-ws[0], -ss[0]), slice(-ss[0], None):
        for b in slice(-ws[1]), slice(-ws[1], -ss[1]), slice(-ss[1], None):
            for c in slice(-ws[2]), slice(-ws[2], -ss[2]), slice(-ss[2], None):
                img[:, a, b, c, :] = cnt
                cnt += 1
    mw = window_partition(img, ws).squeeze(-1)
    m = mw.unsqueeze(1) - mw.unsqueeze(2)
    return m.masked_fill(m != 0, float(-100.0)).masked_fill(m == 0, float(0.0))


class WindowAttention(nn.Module):
    def __init__(self, dim, heads, window):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        w = window
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * w - 1) ** 3, heads))
        coords = torch.stack(torch.meshgrid(torch.arange(w), torch.arange(w), torch.arange(w), indexing="ij"))
        cf = torch.flatten(coords, 1)
        rel = (cf[:, :, None] - cf[:, None, :]).permute(1, 2, 0).contiguous()
        rel[:, :, 0] += w - 1
        rel[:, :, 1] += w - 1
        rel[:, :, 2] += w - 1
        rel[:, :, 0] *= (2 * w - 1) * (2 * w - 1)
        rel[:, :, 1] *= 2 * w - 1
        self.register_buffer("relative_position_index", rel.sum(-1))
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)
        self.softmax = nn.Softmax(dim=-1)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def forward(self, x, mask):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        attn = q @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index.clone()[:n, :n].reshape(-1)].reshape(n, n, -1)
        attn = attn + bias.permute(2, 0, 1).contiguous().unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.view(b // nw, nw, self.heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.heads, n, n)
        attn = self.softmax(attn)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class MLPBlock(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.linear1 = nn.Linear(dim, hidden)
        self.linear2 = nn.Linear(hidden, dim)
        self.fn = nn.GELU()

    def forward(self, x):
        return self.linear2(self.fn(self.linear1(x)))


class SwinTransformerBlock(nn.Module):
    def __init__(self, dim, heads, window, shift, mlp_ratio):
        super().__init__()
        self.window_size, self.shift_size = (window,) * 3, (shift,) * 3
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, heads, window)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLPBlock(dim, dim * mlp_ratio)

    def forward(self, x, mask):
        shortcut = x
        x = self.norm1(x)
        b, d, h, w, c = x.shape
        ws, ss = get_window_size((d, h, w), self.window_size, self.shift_size)
        pd, ph, pw = [(ws[i] - s % ws[i]) % ws[i] for i, s in enumerate((d, h, w))]
        x = F.pad(x, (0, 0, 0, pw, 0, ph, 0, pd))
        _, dp, hp, wp, _ = x.shape
        if any(i > 0 for i in ss):
            x = torch.roll(x, shifts=(-ss[0], -ss[1], -ss[2]), dims=(1, 2, 3))
            m = mask
        else:
            m = None
        a = self.attn(window_partition(x, ws), m).view(-1, *(ws + (c,)))
        x = window_reverse(a, ws, [b, dp, hp, wp])
        if any(i > 0 for i in ss):
            x = torch.roll(x, shifts=ss, dims=(1, 2, 3))
        x = x[:, :d, :h, :w, :].contiguous()
        x = shortcut + x
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    def __init__(self, dim, legacy):
        super().__init__()
        self.legacy = legacy
        self.reduction = nn.Linear(8 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(8 * dim)

    def forward(self, x):
        if self.legacy:  # MONAI 1.1 PatchMerging (neighbours 2 and 3 taken twice)
            parts = [x[:, 0::2, 0::2, 0::2], x[:, 1::2, 0::2, 0::2], x[:, 0::2, 1::2, 0::2], x[:, 0::2, 0::2, 1::2],
                     x[:, 1::2, 0::2, 1::2], x[:, 0::2, 1::2, 0::2], x[:, 0::2, 0::2, 1::2], x[:, 1::2, 1::2, 1::2]]
        else:  # PatchMergingV2
            parts = [x[:, i::2, j::2, k::2] for i, j, k in itertools.product(range(2), range(2), range(2))]
        return self.reduction(self.norm(torch.cat(parts, -1)))


class BasicLayer(nn.Module):
    def __init__(self, dim, depth, heads, window, mlp_ratio, legacy):
        super().__init__()
        self.window = window
        self.blocks = nn.ModuleList([
            SwinTransformerBlock(dim, heads, window, 0 if i % 2 == 0 else window // 2, mlp_ratio) for i in range(depth)])
        self.downsample = PatchMerging(dim, legacy)

    def forward(self, x):
        b, c, d, h, w = x.shape
        ws, ss = get_window_size((d, h, w), (self.window,) * 3, (self.window // 2,) * 3)
        x = x.permute(0, 2, 3, 4, 1)
        dims = [int(math.ceil(s / ws[i])) * ws[i] for i, s in enumerate((d, h, w))]
        mask = compute_mask(dims, ws, ss)
        for blk in self.blocks:
            x = blk(x, mask)
        return self.downsample(x).permute(0, 4, 1, 2, 3)


class PatchEmbed(nn.Module):
    def __init__(self, cin, dim, patch):
        super().__init__()
        self.proj = nn.Conv3d(cin, dim, patch, stride=patch)

    def forward(self, x):
        return self.proj(x)


def proj_out(x):
    x = x.permute(0, 2, 3, 4, 1)
    x = F.layer_norm(x, [x.shape[-1]])
    return x.permute(0, 4, 1, 2, 3)


class SwinTransformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        fs = cfg["feature"]
        self.patch_embed = PatchEmbed(cfg["in"], fs, 2)
        for i in range(4):
            layer = nn.ModuleList([BasicLayer(fs << i, cfg["depths"][i], cfg["swin_heads"][i], cfg["window"], 4, cfg["legacy"])])
            setattr(self, "layers%d" % (i + 1), layer)

    def forward(self, x):
        x = self.patch_embed(x)
        outs = [proj_out(x)]
        for i in range(4):
            x = getattr(self, "layers%d" % (i + 1))[0](x)
            outs.append(proj_out(x))
        return outs


class ConvNorm(nn.Module):  # MONAI Convolution(conv_only=True): a Sequential with "conv"
    def __init__(self, cin, cout, k, transposed=False, bias=False):
        super().__init__()
        if transposed:
            self.conv = nn.ConvTranspose3d(cin, cout, k, stride=k, bias=bias)
        else:
            self.conv = nn.Conv3d(cin, cout, k, padding=k // 2, bias=bias)

    def forward(self, x):
        return self.conv(x)


class UnetResBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = ConvNorm(cin, cout, 3)
        self.conv2 = ConvNorm(cout, cout, 3)
        self.lrelu = nn.LeakyReLU(0.01)
        self.norm1 = nn.InstanceNorm3d(cout)
        self.norm2 = nn.InstanceNorm3d(cout)
        if cin != cout:
            self.conv3 = ConvNorm(cin, cout, 1)
            self.norm3 = nn.InstanceNorm3d(cout)

    def forward(self, x):
        r = x
        y = self.lrelu(self.norm1(self.conv1(x)))
        y = self.norm2(self.conv2(y))
        if hasattr(self, "conv3"):
            r = self.norm3(self.conv3(r))
        return self.lrelu(y + r)


class UnetrBasicBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.layer = UnetResBlock(cin, cout)

    def forward(self, x):
        return self.layer(x)


class UnetrUpBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.transp_conv = ConvNorm(cin, cout, 2, transposed=True)
        self.conv_block = UnetResBlock(2 * cout, cout)

    def forward(self, x, skip):
        return self.conv_block(torch.cat((self.transp_conv(x), skip), dim=1))


class UnetOutBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = ConvNorm(cin, cout, 1, bias=True)

    def forward(self, x):
        return self.conv(x)


class SwinUNETR(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        fs, cin = cfg["feature"], cfg["in"]
        self.swinViT = SwinTransformer(cfg)
        self.encoder1 = UnetrBasicBlock(cin, fs)
        self.encoder2 = UnetrBasicBlock(fs, fs)
        self.encoder3 = UnetrBasicBlock(2 * fs, 2 * fs)
        self.encoder4 = UnetrBasicBlock(4 * fs, 4 * fs)
        self.encoder10 = UnetrBasicBlock(16 * fs, 16 * fs)
        self.decoder5 = UnetrUpBlock(16 * fs, 8 * fs)
        self.decoder4 = UnetrUpBlock(8 * fs, 4 * fs)
        self.decoder3 = UnetrUpBlock(4 * fs, 2 * fs)
        self.decoder2 = UnetrUpBlock(2 * fs, fs)
        self.decoder1 = UnetrUpBlock(fs, fs)
        self.out = UnetOutBlock(fs, cfg["classes"])

    def forward(self, x):
        hs = self.swinViT(x)
        enc0 = self.encoder1(x)
        enc1 = self.encoder2(hs[0])
        enc2 = self.encoder3(hs[1])
        enc3 = self.encoder4(hs[2])
        dec4 = self.encoder10(hs[4])
        dec3 = self.decoder5(dec4, hs[3])
        dec2 = self.decoder4(dec3, enc3)
        dec1 = self.decoder3(dec2, enc2)
        dec0 = self.decoder2(dec1, enc1)
        return self.out.forward(self.decoder1(dec0, enc0))


# --------------------------------------------------------------------------
# Configurations (mirroring models.Paper and models.Small) and counting.

PAPER = [32, 64, 128, 256, 380, 512]
SMALL = [8, 16, 32, 64]


def config(arch, small, **kw):
    cfg = dict(arch=arch, **{"in": 1}, classes=2, channels=SMALL if small else PAPER,
               size=(64 if arch == "SwinUNETR" else 32) if small else 128,
               norm="instance", affine=False, act="leakyrelu", slope=0.01, up="convtranspose", skip="concat",
               cn_variant="authors", cn_kernel=3, cn_expansion=3, cn_scale=1e-6,
               query="skip", tokens=8, embed=64, heads=8, halfunet="authors",
               feature=12 if small else 48, depths=[2, 2, 2, 2], swin_heads=[3, 6, 12, 24], window=7, legacy=True)
    cfg.update(kw)
    if cfg["cn_variant"] == "original":
        cfg.setdefault("cn_kernel", 7)
    cfg["width"] = 2 * cfg["channels"][0]
    return cfg


def make(cfg):
    if cfg["arch"] == "SwinUNETR":
        return SwinUNETR(cfg)
    if cfg["arch"] == "HalfUNet":
        return HalfUNetLu(cfg) if cfg["halfunet"] == "lu" else HalfUNetAuthors(cfg)
    return UNetFamily(cfg)


def thop_macs(model, x):
    """Multiply-accumulates by thop 0.1.1's rules, per leaf module name."""
    per = {}

    def hook(name):
        def f(m, inp, out):
            t = type(m)
            n = 0
            if t in (nn.Conv3d, nn.ConvTranspose3d):
                n = out.numel() * (m.in_channels // m.groups) * math.prod(m.weight.shape[2:])
            elif t in (nn.InstanceNorm3d, nn.BatchNorm3d, nn.LayerNorm):
                n = 2 * inp[0].numel()
                if getattr(m, "affine", False) or getattr(m, "elementwise_affine", False):
                    n *= 2
            elif t is nn.Linear:
                n = m.in_features * out.numel()
            per[name] = per.get(name, 0) + int(n)
        return f

    hs = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if len(list(m.children())) == 0]
    with torch.no_grad():
        out = model(x)
    for h in hs:
        h.remove()
    return per, list(out.shape)


CASES = []
for a in ["UNet", "ResBlock1", "ResBlock2", "ConvNeXt", "ConvSkip", "ConvSkipResBlock2", "TransUNet", "HalfUNet", "SwinUNETR"]:
    CASES.append((a + "/paper", a, False, {}))
    CASES.append((a + "/small", a, True, {}))
CASES += [
    ("ConvNeXt/original/paper", "ConvNeXt", False, dict(cn_variant="original", cn_kernel=7, cn_expansion=4)),
    ("ConvNeXt/original/small", "ConvNeXt", True, dict(cn_variant="original", cn_kernel=7, cn_expansion=4)),
    ("TransUNet/query-decoder/paper", "TransUNet", False, dict(query="decoder")),
    ("TransUNet/query-decoder/small", "TransUNet", True, dict(query="decoder")),
    ("HalfUNet/lu/paper", "HalfUNet", False, dict(halfunet="lu")),
    ("HalfUNet/lu/small", "HalfUNet", True, dict(halfunet="lu")),
    ("SwinUNETR/mergingv2/small", "SwinUNETR", True, dict(legacy=False)),
    ("UNet/batchnorm-affine-trilinear/small", "UNet", True, dict(norm="batch", up="trilinear")),
    ("UNet/instance-affine-relu-add/small", "UNet", True, dict(affine=True, act="relu", skip="add")),
]


def main():
    torch.manual_seed(0)
    out = {}
    for key, arch, small, kw in CASES:
        cfg = config(arch, small, **kw)
        m = make(cfg)
        state = [{"name": n, "shape": list(t.shape), "buffer": n not in dict(m.named_parameters()),
                  "int64": t.dtype == torch.int64}
                 for n, t in m.state_dict().items()]
        rec = {"params": sum(p.numel() for p in m.parameters()), "state": state}
        if small:
            m.train()
            x = torch.randn(2, 1, cfg["size"], cfg["size"], cfg["size"])
            per, shape = thop_macs(m, x)
            rec["macs"] = sum(per.values())
            rec["macs_per_module"] = {k: v for k, v in per.items() if v}
            rec["output"] = shape
        out[key] = rec
        print(key, rec["params"], rec.get("macs"), file=sys.stderr)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


# --------------------------------------------------------------------------
# safetensors by hand.

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}
TORCH = {v: k for k, v in DTYPES.items()}


def save_safetensors(path, tensors, metadata=None):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        b = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    import numpy as np
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        dt = {"F32": np.float32, "F64": np.float64, "I64": np.int64}[info["dtype"]]
        out[name] = torch.from_numpy(np.frombuffer(body[a:b], dtype=dt).copy()).reshape(info["shape"])
    return out


if __name__ == "__main__":
    if len(sys.argv) == 1:
        main()
    elif sys.argv[1] == "--write-safetensors":
        # For each fixture key: the model's weights (perturbed so that no
        # bias or norm parameter keeps its default, BatchNorm statistics
        # random), a fixed input and the model's output in eval mode, for the
        # Go side to load and reproduce. Usage: --write-safetensors DIR KEY...
        cases = {k: (a, small, kw) for k, a, small, kw in CASES}
        for key in sys.argv[3:]:
            arch, small, kw = cases[key]
            torch.manual_seed(1)
            cfg = config(arch, small, **kw)
            m = make(cfg).eval()
            with torch.no_grad():
                for n, p in m.named_parameters():
                    p.add_(0.05 * torch.randn_like(p))
                for n, b in m.named_buffers():
                    if n.endswith("running_mean"):
                        b.copy_(0.1 * torch.randn_like(b))
                    elif n.endswith("running_var"):
                        b.copy_(0.5 + torch.rand_like(b))
                    elif n.endswith("num_batches_tracked"):
                        b.fill_(3)
                x = torch.randn(1, 1, cfg["size"], cfg["size"], cfg["size"])
                y = m(x)
            base = sys.argv[2] + "/" + key.replace("/", "_")
            save_safetensors(base + ".safetensors", dict(m.state_dict()), {"arch": arch})
            save_safetensors(base + "_io.safetensors", {"input": x, "output": y})
    elif sys.argv[1] == "--check-safetensors":
        # Load weights written by Go into the PyTorch model of a fixture key
        # and save its eval output on the input stored beside them. Usage:
        # --check-safetensors WEIGHTS IO OUT KEY
        arch, small, kw = {k: (a, s, w) for k, a, s, w in CASES}[sys.argv[5]]
        cfg = config(arch, small, **kw)
        m = make(cfg).eval()
        m.load_state_dict(load_safetensors(sys.argv[2]))
        io = load_safetensors(sys.argv[3])
        with torch.no_grad():
            y = m(io["input"])
        save_safetensors(sys.argv[4], {"output": y})
