"""Rules rnn_compare and rnn_compare_timing: one row per char-RNN run of a comparison and its
validation loss against characters seen (results/, byte-stable) or against training seconds
(benchmarks/timing/, the wall-clock record, with the best loss at equal wall time)."""

import pandas as pd

from dd2424.io import read_json, setup_logging, write_table
from dd2424.report.plots import rnn_validation_curves
from dd2424.report.tables import rnn_comparison

setup_logging(snakemake.log[0])
names, inputs = snakemake.params.runs, snakemake.input
timed = "timing" in inputs.keys()
metrics = {run: read_json(path) for run, path in zip(names, inputs.metrics, strict=True)}
records = inputs.timing if timed else inputs.curves
curves = {run: pd.read_csv(path, sep="\t") for run, path in zip(names, records, strict=True)}
jobs = [pd.read_csv(path, sep="\t") for path in inputs.benchmarks] if timed else None
table, curves = rnn_comparison(metrics, curves, jobs)
title = f"char-RNN comparison {snakemake.wildcards.comparison}"
if timed:
    x, label, training = "train_seconds", "training time (s, updates only)", None
else:
    x, label = "characters", "characters seen"
    training = {r: pd.read_csv(p, sep="\t") for r, p in zip(names, inputs.training, strict=True)}
rnn_validation_curves(curves, x, label, title, snakemake.output.figure, training)
write_table(table, snakemake.output.tsv, snakemake.output.md)
