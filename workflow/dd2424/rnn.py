"""The vanilla character RNN of lab 4 (course-spec §4): forward, BPTT, AdaGrad, sampling.

Parameters are a dict ``{"U": (m, K), "W": (m, m), "V": (K, m), "b": (m,), "c": (K,)}``.  A
sequence is given by indices: inputs ``x`` and targets ``y`` (length tau), not one-hot
matrices.  Per step t (eqs 1-4):

    a_t = W h_{t-1} + U x_t + b,   h_t = tanh(a_t),   o_t = V h_t + c,   p_t = SoftMax(o_t)

and the loss is the **sum** over the sequence L = -sum_t log p_t[y_t] (eq 5).

Speed (conventions §8): ``U x_t`` is a column gather ``U[:, x]`` done once; the output layer,
softmax, dV, dW, dU, db and dc are single matrix products or sums over the whole sequence; only
``tanh(a_t + W h_{t-1})`` and its backward run in a Python loop.  ``Trainer`` keeps parameters,
gradients and AdaGrad memory in flat buffers with named views, so clipping (once, on the final
gradients) and the AdaGrad step each run over one whole buffer in place, not per parameter.
Float64 by default; ``RNNConfig(dtype="float32")`` trains ~1.3x faster.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

NAMES = ("U", "W", "V", "b", "c")
FORMAT = "dd2424-rnn-trainer/1"


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


def softmax(o: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, max subtracted (stable for any finite scores)."""
    e = np.exp(o - o.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


@dataclass
class Cache:
    """What ``backward`` needs from ``forward``: inputs, targets, H = [h_0; h_1; ...; h_tau]
    as rows (tau + 1, m) and the probabilities P (tau, K)."""

    x: np.ndarray
    y: np.ndarray
    H: np.ndarray
    P: np.ndarray


def forward(
    params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray, h0: np.ndarray
) -> tuple[float, Cache, np.ndarray]:
    """Eqs 1-5 over one sequence: (loss summed over the tau steps, cache, h_tau)."""
    U, W, V, b, c = (params[k] for k in NAMES)
    tau = len(x)
    A = U.T[x]  # (tau, m): row t is U x_t  (index gather, no one-hot product)
    A += b
    H = np.empty((tau + 1, W.shape[0]), dtype=W.dtype)
    H[0] = h0
    h = H[0]
    for t in range(tau):
        h = np.tanh(np.matmul(W, h) + A[t], out=H[t + 1])
    O = H[1:] @ V.T
    O += c
    O -= O.max(axis=1, keepdims=True)
    P = np.exp(O)
    s = P.sum(axis=1)
    P /= s[:, None]
    loss = float(np.log(s).sum() - O[np.arange(tau), y].sum())
    return loss, Cache(x, y, H, P), H[tau]


def backward(
    params: Mapping[str, np.ndarray],
    cache: Cache,
    out: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """BPTT (course-spec §4.1): gradients of the summed loss w.r.t. U, W, V, b, c.

    With ``out`` (arrays of the parameter shapes) the gradients are written into it.
    """
    W, V = params["W"], params["V"]
    x, y, H, P = cache.x, cache.y, cache.H, cache.P
    tau, K = P.shape
    if out is None:
        out = {k: np.empty_like(params[k]) for k in NAMES}
    G = P.copy()
    G[np.arange(tau), y] -= 1  # row t: g_t = -(y_t - p_t)^T
    Hs = H[1:]
    np.matmul(G.T, Hs, out=out["V"])  # dV = sum_t g_t^T h_t^T
    np.sum(G, axis=0, out=out["c"])
    dHo = G @ V  # (tau, m): g_t V, the output-layer part of dL/dh_t
    D = dtanh(Hs)
    dA = np.empty_like(dHo)
    da = dHo[tau - 1] * D[tau - 1]  # dL/dh_tau = g_tau V
    dA[tau - 1] = da
    for t in range(tau - 2, -1, -1):
        da = np.multiply(np.matmul(da, W) + dHo[t], D[t], out=dA[t])  # dL/da_{t+1} W
    np.matmul(dA.T, H[:-1], out=out["W"])  # dW = sum_t da_t^T h_{t-1}^T
    X = np.zeros((tau, K), dtype=P.dtype)  # one-hot matmul: 8 us vs 41 us for np.add.at
    X[np.arange(tau), x] = 1
    np.matmul(dA.T, X, out=out["U"])  # dU = sum_t da_t^T x_t^T
    np.sum(dA, axis=0, out=out["b"])
    return dict(out)


def clip_gradients(grads: Mapping[str, np.ndarray], bound: float = 5.0) -> dict[str, np.ndarray]:
    """Spec 0.4: every entry clipped to [-bound, bound]; apply once, to the final gradients."""
    return {k: np.clip(g, -bound, bound) for k, g in grads.items()}


def adagrad_(
    theta: np.ndarray,
    grad: np.ndarray,
    mem: np.ndarray,
    eta: float,
    eps: float = 1e-8,
    tmp: np.ndarray | None = None,
) -> None:
    """Eqs 6-7 in place: mem += g^2; theta -= eta * g / sqrt(mem + eps) (eps inside the sqrt)."""
    if tmp is None:
        tmp = np.empty_like(theta)
    np.multiply(grad, grad, out=tmp)
    mem += tmp
    np.add(mem, eps, out=tmp)
    np.sqrt(tmp, out=tmp)
    np.divide(grad, tmp, out=tmp)
    tmp *= eta
    theta -= tmp


# ------------------------------------------------------------------------------- sampling
def nucleus(p: np.ndarray, top_p: float) -> np.ndarray:
    """Eqs 11-13: keep the smallest set of most probable entries with mass >= top_p.

    k is the smallest count with sum_{j<=k} p_{i_j} >= top_p (p sorted descending); entries
    with p_i >= p_{i_k} are kept and the rest set to 0, then divided by their sum, which is
    p' of eq 12 (when several entries tie with p_{i_k}, eq 13 keeps them all and the sum is
    the kept mass, so the result still sums to 1).  ``top_p >= 1`` returns p unchanged.
    """
    if not 0.0 < top_p:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    if top_p >= 1.0:
        return p
    sorted_p = np.sort(p)[::-1]
    k = min(int(np.searchsorted(np.cumsum(sorted_p), top_p, side="left")), len(p) - 1)
    kept = np.where(p >= sorted_p[k], p, 0.0)
    return kept / kept.sum()


def sampling_distribution(
    o: np.ndarray, temperature: float = 1.0, top_p: float = 1.0
) -> np.ndarray:
    """p~_t from the scores o_t: SoftMax(o_t / T) (eq 10), then the nucleus cut (eqs 11-13)."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    p = softmax(o / temperature if temperature != 1.0 else o)
    return nucleus(p, top_p)


def sample_index(p: np.ndarray, rng: np.random.Generator) -> int:
    """Spec 0.3: cp = cumsum(p), a = rand, the first index with cp(ii) > a."""
    cp = np.cumsum(p)
    a = rng.random() * cp[-1]  # cp[-1] is 1 up to rounding
    return min(int(np.searchsorted(cp, a, side="right")), len(p) - 1)


def synthesize(
    params: Mapping[str, np.ndarray],
    h0: np.ndarray,
    x0: int,
    n: int,
    rng: np.random.Generator,
    temperature: float = 1.0,
    top_p: float = 1.0,
) -> np.ndarray:
    """Spec 0.3: run eqs 1-4 from h0 and input x0, sample n indices, each fed back as input.

    Each p_t goes through ``sampling_distribution`` (temperature, eq 10; nucleus, eqs 11-13)
    and one ``rng.random()`` draw (``sample_index``).  Returns the indices (n,).
    """
    U, W, V, b, c = (params[k] for k in NAMES)
    h = np.asarray(h0, dtype=W.dtype)
    xt = int(x0)
    out = np.empty(n, dtype=np.intp)
    for t in range(n):
        h = np.tanh(W @ h + U[:, xt] + b)
        xt = sample_index(sampling_distribution(V @ h + c, temperature, top_p), rng)
        out[t] = xt
    return out


# ------------------------------------------------------------------------------- training
@dataclass(frozen=True)
class RNNConfig:
    """Spec 0.2 defaults: m = 100, eta = .1, seq_length = 25, sig = .01; clip [-5, 5]."""

    m: int = 100
    seq_length: int = 25
    eta: float = 0.1
    sig: float = 0.01
    eps: float = 1e-8
    clip: float = 5.0
    smooth: float = 0.999
    dtype: str = "float64"

    def __post_init__(self) -> None:
        if self.m < 1 or self.seq_length < 1:
            raise ValueError("m and seq_length must be >= 1")
        if np.dtype(self.dtype) not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")


def next_position(e: int, n: int, seq_length: int) -> tuple[int, bool]:
    """Spec 0.5 with 0-based e: e += seq_length; if e > n - seq_length - 1: e = 0 (epoch done).

    The window at e is inputs data[e : e+seq_length], targets data[e+1 : e+seq_length+1], so
    the rule wraps exactly when the next window would not fit.  (The spec's 1-based rule,
    translated literally, wraps one step earlier when (n - seq_length - 1) % seq_length == 0;
    both give 44 301 updates per epoch on the Goblet text.)
    """
    e += seq_length
    if e > n - seq_length - 1:
        return 0, True
    return e, False


def updates_per_epoch(n: int, seq_length: int) -> int:
    """Number of updates before ``next_position`` wraps (44 301 for the Goblet text, tau 25)."""
    if n < seq_length + 1:
        raise ValueError(f"need at least seq_length + 1 = {seq_length + 1} characters, got {n}")
    return max(0, (n - seq_length - 1) // seq_length) + 1


def _layout(m: int, K: int) -> dict[str, tuple[int, int, tuple[int, ...]]]:
    offsets, start = {}, 0
    for name, shape in param_shapes(m, K).items():
        size = int(np.prod(shape))
        offsets[name] = (start, start + size, shape)
        start += size
    return offsets


def _views(buf: np.ndarray, layout: Mapping[str, tuple[int, int, tuple[int, ...]]]):
    return {name: buf[a:b].reshape(shape) for name, (a, b, shape) in layout.items()}


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")


def _restore_rng(state: dict) -> np.random.Generator:
    name = state["bit_generator"]
    if name not in _BIT_GENERATORS:
        raise ValueError(f"unknown bit generator {name!r}")
    bitgen = getattr(np.random, name)()
    if name == "MT19937":
        state = {**state, "state": {**state["state"], "key": np.asarray(state["state"]["key"])}}
    bitgen.state = state
    return np.random.Generator(bitgen)


class Trainer:
    """All the state of a training run, so that it can be saved and resumed bit-identically.

    ``params``, ``grads`` and ``mem`` are dicts of views into the flat buffers ``theta``,
    ``grad`` and ``mem_flat``; ``e`` is the book position, ``hprev`` the hidden state carried
    to the next update, ``update`` the number of updates done, ``epoch`` the number of completed
    epochs, ``best_*`` the parameters (as used in the forward pass, i.e. after ``best_update``
    updates) with the lowest smooth loss and the h0 and first input of that pass, ``rng`` the
    generator used for initialisation and sampling (the one passed in, not a copy), and
    ``extra`` any JSON-able data the caller wants saved and restored with the state.
    """

    def __init__(
        self,
        config: RNNConfig,
        K: int,
        rng: np.random.Generator,
        vocab: list[str] | None = None,
    ) -> None:
        self._allocate(config, K, vocab)
        init = init_params(config.m, K, rng, config.sig, self.dtype)
        for name in NAMES:
            self.params[name][...] = init[name]
        self.best_theta[:] = self.theta
        self.rng = rng

    def _allocate(self, config: RNNConfig, K: int, vocab: list[str] | None) -> None:
        if vocab is not None and len(vocab) != K:
            raise ValueError(f"vocabulary has {len(vocab)} characters, K = {K}")
        self.config = config
        self.K = K
        self.vocab = None if vocab is None else list(vocab)
        self.dtype = np.dtype(config.dtype)
        self.layout = _layout(config.m, K)
        size = next(reversed(self.layout.values()))[1]
        self.theta = np.zeros(size, dtype=self.dtype)
        self.grad = np.zeros(size, dtype=self.dtype)
        self.mem_flat = np.zeros(size, dtype=self.dtype)
        self.best_theta = np.zeros(size, dtype=self.dtype)
        self._tmp = np.empty(size, dtype=self.dtype)
        self.params = _views(self.theta, self.layout)
        self.grads = _views(self.grad, self.layout)
        self.mem = _views(self.mem_flat, self.layout)
        self.best_params = _views(self.best_theta, self.layout)
        self.hprev = np.zeros(config.m, dtype=self.dtype)
        self.best_hprev = np.zeros(config.m, dtype=self.dtype)
        self.e = 0
        self.update = 0
        self.epoch = 0
        self.smooth_loss: float | None = None
        self.best_smooth_loss: float | None = None
        self.best_update = 0
        self.best_x0 = 0
        self.extra: dict[str, Any] = {}

    @property
    def n_params(self) -> int:
        return self.theta.size

    def step(self, x: np.ndarray, y: np.ndarray, h0: np.ndarray) -> tuple[float, np.ndarray]:
        """One update on (x, y) from h0: forward, smooth loss and best model (with the params
        of this forward pass), backward, clip once, AdaGrad.  Returns (loss, h_tau)."""
        cfg = self.config
        loss, cache, h_last = forward(self.params, x, y, h0)
        s = (
            loss
            if self.smooth_loss is None
            else cfg.smooth * self.smooth_loss + (1 - cfg.smooth) * loss
        )
        self.smooth_loss = s
        if self.best_smooth_loss is None or s < self.best_smooth_loss:
            self.best_smooth_loss = s
            self.best_update = self.update
            self.best_theta[:] = self.theta
            self.best_hprev[:] = h0
            self.best_x0 = int(x[0])
        backward(self.params, cache, out=self.grads)
        np.clip(self.grad, -cfg.clip, cfg.clip, out=self.grad)
        adagrad_(self.theta, self.grad, self.mem_flat, cfg.eta, cfg.eps, self._tmp)
        self.update += 1
        return loss, h_last

    # ---------------------------------------------------------------------- save / load
    def metadata(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "config": asdict(self.config),
            "K": self.K,
            "vocab": self.vocab,
            "e": self.e,
            "update": self.update,
            "epoch": self.epoch,
            "smooth_loss": self.smooth_loss,
            "best_smooth_loss": self.best_smooth_loss,
            "best_update": self.best_update,
            "best_x0": self.best_x0,
            "rng_state": _jsonable(self.rng.bit_generator.state),
            "extra": self.extra,
        }

    def save(self, path: str | Path) -> None:
        """One .npz (buffers + the JSON metadata as a string), written to a temp file and
        renamed into place."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as f:
            np.savez(
                f,
                theta=self.theta,
                mem=self.mem_flat,
                hprev=self.hprev,
                best_theta=self.best_theta,
                best_hprev=self.best_hprev,
                meta=np.array(json.dumps(self.metadata())),
            )
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path) -> Trainer:
        with np.load(path) as f:
            meta = json.loads(str(f["meta"][()]))
            arrays = {k: f[k] for k in f.files if k != "meta"}
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path} is not a saved {FORMAT} state")
        self = cls.__new__(cls)
        self._allocate(RNNConfig(**meta["config"]), int(meta["K"]), meta["vocab"])
        self.theta[:] = arrays["theta"]
        self.mem_flat[:] = arrays["mem"]
        self.hprev[:] = arrays["hprev"]
        self.best_theta[:] = arrays["best_theta"]
        self.best_hprev[:] = arrays["best_hprev"]
        for key in ("e", "update", "epoch", "smooth_loss", "best_smooth_loss", "best_update"):
            setattr(self, key, meta[key])
        self.best_x0 = meta["best_x0"]
        self.extra = meta["extra"]
        self.rng = _restore_rng(meta["rng_state"])
        return self


@dataclass
class History:
    """What ``train`` recorded: (update, smooth loss) at update 1 and every ``loss_every``;
    (update, smooth loss before it or None, sampled indices) before update 0 and every
    ``sample_every`` (update = the number of updates done when the sample was drawn)."""

    smooth_loss: list[tuple[int, float]] = field(default_factory=list)
    samples: list[tuple[int, float | None, np.ndarray]] = field(default_factory=list)
    updates: int = 0
    seconds: float = 0.0

    @property
    def updates_per_s(self) -> float:
        return self.updates / self.seconds if self.seconds > 0 else float("nan")


def train(
    state: Trainer,
    data: np.ndarray,
    n_updates: int,
    *,
    loss_every: int = 100,
    sample_every: int | None = None,
    sample_length: int = 200,
    log_every: int = 10_000,
    on_loss: Callable[[int, float], None] | None = None,
    on_sample: Callable[[int, float | None, np.ndarray], None] | None = None,
) -> History:
    """Spec 0.5: ``n_updates`` more AdaGrad updates over ``data`` (character indices).

    Window at e: x = data[e:e+tau], y = data[e+1:e+tau+1]; h0 = 0 if e = 0 else the last hidden
    state; then ``next_position``.  With ``sample_every``, a ``sample_length`` sample is drawn
    from state.rng before every update whose index is a multiple of it (so also before the
    first), from h0 = the hprev of that forward pass and x0 = x[0].  Stopping and resuming
    (also through ``save``/``load``) gives the same result as one uninterrupted call.
    """
    cfg = state.config
    tau = cfg.seq_length
    data = np.asarray(data)
    if not np.issubdtype(data.dtype, np.integer):
        raise TypeError("data must be character indices")
    n = len(data)
    if n < tau + 1:
        raise ValueError(f"need at least seq_length + 1 = {tau + 1} characters, got {n}")
    if n and (data.min() < 0 or data.max() >= state.K):
        raise ValueError(f"data indices must be in [0, {state.K})")
    if state.e > n - tau - 1:
        raise ValueError(f"state position {state.e} does not fit data of length {n}")
    data = data.astype(np.intp, copy=False)
    zeros = np.zeros(cfg.m, dtype=state.dtype)
    history = History()
    started = last_time = time.perf_counter()
    last_update = state.update
    for _ in range(n_updates):
        e = state.e
        x = data[e : e + tau]
        y = data[e + 1 : e + tau + 1]
        h0 = zeros if e == 0 else state.hprev
        if sample_every and state.update % sample_every == 0:
            idx = synthesize(state.params, h0, int(x[0]), sample_length, state.rng)
            history.samples.append((state.update, state.smooth_loss, idx))
            if on_sample is not None:
                on_sample(state.update, state.smooth_loss, idx)
        _, h_last = state.step(x, y, h0)
        state.e, wrapped = next_position(e, n, tau)
        if wrapped:
            state.epoch += 1
            state.hprev = zeros.copy()
        else:
            state.hprev = h_last
        u = state.update
        if u == 1 or u % loss_every == 0:
            history.smooth_loss.append((u, state.smooth_loss))
            if on_loss is not None:
                on_loss(u, state.smooth_loss)
        if log_every and u % log_every == 0:
            now = time.perf_counter()
            log.info(
                "update %d (epoch %d): smooth loss %.4f, %.0f updates/s",
                u,
                state.epoch,
                state.smooth_loss,
                (u - last_update) / (now - last_time),
            )
            last_time, last_update = now, u
    history.updates = n_updates
    history.seconds = time.perf_counter() - started
    return history
