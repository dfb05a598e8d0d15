#!/usr/bin/python3
"""Writes the NIfTI golden fixtures under testdata/nibabel/ with nibabel.

Run with Debian's python (python3-nibabel):  /usr/bin/python3 gen_nibabel.py
(or `go test ./volume -run TestNibabelGolden -update`). Each fixture is
listed in nibabel/expected.json with what nibabel reads back: shape,
channel count, datatype, zooms, affine (img.affine) and the voxels in the
order (C, Z, Y, X) with X fastest, i.e. get_fdata().ravel(order="F").
"""
import json
import os

import numpy as np
import nibabel as nib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "nibabel")

ROT = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # 90 deg about Z


def affine(zooms=(1.5, 2.0, 2.5), rot=np.eye(3), offset=(-10.0, 20.0, 30.0), shear=0.0):
    a = np.eye(4)
    m = rot @ np.diag(zooms)
    m[0, 1] += shear
    a[:3, :3] = m
    a[:3, 3] = offset
    return a


def values(shape, dtype):
    """Deterministic values spanning the type's sign and a good part of its range."""
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.float64)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        v = (i - n / 2) * 1.25 + 0.125
    elif dt.kind == "u":
        v = (i * 7919) % min(np.iinfo(dt).max, 1 << 20)
    else:
        hi = min(np.iinfo(dt).max, 1 << 20)
        v = (i * 7919) % (2 * hi) - hi
    return v.reshape(shape, order="F").astype(dtype)


def save(name, img, fixtures, note):
    path = os.path.join(OUT, name)
    nib.save(img, path)
    back = nib.load(path)
    data = back.get_fdata()
    hdr = back.header
    shape = list(data.shape)
    fixtures.append({
        "file": name,
        "note": note,
        "version": 2 if isinstance(back, nib.Nifti2Image) else 1,
        "shape": shape[:3] + [1] * (3 - len(shape[:3])),
        "channels": int(np.prod(shape[3:])) if len(shape) > 3 else 1,
        "datatype": int(hdr["datatype"]),
        "endianness": hdr.endianness,
        "zooms": [float(z) for z in hdr.get_zooms()[:3]],
        "qform_code": int(hdr["qform_code"]),
        "sform_code": int(hdr["sform_code"]),
        "affine": back.affine.tolist(),
        "qform": hdr.get_qform().tolist(),
        "sform": hdr.get_sform().tolist(),
        "slope": float(back.dataobj.slope),
        "inter": float(back.dataobj.inter),
        "data": [float(x) for x in data.ravel(order="F")],
    })


def main():
    os.makedirs(OUT, exist_ok=True)
    fixtures = []
    shape = (4, 3, 2)
    for dtype in ["uint8", "int8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"]:
        img = nib.Nifti1Image(values(shape, dtype), affine(), dtype=dtype)
        img.header.set_qform(affine(rot=ROT), code=1)  # differs from the sform: sform wins
        save(f"dtype_{dtype}.nii", img, fixtures, f"datatype {dtype}, both transforms")

    # scl_slope / scl_inter: float data stored as int16, nibabel picks the scaling
    img = nib.Nifti1Image(values(shape, "float64") * 37.1 + 5000.0, affine(), dtype="int16")
    save("scaled_int16.nii.gz", img, fixtures, "float data stored as int16 with scl_slope/scl_inter")
    img = nib.Nifti1Image(values(shape, "float64") * 0.013, affine(), dtype="uint8")
    save("scaled_uint8.nii", img, fixtures, "float data stored as uint8 with scl_slope/scl_inter")

    # 4D: modalities in the 4th dimension
    img = nib.Nifti1Image(values((5, 4, 3, 2), "float32"), affine(), dtype="float32")
    save("4d_float32.nii.gz", img, fixtures, "4D, 2 channels")

    # big-endian
    for dtype in ["int16", "float64", "uint32"]:
        hdr = nib.Nifti1Header(endianness=">")
        img = nib.Nifti1Image(values(shape, dtype), affine(), header=hdr, dtype=dtype)
        save(f"bigendian_{dtype}.nii", img, fixtures, f"big-endian {dtype}")

    # qform only: a rotation and a negative qfac (left-handed)
    a = affine(zooms=(1.0, 2.0, 3.0), rot=ROT, offset=(5.0, -6.0, 7.0))
    a[:3, 2] *= -1
    img = nib.Nifti1Image(values(shape, "int16"), None, dtype="int16")
    img.header.set_qform(a, code=1)
    img.header.set_sform(None, code=0)
    save("qform_only.nii", img, fixtures, "qform_code 1, sform_code 0, qfac -1")

    # sform only, with shear a qform cannot hold
    img = nib.Nifti1Image(values(shape, "int16"), None, dtype="int16")
    img.header.set_sform(affine(shear=0.3), code=2)
    img.header.set_qform(None, code=0)
    save("sform_only.nii", img, fixtures, "sform_code 2 with shear, qform_code 0")

    # NIfTI-2, big-endian and little-endian
    img = nib.Nifti2Image(values(shape, "int32"), affine(), dtype="int32")
    save("nifti2_int32.nii.gz", img, fixtures, "NIfTI-2")
    hdr = nib.Nifti2Header(endianness=">")
    img = nib.Nifti2Image(values((3, 2, 2, 2), "float32"), affine(rot=ROT), header=hdr, dtype="float32")
    save("nifti2_bigendian_4d.nii", img, fixtures, "NIfTI-2, big-endian, 4D")

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"nibabel": nib.__version__, "fixtures": fixtures}, f, indent=1)


if __name__ == "__main__":
    main()
