"""Ranking the trials of a search, honestly: the best score first, ties broken by the loss at
the same evaluation, diverged trials last; how many trials tied at the top; and a warning when
the chosen value sits at the edge of the searched range.

Labs 2-3 score a trial by a validation accuracy (``best_val_acc``: the best evaluation's,
``final_val_acc``: the last's), higher first; on a small validation set many trials tie, and
the tie is broken by the validation loss at that same evaluation (``TIE_BREAK``), lower first.
Lab 4 scores by the best validation loss per character, lower first, ties broken by the
smoothed training loss per character at the end.  Within a tie of both, trial order (coarse
before fine) decides.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

#: score -> (the tie-break column, its meaning); lower tie-break values rank first
TIE_BREAK = {
    "best_val_acc": "val_loss_at_best",
    "final_val_acc": "final_val_loss",
    "best_val_loss": "train_loss_per_char",
}
TIE_MEANING = {
    "val_loss_at_best": "the validation loss at the best evaluation",
    "final_val_loss": "the final validation loss",
    "train_loss_per_char": "the smoothed training loss per character at the end",
}
#: scores where lower is better (losses); the others (accuracies) rank higher first
LOWER_IS_BETTER = ("best_val_loss",)
#: a searched value within this share of its range from an edge "sits at the edge"
EDGE = 0.05


class AllDiverged(ValueError):
    """Every trial of a search stage diverged: there is no best value to go on with."""


def best_first(trials: pd.DataFrame, score: str) -> pd.DataFrame:
    """The trials ordered best ``score`` first, ties broken by its ``TIE_BREAK`` column (lower
    first) when the table has it, diverged trials (column ``diverged``) and missing scores
    last; full ties keep the given order.  Raises ``AllDiverged`` if every trial diverged."""
    diverged = trials["diverged"].astype(bool) if "diverged" in trials else False
    trials = trials.assign(diverged=diverged)
    if len(trials) and trials["diverged"].all():
        raise AllDiverged(f"all {len(trials)} trials diverged")
    higher = score not in LOWER_IS_BETTER
    keys = pd.DataFrame({"score": trials[score].where(~trials["diverged"])})  # diverged: NaN
    tie = TIE_BREAK.get(score)
    ascending = [not higher]
    if tie in trials:
        keys["tie"] = trials[tie]
        ascending.append(True)
    order = keys.sort_values(
        list(keys.columns), ascending=ascending, kind="stable", na_position="last"
    ).index
    return trials.loc[order].reset_index(drop=True)


def rank(trials: pd.DataFrame, score: str) -> pd.DataFrame:
    """All trials, best ``score`` first (``best_first``), with a ``rank`` column and
    ``tied_at_top``: whether the trial's score equals the best one (not diverged)."""
    ordered = best_first(trials, score)
    top = ordered[score].iloc[0]
    tied = (ordered[score] == top) & ~ordered["diverged"].astype(bool)
    return ordered.assign(rank=range(1, len(ordered) + 1), tied_at_top=tied.to_numpy())


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


def rule_of(score: str) -> str:
    """The ranking rule of ``score`` in words."""
    order = "lower" if score in LOWER_IS_BETTER else "higher"
    tie = TIE_BREAK[score]
    return f"{score}, {order} first; ties by {tie} ({TIE_MEANING[tie]}), lower first"


def tie_line(ranked: pd.DataFrame, score: str) -> str:
    """How many trials tied at the top and how the tie was broken, in one sentence."""
    n = int(ranked["tied_at_top"].sum())
    top = ranked[score].iloc[0]
    tie = TIE_BREAK[score]
    if n <= 1:
        return f"The best trial's {score} ({top:.4g}) is not tied."
    return (
        f"{n} trials tie at the best {score} ({top:.4g}): among them the one with the lowest "
        f"{tie} ({TIE_MEANING[tie]}) ranks first."
    )


def edge_warnings(spec: Mapping, best: Mapping, where: str) -> list[str]:
    """A warning per searched value of the best trial that sits at the edge of its range
    (within ``EDGE`` of the range, on the search's scale), naming the key to widen."""
    if "parameters" not in spec:
        coarse = spec["coarse"]
        ranges = {spec["parameter"]: (coarse["low"], coarse["high"], spec["scale"])}
        keys = {spec["parameter"]: f"{where}.coarse"}
    else:
        ranges, keys = {}, {}
        for path, dist in spec["parameters"].items():
            if dist["distribution"] != "choice":
                scale = "log10" if dist["distribution"] == "log10_uniform" else "linear"
                ranges[path] = (dist["low"], dist["high"], scale)
                keys[path] = f"{where}.parameters.{path}"
    warnings = []
    for path, (low, high, scale) in ranges.items():
        value = float(best[path])
        x = math.log10(value) if scale == "log10" and value > 0 else value
        width = max(high - low, 1e-12)
        for side, edge, key in (("low", low, "low"), ("high", high, "high")):
            if abs(x - edge) <= EDGE * width:
                verb = "lower" if side == "low" else "raise"
                warnings.append(
                    f"Warning: the chosen {path} = {value:g} sits at the {side} edge of the "
                    f"searched range: the best may lie beyond it; {verb} {keys[path]}.{key} "
                    "and search again."
                )
    return warnings


def ranked_note(ranked: pd.DataFrame, spec: Mapping, where: str) -> str:
    """The note under ranked.md: the rule, the tie, and any edge warning."""
    score = spec["score"]
    rule = f"Ranked by {rule_of(score)}; diverged trials last."
    return " ".join([rule, tie_line(ranked, score), *edge_warnings(spec, ranked.iloc[0], where)])
