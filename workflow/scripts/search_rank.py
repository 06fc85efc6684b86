"""Rule search_rank: every trial of a search ranked by its score, the 3 best of each stage,
and the score against the searched value(s): one column per searched setting (list values,
e.g. ``hidden``, as JSON text, as in the grid)."""

import logging

import pandas as pd

from dd2424.io import exit_with, number, read_json, setup_logging, write_table
from dd2424.report.plots import random_search_scores, search_scores
from dd2424.search import AllDiverged, all_diverged_message, grid_cell, is_random, rank, searched

setup_logging(snakemake.log[0])
spec, stages = snakemake.params.spec, snakemake.params.stages
parameters = searched(spec)
rows = []
for stage in stages:
    for trial, path in enumerate(snakemake.input[stage]):
        m = read_json(path)
        s = m["settings"]
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
                "cycles": s.get("cycles"),
                "schedule": m["schedule"],  # as run: n_s in steps even when set in epochs
                "updates": m["n_updates"],
                "n_train": m["n_train"],
            }
        )
trials = pd.DataFrame(rows).astype({"diverged_at": "Int64"})
where, searched = snakemake.params.where, ", ".join(parameters)
for stage, part in trials.groupby("stage", sort=False):
    if part["diverged"].all():
        logging.warning("%s", all_diverged_message(where, stage, parameters[0], part))
try:
    ranked = rank(trials, spec["score"])
except AllDiverged:
    exit_with(all_diverged_message(where, "", parameters[0], trials))
write_table(ranked, snakemake.output.ranked, snakemake.output.ranked_md)
lines = [
    f"Searched: {searched}. Score: {spec['score']} (validation accuracy). 3 best trials of "
    "each stage.\n"
]
for stage in stages:
    top3 = ranked[ranked["stage"] == stage].head(3)
    lines += [f"## {stage}\n", top3.to_markdown(index=False, floatfmt=".4g"), ""]
with open(snakemake.output.best, "w") as f:
    f.write("\n".join(lines) + "\n")
if is_random(spec):
    random_search_scores(
        ranked, spec["parameters"], spec["score"], snakemake.params.title, snakemake.output.figure
    )
else:
    search_scores(
        ranked,
        spec["parameter"],
        spec["scale"],
        spec["score"],
        snakemake.params.title,
        snakemake.output.figure,
    )
