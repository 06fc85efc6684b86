"""Rule plot_curves: loss, cost and accuracy (training and validation) of one run."""

import pandas as pd

from dd2424.io import setup_logging
from dd2424.plots import training_curves

setup_logging(snakemake.log[0])
history = pd.read_csv(snakemake.input.history, sep="\t")
title = f"{snakemake.wildcards.lab} / {snakemake.wildcards.run}"
training_curves(history, title, snakemake.output.figure)
