#!/usr/bin/python3
"""Writes testdata/torch/expected.json: resizing and normalisation as
PyTorch does them, for TestTorchGolden.

Run with Debian's python (python3-torch):  /usr/bin/python3 gen_torch.py
(or `go test ./volume -run TestTorchGolden -update`). Tensors are stored
flat in row-major (C, D, H, W) order, which is a Volume's (C, Z, Y, X).
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def flat(t):
    return [float("%.8g" % x) for x in t.detach().reshape(-1).tolist()]


def main():
    rng = np.random.default_rng(20231)
    img = torch.tensor(rng.normal(10, 3, size=(2, 5, 7, 6)).astype(np.float32))
    out = {"torch": torch.__version__, "image": {"shape": list(img.shape), "data": flat(img)}}

    # Paper normalisation: per channel z-score then min-max.
    x = img.clone()
    for c in range(x.shape[0]):
        ch = x[c]
        ch = (ch - ch.mean()) / ch.std(unbiased=False)
        ch = (ch - ch.min()) / (ch.max() - ch.min())
        x[c] = ch
    out["normalized"] = flat(x)

    out["resize"] = []
    for size in [(9, 4, 11), (3, 3, 3), (5, 7, 6), (10, 14, 12), (2, 13, 1)]:
        y = F.interpolate(img[None], size=size, mode="trilinear", align_corners=False)[0]
        n = F.interpolate(img[None], size=size, mode="nearest")[0]
        out["resize"].append({"size": list(size), "trilinear": flat(y), "nearest": flat(n)})

    # Labels: 3 classes, blobs.
    d, h, w = 6, 5, 7
    zz, yy, xx = np.meshgrid(np.arange(d), np.arange(h), np.arange(w), indexing="ij")
    lab = np.zeros((d, h, w), dtype=np.int64)
    lab[(zz - 2) ** 2 + (yy - 2) ** 2 + (xx - 3) ** 2 <= 5] = 1
    lab[(zz - 4) ** 2 + (yy - 3) ** 2 + (xx - 5) ** 2 <= 2] = 2
    lab_t = torch.tensor(lab)
    out["labels"] = {"shape": [1, d, h, w], "classes": 3, "data": flat(lab_t.float())}
    out["label_resize"] = []
    onehot = F.one_hot(lab_t, 3).permute(3, 0, 1, 2).float()
    for size in [(11, 3, 9), (3, 4, 2), (12, 10, 14)]:
        r = F.interpolate(onehot[None], size=size, mode="trilinear", align_corners=False)[0]
        out["label_resize"].append({
            "size": list(size),
            "argmax": flat(r.argmax(0).float()),
            "rounded": flat(torch.round(r)),
            "nearest": flat(F.interpolate(lab_t[None, None].float(), size=size, mode="nearest")[0, 0]),
        })
    os.makedirs(os.path.join(HERE, "torch"), exist_ok=True)
    with open(os.path.join(HERE, "torch", "expected.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
