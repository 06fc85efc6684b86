"""Centred-difference numerical gradients over any dict of parameters, and their comparison.

``numerical_gradients`` perturbs the arrays of ``params`` in place (one entry at a time, always
restored, also on error) and evaluates ``cost()`` twice per entry:
g ~ (J(theta + h) - J(theta - h)) / (2h).  Work in float64.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

import numpy as np

#: the "eps" of the spec's relative error |ga - gn| / max(eps, |ga| + |gn|)
REL_EPS = 1e-12


def numerical_gradients(
    cost: Callable[[], float],
    params: Mapping[str, np.ndarray],
    h: float,
    entries: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Numerical gradient of ``cost()`` w.r.t. each array in ``params``.

    ``entries[name]`` optionally restricts the check to those flat indices (the rest of the
    returned array is NaN), for full-size checks on a random sample of entries.
    """
    grads = {}
    for name, theta in params.items():
        if theta.dtype != np.float64:
            raise TypeError(f"{name} is {theta.dtype}; numerical gradients need float64")
        flat = theta.reshape(-1)  # a view: perturbing it perturbs params[name]
        if not np.shares_memory(flat, theta):
            raise ValueError(f"{name} must be contiguous so it can be perturbed in place")
        g = np.full(theta.size, np.nan)
        idx = np.arange(theta.size) if entries is None else np.asarray(entries[name])
        for i in idx:
            old = flat[i]
            try:
                flat[i] = old + h
                plus = cost()
                flat[i] = old - h
                minus = cost()
            finally:
                flat[i] = old
            g[i] = (plus - minus) / (2 * h)
        grads[name] = g.reshape(theta.shape)
    return grads


def relative_error(ga: np.ndarray, gn: np.ndarray, eps: float = REL_EPS) -> np.ndarray:
    """The spec's |ga - gn| / max(eps, |ga| + |gn|), element-wise."""
    return np.abs(ga - gn) / np.maximum(eps, np.abs(ga) + np.abs(gn))


@dataclass(frozen=True)
class CheckRow:
    check: str
    parameter: str
    entries: int
    max_abs_diff: float
    max_rel_error: float
    abs_threshold: float
    rel_threshold: float
    passed: bool


def compare(
    check: str,
    analytic: Mapping[str, np.ndarray],
    numeric: Mapping[str, np.ndarray],
    abs_threshold: float,
    rel_threshold: float,
) -> list[CheckRow]:
    """One row per parameter; it passes when both the largest absolute difference and the
    largest relative error are within their thresholds.  Entries left NaN in ``numeric``
    (not sampled) are skipped."""
    rows = []
    for name, gn in numeric.items():
        ga = np.asarray(analytic[name], dtype=np.float64)
        mask = ~np.isnan(gn)
        diff = np.abs(ga[mask] - gn[mask])
        rel = relative_error(ga[mask], gn[mask])
        max_rel = float(rel.max()) if rel.size else 0.0
        max_abs = float(diff.max()) if diff.size else 0.0
        rows.append(
            CheckRow(
                check=check,
                parameter=name,
                entries=int(mask.sum()),
                max_abs_diff=max_abs,
                max_rel_error=max_rel,
                abs_threshold=abs_threshold,
                rel_threshold=rel_threshold,
                passed=bool(max_abs <= abs_threshold and max_rel <= rel_threshold),
            )
        )
    return rows


def as_records(rows: list[CheckRow]) -> list[dict]:
    return [asdict(r) for r in rows]


def sample_entries(
    params: Mapping[str, np.ndarray], max_entries: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Up to ``max_entries`` distinct random flat indices per parameter (all if fewer)."""
    return {
        name: np.sort(rng.choice(p.size, size=min(max_entries, p.size), replace=False))
        for name, p in params.items()
    }
