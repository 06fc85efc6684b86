"""Rule plot_range_test: a range test's loss and accuracy against eta, the proposal marked."""

import pandas as pd

from dd2424.io import read_json, setup_logging
from dd2424.mlp.range_test import record
from dd2424.report.plots import range_test_curves

setup_logging(snakemake.log[0])
history = pd.read_csv(snakemake.input.history, sep="\t").to_dict("records")
proposal = read_json(snakemake.input.proposal)
title = f"{snakemake.wildcards.lab}: range test {snakemake.wildcards.name}"
range_test_curves(record(history), proposal, title, snakemake.output.figure)
