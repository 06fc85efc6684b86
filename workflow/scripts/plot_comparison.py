"""Rule plot_comparison: the loss curves of several runs overlaid in one figure."""

import pandas as pd

from dd2424.io import setup_logging
from dd2424.report.plots import compare_curves

setup_logging(snakemake.log[0])
histories = {
    run: pd.read_csv(path, sep="\t")
    for run, path in zip(snakemake.params.runs, snakemake.input.histories, strict=True)
}
title = f"{snakemake.wildcards.lab}: {snakemake.wildcards.comparison}"
compare_curves(histories, title, snakemake.output.figure)
