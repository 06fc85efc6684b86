"""Rule plot_smooth_loss: the smooth loss of the char-RNN against the update step."""

import pandas as pd

from dd2424.io import setup_logging
from dd2424.report.plots import smooth_loss

setup_logging(snakemake.log[0])
smooth_loss(pd.read_csv(snakemake.input.smooth_loss, sep="\t"), snakemake.output.figure)
