"""Rule plot_smooth_loss: the smooth loss of the char-RNN against the update step."""

from dd2424.io import read_columns, setup_logging
from dd2424.report.plots import smooth_loss

setup_logging(snakemake.log[0])
smooth_loss(read_columns(snakemake.input.smooth_loss), snakemake.output.figure)
