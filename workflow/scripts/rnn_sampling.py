"""Rule rnn_sampling: the quantitative sampling comparison (a grid of temperatures and nucleus
thresholds) on one run's best model: table and figure."""

import pandas as pd

from dd2424.io import exit_with, setup_logging, write_table
from dd2424.report.plots import sampling_measures
from dd2424.rnn.model import Model, sampling_comparison
from dd2424.rnn.settings import read_corpus

setup_logging(snakemake.log[0])
spec = snakemake.params.spec
try:
    model = Model.load(snakemake.input.model)
    rows = sampling_comparison(
        model,
        read_corpus(snakemake.input.text),
        spec["temperatures"],
        spec["top_p"],
        int(spec["length"]),
        int(spec["seed"]),
    )
except ValueError as err:  # the corpus or the model (SettingsError): one message
    exit_with(f"{snakemake.rule} failed on {snakemake.input.text}: {err}")
table = pd.DataFrame(rows)
write_table(table, snakemake.output.tsv, snakemake.output.md)
sampling_measures(table, snakemake.output.figure)
