"""Centred-difference numerical gradients over any dict of parameters, and their comparison.

``numerical_gradients`` perturbs the arrays of ``params`` in place (one entry at a time, always
restored, also on error) and evaluates ``cost()`` twice per entry:
g ~ (J(theta + h) - J(theta - h)) / (2h).  Work in float64.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

import numpy as np

log = logging.getLogger(__name__)

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
    worst_vs_tolerance: float
    passed: bool


def compare(
    check: str,
    analytic: Mapping[str, np.ndarray],
    numeric: Mapping[str, np.ndarray],
    abs_threshold: float,
    rel_threshold: float,
) -> list[CheckRow]:
    """One row per parameter with the largest absolute difference and the largest relative
    error (the spec's formula).  An entry passes when

        |g_a - g_n| <= abs_threshold + rel_threshold * (|g_a| + |g_n|),

    i.e. it is relatively close, or so small that only its absolute difference means
    anything: the centred difference carries rounding noise of ~eps_machine * J / h, which
    makes the relative error of a near-zero entry meaningless.  ``worst_vs_tolerance`` is
    the largest ratio of the two sides (<= 1 passes).  Entries left NaN in ``numeric`` (not
    sampled) are skipped.  Each row is also logged."""
    rows = []
    for name, gn in numeric.items():
        ga = np.asarray(analytic[name], dtype=np.float64)
        mask = ~np.isnan(gn)
        a, b = ga[mask], gn[mask]
        diff = np.abs(a - b)
        rel = relative_error(a, b)
        worst = diff / (abs_threshold + rel_threshold * (np.abs(a) + np.abs(b)))
        rows.append(
            CheckRow(
                check=check,
                parameter=name,
                entries=int(mask.sum()),
                max_abs_diff=float(diff.max(initial=0.0)),
                max_rel_error=float(rel.max(initial=0.0)),
                abs_threshold=abs_threshold,
                rel_threshold=rel_threshold,
                worst_vs_tolerance=float(worst.max(initial=0.0)),
                passed=bool(worst.max(initial=0.0) <= 1.0),
            )
        )
        row = rows[-1]
        log.info(
            "%s %s: max abs diff %.2e, max rel error %.2e -> %s",
            check,
            name,
            row.max_abs_diff,
            row.max_rel_error,
            "pass" if row.passed else "FAIL",
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
