"""The multi-layer network of labs 1-3 (a 1-layer softmax classifier is the k=1 case).

Parameters live in a plain dict ``{"W1": ..., "b1": ..., ..., "Wk": ..., "bk": ...}`` with
``W_l`` of shape (out, in) as in the course, so gradient checks, optimisers and saving are
generic.  Samples are rows: ``X`` is (n, d) and the scores are ``X @ W.T + b``.  ``forward``
returns the cache ``backward`` needs; the network object holds no state between the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

INITS = ("normal", "xavier", "he")


def softmax(S: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for any finite scores (the row max is subtracted)."""
    E = np.exp(S - S.max(axis=1, keepdims=True))
    E /= E.sum(axis=1, keepdims=True)
    return E


def log_softmax(S: np.ndarray) -> np.ndarray:
    Z = S - S.max(axis=1, keepdims=True)
    return Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))


def cross_entropy(S: np.ndarray, y: np.ndarray) -> float:
    """Mean of -log p_y over the rows of the score matrix (computed from log-softmax, so a
    saturated softmax gives a large finite loss instead of log(0))."""
    return float(-log_softmax(S)[np.arange(len(y)), y].mean())


def accuracy(S_or_P: np.ndarray, y: np.ndarray) -> float:
    return float((S_or_P.argmax(axis=1) == y).mean())


@dataclass(frozen=True)
class Network:
    """Architecture: input size, hidden layer sizes (ReLU), number of classes.

    ``hidden=()`` is lab 1 (s = Wx + b), ``hidden=(50,)`` lab 2.
    """

    d: int
    K: int
    hidden: tuple[int, ...] = ()

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.d, *self.hidden, self.K)

    @property
    def k(self) -> int:
        """Number of layers with weights."""
        return len(self.hidden) + 1

    def weight_names(self) -> list[str]:
        return [f"W{l}" for l in range(1, self.k + 1)]

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Parameter name -> shape, in the order the parameters are drawn."""
        out = {}
        for l, (fan_in, fan_out) in enumerate(pairwise(self.sizes), start=1):
            out[f"W{l}"] = (fan_out, fan_in)
            out[f"b{l}"] = (fan_out,)
        return out

    def init(
        self,
        rng: np.random.Generator,
        kind: str = "xavier",
        sigma: float = 0.01,
        bias_sigma: float = 0.0,
        dtype=np.float32,
    ) -> dict[str, np.ndarray]:
        """Draw the parameters, layer by layer, W_l before b_l.

        kind "normal": every W entry ~ N(0, sigma^2); "xavier": N(0, 1/fan_in) (lab 2);
        "he": N(0, 2/fan_in).  Biases are 0 unless ``bias_sigma`` > 0 (lab 1 draws them
        from N(0, 0.01^2) too).
        """
        if kind not in INITS:
            raise ValueError(f"unknown init {kind!r}; expected one of {INITS}")
        params = {}
        for name, shape in self.shapes().items():
            if name.startswith("W"):
                fan_in = shape[1]
                std = {"normal": sigma, "xavier": np.sqrt(1 / fan_in), "he": np.sqrt(2 / fan_in)}
                values = rng.standard_normal(shape) * std[kind]
            elif bias_sigma > 0:
                values = rng.standard_normal(shape) * bias_sigma
            else:
                values = np.zeros(shape)
            params[name] = values.astype(dtype)
        return params

    def check(self, params: dict[str, np.ndarray]) -> None:
        """Raise if ``params`` does not fit this architecture."""
        expected = self.shapes()
        got = {name: value.shape for name, value in params.items()}
        if got != expected:
            raise ValueError(f"parameters {got} do not fit the network {expected}")

    def scores(self, params: dict[str, np.ndarray], X: np.ndarray) -> tuple[np.ndarray, list]:
        """Forward pass: the final scores S (n, K) and the cache [X^(0), ..., X^(k-1)]."""
        H = X
        cache = [X]
        for l in range(1, self.k):
            H = H @ params[f"W{l}"].T
            H += params[f"b{l}"]
            np.maximum(H, 0, out=H)
            cache.append(H)
        S = H @ params[f"W{self.k}"].T
        S += params[f"b{self.k}"]
        return S, cache

    def forward(self, params: dict[str, np.ndarray], X: np.ndarray) -> tuple[np.ndarray, list]:
        """Class probabilities P (n, K) and the cache for ``backward``."""
        S, cache = self.scores(params, X)
        return softmax(S), cache

    def penalty(self, params: dict[str, np.ndarray]) -> float:
        """sum_l ||W_l||_F^2 (the cost adds lambda times this)."""
        return float(sum(np.vdot(params[w], params[w]) for w in self.weight_names()))

    def evaluate(
        self, params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, lam: float
    ) -> dict[str, float]:
        """Loss, cost (loss + lambda * penalty) and accuracy on (X, y)."""
        S, _ = self.scores(params, X)
        loss = cross_entropy(S, y)
        return {"loss": loss, "cost": loss + lam * self.penalty(params), "acc": accuracy(S, y)}

    def cost(self, params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, lam: float):
        return self.evaluate(params, X, y, lam)["cost"]

    def backward(
        self,
        params: dict[str, np.ndarray],
        cache: list,
        P: np.ndarray,
        y: np.ndarray,
        lam: float,
    ) -> dict[str, np.ndarray]:
        """Gradients of the cost (mean cross-entropy + lambda sum ||W||^2) for every parameter.

        G = P - Y; dW_l = G^T X^(l-1) / n + 2 lambda W_l; db_l = sum_rows(G) / n;
        G <- (G W_l) * Ind(X^(l-1) > 0) going down.
        """
        n = len(y)
        G = P.copy()
        G[np.arange(n), y] -= 1
        G /= n
        grads = {}
        for l in range(self.k, 0, -1):
            W = params[f"W{l}"]
            H = cache[l - 1]
            grads[f"W{l}"] = G.T @ H
            if lam:
                grads[f"W{l}"] += (2 * lam) * W
            grads[f"b{l}"] = G.sum(axis=0)
            if l > 1:
                G = G @ W
                G *= H > 0
        return grads

    def gradients(
        self, params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, lam: float
    ) -> dict[str, np.ndarray]:
        """Forward then backward on one batch."""
        P, cache = self.forward(params, X)
        return self.backward(params, cache, P, y, lam)
