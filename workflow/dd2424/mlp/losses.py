"""The two losses of labs 1-3 (cross-entropy of the softmax, multi-class SVM) with
the SVM's gradient, and accuracy; scores are rows (n, K)."""

from __future__ import annotations

import numpy as np

from ..activations import log_softmax


def cross_entropy(S: np.ndarray, y: np.ndarray) -> float:
    """Mean of -log p_y over the rows of the score matrix (computed from log-softmax, so a
    saturated softmax gives a large finite loss instead of log(0))."""
    return float(-log_softmax(S)[np.arange(len(y)), y].mean())


def svm_loss(S: np.ndarray, y: np.ndarray) -> float:
    """Mean over the rows of the multi-class hinge loss sum_{j != y} max(0, s_j - s_y + 1)
    (margin 1; zero once every wrong class scores at least 1 below the right one)."""
    n = len(y)
    margins = S - S[np.arange(n), y][:, None] + 1
    margins[np.arange(n), y] = 0
    np.maximum(margins, 0, out=margins)
    return float(margins.sum() / n)


def svm_gradient(S: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d(mean hinge loss)/dS: 1/n for every violated margin j (s_j - s_y + 1 > 0), minus
    (number of violated margins)/n at the right class; 0 elsewhere (the kink at a margin of
    exactly 0 takes the subgradient 0)."""
    n = len(y)
    rows = np.arange(n)
    margins = S - S[rows, y][:, None] + 1
    margins[rows, y] = 0
    G = (margins > 0).astype(S.dtype)
    G[rows, y] = -G.sum(axis=1)
    G /= n
    return G


def accuracy(S_or_P: np.ndarray, y: np.ndarray) -> float:
    return float((S_or_P.argmax(axis=1) == y).mean())
