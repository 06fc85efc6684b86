"""The learning-rate range test (Smith 2015, "Cyclical learning rates for training neural
networks"; lab 2 bonus 5.2): train a short run whose eta rises from eta_lo to eta_hi
(``schedules.Ramp``, run setting ``schedule: {kind: ramp, ...}``), record the loss and the
accuracy against eta (the run's history), and read cyclic bounds off the record.

Proposal rule (``propose``), on the evaluations after update 0 and before any divergence, with
the validation accuracy smoothed by a centred moving average over ``window`` evaluations:

- eta_max: the eta at the peak of the smoothed validation accuracy (Smith: where the accuracy
  stops rising, becomes ragged or falls);
- eta_min: the eta where the accuracy starts to rise: the first evaluation whose smoothed
  accuracy exceeds the accuracy before training by ``rise`` (10 %) of the way to the peak;
  if that is not below eta_max / 2 (the accuracy jumped at once), eta_max / 10;
- no proposal (ValueError saying what the test saw and what to change) unless the smoothed
  accuracy rises at least ``MIN_GAIN`` above the accuracy before training.

The eta of an evaluation row is the schedule's eta at that update (the next step's; the ramp
changes it by a factor (eta_hi / eta_lo)^(1/N) per update, so the two hardly differ).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..nested import merge
from . import runs, trainer

#: the proposal rule in one sentence, recorded with every proposal
RULE = (
    "eta_max: the eta at the peak of the validation accuracy (centred moving average over "
    "{window} evaluations); eta_min: the eta where that accuracy first exceeds the accuracy "
    "before training by {rise:g} of the way to the peak, or eta_max / 10 if that is not "
    "below eta_max / 2; no bounds (the test fails) unless that accuracy rises at least "
    "{min_gain:g} above the accuracy before training"
)
#: how much the smoothed validation accuracy must rise above its value before training for
#: the test to propose bounds: a flat record (eta too small to learn, or so large that the
#: run never learns before it diverges) proposes nothing
MIN_GAIN = 0.01


def settings(
    base: Mapping,
    n_epochs: int,
    eta_lo: float = 1e-5,
    eta_hi: float = 1.0,
    spacing: str = "exponential",
    eval_every: int | None = None,
) -> dict:
    """A run's settings turned into a range test: the ramp schedule over ``n_epochs`` epochs
    (no cycles, no snapshots, no early stopping, no model selection), evaluated every
    ``eval_every`` updates (default: the base's, else once per epoch)."""
    out = merge(base, {"cycles": None, "snapshots": None, "patience": None, "keep_best": None})
    out["schedule"] = {"kind": "ramp", "eta_lo": eta_lo, "eta_hi": eta_hi, "spacing": spacing}
    out["n_epochs"] = int(n_epochs)
    if eval_every is not None:
        out["eval_every"] = int(eval_every)
    return out


def evaluation_step(settings: Mapping, n_train: int, evaluations: int) -> int:
    """Updates between the evaluations of a range test of ``settings`` (its ``n_epochs``) on
    ``n_train`` samples, for about ``evaluations`` evenly spaced evaluations."""
    n_updates = int(settings["n_epochs"]) * runs.steps_per_epoch(settings, n_train)
    return max(1, n_updates // int(evaluations))


def record(history: list[dict]):
    """The evaluations of a range test up to the first non-finite one (excluded): update,
    eta, train/val loss, cost and accuracy (a DataFrame)."""
    import pandas as pd  # here, not at the top: a training job imports it after training

    diverged = trainer.diverged_at(history)
    rows = [row for row in history if diverged is None or row["update"] < diverged]
    return pd.DataFrame(rows)


def smoothed(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average over ``window`` points (shorter at the ends)."""
    values = np.asarray(values, dtype=float)
    half = window // 2
    return np.array([values[max(0, i - half) : i + half + 1].mean() for i in range(len(values))])


def propose(history: list[dict], window: int = 3, rise: float = 0.1) -> dict:
    """eta_min and eta_max from a range test's history (the rule in the module's doc), with
    the evidence: the updates and smoothed accuracies they were read at."""
    table = record(history)
    if len(table) < 2:
        raise ValueError(
            "the range test has no evaluation after update 0 with a finite cost: lower eta_lo "
            "or evaluate more often (eval_every)"
        )
    start_acc = float(table["val_acc"].iloc[0])
    trained = table.iloc[1:]
    acc = smoothed(trained["val_acc"].to_numpy(), window)
    eta = trained["eta"].to_numpy()
    peak = int(np.argmax(acc))
    if acc[peak] < start_acc + MIN_GAIN:
        raise ValueError(no_rise(history, start_acc, float(acc[peak]), eta))
    eta_max = float(eta[peak])
    threshold = start_acc + rise * (acc[peak] - start_acc)
    first = int(np.argmax(acc >= threshold))  # acc[peak] >= threshold, so one exists
    eta_min = float(eta[first])
    rule = "accuracy starts to rise"
    if eta_min >= eta_max / 2:
        eta_min, rule = eta_max / 10, "eta_max / 10 (the accuracy rose at once)"
    return {
        "eta_min": eta_min,
        "eta_max": eta_max,
        "eta_min_rule": rule,
        "peak_update": int(trained["update"].iloc[peak]),
        "peak_val_acc_smoothed": float(acc[peak]),
        "rise_update": int(trained["update"].iloc[first]),
        "start_val_acc": start_acc,
        "diverged_at": trainer.diverged_at(history),
        "rule": RULE.format(window=window, rise=rise, min_gain=MIN_GAIN),
    }


def no_rise(history: list[dict], start: float, best: float, eta: np.ndarray) -> str:
    """What to tell the user when the accuracy never rose: what the test saw, what to change."""
    seen = (
        f"the validation accuracy never rose {MIN_GAIN:g} above its value before training "
        f"({start:.3f}; at most {best:.3f}, smoothed) while eta went from {eta[0]:.3g} to "
        f"{eta[-1]:.3g}"
    )
    diverged = trainer.diverged_at(history)
    if diverged is not None:
        return (
            f"{seen}, and the cost became NaN or infinite at update {diverged}: the range "
            "starts where the network cannot learn, so no bounds are proposed; lower eta_lo "
            "and eta_hi"
        )
    return (
        f"{seen}: the network did not learn, so no bounds are proposed; raise eta_hi (or "
        "eta_lo), or train longer (n_epochs)"
    )


def apply_proposal(settings: Mapping, proposal: Mapping) -> dict:
    """A run's settings whose cyclic schedule names a range test (``schedule: {kind: cyclic,
    range_test: <name>, ...}``) with that test's proposed ``eta_min`` and ``eta_max`` in its
    place."""
    schedule = settings["schedule"]
    if schedule.get("kind") != "cyclic" or "range_test" not in schedule:
        raise ValueError("only a cyclic schedule can take its bounds from a range test")
    bounds = {"eta_min": float(proposal["eta_min"]), "eta_max": float(proposal["eta_max"])}
    return merge(settings, {"schedule": {"range_test": None, **bounds}})
