"""Searches over run settings: coarse-to-fine over one setting (lab 2's lambda search, reused
by lab 3), and random search over several at once (bonus 2.6 a, 3.6 a).

Generic over the searched parameters (dotted paths into the run settings, e.g. ``lam`` or
``schedule.eta_max``) and over the model: a trial is an ordinary run whose settings have
those values replaced.  Coarse-to-fine values are drawn on a ``log10`` or ``linear`` scale;
a random search draws every trial from a seeded generator (``random_trials``), N fixed by
config so the DAG stays static.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .io import number
from .nested import set_path

log = logging.getLogger(__name__)

SCALES = {"log10": (np.log10, lambda x: 10.0**x), "linear": (lambda x: x, lambda x: x)}


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
    ranked = best_first(coarse, score)
    best = ranked[~ranked["diverged"]].head(int(fine_spec["top"]))
    lo = max(low, best["x"].min() - float(fine_spec["pad"]) * step)
    hi = min(high, best["x"].max() + float(fine_spec["pad"]) * step)
    rng = np.random.default_rng(fine_spec["seed"])
    xs = np.sort(rng.uniform(lo, hi, int(fine_spec["n"])))
    grid = pd.DataFrame({"trial": range(len(xs)), "x": xs, "range_low": lo, "range_high": hi})
    return grid, (lo, hi)


def with_values(grid: pd.DataFrame, scale: str, parameter: str) -> pd.DataFrame:
    """The grid with a column named after the parameter holding the setting's values."""
    return grid.assign(**{parameter: [to_value(x, scale) for x in grid["x"]]})


class AllDiverged(ValueError):
    """Every trial of a search stage diverged: there is no best value to go on with."""


def best_first(trials: pd.DataFrame, score: str) -> pd.DataFrame:
    """The trials ordered best ``score`` first, diverged trials (column ``diverged``) and
    missing scores last; ties keep the given order.  Raises ``AllDiverged`` if every trial
    diverged."""
    diverged = trials["diverged"].astype(bool) if "diverged" in trials else False
    trials = trials.assign(diverged=diverged)
    if len(trials) and trials["diverged"].all():
        raise AllDiverged(f"all {len(trials)} trials diverged")
    key = trials[score].where(~trials["diverged"])  # diverged -> NaN, sorted last
    order = key.sort_values(ascending=False, kind="stable", na_position="last").index
    return trials.loc[order].reset_index(drop=True)


def all_diverged_message(where: str, stage: str, parameter: str, trials: pd.DataFrame) -> str:
    """What to tell the user when every trial of ``stage`` diverged; ``where`` is the config
    key of the search (e.g. ``lab2.searches.lambda``)."""
    values = trials[parameter]
    which = f"{stage} trial" if stage else "trial"
    low, high = (
        (f"{values.min():g}", f"{values.max():g}")
        if pd.api.types.is_numeric_dtype(values)
        else (str(values.min()), str(values.max()))
    )
    return (
        f"every {which} of {where} diverged (the cost became NaN or infinite): "
        f"{parameter} from {low} to {high} never trained, so there is no "
        f"best value to go on with. Lower the step size (the schedule's eta or eta_max in "
        f"{where}.settings or the lab's defaults) or move the searched range "
        f"({where}.coarse.low/high)."
    )


def rank(trials: pd.DataFrame, score: str) -> pd.DataFrame:
    """All trials, best ``score`` first and diverged ones last (ties keep coarse before fine,
    then trial order), with a ``rank`` column."""
    ordered = best_first(trials, score)
    return ordered.assign(rank=range(1, len(ordered) + 1))


# ---------------------------------------------------------------- random search (several settings)


def is_random(spec: Mapping) -> bool:
    """A random search over several settings (else coarse-to-fine over one)."""
    return "parameters" in spec


def searched(spec: Mapping) -> list[str]:
    """The dotted paths of the settings a search sets (one for coarse-to-fine)."""
    return list(spec["parameters"]) if is_random(spec) else [spec["parameter"]]


def grid_cell(value):
    """A searched value as a cell of the grid and ranked tables: lists (e.g. ``hidden``) as
    JSON text, so the tables survive a TSV round trip (``trial_values`` reads them back)."""
    return json.dumps(value) if isinstance(value, list) else value


#: how a random search draws one parameter: ``log10_uniform`` (value = 10^x, x uniform in
#: [low, high]), ``uniform`` (in [low, high]), ``int_uniform`` (an integer in low..high, both
#: included) or ``choice`` (one of ``values``, each equally likely; values may be lists, e.g.
#: hidden layer sizes)
DISTRIBUTIONS = ("log10_uniform", "uniform", "int_uniform", "choice")


def check_random_spec(spec: Mapping[str, Mapping], where: str = "parameters") -> None:
    """ValueError naming the parameter if a random-search spec is malformed."""
    if not spec:
        raise ValueError(f"{where}: a random search needs at least one parameter")
    for path, dist in spec.items():
        key = f"{where}.{path}"
        kind = dist.get("distribution")
        if kind not in DISTRIBUTIONS:
            raise ValueError(f"{key}.distribution: {kind!r}; expected one of {DISTRIBUTIONS}")
        if kind == "choice":
            if not dist.get("values"):
                raise ValueError(f"{key}.values: a choice needs a non-empty list of values")
            continue
        low, high = dist.get("low"), dist.get("high")
        if low is None or high is None or not low <= high:
            raise ValueError(f"{key}: needs low <= high, got low={low!r}, high={high!r}")
        if kind == "int_uniform" and not (float(low).is_integer() and float(high).is_integer()):
            raise ValueError(f"{key}: int_uniform needs integer low and high")


def random_trials(spec: Mapping[str, Mapping], n: int, seed: int) -> list[dict]:
    """``n`` trial settings drawn from ``spec`` ({dotted path: distribution}) with a
    generator seeded by ``seed``: trial after trial, parameter after parameter in the spec's
    order, one draw each, so the first trials do not change when ``n`` grows.  Real values
    are rounded to 6 significant digits (what the tables print is what runs)."""
    check_random_spec(spec)
    rng = np.random.default_rng(seed)
    trials = []
    for _ in range(int(n)):
        trial = {}
        for path, dist in spec.items():
            kind = dist["distribution"]
            if kind == "choice":
                value = copy.deepcopy(dist["values"][int(rng.integers(len(dist["values"])))])
            elif kind == "int_uniform":
                value = int(rng.integers(int(dist["low"]), int(dist["high"]) + 1))
            else:
                x = float(rng.uniform(float(dist["low"]), float(dist["high"])))
                value = to_value(x, "log10" if kind == "log10_uniform" else "linear")
            trial[path] = value
        trials.append(trial)
    return trials


def random_grid(trials: list[dict]) -> pd.DataFrame:
    """The trials as a table: a ``trial`` column and one column per parameter, list values
    (e.g. ``hidden``) as JSON text so the table survives a TSV round trip (``trial_values``
    reads a row back)."""
    rows = [{"trial": i} | {k: grid_cell(v) for k, v in t.items()} for i, t in enumerate(trials)]
    return pd.DataFrame(rows)


def trial_values(row: Mapping, parameters: list[str]) -> dict:
    """{dotted path: value} of one row of ``random_grid`` (JSON lists decoded, other text
    kept, e.g. ``batch_norm_position``; NumPy scalars made Python booleans and numbers)."""
    out = {}
    for path in parameters:
        value = row[path]
        if isinstance(value, str):
            value = json.loads(value) if value.startswith("[") else value
        elif isinstance(value, np.generic):
            value = value.item()
        out[path] = value
    return out


def apply_trial(settings: Mapping, trial: Mapping) -> dict:
    """A copy of ``settings`` with every dotted path of ``trial`` set to its value."""
    out = copy.deepcopy(dict(settings))
    for path, value in trial.items():
        out = set_path(out, path, value)
    return out


# ---------------------------------------------------------------- a search's tables


def stage_grid(spec: Mapping, where: str, coarse=None, metrics=None) -> pd.DataFrame:
    """The trial table of one stage of the search ``spec`` (``where``: its config key): the
    random search's draws; the fine stage's values drawn around the best ``coarse`` trials
    (their ``metrics``); or the coarse grid.  Raises AllDiverged with what to tell the user
    when every coarse trial diverged."""
    if is_random(spec):
        return random_grid(random_trials(spec["parameters"], spec["trials"], spec["seed"]))
    if coarse is None:
        return with_values(coarse_grid(spec["coarse"]), spec["scale"], spec["parameter"])
    coarse = coarse.assign(
        **{spec["score"]: [number(m[spec["score"]]) for m in metrics]},
        diverged=[m["diverged"] for m in metrics],
    )
    try:
        grid, (lo, hi) = fine_grid(coarse, spec["coarse"], spec["fine"], spec["score"])
    except AllDiverged:
        message = all_diverged_message(where, "coarse", spec["parameter"], coarse)
        raise AllDiverged(message) from None
    log.info("fine range on the %s scale: [%.4f, %.4f]", spec["scale"], lo, hi)
    return with_values(grid, spec["scale"], spec["parameter"])


def trials_table(stages: Mapping[str, list[Mapping]], parameters: list[str]) -> pd.DataFrame:
    """One row per trial ({stage: its trials' metrics.json, in trial order}): the searched
    values (lists as JSON text, as in the grid), the scores, divergence and the run's length."""
    rows = []
    for stage, trials in stages.items():
        for trial, m in enumerate(trials):
            rows.append(
                {
                    "stage": stage,
                    "trial": trial,
                    **{p: grid_cell(m["search_values"][p]) for p in parameters},
                    "best_val_acc": number(m["best_val_acc"]),
                    "final_val_acc": number(m["final_val_acc"]),
                    "final_train_acc": number(m["final_train_acc"]),
                    "final_train_loss": number(m["final_train_loss"]),
                    "diverged": m["diverged"],
                    "diverged_at": m["diverged_at"],
                    "cycles": m["settings"].get("cycles"),
                    "schedule": m["schedule"],  # as run: n_s in steps even when set in epochs
                    "updates": m["n_updates"],
                    "n_train": m["n_train"],
                }
            )
    return pd.DataFrame(rows).astype({"diverged_at": "Int64"})


def ranked_trials(trials: pd.DataFrame, spec: Mapping, where: str) -> pd.DataFrame:
    """``rank`` of the trials by the search's score; a stage whose every trial diverged is
    logged as a warning, and AllDiverged carries the user's message if all of them did."""
    parameter = searched(spec)[0]
    for stage, part in trials.groupby("stage", sort=False):
        if part["diverged"].all():
            log.warning("%s", all_diverged_message(where, stage, parameter, part))
    try:
        return rank(trials, spec["score"])
    except AllDiverged:
        raise AllDiverged(all_diverged_message(where, "", parameter, trials)) from None


def best_markdown(ranked: pd.DataFrame, spec: Mapping, stages: list[str]) -> str:
    """best.md: what was searched and scored, and the 3 best trials of each stage."""
    lines = [
        f"Searched: {', '.join(searched(spec))}. Score: {spec['score']} (validation "
        "accuracy). 3 best trials of each stage.\n"
    ]
    for stage in stages:
        top3 = ranked[ranked["stage"] == stage].head(3)
        lines += [f"## {stage}\n", top3.to_markdown(index=False, floatfmt=".4g"), ""]
    return "\n".join(lines) + "\n"
