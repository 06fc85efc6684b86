"""The whole state of a char-RNN run, one update, and bit-identical save / resume.

The state (``TrainingState``): the configuration, the parameters and gradients as views into
two flat buffers (one clip and one optimiser step per update), the optimiser with its state,
the hidden states carried to the next update, the smooth loss, the best model, the generator
of the samples and the walk through the text.  ``step`` is one update: forward and BPTT over
the B windows together (``dd2424.rnn.network``: the loss is the mean over the B sequences of
each one's summed loss, and so is the gradient); the gradient is clipped once, then the
optimiser (``dd2424.rnn.optim``) takes its step.  ``save``/``load`` write and read all of it,
so a resumed run is bit-identical to an uninterrupted one.

Best model: with a validation text, the parameters with the lowest validation loss per
character among the evaluations (``consider``); without one, the course's rule: the
parameters of the forward pass with the lowest smooth loss.  Either way the best model keeps
an h0 and a first character to generate from: for the smooth-loss rule the h0 and first
input of that forward pass (spec); for the validation rule lane 0's last hidden state and the
character after its last window, i.e. where lane 0's text continues.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import schedules
from . import network, optim
from .walks import Walk

FORMAT = "dd2424-rnn-trainer/3"
#: characters per update at which the per-character smoothed loss uses the ``smooth`` factor
CHAR_WINDOW_UNIT = 25


#: the scalars of the state that a checkpoint restores as they were
RESTORED = (
    "update",
    "smooth_loss",
    "best_smooth_loss",
    "best_smooth_update",
    "char_loss",
    "best_char_loss",
    "best_char_update",
    "best_score",
    "best_update",
)


@dataclass(frozen=True)
class RNNConfig:
    """Spec 0.2 defaults: m = 100, eta = .1 (AdaGrad), seq_length = 25, sig = .01; clip
    [-5, 5].  ``eta=None`` is the optimiser's default (``optim.DEFAULT_ETA``); ``batch`` is
    B, the sequences per update."""

    m: int = 100
    seq_length: int = 25
    optimizer: str = "adagrad"
    eta: float | None = None
    eps: float = 1e-8
    gamma: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    sig: float = 0.01
    clip: float = 5.0
    smooth: float = 0.999
    batch: int = 1
    dtype: str = "float64"
    #: the step size's schedule (``dd2424.schedules``: kind, its arguments but eta, warmup,
    #: and ``steps_per_epoch``/``n_updates`` of the run); None: constant eta
    schedule: dict | None = None

    def __post_init__(self) -> None:
        if self.m < 1 or self.seq_length < 1 or self.batch < 1:
            raise ValueError("m, seq_length and batch must be >= 1")
        if np.dtype(self.dtype) not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        if self.optimizer not in optim.OPTIMIZERS:
            raise ValueError(
                f"unknown optimizer {self.optimizer!r} (have: {sorted(optim.OPTIMIZERS)})"
            )

    @property
    def char_smooth(self) -> float:
        """The factor of the smoothed training loss per character: ``smooth`` per 25
        characters (the course's factor at B = 1, tau = 25), so its window is ~25,000
        characters whatever B and tau, and runs of different B share one scale."""
        return self.smooth ** (self.batch * self.seq_length / CHAR_WINDOW_UNIT)

    def make_schedule(self, eta: float):
        """eta_t of update t (``eta``: the optimiser's step size), or None for a constant."""
        if not schedules.varies(self.schedule):
            return None
        spec = dict(self.schedule)
        steps, n = spec.pop("steps_per_epoch", None), spec.pop("n_updates", None)
        return schedules.make_schedule(spec | {"eta": eta}, steps, n)

    def make_optimizer(self, size: int) -> optim.Optimizer:
        return optim.make_optimizer(
            self.optimizer,
            size,
            self.dtype,
            eta=self.eta,
            eps=self.eps,
            gamma=self.gamma,
            beta1=self.beta1,
            beta2=self.beta2,
        )


def _layout(m: int, K: int) -> dict[str, tuple[int, int, tuple[int, ...]]]:
    offsets, start = {}, 0
    for name, shape in network.param_shapes(m, K).items():
        size = int(np.prod(shape))
        offsets[name] = (start, start + size, shape)
        start += size
    return offsets


def _views(buf: np.ndarray, layout: Mapping[str, tuple[int, int, tuple[int, ...]]]):
    return {name: buf[a:b].reshape(shape) for name, (a, b, shape) in layout.items()}


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist") else o))


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


class TrainingState:
    """All the state of a training run, so that it can be saved and resumed bit-identically.

    ``params`` and ``grads`` are dicts of views into the flat buffers ``theta`` and ``grad``
    (one clip and one optimiser step per update over the whole buffer); ``opt`` is the
    optimiser with its state; ``hprev`` (B, m) the hidden states carried to the next update;
    ``update`` the updates done; ``smooth_loss``/``best_smooth_loss`` the course's smooth loss
    and its minimum; ``best_theta``/``best_h0``/``best_x0``/``best_update``/``best_score`` the
    best model by ``select`` ("smooth" or "validation", see the module docstring); ``rng`` the
    generator of the initialisation and the samples; ``walk`` the walk over the text (or
    None when ``step`` is driven by hand); ``seconds`` the training time so far (updates
    only, not evaluations or samples); ``extra`` JSON-able records saved with the state.
    """

    def __init__(
        self,
        config: RNNConfig,
        K: int,
        rng: np.random.Generator,
        vocab: list[str] | None = None,
        walk: Walk | None = None,
        select: str = "smooth",
    ) -> None:
        self._allocate(config, K, vocab, select)
        init = network.init_params(config.m, K, rng, config.sig, self.dtype)
        for name in network.NAMES:
            self.params[name][...] = init[name]
        self.best_theta[:] = self.theta
        self.rng = rng
        self.walk = walk
        if walk is not None and walk.batch != config.batch:
            raise ValueError(f"walk has {walk.batch} lanes, config.batch is {config.batch}")

    def _allocate(self, config: RNNConfig, K: int, vocab: list[str] | None, select: str) -> None:
        if vocab is not None and len(vocab) != K:
            raise ValueError(f"vocabulary has {len(vocab)} characters, K = {K}")
        if select not in ("smooth", "validation"):
            raise ValueError(f"select must be 'smooth' or 'validation', got {select!r}")
        self.config = config
        self.K = K
        self.vocab = None if vocab is None else list(vocab)
        self.select = select
        self.dtype = np.dtype(config.dtype)
        self.layout = _layout(config.m, K)
        size = next(reversed(self.layout.values()))[1]
        self.theta = np.zeros(size, dtype=self.dtype)
        self.grad = np.zeros(size, dtype=self.dtype)
        self.best_theta = np.zeros(size, dtype=self.dtype)
        self.opt = config.make_optimizer(size)
        self.params = _views(self.theta, self.layout)
        self.grads = _views(self.grad, self.layout)
        self.best_params = _views(self.best_theta, self.layout)
        self.hprev = np.zeros((config.batch, config.m), dtype=self.dtype)
        self.best_h0 = np.zeros(config.m, dtype=self.dtype)
        self.best_x0 = 0
        self.best_update = 0
        self.best_score: float | None = None
        self.update = 0
        self.smooth_loss: float | None = None
        self.best_smooth_loss: float | None = None
        self.best_smooth_update = 0
        self.char_loss: float | None = None  # smoothed training loss per character
        self.best_char_loss: float | None = None
        self.best_char_update = 0
        self.base_eta = self.opt.eta  # the configured step size (or the optimiser's default)
        self.eta_at = config.make_schedule(self.base_eta)
        self.seconds = 0.0
        self.walk: Walk | None = None
        self.extra: dict[str, Any] = {}

    @property
    def n_params(self) -> int:
        return self.theta.size

    def step(self, X: np.ndarray, Y: np.ndarray, H0: np.ndarray) -> tuple[float, np.ndarray]:
        """One update on the windows (X, Y) (tau, B) (or (tau,) for B = 1) from H0: forward,
        smooth loss (and, for the smooth-loss rule, the best model with the parameters of this
        forward pass), backward, clip once, optimiser step.  Returns (loss, h_tau)."""
        cfg = self.config
        loss, cache, h_last = network.forward(self.params, X, Y, H0)
        self._smooth_per_char(loss / cfg.seq_length)
        s = (
            loss
            if self.smooth_loss is None
            else cfg.smooth * self.smooth_loss + (1 - cfg.smooth) * loss
        )
        self.smooth_loss = s
        if self.best_smooth_loss is None or s < self.best_smooth_loss:
            self.best_smooth_loss = s
            self.best_smooth_update = self.update
            if self.select == "smooth":
                self.best_score = s
                self.best_update = self.update
                self.best_theta[:] = self.theta
                self.best_h0[:] = H0 if np.ndim(H0) == 1 else H0[0]
                self.best_x0 = int(cache.X[0, 0])
        network.backward(self.params, cache, out=self.grads)
        np.clip(self.grad, -cfg.clip, cfg.clip, out=self.grad)
        if self.eta_at is not None:
            self.opt.eta = self.eta_at(self.update)
        self.opt.step(self.theta, self.grad)
        self.update += 1
        return loss, h_last

    def _smooth_per_char(self, per_char: float) -> None:
        c = self.char_loss
        f = self.config.char_smooth
        self.char_loss = per_char if c is None else f * c + (1 - f) * per_char
        if self.best_char_loss is None or self.char_loss < self.best_char_loss:
            self.best_char_loss, self.best_char_update = self.char_loss, self.update

    def consider(self, score: float, h0: np.ndarray, x0: int) -> bool:
        """The validation rule: keep the current parameters as the best model if ``score``
        (validation loss per character) is the lowest so far.  Returns whether it was."""
        if self.best_score is not None and not score < self.best_score:
            return False
        self.best_score = score
        self.best_update = self.update
        self.best_theta[:] = self.theta
        self.best_h0[:] = h0
        self.best_x0 = int(x0)
        return True

    # ---------------------------------------------------------------------- save / load
    def metadata(self) -> dict[str, Any]:
        walk = self.walk
        return {
            "format": FORMAT,
            "config": asdict(self.config),
            "K": self.K,
            "vocab": self.vocab,
            "select": self.select,
            "update": self.update,
            "smooth_loss": self.smooth_loss,
            "best_smooth_loss": self.best_smooth_loss,
            "best_smooth_update": self.best_smooth_update,
            "char_loss": self.char_loss,
            "best_char_loss": self.best_char_loss,
            "best_char_update": self.best_char_update,
            "best_score": self.best_score,
            "best_update": self.best_update,
            "best_x0": self.best_x0,
            "seconds": self.seconds,
            "rng_state": _jsonable(self.rng.bit_generator.state),
            "walk": None
            if walk is None
            else {"pieces": walk.pieces.tolist(), "state": walk.state()},
            "extra": self.extra,
        }

    def save(self, path: str | Path) -> None:
        """One .npz (buffers, optimiser state + the JSON metadata as a string), written to a
        temp file and renamed into place."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        opt_state = {f"opt_{k}": v for k, v in self.opt.state().items()}
        with open(tmp, "wb") as f:
            np.savez(
                f,
                theta=self.theta,
                hprev=self.hprev,
                best_theta=self.best_theta,
                best_h0=self.best_h0,
                meta=np.array(json.dumps(self.metadata())),
                **opt_state,
            )
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path) -> TrainingState:
        with np.load(path, allow_pickle=False) as f:  # never unpickle
            meta = json.loads(str(f["meta"][()]))
            arrays = {k: f[k] for k in f.files if k != "meta"}
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path} is not a saved {FORMAT} state")
        self = cls.__new__(cls)
        self._allocate(RNNConfig(**meta["config"]), int(meta["K"]), meta["vocab"], meta["select"])
        self.theta[:] = arrays["theta"]
        self.hprev[...] = arrays["hprev"]
        self.best_theta[:] = arrays["best_theta"]
        self.best_h0[:] = arrays["best_h0"]
        self.opt.load_state({k[4:]: v for k, v in arrays.items() if k.startswith("opt_")})
        for key in RESTORED:
            setattr(self, key, meta[key])
        self.best_x0 = meta["best_x0"]
        self.seconds = meta["seconds"]
        self.extra = meta["extra"]
        self.rng = _restore_rng(meta["rng_state"])
        if meta["walk"] is not None:
            state = meta["walk"]["state"]
            walk_rng = _restore_rng(state["rng"])
            self.walk = Walk(
                state["kind"],
                meta["walk"]["pieces"],
                self.config.seq_length,
                self.config.batch,
                walk_rng,
            )
            self.walk.load_state(state)
        return self
