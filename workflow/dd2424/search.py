"""Coarse-to-fine search over one run setting (lab 2's lambda search, reused by lab 3).

Generic over the searched parameter (a dotted path into the run settings, e.g. ``lam`` or
``schedule.eta_max``) and over the model: a trial is an ordinary run whose settings have
that one value replaced.  Values are drawn on a ``log10`` or ``linear`` scale.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np
import pandas as pd

SCALES = {"log10": (np.log10, lambda x: 10.0**x), "linear": (lambda x: x, lambda x: x)}


def set_path(settings: Mapping, path: str, value) -> dict:
    """A copy of ``settings`` with the entry at dotted ``path`` set to ``value``."""
    out = copy.deepcopy(dict(settings))
    node = out
    *parents, leaf = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return out


def get_path(settings: Mapping, path: str):
    node = settings
    for key in path.split("."):
        node = node[key]
    return node


def to_value(x: float, scale: str) -> float:
    """Position on the scale -> setting value, rounded to 6 significant digits so the value
    printed in tables and logs is the value used."""
    return float(f"{SCALES[scale][1](x):.6g}")


def coarse_grid(spec: Mapping) -> pd.DataFrame:
    """The coarse trials: ``n`` positions in [low, high] on the scale, evenly spaced
    (``spacing: grid``) or uniform at random with ``seed`` (``spacing: random``)."""
    low, high, n = float(spec["low"]), float(spec["high"]), int(spec["n"])
    if spec.get("spacing", "grid") == "grid":
        xs = np.linspace(low, high, n)
    else:
        xs = np.sort(np.random.default_rng(spec["seed"]).uniform(low, high, n))
    return pd.DataFrame({"trial": range(n), "x": xs})


def fine_grid(coarse: pd.DataFrame, coarse_spec: Mapping, fine_spec: Mapping, score: str):
    """The fine trials, drawn around the best coarse trials.

    The range spans the positions of the ``top`` best coarse trials (by ``score``), widened by
    ``pad`` coarse grid steps on each side and clipped to the coarse range; ``n`` positions
    are drawn uniformly in it with ``seed``.  Returns (grid, (lo, hi)); the grid records the
    range in columns ``range_low`` and ``range_high``.
    """
    low, high = float(coarse_spec["low"]), float(coarse_spec["high"])
    step = (high - low) / max(int(coarse_spec["n"]) - 1, 1)
    best = coarse.sort_values(score, ascending=False, kind="stable").head(int(fine_spec["top"]))
    lo = max(low, best["x"].min() - float(fine_spec["pad"]) * step)
    hi = min(high, best["x"].max() + float(fine_spec["pad"]) * step)
    rng = np.random.default_rng(fine_spec["seed"])
    xs = np.sort(rng.uniform(lo, hi, int(fine_spec["n"])))
    grid = pd.DataFrame({"trial": range(len(xs)), "x": xs, "range_low": lo, "range_high": hi})
    return grid, (lo, hi)


def with_values(grid: pd.DataFrame, scale: str, parameter: str) -> pd.DataFrame:
    """The grid with a column named after the parameter holding the setting's values."""
    return grid.assign(**{parameter: [to_value(x, scale) for x in grid["x"]]})


def rank(trials: pd.DataFrame, score: str) -> pd.DataFrame:
    """All trials, best ``score`` first (ties keep coarse before fine, then trial order)."""
    ordered = trials.sort_values(score, ascending=False, kind="stable").reset_index(drop=True)
    return ordered.assign(rank=range(1, len(ordered) + 1))
