"""The multi-layer network of labs 1-3 (a 1-layer softmax classifier is the k=1 case).

Parameters live in a plain dict ``{"W1": ..., "b1": ..., ..., "Wk": ..., "bk": ...}`` with
``W_l`` of shape (out, in) as in the course, plus ``gamma_l``, ``beta_l`` for the hidden
layers of a batch-normalised network, so gradient checks, optimisers and saving are generic.
Samples are rows: ``X`` is (n, d) and the scores are ``X @ W.T + b``.  ``forward`` returns the
cache ``backward`` needs; the network object holds no state between the two.

Batch normalisation (course-spec §3.2) needs the moving averages of the batch means and
variances: they are a separate dict ``stats = {"mu1": ..., "v1": ..., ...}`` that the caller
owns and passes in (``init_stats`` makes it from the first mini-batch, ``gradients`` updates it
after every training forward pass, ``evaluate`` normalises with it).  It sits before the ReLU
(the course's eqs. 12-19) or, with ``bn_position="after"``, after it (bonus 3.6 c).

The loss is the cross-entropy of the softmax (the course's) or the multi-class SVM (hinge)
loss, sum_{j != y} max(0, s_j - s_y + 1) (lab 1 bonus 2.2); either way the cost adds
lambda sum_l ||W_l||^2.  Dropout (inverted, keep probability ``keep_prob``) multiplies the
output of every hidden layer by a mask m / p with m ~ Bernoulli(p) in training mode only; the
masks are drawn from a generator the caller passes in (or are given, e.g. fixed for a gradient
check) and travel in the cache like everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from ..activations import softmax
from . import batchnorm
from .losses import accuracy, cross_entropy, svm_gradient, svm_loss

#: a network's parameters (and, in ``stats``, its moving averages): name -> array
Params = dict[str, np.ndarray]

INITS = ("normal", "xavier", "he")
LOSSES = ("cross_entropy", "svm")
BN_POSITIONS = ("before", "after")


def hidden_label(hidden) -> str:
    """The ``hidden`` column of the result tables: the widths joined by "-" ("50-50"), or
    "none" for a one-layer network (as ``summary.describe_run`` reads it)."""
    return "-".join(map(str, hidden)) or "none"


@dataclass(frozen=True)
class Network:
    """Architecture: input size, hidden layer sizes (ReLU), number of classes, whether the
    hidden layers are batch-normalised (``bn_eps`` inside the square root, ``bn_alpha`` the
    moving-average weight, ``bn_position`` before or after the ReLU), the ``loss``
    (``cross_entropy`` or ``svm``) and the dropout keep probability of the hidden layers
    (``keep_prob`` = 1: no dropout).

    ``hidden=()`` is lab 1 (s = Wx + b), ``hidden=(50,)`` lab 2, ``batch_norm=True`` lab 3.
    """

    d: int
    K: int
    hidden: tuple[int, ...] = ()
    batch_norm: bool = False
    bn_eps: float = 1e-8
    bn_alpha: float = 0.9
    loss: str = "cross_entropy"
    bn_position: str = "before"
    keep_prob: float = 1.0

    def __post_init__(self) -> None:
        if self.batch_norm and not self.hidden:
            raise ValueError("batch normalisation needs at least one hidden layer")
        if not 0 < self.bn_alpha < 1 or self.bn_eps <= 0:
            raise ValueError("need 0 < bn_alpha < 1 and bn_eps > 0")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; expected one of {LOSSES}")
        if self.bn_position not in BN_POSITIONS:
            raise ValueError(
                f"unknown batch_norm_position {self.bn_position!r}; expected one of {BN_POSITIONS}"
            )
        if not 0 < self.keep_prob <= 1:
            raise ValueError(f"keep_prob must be in (0, 1], got {self.keep_prob}")
        if self.keep_prob < 1 and not self.hidden:
            raise ValueError("dropout (keep_prob < 1) needs at least one hidden layer")

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.d, *self.hidden, self.K)

    @property
    def k(self) -> int:
        """Number of layers with weights."""
        return len(self.hidden) + 1

    def normalised(self, l: int) -> bool:
        """Layer l is batch-normalised (every hidden layer when ``batch_norm``)."""
        return self.batch_norm and l < self.k

    def has_bias(self, l: int) -> bool:
        """Layer l has a bias b_l.  A layer normalised before its ReLU has none: the mean
        subtraction cancels it, so its gradient is identically zero (course-spec §3.2 notes it
        is superfluous) and beta_l is the shift.  Normalised after the ReLU, b_l moves the
        ReLU's threshold and is kept."""
        return not self.normalised(l) or self.bn_position == "after"

    @property
    def dropout(self) -> bool:
        return self.keep_prob < 1

    def weight_names(self) -> list[str]:
        return [f"W{l}" for l in range(1, self.k + 1)]

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Parameter name -> shape, in the order the parameters are drawn."""
        out = {}
        for l, (fan_in, fan_out) in enumerate(pairwise(self.sizes), start=1):
            out[f"W{l}"] = (fan_out, fan_in)
            if self.has_bias(l):
                out[f"b{l}"] = (fan_out,)
            if self.normalised(l):
                out[f"gamma{l}"] = (fan_out,)
                out[f"beta{l}"] = (fan_out,)
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
        from N(0, 0.01^2) too).  gamma = 1 and beta = 0 draw nothing, so a network with and
        without batch normalisation starts from the same weights for the same seed.
        """
        if kind not in INITS:
            raise ValueError(f"unknown init {kind!r}; expected one of {INITS}")
        params = {}
        for name, shape in self.shapes().items():
            group = name.rstrip("0123456789")  # W, b, gamma or beta
            if group == "W":
                fan_in = shape[1]
                std = {"normal": sigma, "xavier": np.sqrt(1 / fan_in), "he": np.sqrt(2 / fan_in)}
                values = rng.standard_normal(shape) * std[kind]
            elif group == "b" and bias_sigma > 0:
                values = rng.standard_normal(shape) * bias_sigma
            elif group == "gamma":
                values = np.ones(shape)
            else:
                values = np.zeros(shape)
            params[name] = values.astype(dtype)
        return params

    def check(self, params: Params) -> None:
        """Raise if ``params`` does not fit this architecture."""
        expected = self.shapes()
        got = {name: value.shape for name, value in params.items()}
        if got != expected:
            raise ValueError(f"parameters {got} do not fit the network {expected}")

    # ------------------------------------------------------------------ forward

    def dropout_masks(
        self, rng: np.random.Generator, n: int, dtype=np.float32
    ) -> dict[int, np.ndarray]:
        """Inverted-dropout masks for a batch of n samples: per hidden layer l, an (n, m_l)
        array that is 1/p where a unit is kept (probability p = ``keep_prob``) and 0 where it
        is dropped, drawn from ``rng`` layer by layer.  Empty without dropout (nothing drawn)."""
        if not self.dropout:
            return {}
        p = self.keep_prob
        masks = {}
        for l, m in enumerate(self.hidden, start=1):
            keep = rng.random((n, m), dtype=np.dtype(dtype).type) < p
            masks[l] = keep.astype(dtype)
            masks[l] *= np.dtype(dtype).type(1 / p)
        return masks

    def scores(
        self,
        params: Params,
        X: np.ndarray,
        stats: dict | None = None,
        masks: dict[int, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, dict]:
        """Forward pass: the final scores S (n, K) and the cache for ``backward``.

        Batch normalisation uses the statistics of this batch (training mode, eqs. 12-19,
        biased variance) when ``stats`` is None, else the moving averages in ``stats``
        (test mode, eqs. 5-11).  Before the ReLU (the course's) layer l computes
        x = max(0, gamma * BN(W x + [b]) + beta); after it, x = gamma * BN(max(0, W x + b)) +
        beta.  ``masks`` (from ``dropout_masks``) multiply each hidden layer's output; None is
        no dropout (test mode).  The cache holds the layer inputs X^(0..k-1) (after dropout),
        per normalised layer (S, S_hat, mu, v) of the normalised quantity S (the scores before
        the ReLU, or the ReLU's output after it), the masks and the final scores.
        """
        H = X
        inputs, bn = [X], {}
        for l in range(1, self.k):
            S = H @ params[f"W{l}"].T
            if self.has_bias(l):
                S += params[f"b{l}"]
            if self.normalised(l):
                if self.bn_position == "after":
                    np.maximum(S, 0, out=S)  # the ReLU's output is normalised
                averages = None if stats is None else (stats[f"mu{l}"], stats[f"v{l}"])
                S_hat, mu, v = batchnorm.normalise(S, averages, self.bn_eps)
                bn[l] = (S, S_hat, mu, v)
                H = S_hat * params[f"gamma{l}"]  # eq. 16
                H += params[f"beta{l}"]
                if self.bn_position == "before":
                    np.maximum(H, 0, out=H)
            else:
                H = S
                np.maximum(H, 0, out=H)
            if masks:
                H *= masks[l]
            inputs.append(H)
        S = H @ params[f"W{self.k}"].T
        S += params[f"b{self.k}"]
        return S, {"inputs": inputs, "bn": bn, "masks": masks or {}, "scores": S}

    def forward(self, params: Params, X: np.ndarray, **kwargs) -> tuple:
        """Class probabilities P (n, K) (the softmax of the scores, whichever the loss) and the
        cache for ``backward``; ``kwargs``: ``stats`` and ``masks``, as for ``scores``."""
        S, cache = self.scores(params, X, **kwargs)
        return softmax(S), cache

    def penalty(self, params: Params) -> float:
        """sum_l ||W_l||_F^2 (the cost adds lambda times this)."""
        return float(sum(np.vdot(params[w], params[w]) for w in self.weight_names()))

    def loss_value(self, S: np.ndarray, y: np.ndarray) -> float:
        """The mean loss of the scores S: cross-entropy or SVM, as the network trains."""
        return svm_loss(S, y) if self.loss == "svm" else cross_entropy(S, y)

    def evaluate(
        self, params: Params, X: np.ndarray, y: np.ndarray, lam: float, stats: dict | None = None
    ) -> dict[str, float]:
        """Loss (the one trained: ``self.loss`` says which), cost (loss + lambda * penalty) and
        accuracy on (X, y), in test mode (no dropout): a batch-normalised network needs the
        moving averages ``stats``."""
        if self.batch_norm and not stats:
            raise ValueError("evaluating a batch-normalised network needs its moving averages")
        S, _ = self.scores(params, X, stats)
        loss = self.loss_value(S, y)
        return {"loss": loss, "cost": loss + lam * self.penalty(params), "acc": accuracy(S, y)}

    def _masks_for(self, masks, rng, n, dtype, what: str):
        if masks is not None or not self.dropout:
            return masks
        if rng is None:
            raise ValueError(
                f"{what} of a network with dropout (keep_prob = {self.keep_prob}) needs the "
                "dropout masks or a generator (rng) to draw them"
            )
        return self.dropout_masks(rng, n, dtype)

    def cost(
        self,
        params: Params,
        X: np.ndarray,
        y: np.ndarray,
        lam: float,
        masks: dict[int, np.ndarray] | None = None,
    ):
        """The cost J of one mini-batch in training mode (batch statistics and, with dropout,
        the given ``masks``), as minimised."""
        masks = self._masks_for(masks, None, len(X), X.dtype, "the training-mode cost")
        S, _ = self.scores(params, X, masks=masks)
        return self.loss_value(S, y) + lam * self.penalty(params)

    # ------------------------------------------------------------------ backward

    def backward(
        self,
        params: Params,
        cache: dict,
        P: np.ndarray | None,
        y: np.ndarray,
        lam: float,
        out: dict[str, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]:
        """Gradients of the cost (mean loss + lambda sum ||W||^2), eqs. 21-30.

        G = dJ/dS: (P - Y) / n for cross-entropy (``P`` from ``forward``), ``svm_gradient`` of
        the cached scores for the SVM (``P`` is not used).  Then layer by layer from the top:
        ``_layer_gradients`` (dW_l, db_l) and, going down, ``_hidden_backward`` (G <- G W_l
        through the hidden layer below).  G carries the 1/n of the mean, so eq. 25's and eq.
        28's 1/n are already in it.

        ``out`` (optional): preallocated arrays, one per parameter, that receive the gradients
        (the same values, without allocating them on every step); they are returned.
        """
        G = self._score_gradient(cache, P, y)
        grads: dict[str, np.ndarray] = {}
        inputs = cache["inputs"]
        for l in range(self.k, 0, -1):
            self._layer_gradients(l, G, inputs[l - 1], params, lam, grads, out)
            if l > 1:
                G = G @ params[f"W{l}"]
                G = self._hidden_backward(l - 1, G, inputs[l - 1], params, cache, grads, out)
        return grads

    def _score_gradient(self, cache: dict, P: np.ndarray | None, y: np.ndarray) -> np.ndarray:
        """G = dJ/dS of the mean loss over the batch."""
        if self.loss == "svm":
            return svm_gradient(cache["scores"], y)
        G = P.copy()
        G[np.arange(len(y)), y] -= 1
        G /= len(y)
        return G

    def _layer_gradients(self, l: int, G, H, params, lam: float, grads: dict, out) -> None:
        """dW_l = G^T X^(l-1) + 2 lambda W_l and db_l = sum_rows(G), into ``grads``."""
        W = params[f"W{l}"]
        grads[f"W{l}"] = G.T @ H if out is None else np.matmul(G.T, H, out=out[f"W{l}"])
        if lam:
            grads[f"W{l}"] += (2 * lam) * W
        if self.has_bias(l):
            grads[f"b{l}"] = G.sum(axis=0, out=None if out is None else out[f"b{l}"])

    def _hidden_backward(self, m: int, G, H, params, cache: dict, grads: dict, out):
        """dJ/dH of hidden layer m's output H -> dJ/d(its scores): times the layer's dropout
        mask, then the ReLU's Ind(. > 0) and, for a normalised layer, dgamma and dbeta (eq.
        25, into ``grads``), G <- G * gamma (eq. 26) and ``batchnorm.backward`` (eq. 27), in
        the order of the forward pass (BN before the ReLU: ReLU then BN; after it: BN then
        ReLU)."""
        if cache["masks"]:
            G *= cache["masks"][m]
        if not self.normalised(m):
            G *= H > 0
            return G
        S, S_hat, mu, v = cache["bn"][m]
        if self.bn_position == "before":
            G *= H > 0
        for name, value in ((f"gamma{m}", (G * S_hat).sum(axis=0)), (f"beta{m}", G.sum(axis=0))):
            if out is None:
                grads[name] = value
            else:
                grads[name] = out[name]
                grads[name][...] = value
        G *= params[f"gamma{m}"]
        G = batchnorm.backward(G, S, mu, v, self.bn_eps)
        if self.bn_position == "after":
            G *= S > 0  # S is the ReLU's output here
        return G

    def gradients(
        self,
        params: Params,
        X: np.ndarray,
        y: np.ndarray,
        lam: float,
        stats: dict | None = None,
        rng: np.random.Generator | None = None,
        masks: dict[int, np.ndarray] | None = None,
        out: dict[str, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]:
        """Forward (training mode) then backward on one batch.  A batch-normalised network
        then updates the moving averages in ``stats`` with this batch's mu, v (eqs. 38-39).
        With dropout, ``masks`` are used if given, else drawn from ``rng``.  ``out``: see
        ``backward``."""
        masks = self._masks_for(masks, rng, len(X), X.dtype, "training")
        if self.loss == "svm":
            P, cache = None, self.scores(params, X, masks=masks)[1]
        else:
            P, cache = self.forward(params, X, masks=masks)
        if self.batch_norm and stats is not None:
            for l, (_, _, mu, v) in cache["bn"].items():
                batchnorm.update_averages(stats, l, mu, v, self.bn_alpha)
        return self.backward(params, cache, P, y, lam, out)

    def init_stats(self, params: Params, X: np.ndarray) -> dict[str, np.ndarray]:
        """Moving averages initialised to the mu, v of the mini-batch X (the first one of
        training, without dropout); empty for a network without batch normalisation."""
        if not self.batch_norm:
            return {}
        _, cache = self.scores(params, X)
        stats = {}
        for l, (_, _, mu, v) in cache["bn"].items():
            stats[f"mu{l}"], stats[f"v{l}"] = mu.copy(), v.copy()
        return stats
