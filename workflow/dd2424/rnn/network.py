"""The vanilla character RNN of lab 4 (course-spec §4.1): parameters, forward pass and BPTT.

Parameters are a dict ``{"U": (m, K), "W": (m, m), "V": (K, m), "b": (m,), "c": (K,)}``.
Sequences are given by indices, not one-hot matrices: inputs ``X`` and targets ``Y`` of shape
(tau, B), B sequences processed together (a mini-batch; B = 1 is the course's loop), or of
shape (tau,) for one sequence.  Hidden states are rows: ``H0`` is (B, m) (or (m,)).  Per step
t and sequence j (eqs 1-4, written for the rows h_t of all B sequences at once):

    a_t = h_{t-1} W^T + x_t U^T + b,   h_t = tanh(a_t),   o_t = h_t V^T + c,   p_t = SoftMax(o_t)

The loss of one sequence is the **sum** over its tau steps, L_j = -sum_t log p_t[y_t] (eq 5);
the loss of a mini-batch is the **mean over its B sequences** of these sums,
L = (1/B) sum_j L_j, and ``backward`` returns the gradient of that L.  So B = 1 is exactly the
course's loss and gradient, the size of the gradient does not grow with B, and the step size
eta means the same thing for every B (it is not rescaled).

BPTT (course-spec §4.1), with g_t = p_t - y_t (one row per sequence, divided by B):

    dV = sum_t g_t^T h_t,  dc = sum_t g_t,  dh_tau = g_tau V,  dh_t = g_t V + da_{t+1} W,
    da_t = dh_t * (1 - h_t^2),  dW = sum_t da_t^T h_{t-1},  dU = sum_t da_t^T x_t,  db = sum_t da_t

Speed (conventions §8): ``x_t U^T`` is a row gather ``U.T[X]`` done once for the whole
sequence; the output layer, softmax, dV, dW, dU, db and dc are single matrix products or sums
over all tau x B steps; only ``tanh(a_t)`` and its backward run in a Python loop over t, each
step one (B, m) x (m, m) product.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

NAMES = ("U", "W", "V", "b", "c")


def param_shapes(m: int, K: int) -> dict[str, tuple[int, ...]]:
    return {"U": (m, K), "W": (m, m), "V": (K, m), "b": (m,), "c": (K,)}


def init_params(
    m: int, K: int, rng: np.random.Generator, sig: float = 0.01, dtype: Any = np.float64
) -> dict[str, np.ndarray]:
    """Spec 0.2: U, W, V ~ N(0, sig^2) (drawn in that order, in float64, then cast); b = c = 0."""
    shapes = param_shapes(m, K)
    params = {}
    for name in NAMES:
        if name in ("b", "c"):
            params[name] = np.zeros(shapes[name], dtype=dtype)
        else:
            params[name] = (rng.standard_normal(shapes[name]) * sig).astype(dtype)
    return params


def dtanh(h: np.ndarray) -> np.ndarray:
    """tanh'(a) = 1 - h^2 with h = tanh(a) (the diag(1 - h_t^2) of BPTT, element-wise)."""
    return 1.0 - h * h


@dataclass
class Cache:
    """What ``backward`` needs from ``forward``: inputs and targets (tau, B), the hidden
    states H = [h_0; h_1; ...; h_tau] (tau + 1, B, m) and the probabilities P (tau * B, K),
    row t * B + j for step t of sequence j."""

    X: np.ndarray
    Y: np.ndarray
    H: np.ndarray
    P: np.ndarray


def _as_batch(X, Y, H0) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    X, Y, H0 = np.asarray(X), np.asarray(Y), np.asarray(H0)
    single = X.ndim == 1
    if single:
        X, Y, H0 = X[:, None], Y[:, None], H0[None, :]
    if X.ndim != 2 or Y.shape != X.shape or H0.ndim != 2 or H0.shape[0] != X.shape[1]:
        raise ValueError(
            f"need X, Y of shape (tau, B) and H0 of shape (B, m); got {X.shape}, {Y.shape}, "
            f"{H0.shape}"
        )
    return X, Y, H0, single


def forward(
    params: Mapping[str, np.ndarray], X: np.ndarray, Y: np.ndarray, H0: np.ndarray
) -> tuple[float, Cache, np.ndarray]:
    """Eqs 1-5 over B sequences: (the mean over the B sequences of each one's loss summed over
    its tau steps, cache, h_tau of each sequence).  With X, Y of shape (tau,) and h0 of shape
    (m,) it is one sequence, and h_tau comes back as (m,)."""
    U, W, V, b, c = (params[k] for k in NAMES)
    X, Y, H0, single = _as_batch(X, Y, H0)
    tau, B = X.shape
    A = U.T[X]  # (tau, B, m): row (t, j) is x_t U^T of sequence j (a gather, no one-hot)
    A += b
    H = np.empty((tau + 1, B, W.shape[0]), dtype=W.dtype)
    H[0] = H0
    WT = W.T
    h = H[0]
    for t in range(tau):
        h = np.tanh(np.matmul(h, WT) + A[t], out=H[t + 1])  # eqs 1-2
    O = H[1:].reshape(tau * B, -1) @ V.T  # eq 3 for all steps at once
    O += c
    O -= O.max(axis=1, keepdims=True)
    P = np.exp(O)  # eq 4, normalised below
    s = P.sum(axis=1)
    P /= s[:, None]
    loss = float(np.log(s).sum() - O[np.arange(tau * B), Y.reshape(-1)].sum())  # eq 5
    if B > 1:
        loss /= B
    return loss, Cache(X, Y, H, P), H[tau, 0] if single else H[tau]


def backward(
    params: Mapping[str, np.ndarray],
    cache: Cache,
    out: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """BPTT (course-spec §4.1): the gradients of ``forward``'s loss (the mean over the batch
    of the per-sequence sums) w.r.t. U, W, V, b, c.

    With ``out`` (arrays of the parameter shapes) the gradients are written into it.
    """
    W, V = params["W"], params["V"]
    X, Y, H, P = cache.X, cache.Y, cache.H, cache.P
    tau, B = X.shape
    n, K = P.shape
    m = W.shape[0]
    if out is None:
        out = {k: np.empty_like(params[k]) for k in NAMES}
    G = P.copy()
    G[np.arange(n), Y.reshape(-1)] -= 1  # row (t, j): g_t = p_t - y_t of sequence j
    if B > 1:
        G /= B  # the mean over the batch
    Hs = H[1:].reshape(n, m)
    np.matmul(G.T, Hs, out=out["V"])  # dV = sum_t g_t^T h_t
    np.sum(G, axis=0, out=out["c"])  # dc = sum_t g_t
    dHo = (G @ V).reshape(tau, B, m)  # g_t V: the output-layer part of dL/dh_t
    D = dtanh(H[1:])
    dA = np.empty_like(dHo)
    da = np.multiply(dHo[tau - 1], D[tau - 1], out=dA[tau - 1])  # dL/dh_tau = g_tau V
    for t in range(tau - 2, -1, -1):
        da = np.multiply(np.matmul(da, W) + dHo[t], D[t], out=dA[t])  # + dL/da_{t+1} W
    dA2 = dA.reshape(n, m)
    np.matmul(dA2.T, H[:-1].reshape(n, m), out=out["W"])  # dW = sum_t da_t^T h_{t-1}
    Xoh = np.zeros((n, K), dtype=P.dtype)  # one-hot matmul: 8 us vs 41 us for np.add.at
    Xoh[np.arange(n), X.reshape(-1)] = 1
    np.matmul(dA2.T, Xoh, out=out["U"])  # dU = sum_t da_t^T x_t
    np.sum(dA2, axis=0, out=out["b"])  # db = sum_t da_t
    return dict(out)


def clip_gradients(grads: Mapping[str, np.ndarray], bound: float = 5.0) -> dict[str, np.ndarray]:
    """Spec 0.4: every entry clipped to [-bound, bound]; apply once, to the final gradients."""
    return {k: np.clip(g, -bound, bound) for k, g in grads.items()}


def scores(
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    h0: np.ndarray | None = None,
    block: int = 8192,
) -> tuple[np.ndarray, np.ndarray]:
    """The scores o_t (len(x), K) of eqs 1-3 along one long text, h carried from character
    to character (from h0, zeros by default), computed ``block`` characters at a time so
    the hidden states never all sit in memory.  Returns (O, h after the last character)."""
    U, W, V, b, c = (params[k] for k in NAMES)
    x = np.asarray(x)
    m = W.shape[0]
    h = np.zeros(m, dtype=W.dtype) if h0 is None else np.asarray(h0, dtype=W.dtype)
    O = np.empty((len(x), V.shape[0]), dtype=W.dtype)
    WT = W.T
    H = np.empty((min(block, len(x)), m), dtype=W.dtype)
    for start in range(0, len(x), block):
        A = U.T[x[start : start + block]]
        A += b
        for t in range(len(A)):
            h = np.tanh(np.matmul(h, WT) + A[t], out=H[t])
        np.matmul(H[: len(A)], V.T, out=O[start : start + len(A)])
        h = h.copy()
    O += c
    return O, h


def text_loss(params: Mapping[str, np.ndarray], data: np.ndarray, block: int = 8192) -> float:
    """Total cross-entropy (nats) of predicting data[1:] from data[:-1] along the whole text,
    h carried across it from h = 0: divide by len(data) - 1 for the loss per character."""
    data = np.asarray(data)
    if len(data) < 2:
        raise ValueError(f"need at least 2 characters to measure a loss, got {len(data)}")
    O, _ = scores(params, data[:-1], block=block)
    O -= O.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(O).sum(axis=1))
    return float(log_z.sum(dtype=np.float64) - O[np.arange(len(O)), data[1:]].sum(dtype=np.float64))
