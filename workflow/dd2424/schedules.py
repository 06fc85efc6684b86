"""Learning-rate schedules: pure functions of the update step t = 0, 1, 2, ...

``eta(t)`` is the step size of the update that turns theta_t into theta_{t+1}.
"""

from __future__ import annotations

from dataclasses import dataclass


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


def make_schedule(cfg: dict, steps_per_epoch: int | None = None) -> Constant | Cyclic:
    """Build a schedule from its config mapping.

    ``{"kind": "constant", "eta": 0.001}`` or ``{"kind": "cyclic", "eta_min": 1e-5,
    "eta_max": 0.1, "n_s": 500}``; instead of ``n_s``, ``n_s_epochs: k`` gives
    n_s = k * steps_per_epoch (the course's n_s = k floor(n / n_batch)).
    """
    kind = cfg.get("kind", "constant")
    args = {k: v for k, v in cfg.items() if k != "kind"}
    if kind == "constant":
        return Constant(**args)
    if kind == "cyclic":
        if "n_s_epochs" in args:
            if "n_s" in args or steps_per_epoch is None:
                raise ValueError("give either n_s or n_s_epochs (with the epoch length)")
            args["n_s"] = int(args.pop("n_s_epochs")) * steps_per_epoch
        return Cyclic(**args)
    raise ValueError(f"unknown schedule kind {kind!r}; expected 'constant' or 'cyclic'")
