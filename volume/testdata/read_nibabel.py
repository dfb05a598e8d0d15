#!/usr/bin/python3
"""Prints, as JSON, what nibabel reads from each NIfTI file named on the
command line: shape, affine, zooms and voxels ravelled in (C, Z, Y, X)
order. Used by TestNibabelReadsOurFiles."""
import json
import sys

import nibabel as nib

out = {}
for path in sys.argv[1:]:
    img = nib.load(path)
    data = img.get_fdata()
    out[path] = {
        "shape": list(data.shape),
        "affine": img.affine.tolist(),
        "zooms": [float(z) for z in img.header.get_zooms()[:3]],
        "datatype": int(img.header["datatype"]),
        "data": [float(x) for x in data.ravel(order="F")],
    }
json.dump(out, sys.stdout)
