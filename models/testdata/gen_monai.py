#!/usr/bin/env python3
"""The MONAI 1.1 SwinUNETR fixture of package models (monai11_swin.safetensors.gz).

MONAI itself builds the network, so the Go SwinUNETR is checked against the
library the paper used, not against a re-implementation. CI does not need
MONAI: the fixture is committed and models/monai_test.go only reads it. To
make it again (MONAI 1.1.0 is a pure-Python wheel; torch is Debian's
python3-torch 1.13):

    /usr/bin/python3 -m venv --system-site-packages /tmp/monai11
    /tmp/monai11/bin/pip install --no-deps monai==1.1.0 einops
    /tmp/monai11/bin/python models/testdata/gen_monai.py models/testdata/monai11_swin.safetensors.gz

The network is MONAI's SwinUNETR(img_size=(64, 32, 32), in_channels=1,
out_channels=2, feature_size=12) with every other argument MONAI's default;
in MONAI 1.1 that default is downsample="merging", the legacy PatchMerging
(models.MergingLegacy). Its four million parameters are replaced by
base + s * q per tensor, q drawn from {-1, 0, 1} (0 with probability 3/4), base the rounded mean of
MONAI's initial values (1 for LayerNorm weights, else 0) and s their
standard deviation (at least 0.05), so that every parameter matters and the
gzipped file stays small. The file holds the exported state_dict (the
parameters under MONAI's names, in float32), MONAI's relative_position_index
once (every window-attention block has the same one), the input (1, 1, 64,
32, 32) and MONAI's output (1, 2, 64, 32, 32) in eval mode. Its metadata
records the MONAI and torch versions, the arguments, MONAI's parameter count
and every state_dict key with its shape ("keys", JSON).
"""
import gzip
import io
import json
import os
import struct
import sys

import torch

import monai
from monai.networks.nets import SwinUNETR

SIZE = (64, 32, 32)
ARGS = {"img_size": list(SIZE), "in_channels": 1, "out_channels": 2, "feature_size": 12}


def safetensors_bytes(tensors, metadata):
    """Serialise tensors (name -> float32 or int64 tensor) as safetensors."""
    dtypes = {torch.float32: "F32", torch.int64: "I64"}
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        b = t.numpy().tobytes()
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    out = io.BytesIO()
    out.write(struct.pack("<Q", len(h)))
    out.write(h)
    for b in blobs:
        out.write(b)
    return out.getvalue()


def main(path):
    torch.manual_seed(11)
    model = SwinUNETR(**{k: tuple(v) if isinstance(v, list) else v for k, v in ARGS.items()})
    assert type(model.swinViT.layers1[0].downsample).__name__ == "PatchMerging", "MONAI 1.1's default is the legacy merging"
    model.eval()
    gen = torch.Generator().manual_seed(12)
    with torch.no_grad():
        for name, p in model.named_parameters():
            base = float(p.mean().round())
            s = max(float(p.std()) if p.numel() > 1 else 0.0, 0.05)
            r = torch.randint(0, 8, p.shape, generator=gen)
            q = (r == 0).float() - (r == 1).float()
            p.copy_(base + s * q)
        x = ((torch.arange(SIZE[0] * SIZE[1] * SIZE[2]) * 7919) % 23 - 11).float().div(11).reshape(1, 1, *SIZE)
        y = model(x)
    state = model.state_dict()
    keys = {k: list(v.shape) for k, v in state.items()}
    tensors = {k: v.float() for k, v in state.items() if not k.endswith("relative_position_index")}
    index = [v for k, v in state.items() if k.endswith("relative_position_index")]
    assert all(torch.equal(index[0], v) for v in index)
    tensors["relative_position_index"] = index[0].long()
    tensors["input"] = x
    tensors["output"] = y
    meta = {
        "monai": monai.__version__,
        "torch": torch.__version__,
        "args": json.dumps(ARGS),
        "params": str(sum(p.numel() for p in model.parameters())),
        "keys": json.dumps(keys),
        "merging": type(model.swinViT.layers1[0].downsample).__name__,
    }
    raw = safetensors_bytes(tensors, meta)
    with open(path + ".tmp", "wb") as f:
        f.write(gzip.compress(raw, compresslevel=9, mtime=0))
    os.replace(path + ".tmp", path)
    print(f"{path}: MONAI {monai.__version__}, {meta['params']} parameters, output |max| {float(y.abs().max()):.4g}")


if __name__ == "__main__":
    main(sys.argv[1])
