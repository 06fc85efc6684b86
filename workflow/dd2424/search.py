"""Searches over run settings: coarse-to-fine over one setting (lab 2's lambda search, reused
by lab 3), and random search over several at once (bonus 2.6 a, 3.6 a).

Generic over the searched parameters (dotted paths into the run settings, e.g. ``lam`` or
``schedule.eta_max``) and over the model: a trial is an ordinary run whose settings have
those values replaced.  Coarse-to-fine values are drawn on a ``log10`` or ``linear`` scale;
a random search draws every trial from a seeded generator (``random_trials``), N fixed by
config so the DAG stays static.  Ranking the trials: ``dd2424.ranking``; one trial as its
job reads it: ``dd2424.trials``.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .io import number, write_table
from .ranking import (
    TIE_BREAK,
    AllDiverged,
    all_diverged_message,
    best_first,
    edge_warnings,
    rank,
    ranked_note,
    rule_of,
    tie_line,
)

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
    ranked = best_first(coarse, score)  # ties: the lower validation loss first
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


# ---------------------------------------------------------------- random search (several settings)


def is_random(spec: Mapping) -> bool:
    """A random search over several settings (else coarse-to-fine over one)."""
    return "parameters" in spec


def searched(spec: Mapping) -> list[str]:
    """The dotted paths of the settings a search sets (one for coarse-to-fine)."""
    return list(spec["parameters"]) if "parameters" in spec else [spec["parameter"]]


def grid_cell(value):
    """A searched value as a cell of the grid and ranked tables: lists (e.g. ``hidden``) as
    JSON text, so the tables survive a TSV round trip (``trials.trial_values`` reads them)."""
    return json.dumps(value) if isinstance(value, list | dict) else value


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
    (e.g. ``hidden``) as JSON text so the table survives a TSV round trip (``trials.grid_trial``
    reads a row back)."""
    rows = [{"trial": i} | {k: grid_cell(v) for k, v in t.items()} for i, t in enumerate(trials)]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- a stage's grid


def stage_grid(spec: Mapping, where: str, coarse=None, metrics=None) -> pd.DataFrame:
    """The trial table of one stage of the search ``spec`` (``where``: its config key): the
    random search's draws; the fine stage's values drawn around the best ``coarse`` trials
    (their ``metrics``); or the coarse grid.  Raises AllDiverged with what to tell the user
    when every coarse trial diverged."""
    if is_random(spec):
        return random_grid(random_trials(spec["parameters"], spec["trials"], spec["seed"]))
    if coarse is None:
        return with_values(coarse_grid(spec["coarse"]), spec["scale"], spec["parameter"])
    score, tie = spec["score"], TIE_BREAK[spec["score"]]
    coarse = coarse.assign(
        **{score: [number(m[score]) for m in metrics]},
        **{tie: [number(m.get(tie)) for m in metrics]},
        diverged=[m["diverged"] for m in metrics],
    )
    try:
        grid, (lo, hi) = fine_grid(coarse, spec["coarse"], spec["fine"], score)
    except AllDiverged:
        message = all_diverged_message(where, "coarse", spec["parameter"], coarse)
        raise AllDiverged(message) from None
    log.info("fine range on the %s scale: [%.4f, %.4f]", spec["scale"], lo, hi)
    return with_values(grid, spec["scale"], spec["parameter"])


# ---------------------------------------------------------------- a search's tables


def trials_table(stages: Mapping[str, list[Mapping]], parameters: list[str]) -> pd.DataFrame:
    """One row per trial ({stage: its trials' metrics.json, in trial order}): the searched
    values (lists as JSON text, as in the grid), the scores and their tie-breaks, divergence
    and the run's length."""
    rows = []
    for stage, trials in stages.items():
        for trial, m in enumerate(trials):
            rows.append(
                {
                    "stage": stage,
                    "trial": trial,
                    **{p: grid_cell(m["search_values"][p]) for p in parameters},
                    "best_val_acc": number(m["best_val_acc"]),
                    "val_loss_at_best": number(m.get("val_loss_at_best")),
                    "final_val_acc": number(m["final_val_acc"]),
                    "final_val_loss": number(m["final_val_loss"]),
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


#: what the trial table of a lab-4 search shows of each trial's metrics
RNN_TRIAL_COLUMNS = (
    "best_val_loss",
    "train_loss_per_char",
    "best_after_updates",
    "final_val_loss",
    "updates",
    "characters_seen",
    "optimizer",
    "eta",
    "schedule",
    "batch",
    "walk",
)


def rnn_trials_table(trials: list[Mapping], parameters: list[str]) -> pd.DataFrame:
    """One row per trial of a lab-4 search (its metrics.json, in trial order): the searched
    values (lists as JSON text) and the losses, length and settings that rank and explain it."""
    shown = [key for key in RNN_TRIAL_COLUMNS if key not in parameters]
    rows = [
        {"stage": "random", "trial": trial}
        | {p: grid_cell(m["search_values"][p]) for p in parameters}
        | {key if key != "schedule" else "schedule_as_run": m[key] for key in shown}
        | {"diverged": not (m["best_val_loss"] is not None and m["best_val_loss"] < float("inf"))}
        for trial, m in enumerate(trials)
    ]
    return pd.DataFrame(rows).assign(m=[m["settings"]["m"] for m in trials])


def best_markdown(ranked: pd.DataFrame, spec: Mapping, stages: Sequence[str], where: str) -> str:
    """best.md: what was searched and scored, the tie at the top, edge warnings, and the 3
    best trials of each stage."""
    score = spec["score"]
    lines = [
        f"Searched: {', '.join(searched(spec))}. Ranked by {rule_of(score)}. 3 best trials of "
        "each stage.\n",
        tie_line(ranked, score) + "\n",
        *(w + "\n" for w in edge_warnings(spec, ranked.iloc[0], where)),
    ]
    for stage in stages:
        top3 = ranked[ranked["stage"] == stage].head(3)
        lines += [f"## {stage}\n", top3.to_markdown(index=False, floatfmt=".4g"), ""]
    return "\n".join(lines) + "\n"


def write_ranked(ranked: pd.DataFrame, spec: Mapping, stages: Sequence[str], where: str, out):
    """A ranked search's files (``out``: ``ranked``, ``ranked_md``, ``best``): the table with
    the ranking rule, the tie and any edge warning under it, and best.md; each edge warning
    also goes to the job's log."""
    for warning in edge_warnings(spec, ranked.iloc[0], where):
        log.warning("%s", warning)
    write_table(ranked, out.ranked, out.ranked_md, note=ranked_note(ranked, spec, where))
    Path(out.best).write_text(best_markdown(ranked, spec, stages, where))
