"""Minimal NIfTI-1 reader (numpy + gzip, no nibabel) for the stacks written by `inpaint-ct preprocess`.

The app writes volumes x-fastest with slice k = 0 the most inferior (src/main/core/volume.ts), so
the raw voxel order read here, reshaped to [z, y, x], is exactly the order the engine feeds the
network: row y of slice k is image row y. No reorientation is applied (or needed) for files the
app wrote.
"""
import gzip
import struct

import numpy as np

_DTYPES = {2: "u1", 4: "i2", 8: "i4", 16: "f4", 64: "f8", 256: "i1", 512: "u2", 768: "u4", 1024: "i8", 1280: "u8"}


def read_nifti(path):
    """Returns (data as float32 [z, y, x] with scl_slope/scl_inter applied, header dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 348:
        raise ValueError(f"{path}: too short for a NIfTI-1 header")
    endian = "<" if struct.unpack("<i", raw[:4])[0] == 348 else ">"
    if struct.unpack(endian + "i", raw[:4])[0] != 348:
        raise ValueError(f"{path}: not a NIfTI-1 file (sizeof_hdr is not 348)")
    magic = raw[344:348]
    if magic not in (b"n+1\x00", b"ni1\x00"):
        raise ValueError(f"{path}: NIfTI magic {magic!r} is not n+1 (single-file NIfTI-1)")
    dim = struct.unpack(endian + "8h", raw[40:56])
    datatype = struct.unpack(endian + "h", raw[70:72])[0]
    vox_offset = int(struct.unpack(endian + "f", raw[108:112])[0])
    slope, inter = struct.unpack(endian + "2f", raw[112:120])
    if datatype not in _DTYPES:
        raise ValueError(f"{path}: NIfTI datatype {datatype} is not supported")
    ndim = dim[0]
    shape = [max(1, d) for d in dim[1 : 1 + ndim]]
    while len(shape) < 3:
        shape.append(1)
    nx, ny, nz = shape[0], shape[1], int(np.prod(shape[2:]))
    count = nx * ny * nz
    dt = np.dtype(endian + _DTYPES[datatype])
    data = np.frombuffer(raw, dtype=dt, count=count, offset=vox_offset).reshape(nz, ny, nx)
    if slope not in (0.0, 1.0) or inter != 0.0:
        data = data.astype(np.float32) * np.float32(slope if slope != 0 else 1.0) + np.float32(inter)
    else:
        data = data.astype(np.float32)
    return data, {"dims": (nx, ny, nz), "datatype": datatype, "slope": slope, "inter": inter}
