"""Rule plot_comparison: the loss curves of several runs overlaid in one figure."""

from dd2424.io import read_columns, setup_logging
from dd2424.report.plots import compare_curves

setup_logging(snakemake.log[0])
histories = {
    run: read_columns(path)
    for run, path in zip(snakemake.params.runs, snakemake.input.histories, strict=True)
}
title = f"{snakemake.wildcards.lab}: {snakemake.wildcards.comparison}"
compare_curves(histories, title, snakemake.output.figure)
