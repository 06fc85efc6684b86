"""Rule plot_curves: loss, cost and accuracy (training and validation) of one run.

Against the update step when the learning rate varied (cyclic schedule), else per epoch.
"""

import numpy as np

from dd2424.io import read_columns, setup_logging
from dd2424.report.plots import training_curves

setup_logging(snakemake.log[0])
history = read_columns(snakemake.input.history)
x = "update" if len(np.unique(history["eta"])) > 1 else "epoch"
title = f"{snakemake.wildcards.lab} / {snakemake.wildcards.name}"
training_curves(history, title, snakemake.output.figure, x=x)
