"""Rules rnn_compare and rnn_compare_timing: one row per char-RNN run of a comparison and its
validation loss against characters seen (results/, byte-stable) or against training seconds
(benchmarks/timing/, the wall-clock record)."""

import pandas as pd

from dd2424.io import read_json, setup_logging, write_table
from dd2424.report.plots import rnn_validation_curves

setup_logging(snakemake.log[0])
names = snakemake.params.runs
timed = "timing" in snakemake.input.keys()
rows, curves = [], {}
for i, (run, metrics_file) in enumerate(zip(names, snakemake.input.metrics, strict=True)):
    m = read_json(metrics_file)
    row = {
        "run": run,
        "optimizer": m["optimizer"],
        "eta": m["eta"],
        "walk": m["walk"],
        "batch": m["batch"],
        "updates": m["updates"],
        "characters_seen": m["characters_seen"],
        "epochs": round(m["epochs"], 3),
        "best_smooth_loss": m["best_smooth_loss"],
        "best_val_loss": m["best_val_loss"],
        "best_val_perplexity": m["best_val_perplexity"],
        "final_val_loss": m["final_val_loss"],
    }
    if timed:
        curve = pd.read_csv(snakemake.input.timing[i], sep="\t")
        seconds = float(curve["train_seconds"].iloc[-1])
        job = pd.read_csv(snakemake.input.benchmarks[i], sep="\t")["s"].iloc[0]
        row |= {
            "train_seconds": seconds,
            "job_seconds": job,
            "chars_per_s": m["characters_seen"] / seconds if seconds > 0 else float("nan"),
        }
    else:
        curve = pd.read_csv(snakemake.input.curves[i], sep="\t")
    rows.append(row)
    curves[run] = curve.dropna(subset=["val_loss"])
table = pd.DataFrame(rows)
title = f"char-RNN comparison {snakemake.wildcards.comparison}"
if timed:
    # equal wall time: the best validation loss each run had reached by the time the
    # shortest run (in training seconds) ended
    budget = float(table["train_seconds"].min())
    table["equal_time_budget_s"] = budget
    table["best_val_loss_within_budget"] = [
        c.loc[c["train_seconds"] <= budget, "val_loss"].min() for c in curves.values()
    ]
    rnn_validation_curves(
        curves, "train_seconds", "training time (s, updates only)", title, snakemake.output.figure
    )
else:
    rnn_validation_curves(curves, "characters", "characters seen", title, snakemake.output.figure)
write_table(table, snakemake.output.tsv, snakemake.output.md)
