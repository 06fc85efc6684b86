"""CIFAR-10 in its python pickle format: the constants of the format, the safe unpickler
that reads it, and the writer of batches in that exact format.

The on-disk format (course-spec §7.1): each batch is a pickle of a dict with byte-string
keys; ``b'data'`` is uint8 (n, 3072) with the R, G, B planes of a 32x32 image one after the
other (each row-major), ``b'labels'`` a list of ints in 0..9.  ``batches.meta`` holds
``b'label_names'``.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DIM = 3072
IMAGE_SHAPE = (3, 32, 32)
LABEL_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
BATCH_DIR = "cifar-10-batches-py"
#: the files of ``cifar-10-batches-py`` the pipeline uses
CIFAR_FILES = (*TRAIN_BATCHES, TEST_BATCH, "batches.meta")


class UnsafePickle(ValueError):
    """A pickle asked for something a CIFAR-10 file never contains (it could run code)."""


def _latin1_encode(text, encoding="utf-8"):
    """``_codecs.encode`` as protocol-2 pickles of ``bytes`` use it (``encode(str, 'latin1')``),
    and nothing else."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickle(f"_codecs.encode called with {type(text).__name__}, {encoding!r}")
    return text.encode("latin1")


def _empty_bytes(*args):
    """``bytes()`` as protocol-2 pickles of an empty array's data use it (``bytes()``, no
    argument), and nothing else (``bytes(n)`` would allocate n bytes)."""
    if args:
        raise UnsafePickle(f"bytes called with {len(args)} argument(s)")
    return b""


class _CifarUnpickler(pickle.Unpickler):
    """An unpickler that builds only what the CIFAR-10 python files hold: dicts, lists, ints,
    bytes and one uint8 NumPy array.  Builtin containers and scalars need no global; the array
    needs exactly these three (``ndarray.__reduce__``), under NumPy 1's or NumPy 2's module
    name, and a protocol-2 pickle written by Python 3 stores ``bytes`` through
    ``_codecs.encode`` (an empty array's data through ``bytes()``).  Anything else
    (``os.system``, ``builtins.eval``, ...) is refused before it is called, so no code from
    the file runs."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"): ("numpy", "ndarray"),
        ("numpy", "dtype"): ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) == ("_codecs", "encode"):
            return _latin1_encode
        if (module, name) in (("__builtin__", "bytes"), ("builtins", "bytes")):
            return _empty_bytes
        if (module, name) in self.ALLOWED:
            return super().find_class(*self.ALLOWED[module, name])
        raise UnsafePickle(f"it asks for {module}.{name}")


def read_pickle(path: str | Path) -> dict:
    """Unpickle a CIFAR-10 python file (``encoding='bytes'``, as the course says) with
    ``_CifarUnpickler``; ValueError naming the file if it is refused, truncated or corrupt, or
    is not a dict with bytes keys."""
    try:
        with open(path, "rb") as f:
            obj = _CifarUnpickler(f, encoding="bytes").load()
    except UnsafePickle as err:
        raise UnsafePickle(
            f"{path}: refused to unpickle: {err}, which no CIFAR-10 file contains (loading it "
            "could run code). This is not a genuine CIFAR-10 python file; nothing from it was "
            "executed"
        ) from None
    except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError) as err:
        raise ValueError(f"{path}: truncated or corrupt pickle ({err})") from None
    if not isinstance(obj, dict) or not all(isinstance(k, bytes) for k in obj):
        raise ValueError(f"{path}: not a CIFAR-10 python file (expected a dict with bytes keys)")
    return obj


def load_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 python batch: (X uint8 (n, 3072), y int64 (n,)).

    Labels must be integers in 0..9 (a float label is an error, not truncated)."""
    batch = read_pickle(path)
    if b"data" not in batch or b"labels" not in batch:
        raise ValueError(f"{path}: not a CIFAR-10 python batch (no b'data'/b'labels')")
    X, labels = batch[b"data"], batch[b"labels"]
    if not isinstance(X, np.ndarray) or X.dtype != np.uint8 or X.ndim != 2 or X.shape[1] != DIM:
        shape = f"{X.dtype} {X.shape}" if isinstance(X, np.ndarray) else type(X).__name__
        raise ValueError(f"{path}: expected b'data' to be a uint8 (n, {DIM}) array, got {shape}")
    if len(X) == 0:
        raise ValueError(f"{path}: the batch holds no images (b'data' is empty)")
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"{path}: expected {len(X)} labels (one per image), got shape {y.shape}")
    if len(y) and not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"{path}: labels must be integers 0..9, got {y.dtype} values")
    y = y.astype(np.int64)
    if len(y) and (y.min() < 0 or y.max() >= len(LABEL_NAMES)):
        raise ValueError(f"{path}: labels outside 0..{len(LABEL_NAMES) - 1}")
    return X, y


def load_label_names(path: str | Path) -> list[str]:
    """Class names from ``batches.meta`` (a list of 10 bytes under b'label_names')."""
    meta = read_pickle(path)
    names = meta.get(b"label_names")
    if (
        not isinstance(names, list)
        or len(names) != len(LABEL_NAMES)
        or not all(isinstance(n, bytes) for n in names)
    ):
        got = "nothing" if names is None else type(names).__name__
        raise ValueError(
            f"{path}: not a CIFAR-10 batches.meta (expected b'label_names': a list of "
            f"{len(LABEL_NAMES)} bytes names, got {got})"
        )
    try:
        return [name.decode() for name in names]
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: a label name is not text ({err})") from None


def write_batch(path: str | Path, X: np.ndarray, y: Sequence[int], batch_label: str) -> None:
    """Write a batch in the exact CIFAR-10 python format."""
    X = np.ascontiguousarray(X, dtype=np.uint8)
    batch = {
        b"batch_label": batch_label.encode(),
        b"labels": [int(v) for v in y],
        b"data": X,
        b"filenames": [f"synthetic_{i:05d}.png".encode() for i in range(len(X))],
    }
    with open(path, "wb") as f:
        pickle.dump(batch, f, protocol=2)


def write_meta(path: str | Path, n_per_batch: int) -> None:
    meta = {
        b"num_cases_per_batch": n_per_batch,
        b"label_names": [name.encode() for name in LABEL_NAMES],
        b"num_vis": DIM,
    }
    with open(path, "wb") as f:
        pickle.dump(meta, f, protocol=2)


def check_batches(batch_dir: str | Path, names: Sequence[str]) -> dict[str, int]:
    """Read every named file of a ``cifar-10-batches-py`` folder as the training will
    (``load_batch``, ``load_label_names`` for batches.meta): ValueError naming the first bad
    one.  Returns {batch: images} of the data batches."""
    batch_dir = Path(batch_dir)
    sizes = {}
    for name in names:
        if name == "batches.meta":
            load_label_names(batch_dir / name)
        else:
            sizes[name] = len(load_batch(batch_dir / name)[0])
    return sizes
