"""Softmax and log-softmax over the last axis (scores as rows), shared by both families."""

from __future__ import annotations

import numpy as np


def softmax(S: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, stable for any finite scores (the max is subtracted)."""
    E = np.exp(S - S.max(axis=-1, keepdims=True))
    E /= E.sum(axis=-1, keepdims=True)
    return E


def log_softmax(S: np.ndarray) -> np.ndarray:
    """Log of the softmax over the last axis, computed without exponentiating large scores."""
    Z = S - S.max(axis=-1, keepdims=True)
    return Z - np.log(np.exp(Z).sum(axis=-1, keepdims=True))
