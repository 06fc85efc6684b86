"""Learning-rate schedules: pure functions of the update step t = 0, 1, 2, ...

``eta(t)`` is the step size of the update that turns theta_t into theta_{t+1}.  Kinds:
``constant``, ``cyclic`` (the course's, eqs. 14-15), ``step`` and ``exponential`` decay (lab 1
bonus 1.6 d; both change eta once per epoch and keep it constant within an epoch) and
``ramp`` (eta rising from eta_lo to eta_hi over the run: the learning-rate range test, see
range_test.py), ``cosine`` decay over the run (lab 4), and any of them after a linear
``warmup`` of a number of updates.  Labs 1-3 and lab 4 share them: lab 4's epochs are passes
of the sequential walk over the training text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

KINDS = ("constant", "cyclic", "step", "exponential", "ramp", "cosine")


@dataclass(frozen=True)
class Constant:
    eta: float

    def __call__(self, t: int) -> float:
        return self.eta

    def describe(self) -> str:
        return f"eta={self.eta:g}"


@dataclass(frozen=True)
class Cyclic:
    """Cyclical learning rate (Smith 2015; course-spec §2.2 eqs. 14-15).

    One cycle is 2 n_s steps: eta rises linearly from eta_min at t = 2l n_s to eta_max at
    t = (2l+1) n_s and falls back to eta_min at t = 2(l+1) n_s.  ``n_s`` must be an integer so
    that cycles end exactly on an update step.
    """

    eta_min: float
    eta_max: float
    n_s: int

    def __post_init__(self) -> None:
        if not isinstance(self.n_s, int) or isinstance(self.n_s, bool) or self.n_s < 1:
            raise ValueError(f"n_s must be a positive integer, got {self.n_s!r}")
        if not 0 < self.eta_min <= self.eta_max:
            raise ValueError(f"need 0 < eta_min <= eta_max, got {self.eta_min}, {self.eta_max}")

    def __call__(self, t: int) -> float:
        position = t % (2 * self.n_s)  # t - 2 l n_s
        if position <= self.n_s:  # eq. 14
            frac = position / self.n_s
        else:  # eq. 15
            frac = 2 - position / self.n_s
        return self.eta_min + frac * (self.eta_max - self.eta_min)

    def describe(self) -> str:
        return f"cyclic eta {self.eta_min:g}..{self.eta_max:g}, n_s={self.n_s}"

    def updates(self, cycles: int) -> int:
        """Steps in ``cycles`` whole cycles: training stops where eta is smallest."""
        return 2 * self.n_s * cycles


def _positive_int(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


@dataclass(frozen=True)
class StepDecay:
    """eta_t = eta * gamma^floor(e / step_epochs), e = floor(t / steps_per_epoch) the epoch of
    update t: multiplied by gamma every ``step_epochs`` epochs (e.g. gamma = 0.1: 10x lower
    every n-th epoch, course-spec §1.6 d), constant in between."""

    eta: float
    gamma: float
    step_epochs: int
    steps_per_epoch: int

    def __post_init__(self) -> None:
        _positive_int("step_epochs", self.step_epochs)
        _positive_int("steps_per_epoch", self.steps_per_epoch)
        if not (self.eta > 0 and 0 < self.gamma <= 1):
            raise ValueError(f"need eta > 0 and 0 < gamma <= 1, got {self.eta}, {self.gamma}")

    def __call__(self, t: int) -> float:
        return float(self.eta * self.gamma ** (t // self.steps_per_epoch // self.step_epochs))

    def describe(self) -> str:
        return f"step eta={self.eta:g} x{self.gamma:g} every {self.step_epochs} epoch(s)"


@dataclass(frozen=True)
class ExponentialDecay:
    """eta_t = eta * gamma^floor(t / steps_per_epoch): multiplied by gamma after every epoch
    (e.g. 0.9, course-spec §1.6 d), constant within an epoch (piecewise constant, not
    gamma^(t / steps_per_epoch) per update)."""

    eta: float
    gamma: float
    steps_per_epoch: int

    def __post_init__(self) -> None:
        _positive_int("steps_per_epoch", self.steps_per_epoch)
        if not (self.eta > 0 and 0 < self.gamma <= 1):
            raise ValueError(f"need eta > 0 and 0 < gamma <= 1, got {self.eta}, {self.gamma}")

    def __call__(self, t: int) -> float:
        return float(self.eta * self.gamma ** (t // self.steps_per_epoch))

    def describe(self) -> str:
        return f"exponential eta={self.eta:g} x{self.gamma:g} per epoch"


@dataclass(frozen=True)
class Ramp:
    """eta rising from ``eta_lo`` at t = 0 to ``eta_hi`` at the last update t = n_updates - 1,
    ``linear``-ly or ``exponential``-ly (a straight line in log eta): the learning-rate range
    test (Smith 2015; range_test.py)."""

    eta_lo: float
    eta_hi: float
    n_updates: int
    spacing: str = "exponential"

    def __post_init__(self) -> None:
        _positive_int("n_updates", self.n_updates)
        if not 0 < self.eta_lo < self.eta_hi:
            raise ValueError(f"need 0 < eta_lo < eta_hi, got {self.eta_lo}, {self.eta_hi}")
        if self.spacing not in ("linear", "exponential"):
            raise ValueError(f"spacing must be linear or exponential, got {self.spacing!r}")

    def __call__(self, t: int) -> float:
        frac = min(t / max(self.n_updates - 1, 1), 1.0)
        if self.spacing == "linear":
            return float(self.eta_lo + frac * (self.eta_hi - self.eta_lo))
        return float(math.exp(math.log(self.eta_lo) + frac * math.log(self.eta_hi / self.eta_lo)))

    def describe(self) -> str:
        return f"{self.spacing} ramp eta {self.eta_lo:g}..{self.eta_hi:g} over {self.n_updates}"


@dataclass(frozen=True)
class Cosine:
    """eta_t = eta_min + (eta - eta_min) (1 + cos(pi t / (n_updates - 1))) / 2: from ``eta``
    at t = 0 down to ``eta_min`` at the last update (Loshchilov & Hutter's SGDR, one cycle)."""

    eta: float
    n_updates: int
    eta_min: float = 0.0

    def __post_init__(self) -> None:
        _positive_int("n_updates", self.n_updates)
        if not (self.eta > 0 and 0 <= self.eta_min <= self.eta):
            raise ValueError(f"need 0 <= eta_min <= eta, eta > 0, got {self.eta_min}, {self.eta}")

    def __call__(self, t: int) -> float:
        frac = min(t / max(self.n_updates - 1, 1), 1.0)
        return float(self.eta_min + (self.eta - self.eta_min) * (1 + math.cos(math.pi * frac)) / 2)

    def describe(self) -> str:
        return f"cosine eta {self.eta:g}..{self.eta_min:g} over {self.n_updates}"


@dataclass(frozen=True)
class Warmup:
    """``inner``'s eta_t times min(1, (t + 1) / updates): a linear warm-up over the first
    ``updates`` updates (the first update takes 1/updates of the step size), then ``inner``."""

    inner: object
    updates: int

    def __post_init__(self) -> None:
        _positive_int("updates", self.updates)

    def __call__(self, t: int) -> float:
        return float(self.inner(t) * min(1.0, (t + 1) / self.updates))

    def describe(self) -> str:
        return f"{self.inner.describe()}, warm-up {self.updates}"


Schedule = Constant | Cyclic | StepDecay | ExponentialDecay | Ramp | Cosine | Warmup


def varies(cfg: dict | None) -> bool:
    """Whether the schedule ``cfg`` changes eta during the run: any kind but ``constant``, or
    a warm-up (an empty or missing schedule is a constant)."""
    cfg = cfg or {}
    return cfg.get("kind", "constant") != "constant" or bool(cfg.get("warmup"))


def make_schedule(
    cfg: dict, steps_per_epoch: int | None = None, n_updates: int | None = None
) -> Schedule:
    """Build a schedule from its config mapping.

    ``{"kind": "constant", "eta": 0.001}``; ``{"kind": "cyclic", "eta_min": 1e-5,
    "eta_max": 0.1, "n_s": 500}`` (instead of ``n_s``, ``n_s_epochs: k`` gives
    n_s = k * steps_per_epoch, the course's n_s = k floor(n / n_batch));
    ``{"kind": "step", "eta", "gamma", "step_epochs"}``; ``{"kind": "exponential", "eta",
    "gamma"}`` (both need ``steps_per_epoch``); ``{"kind": "ramp", "eta_lo", "eta_hi",
    "spacing"}`` and ``{"kind": "cosine", "eta", "eta_min"}`` (both need the run length
    ``n_updates``).  Any kind may add ``warmup: k``: a linear warm-up over k updates.
    """
    kind = cfg.get("kind", "constant")
    args = {k: v for k, v in cfg.items() if k not in ("kind", "warmup")}
    schedule = _make(kind, args, steps_per_epoch, n_updates)
    return Warmup(schedule, int(cfg["warmup"])) if cfg.get("warmup") else schedule


def _make(kind: str, args: dict, steps_per_epoch: int | None, n_updates: int | None):
    if kind == "constant":
        return Constant(**args)
    if kind == "cyclic":
        if "n_s_epochs" in args:
            if "n_s" in args or steps_per_epoch is None:
                raise ValueError("give either n_s or n_s_epochs (with the epoch length)")
            args["n_s"] = int(args.pop("n_s_epochs")) * steps_per_epoch
        return Cyclic(**args)
    if kind in ("step", "exponential"):
        if steps_per_epoch is None:
            raise ValueError(f"a {kind} decay schedule needs the epoch length")
        cls = StepDecay if kind == "step" else ExponentialDecay
        return cls(**args, steps_per_epoch=steps_per_epoch)
    if kind in ("ramp", "cosine"):
        if n_updates is None:
            raise ValueError(f"a {kind} schedule needs the number of updates of the run")
        return (Ramp if kind == "ramp" else Cosine)(**args, n_updates=n_updates)
    raise ValueError(f"unknown schedule kind {kind!r}; expected one of {KINDS}")
