"""Named arrays in an uncompressed .npz that other processes can memory-map.

``write`` lays each member out so that its array data starts on a multiple of 64 bytes (the
zip local header is padded with an extra field, id 0xD935, the one Android's zipalign uses);
the file stays a plain .npz that ``np.load`` reads.  ``map_arrays`` opens the arrays of any
uncompressed .npz as read-only memory maps: every process on a machine that maps the same
file shares one copy of it in the page cache instead of holding a private one, and nothing
is read before it is used.

Every offset and size is checked against the file before it is mapped, object arrays
(pickles) are refused, and a damaged or truncated file raises ``ValueError`` naming it.
"""

from __future__ import annotations

import math
import struct
import zipfile
from pathlib import Path

import numpy as np
from numpy.lib import format as npy

ALIGN = 64  # the .npy format pads its header to a multiple of 64 bytes as well
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # the zip local file header, 30 bytes
_LOCAL_MAGIC = b"PK\x03\x04"
_PAD_ID = 0xD935
_ZIP64_EXTRA = 20  # zipfile adds it to every local header written with force_zip64


def _padding(offset: int) -> bytes:
    """An extra field that moves the member data that would start at ``offset`` to the next
    multiple of ALIGN (an extra field is at least 4 bytes: id and length)."""
    gap = -offset % ALIGN
    if gap == 0:
        return b""
    if gap < 4:
        gap += ALIGN
    return struct.pack("<HH", _PAD_ID, gap - 4) + bytes(gap - 4)


def write(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """``arrays`` as ``path`` (uncompressed, member ``<name>.npy`` per array, data aligned);
    object arrays are refused, as ``np.save`` with ``allow_pickle=False`` would."""
    offset = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, value in arrays.items():
            array = np.asanyarray(value)
            info = zipfile.ZipInfo(f"{name}.npy")  # dated 1980-01-01: the bytes are reproducible
            info.compress_type = zipfile.ZIP_STORED
            fixed = _LOCAL_HEADER.size + len(info.filename.encode()) + _ZIP64_EXTRA
            info.extra = _padding(offset + fixed)
            with zf.open(info, "w", force_zip64=True) as member:
                if info.header_offset != offset:  # zipfile laid it out differently
                    raise RuntimeError(f"{path}: {name} at {info.header_offset}, not {offset}")
                npy.write_array(member, array, allow_pickle=False)
            offset += fixed + len(info.extra) + info.file_size


def _member(f, info: zipfile.ZipInfo, path: Path, size: int) -> tuple[int, tuple, bool, np.dtype]:
    """(data offset, shape, fortran order, dtype) of the .npy member ``info`` of ``f``."""
    where = f"{path}: member {info.filename}"
    if info.compress_type != zipfile.ZIP_STORED:
        raise ValueError(f"{where} is compressed; only an uncompressed .npz can be mapped")
    if not 0 <= info.header_offset <= size - _LOCAL_HEADER.size:
        raise ValueError(f"{where}: the zip directory points outside the file (truncated?)")
    f.seek(info.header_offset)
    fields = _LOCAL_HEADER.unpack(f.read(_LOCAL_HEADER.size))
    if fields[0] != _LOCAL_MAGIC:
        raise ValueError(f"{where}: no local header where the zip directory points")
    start = info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1]
    if start + info.file_size > size:
        raise ValueError(f"{where} runs past the end of the file (truncated?)")
    f.seek(start)
    try:
        version = npy.read_magic(f)
        read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, fortran, dtype = read_header(f)
    except ValueError as err:
        raise ValueError(f"{where} is not a valid .npy array: {err}") from None
    if dtype.hasobject:
        raise ValueError(f"{where} holds Python objects (a pickle), which are never loaded")
    offset = f.tell()
    if any(n < 0 for n in shape):
        raise ValueError(f"{where}: its header gives a negative dimension {shape}")
    nbytes = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if offset + nbytes != start + info.file_size:
        raise ValueError(
            f"{where}: its header says {nbytes} bytes of data, the member holds "
            f"{start + info.file_size - offset}"
        )
    return offset, shape, fortran, dtype


def map_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """{name: read-only array backed by a memory map of ``path``}; the arrays are plain
    ndarrays (not ``np.memmap``), so results computed from them are too."""
    path = Path(path)
    size = path.stat().st_size
    try:
        with zipfile.ZipFile(path) as zf, path.open("rb") as f:
            members = [
                (info.filename.removesuffix(".npy"), _member(f, info, path, size))
                for info in zf.infolist()
            ]
    except (zipfile.BadZipFile, UnicodeDecodeError) as err:  # not a zip, or a bad member name
        raise ValueError(f"{path} is not an .npz file: {err}") from None
    out = {}
    for name, (offset, shape, fortran, dtype) in members:
        if math.prod(shape) == 0:  # mmap cannot map 0 bytes
            out[name] = np.zeros(shape, dtype, order="F" if fortran else "C")
            out[name].flags.writeable = False
            continue
        mapped = np.memmap(path, dtype, "r", offset, shape, "F" if fortran else "C")
        out[name] = np.asarray(mapped)
    return out
