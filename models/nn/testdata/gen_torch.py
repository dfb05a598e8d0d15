#!/usr/bin/python3
"""Writes torch_fixtures.bin and torch_fixtures.json: forward results of
PyTorch 1.13 (Debian python3-torch, CPU) for the operations of models/nn on
small fixed inputs. Run from this directory with Debian's python:

    /usr/bin/python3 gen_torch.py

The .bin file holds float32 little-endian values; the .json index gives,
per case, the operation, its settings and the offset and shape of every
input and of the expected output.
"""
import json

import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)  # compute the references in float64

cases = []
blob = []
offset = 0


def put(t):
    global offset
    a = t.detach().to(torch.float32).contiguous().numpy().ravel()
    blob.append(a)
    ref = {"offset": offset, "shape": list(t.shape)}
    offset += a.size
    return ref


def case(name, op, params, inputs, out):
    cases.append({"name": name, "op": op, "params": params,
                  "inputs": [put(t) for t in inputs], "output": put(out)})


def r(*shape):
    # round inputs to float32 first so Go and torch see the same values
    return torch.randn(*shape).to(torch.float32).to(torch.float64)


# Convolutions: (name, x shape, cout, kernel, stride, padding, dilation, groups, bias)
convs = [
    ("conv_k3p1", (2, 3, 6, 5, 7), 4, (3, 3, 3), (1, 1, 1), (1, 1, 1), (1, 1, 1), 1, True),
    ("conv_k3s2", (1, 4, 7, 6, 5), 2, (3, 3, 3), (2, 2, 2), (1, 0, 1), (1, 1, 1), 1, True),
    ("conv_dil", (1, 2, 8, 7, 6), 3, (3, 2, 3), (1, 1, 1), (2, 1, 2), (2, 1, 2), 1, False),
    ("conv_groups", (1, 4, 5, 5, 5), 6, (3, 3, 3), (1, 1, 1), (1, 1, 1), (1, 1, 1), 2, True),
    ("conv_depthwise_k7", (1, 3, 7, 6, 5), 3, (7, 7, 7), (1, 1, 1), (3, 3, 3), (1, 1, 1), 3, True),
    ("conv_1x1", (2, 5, 3, 4, 5), 3, (1, 1, 1), (1, 1, 1), (0, 0, 0), (1, 1, 1), 1, True),
]
for name, xs, cout, k, s, p, d, g, bias in convs:
    x = r(*xs)
    w = r(cout, xs[1] // g, *k)
    b = r(cout) if bias else None
    y = F.conv3d(x, w, b, stride=s, padding=p, dilation=d, groups=g)
    case(name, "conv", {"stride": s, "padding": p, "dilation": d, "groups": g, "bias": bias},
         [x, w] + ([b] if bias else []), y)

convts = [
    ("convT_k2s2", (1, 4, 3, 4, 2), 2, (2, 2, 2), (2, 2, 2), (0, 0, 0), (0, 0, 0), 1, True),
    ("convT_k4s4", (2, 3, 2, 2, 3), 5, (4, 4, 4), (4, 4, 4), (0, 0, 0), (0, 0, 0), 1, True),
    ("convT_k3s2p1op1", (1, 2, 3, 3, 4), 3, (3, 3, 3), (2, 2, 2), (1, 1, 1), (1, 0, 1), 1, False),
]
for name, xs, cout, k, s, p, op, g, bias in convts:
    x = r(*xs)
    w = r(xs[1], cout // g, *k)
    b = r(cout) if bias else None
    y = F.conv_transpose3d(x, w, b, stride=s, padding=p, output_padding=op, groups=g)
    case(name, "convT", {"stride": s, "padding": p, "output_padding": op, "groups": g, "bias": bias},
         [x, w] + ([b] if bias else []), y)

x = r(2, 3, 6, 5, 4)
case("maxpool2", "maxpool", {"kernel": (2, 2, 2), "stride": (2, 2, 2), "padding": (0, 0, 0)}, [x], F.max_pool3d(x, 2))
x = r(1, 2, 7, 6, 5)
case("maxpool3s2p1", "maxpool", {"kernel": (3, 3, 3), "stride": (2, 2, 2), "padding": (1, 1, 1)}, [x],
     F.max_pool3d(x, 3, 2, 1))
case("avgpool3s2p1", "avgpool", {"kernel": (3, 3, 3), "stride": (2, 2, 2), "padding": (1, 1, 1)}, [x],
     F.avg_pool3d(x, 3, 2, 1))
x = r(1, 2, 3, 4, 2)
case("up_nearest2", "upsample", {"mode": "nearest", "scale": (2, 2, 2)}, [x],
     F.interpolate(x, scale_factor=2, mode="nearest"))
case("up_trilinear2", "upsample", {"mode": "trilinear", "scale": (2, 2, 2)}, [x],
     F.interpolate(x, scale_factor=2, mode="trilinear", align_corners=False))
case("up_trilinear_size", "upsample", {"mode": "trilinear", "size": (5, 7, 3)}, [x],
     F.interpolate(x, size=(5, 7, 3), mode="trilinear", align_corners=False))
case("up_nearest_size", "upsample", {"mode": "nearest", "size": (5, 7, 3)}, [x],
     F.interpolate(x, size=(5, 7, 3), mode="nearest"))

x = r(2, 3, 4, 5, 3) * 3 + 1
case("instancenorm", "instancenorm", {}, [x], F.instance_norm(x, eps=1e-5))
g, b = r(3), r(3)
case("instancenorm_affine", "instancenorm", {"affine": True}, [x, g, b], F.instance_norm(x, weight=g, bias=b, eps=1e-5))
x4 = r(2, 4, 3, 4, 2) * 2 - 1
g4, b4 = r(4), r(4)
case("groupnorm2", "groupnorm", {"groups": 2}, [x4, g4, b4], F.group_norm(x4, 2, g4, b4, eps=1e-5))
case("layernorm_channels", "layernorm_channels", {"eps": 1e-6}, [x4, g4, b4],
     (lambda u: (u - u.mean(1, keepdim=True)) / torch.sqrt(u.var(1, unbiased=False, keepdim=True) + 1e-6)
      * g4[None, :, None, None, None] + b4[None, :, None, None, None])(x4))
xl = r(2, 5, 6)
gl, bl = r(6), r(6)
case("layernorm_last", "layernorm", {}, [xl, gl, bl], F.layer_norm(xl, (6,), gl, bl, eps=1e-5))
rm, rv = torch.zeros(3), torch.ones(3)
y = F.batch_norm(x, rm, rv, g, b, training=True, momentum=0.1, eps=1e-5)  # updates rm, rv in place
case("batchnorm_train", "batchnorm", {"training": True, "running_mean": [0.0] * 3, "running_var": [1.0] * 3,
                                      "updated_mean": rm.tolist(), "updated_var": rv.tolist()},
     [x, g, b], y)
rm2, rv2 = r(3) * 0.1, torch.rand(3) + 0.5
case("batchnorm_eval", "batchnorm", {"training": False, "running_mean": rm2.tolist(), "running_var": rv2.tolist()},
     [x, g, b], F.batch_norm(x, rm2, rv2, g, b, training=False, eps=1e-5))

xa = r(2, 3, 4, 3, 2) * 2
case("relu", "relu", {}, [xa], F.relu(xa))
case("leaky_relu", "leaky_relu", {"slope": 0.01}, [xa], F.leaky_relu(xa, 0.01))
case("gelu", "gelu", {}, [xa], F.gelu(xa))
case("sigmoid", "sigmoid", {}, [xa], torch.sigmoid(xa))
case("softmax", "softmax", {}, [xa], torch.softmax(xa, 1))
case("log_softmax", "log_softmax", {}, [xa], torch.log_softmax(xa, 1))

np.concatenate(blob).astype("<f4").tofile("torch_fixtures.bin")
with open("torch_fixtures.json", "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, indent=1)
print(len(cases), "cases,", offset, "values")
