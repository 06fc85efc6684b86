"""The result tables of the report that gather several runs' records: the test-accuracy
tables of labs 1-3, the range tests' proposals and the char-RNN comparisons.  Each row of runs
of labs 1-3 starts with the same settings columns (``run_columns``).

Wall times are never in results/: the comparison's timing variant (``timed``) is written to
benchmarks/timing/.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ..io import number
from ..mlp.network import hidden_label


def init_name(init: Mapping) -> str:
    kind = init.get("kind", "xavier")
    return f"N(0, {init.get('sigma', 0.01):g}^2)" if kind == "normal" else kind


def run_columns(settings: Mapping, schedule: str, init: bool = False) -> dict:
    """The settings columns of a run of labs 1-3 in every table of runs: hidden layers ("none"
    for a one-layer network), batch normalisation, (the initialisation,) lambda and the
    schedule as it ran (``metrics["schedule"]``: n_s in steps even when set in epochs)."""
    columns = {"hidden": hidden_label(settings["hidden"])}
    columns["batch_norm"] = settings.get("batch_norm", False)
    if init:
        columns["init"] = init_name(settings.get("init") or {})
    return columns | {"lambda": settings["lam"], "schedule": schedule}


def results_table(entries: Mapping[str, Mapping], data: Mapping) -> tuple[pd.DataFrame, str | None]:
    """(table, note) of runs ({row name: metrics}): settings, length, the loss trained, test
    accuracy next to the course's and the student's, losses and divergence; the note says
    what data it was measured on when the course's numbers are not comparable."""
    rows = []
    for run, m in entries.items():
        s = m["settings"]
        rows.append(
            {"run": run}
            | run_columns(s, m["schedule"], init=True)
            | {
                "n_batch": s["n_batch"],
                "updates": m["n_updates"],
                "epochs": round(m["n_updates"] / (m["n_train"] // s["n_batch"]), 2),
                "loss": m["loss"],
                "test_acc": number(m["test_acc"]),
                "course_test_acc": s.get("course_test_acc"),
                "student_test_acc": s.get("student_test_acc"),
                "data": data["name"],
                "test_loss": number(m["test_loss"]),
                "final_train_loss": number(m["final_train_loss"]),
                "final_val_loss": number(m["final_val_loss"]),
                "final_val_acc": number(m["final_val_acc"]),
                "diverged_at": m["diverged_at"],
            }
        )
    note = (
        None
        if data["comparable"]
        else f"Measured on {data['description']}: the course's and the student's numbers "
        "(course_test_acc, student_test_acc) are for CIFAR-10 and not comparable with test_acc."
    )
    return pd.DataFrame(rows).astype({"diverged_at": "Int64"}), note


def range_test_table(proposals: Mapping[str, Mapping]) -> tuple[pd.DataFrame, str]:
    """(table, note) of the bounds each range test ({name: proposal.json}) proposes, with the
    network and lambda it tested; the note states the rule that read them off."""
    rows = []
    for name, p in proposals.items():
        rows.append(
            {"range_test": name}
            | run_columns(p["settings"], p["run"]["schedule"])
            | {k: p[k] for k in ("eta_min", "eta_max", "eta_min_rule", "peak_val_acc_smoothed")}
            | {"diverged_at": p["diverged_at"]}
        )
    rule = next(iter(proposals.values()))["rule"] if proposals else ""
    return pd.DataFrame(rows).astype({"diverged_at": "Int64"}), f"Rule: {rule}."


RNN_COLUMNS = (
    "optimizer",
    "eta",
    "walk",
    "batch",
    "updates",
    "characters_seen",
    "epochs",
    "schedule",
    "train_loss_per_char",
    "best_val_loss",
    "best_val_perplexity",
    "final_val_loss",
)


def rnn_comparison(
    metrics: Mapping[str, Mapping],
    curves: Mapping[str, pd.DataFrame],
    benchmarks: Sequence[pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """(table, validation curves) of char-RNN runs side by side ({run: metrics.json} and
    {run: validation record}).  ``train_loss_per_char`` is the smoothed training loss per
    character at the end, on one scale for every B (rnn.state), next to the validation loss
    per character; the course's smooth loss (per update) is not: its window grows with B.
    With ``benchmarks`` (the jobs' Snakemake benchmark tables,
    in the runs' order), ``curves`` are the wall-clock records and the table adds training
    and job seconds, characters per second and the best validation loss each run had reached
    by the time the shortest run (in training seconds) ended: equal wall time."""
    rows = []
    for run, m in metrics.items():
        row = {"run": run} | {key: m[key] for key in RNN_COLUMNS}
        row["epochs"] = round(m["epochs"], 3)
        rows.append(row)
    table = pd.DataFrame(rows)
    if benchmarks is not None:
        seconds = [float(curve["train_seconds"].iloc[-1]) for curve in curves.values()]
        table["train_seconds"] = seconds
        table["job_seconds"] = [job["s"].iloc[0] for job in benchmarks]
        table["chars_per_s"] = [
            c / s if s > 0 else float("nan")
            for c, s in zip(table["characters_seen"], seconds, strict=True)
        ]
    curves = {run: curve.dropna(subset=["val_loss"]) for run, curve in curves.items()}
    if benchmarks is not None:
        budget = float(table["train_seconds"].min())
        table["equal_time_budget_s"] = budget
        table["best_val_loss_within_budget"] = [
            c.loc[c["train_seconds"] <= budget, "val_loss"].min() for c in curves.values()
        ]
    return table, curves
