"""Batch normalisation of a hidden layer (course-spec §3.2), samples as rows: normalising in
training mode (this batch's mean and biased variance, eqs. 12-14 and 11) or in test mode
(the moving averages), the backward pass (BatchNormBackPass, eqs. 31-37) and the update of
the moving averages (eqs. 38-39)."""

from __future__ import annotations

import numpy as np


def normalise(S: np.ndarray, averages: tuple | None, eps: float):
    """(S_hat, mu, v) of the scores S (n, m): with ``averages`` None, this batch's mean and
    biased variance (training mode); else ``averages`` = (mu, v), the moving averages."""
    if averages is None:
        mu = S.mean(axis=0)  # eq. 13
        S_hat = S - mu  # centred once, for v and then S_hat (S.var centres again)
        v = np.square(S_hat).mean(axis=0)  # eq. 14 (divide by n), = S.var(axis=0)
        S_hat /= np.sqrt(v + eps)  # eq. 11
    else:
        mu, v = averages
        S_hat = (S - mu) / np.sqrt(v + eps)  # eq. 11
    return S_hat, mu, v


def backward(G: np.ndarray, S: np.ndarray, mu: np.ndarray, v: np.ndarray, eps: float):
    """BatchNormBackPass, eqs. 31-37, samples as rows: from dJ/dS_hat to dJ/dS."""
    n = len(G)
    sigma1 = (v + eps) ** -0.5  # eq. 31
    sigma2 = (v + eps) ** -1.5  # eq. 32
    G1 = G * sigma1  # eq. 33
    G2 = G * sigma2  # eq. 34
    D = S - mu  # eq. 35
    c = (G2 * D).sum(axis=0)  # eq. 36
    return G1 - G1.sum(axis=0) / n - D * (c / n)  # eq. 37


def update_averages(stats: dict, l: int, mu: np.ndarray, v: np.ndarray, alpha: float) -> None:
    """Layer l's moving averages in ``stats`` <- alpha * them + (1 - alpha) * this batch's
    (eqs. 38-39), in place."""
    stats[f"mu{l}"] *= alpha
    stats[f"mu{l}"] += (1 - alpha) * mu
    stats[f"v{l}"] *= alpha
    stats[f"v{l}"] += (1 - alpha) * v
