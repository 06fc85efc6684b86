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
    #: entries that failed at h and were computed again with a smaller h (see recheck_kinks)
    rechecked: int = 0


def _tolerance_ratio(ga, gn, abs_threshold: float, rel_threshold: float) -> np.ndarray:
    """|g_a - g_n| / (abs_threshold + rel_threshold (|g_a| + |g_n|)): <= 1 passes."""
    return np.abs(ga - gn) / (abs_threshold + rel_threshold * (np.abs(ga) + np.abs(gn)))


def recheck_kinks(
    cost: Callable[[], float],
    params: Mapping[str, np.ndarray],
    analytic: Mapping[str, np.ndarray],
    numeric: Mapping[str, np.ndarray],
    h: float,
    abs_threshold: float,
    rel_threshold: float,
    factors: tuple[float, ...] = (10.0, 100.0),
) -> dict[str, int]:
    """Compute again, with h / factor, the entries of ``numeric`` that fail at h.

    The cost of a ReLU network (or of the SVM's hinge) has kinks: where theta - h and
    theta + h fall on two sides of one, the centred difference is not the gradient at theta,
    and a correct analytic gradient fails there (seen on CIFAR-shaped data: a pre-activation
    of 8e-6 with h = 1e-5).  A smaller h moves the kink out of reach, while a wrong analytic
    gradient stays wrong at every h, so an entry that fails at every h still fails.
    ``numeric`` is updated in place (an entry keeps its value at the last h tried); returns
    {name: number of entries computed again}."""
    counts = {}
    for name, gn in numeric.items():
        ga = np.asarray(analytic[name], dtype=np.float64).reshape(-1)
        flat = gn.reshape(-1)  # a view: numeric is updated in place
        ratio = _tolerance_ratio(ga, flat, abs_threshold, rel_threshold)
        todo = np.flatnonzero(ratio > 1.0)  # NaN (not sampled) compares False
        counts[name] = int(todo.size)
        for factor in factors:
            if not todo.size:
                break
            again = numerical_gradients(cost, {name: params[name]}, h / factor, {name: todo})
            flat[todo] = again[name].reshape(-1)[todo]
            todo = todo[_tolerance_ratio(ga[todo], flat[todo], abs_threshold, rel_threshold) > 1]
        if counts[name]:
            log.info(
                "%s: %d entries failed at h = %g and were computed again with h / %s; %d "
                "still fail",
                name,
                counts[name],
                h,
                " and h / ".join(f"{f:g}" for f in factors),
                todo.size,
            )
    return counts


def compare(
    check: str,
    analytic: Mapping[str, np.ndarray],
    numeric: Mapping[str, np.ndarray],
    abs_threshold: float,
    rel_threshold: float,
    rechecked: Mapping[str, int] | None = None,
) -> list[CheckRow]:
    """One row per parameter with the largest absolute difference and the largest relative
    error (the spec's formula), and how many of its entries ``recheck_kinks`` computed again
    (``rechecked``).  An entry passes when

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
        worst = _tolerance_ratio(a, b, abs_threshold, rel_threshold)
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
                rechecked=(rechecked or {}).get(name, 0),
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
