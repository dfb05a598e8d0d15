#!/usr/bin/python3
"""CIFTI-2 cross-check of volume's NIfTI extensions (TestNibabelReadsOurCIFTI).

    cifti_nibabel.py make PATH    write a small CIFTI-2 dense scalar file with nibabel
    cifti_nibabel.py check PATH   print, as JSON, what nibabel reads from PATH as CIFTI-2
    cifti_nibabel.py ext PATH     print, as JSON, the [ecode, hex edata] of PATH's extensions

nibabel parses a CIFTI-2 file only from its NIfTI-2 header extension (code 32,
the CIFTI XML): a writer that drops the extension gives a file nibabel refuses.
"""
import json
import sys

import numpy as np
import nibabel as nib
from nibabel import cifti2


def make(path):
    mask = np.zeros((3, 4, 2), dtype=bool)
    mask[0, 1, 0] = mask[2, 3, 1] = mask[1, 2, 1] = True
    bm = cifti2.BrainModelAxis.from_mask(mask, name="thalamus_left", affine=np.diag([2.0, 2.0, 2.0, 1.0]))
    bm += cifti2.BrainModelAxis.from_mask(np.array([True, False, True, True, False]), name="CortexLeft")
    scalar = cifti2.ScalarAxis(["thickness", "curvature"])
    data = (np.arange(2 * len(bm), dtype=np.float32).reshape(2, len(bm)) - 3) / 4
    nib.save(cifti2.Cifti2Image(data, header=(scalar, bm)), path)


def check(path):
    img = nib.load(path)
    if not isinstance(img, cifti2.Cifti2Image):
        raise SystemExit(f"{path}: nibabel reads a {type(img).__name__}, not a Cifti2Image")
    scalar, bm = img.header.get_axis(0), img.header.get_axis(1)
    json.dump({
        "class": type(img).__name__,
        "intent": int(img.nifti_header["intent_code"]),
        "extensions": [int(e.get_code()) for e in img.nifti_header.extensions],
        "maps": list(scalar.name),
        "structures": [str(s) for s in bm.name],
        "voxels": bm.voxel.tolist(),
        "vertices": bm.vertex.tolist(),
        "shape": list(img.shape),
        "data": [float(x) for x in np.asanyarray(img.dataobj).ravel()],
    }, sys.stdout, sort_keys=True)


def ext(path):
    img = nib.load(path)
    json.dump([[int(e.get_code()), e.get_content().hex()] for e in img.header.extensions], sys.stdout)


if __name__ == "__main__":
    {"make": make, "check": check, "ext": ext}[sys.argv[1]](sys.argv[2])
