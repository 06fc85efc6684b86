"""Splits of the CIFAR batches into training, validation and test sets, normalised with the
training set's mean and standard deviation (samples as rows, float32)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cifar import TEST_BATCH, load_batch


class SplitError(ValueError):
    """A split the batches cannot satisfy (its config is at fault, not the data)."""


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
        if split.val_size > len(X_pool) - 2:
            raise SplitError(
                f"val_size = {split.val_size} leaves {max(len(X_pool) - split.val_size, 0)} "
                f"training samples (at least 2 are needed): {' + '.join(split.train)} hold "
                f"{len(X_pool)} samples"
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
