"""CIFAR-10 in its python pickle format: load, write, synthesise, normalise, split.

The on-disk format (course-spec §7.1): each batch is a pickle of a dict with byte-string
keys; ``b'data'`` is uint8 (n, 3072) with the R, G, B planes of a 32x32 image one after the
other (each row-major), ``b'labels'`` a list of ints in 0..9.  ``batches.meta`` holds
``b'label_names'``.
"""

from __future__ import annotations

import pickle
import tarfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import augment

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


class _CifarUnpickler(pickle.Unpickler):
    """An unpickler that builds only what the CIFAR-10 python files hold: dicts, lists, ints,
    bytes and one uint8 NumPy array.  Builtin containers and scalars need no global; the array
    needs exactly these three (``ndarray.__reduce__``), under NumPy 1's or NumPy 2's module
    name, and a protocol-2 pickle written by Python 3 stores ``bytes`` through
    ``_codecs.encode``.  Anything else (``os.system``, ``builtins.eval``, ...) is refused
    before it is called, so no code from the file runs."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"): ("numpy", "ndarray"),
        ("numpy", "dtype"): ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) == ("_codecs", "encode"):
            return _latin1_encode
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


def synthetic_patterns(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` smooth colour patterns (4x4 noise upsampled to 32x32 and blurred), each
    with zero mean and unit standard deviation, as rows of length 3072."""
    coarse = rng.normal(0.0, 1.0, size=(count, 3, 4, 4))
    fine = coarse.repeat(8, axis=2).repeat(8, axis=3)
    kernel = np.ones(5) / 5
    for axis in (2, 3):
        fine = np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="same"), axis, fine)
    fine -= fine.mean(axis=(1, 2, 3), keepdims=True)
    fine /= fine.std(axis=(1, 2, 3), keepdims=True)
    return fine.reshape(count, DIM)


def place(patterns: np.ndarray, mirrored: np.ndarray, dy: np.ndarray, dx: np.ndarray):
    """Each row of ``patterns`` (images as rows of 3072) mirrored left-right where
    ``mirrored``, then moved by (dy, dx) pixels (augment.flip, augment.translate; uncovered
    pixels 0), one group of equal placements at a time."""
    out = np.empty_like(patterns)
    keys = np.stack([mirrored, dy, dx], axis=1)
    for key in np.unique(keys, axis=0):
        rows = (keys == key).all(axis=1)
        group = augment.flip(patterns[rows]) if key[0] else patterns[rows]
        out[rows] = augment.translate(group, int(key[1]), int(key[2]))
    return out


def synthetic_images(
    n: int,
    rng: np.random.Generator,
    prototypes: np.ndarray,
    nuisance: np.ndarray,
    noise: float,
    shift: int = 0,
    mirror: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw n uint8 images with balanced, shuffled labels: mid-grey + the class prototype +
    a random mix of the (class-independent) nuisance patterns + pixel noise.

    With ``shift`` > 0 the image's content (its class prototype and its mix of nuisance
    patterns, before the pixel noise) is moved by dy, dx uniform in -shift..shift pixels (the
    uncovered part is left mid-grey), with ``mirror`` it is mirrored left-right with
    probability 1/2, per image (drawn after everything else, so without them the draws and
    the images are exactly the plain ones).  The whole scene moves, as in a photograph, so a
    flipped or shifted image is as likely as the original: flips and translations preserve
    the label and the data's distribution (up to the mid-grey border)."""
    y = rng.permutation(np.arange(n) % len(prototypes))
    if not (shift or mirror):
        X = 127.5 + prototypes[y]
        X += rng.standard_normal((n, len(nuisance))) @ nuisance
        X += rng.normal(0.0, noise, size=(n, DIM))
        return np.clip(np.rint(X), 0, 255).astype(np.uint8), y
    mix = rng.standard_normal((n, len(nuisance)))
    pixel_noise = rng.normal(0.0, noise, size=(n, DIM))
    mirrored = rng.random(n) < 0.5 if mirror else np.zeros(n, dtype=bool)
    dy, dx = rng.integers(-shift, shift + 1, size=(2, n)) if shift else np.zeros((2, n), int)
    scene = prototypes[y]
    scene += mix @ nuisance
    X = 127.5 + place(scene, mirrored, dy, dx)
    X += pixel_noise
    return np.clip(np.rint(X), 0, 255).astype(np.uint8), y


def write_synthetic_cifar(
    out_dir: str | Path,
    n_per_batch: int,
    n_test: int,
    seed: int,
    contrast: float = 20.0,
    nuisance: float = 40.0,
    n_nuisance: int = 20,
    noise: float = 60.0,
    shift: int = 0,
    mirror: bool = False,
) -> None:
    """Write a seeded synthetic dataset in the exact layout of ``cifar-10-batches-py``.

    Each class has a smooth colour prototype (pixel std ``contrast``); every image adds
    ``n_nuisance`` class-independent smooth patterns with random N(0, ``nuisance``^2)
    weights, which overlap the class directions and make the problem hard, and pixel noise.
    A linear classifier learns it far above the 10% chance level but well below 100%.
    ``shift`` and ``mirror`` place each image's content at a random offset and mirror it at
    random (``synthetic_images``), so that augmentation by flips and translations is
    label-preserving and helps; off by default (the same bytes as without them).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    prototypes = contrast * synthetic_patterns(rng, len(LABEL_NAMES))
    nuisance_patterns = nuisance * synthetic_patterns(rng, n_nuisance)
    sizes = {name: n_per_batch for name in TRAIN_BATCHES} | {TEST_BATCH: n_test}
    for i, (name, n) in enumerate(sizes.items(), start=1):
        X, y = synthetic_images(n, rng, prototypes, nuisance_patterns, noise, shift, mirror)
        label = "testing batch 1 of 1" if name == TEST_BATCH else f"training batch {i} of 5"
        write_batch(out / name, X, y, label)
    write_meta(out / "batches.meta", n_per_batch)


def pack_archive(batch_dir: str | Path, archive: str | Path) -> None:
    """Pack a batch directory as ``cifar-10-python.tar.gz`` is packed (one top folder)."""
    batch_dir = Path(batch_dir)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(batch_dir, arcname=BATCH_DIR)


#: what reading a damaged .tar.gz raises: not gzip or not tar, truncated, corrupt
ARCHIVE_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error)


def _damaged(err: Exception) -> ValueError:
    return ValueError(f"not a complete gzip-compressed tar archive ({type(err).__name__}: {err})")


def check_archive(archive: str | Path, members: Sequence[str] = CIFAR_FILES) -> None:
    """Raise ValueError unless ``archive`` is an intact ``.tar.gz`` (read to the end, so the
    gzip checksum is checked) holding ``cifar-10-batches-py/<name>`` for every member."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            names = {m.name for m in tar.getmembers() if m.isfile()}
    except ARCHIVE_ERRORS as err:
        raise _damaged(err) from None
    missing = [f"{BATCH_DIR}/{name}" for name in members if f"{BATCH_DIR}/{name}" not in names]
    if missing:
        raise ValueError(f"the archive has no {', '.join(missing)}")


def _extract_member(tar: tarfile.TarFile, name: str, dest: Path) -> None:
    try:
        member = tar.getmember(f"{BATCH_DIR}/{name}")
        src = tar.extractfile(member)
    except KeyError:
        raise ValueError(f"no {BATCH_DIR}/{name} inside") from None
    except ARCHIVE_ERRORS as err:
        raise _damaged(err) from None
    if src is None:
        raise ValueError(f"{BATCH_DIR}/{name} is not a regular file")
    tmp = dest / f".{name}.part"
    try:
        with src, open(tmp, "wb") as out:
            while True:
                try:
                    chunk = src.read(1 << 20)
                except ARCHIVE_ERRORS as err:
                    message = f"{BATCH_DIR}/{name} is truncated or corrupt ({err})"
                    raise ValueError(message) from None
                if not chunk:
                    break
                out.write(chunk)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(dest / name)


def extract_archive(archive: str | Path, dest: str | Path, members: Sequence[str]) -> None:
    """Extract the named files of ``cifar-10-batches-py`` from the archive into ``dest``
    (each written to a temp name, then renamed); ValueError naming the archive if it is
    damaged or lacks a member."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        try:
            tar = tarfile.open(archive, "r:gz")
        except ARCHIVE_ERRORS as err:
            raise _damaged(err) from None
        with tar:
            for name in members:
                _extract_member(tar, name, dest)
    except ValueError as err:
        raise ValueError(f"{archive}: {err}") from None


@dataclass(frozen=True)
class Split:
    """Which batches form the training pool, validation and test sets.

    ``val_size`` > 0 holds out the LAST ``val_size`` samples of the training pool as the
    validation set (45k/5k, 49k/1k); otherwise ``val`` names the validation batches.
    """

    train: tuple[str, ...]
    val: tuple[str, ...] = ()
    val_size: int = 0
    test: tuple[str, ...] = (TEST_BATCH,)

    def __post_init__(self) -> None:
        if bool(self.val) == bool(self.val_size):
            raise ValueError("a split needs exactly one of `val` (batch names) or `val_size` > 0")

    @classmethod
    def from_config(cls, cfg: dict) -> Split:
        return cls(
            train=tuple(cfg["train"]),
            val=tuple(cfg.get("val", ())),
            val_size=int(cfg.get("val_size", 0)),
            test=tuple(cfg.get("test", (TEST_BATCH,))),
        )

    def batches(self) -> list[str]:
        return sorted(set(self.train) | set(self.val) | set(self.test))


def _stack(batch_dir: Path, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    parts = [load_batch(batch_dir / name) for name in names]
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def column_stats(X: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Mean and N-1 standard deviation of the columns of a uint8 matrix, in float64.

    Summed in row chunks so no float copy of the whole matrix is made; integer pixel sums are
    exact in float64, so the one-pass variance formula loses nothing here.
    """
    n = len(X)
    if n < 2:
        raise ValueError("need at least 2 training samples to compute a standard deviation")
    s = np.zeros(X.shape[1])
    ss = np.zeros(X.shape[1])
    for start in range(0, n, chunk):
        block = X[start : start + chunk].astype(np.float64)
        s += block.sum(axis=0)
        ss += np.einsum("ij,ij->j", block, block)
    mean = s / n
    var = (ss - n * mean**2) / (n - 1)
    return mean, np.sqrt(np.maximum(var, 0.0))


def normalize(X: np.ndarray, mean: np.ndarray, std: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Standardise uint8 pixels with pixel-unit (0..255) ``mean``/``std``, in ``dtype``.

    Identical to ``(X/255 - mean/255) / (std/255)``; constant pixels (std 0) are only centred.
    """
    out = X.astype(dtype)
    out -= mean.astype(dtype)
    out /= np.where(std > 0, std, 1.0).astype(dtype)
    return out


def preprocess(batch_dir: str | Path, split: Split, dtype=np.float32) -> dict[str, np.ndarray]:
    """Load a split and normalise every part with the TRAINING mean/std.

    Returns X_train, y_train, X_val, y_val, X_test, y_test, mean, std (mean and std on the
    [0, 1] scale the course uses).  Scaling to [0, 1] and standardising commute, so the
    statistics are computed on raw pixels and divided by 255 once.
    """
    batch_dir = Path(batch_dir)
    X_pool, y_pool = _stack(batch_dir, split.train)
    if split.val_size:
        if split.val_size >= len(X_pool):
            raise ValueError(
                f"val_size {split.val_size} leaves no training data "
                f"(the pool has {len(X_pool)} samples)"
            )
        cut = len(X_pool) - split.val_size
        X_tr, y_tr, X_va, y_va = X_pool[:cut], y_pool[:cut], X_pool[cut:], y_pool[cut:]
    else:
        X_tr, y_tr = X_pool, y_pool
        X_va, y_va = _stack(batch_dir, split.val)
    mean, std = column_stats(X_tr)
    out = {"mean": (mean / 255).astype(dtype), "std": (std / 255).astype(dtype)}
    for part, X, y in (("train", X_tr, y_tr), ("val", X_va, y_va)):
        out[f"X_{part}"] = normalize(X, mean, std, dtype)
        out[f"y_{part}"] = y.astype(np.uint8)
    # Peak memory: the uint8 training pool (154 MB for 50k images) is released before the test
    # batch is read, so it never coexists with all three float32 parts.
    del X_pool, X_tr, X_va, X
    X_te, y_te = _stack(batch_dir, split.test)
    out["X_test"] = normalize(X_te, mean, std, dtype)
    out["y_test"] = y_te.astype(np.uint8)
    return out
