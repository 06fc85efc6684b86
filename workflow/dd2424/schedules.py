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


def make_schedule(cfg: dict) -> Constant:
    """Build a schedule from its config mapping, e.g. ``{"kind": "constant", "eta": 0.001}``."""
    kinds = {"constant": Constant}
    kind = cfg.get("kind", "constant")
    if kind not in kinds:
        raise ValueError(f"unknown schedule kind {kind!r}; expected one of {sorted(kinds)}")
    args = {k: v for k, v in cfg.items() if k != "kind"}
    return kinds[kind](**args)
