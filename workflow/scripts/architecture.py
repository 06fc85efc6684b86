"""Rule architecture_table: the depth x width grid of a lab (test accuracy by depth and
width, and the figure: test accuracy against depth, a line per width)."""

from dd2424.io import read_json, setup_logging, write_table
from dd2424.mlp.ablation import architecture_table
from dd2424.report.plots import architecture_accuracy

setup_logging(snakemake.log[0])
data = snakemake.params.data
entries = {
    run: read_json(path)
    for run, path in zip(snakemake.params.names, snakemake.input.metrics, strict=True)
}
table = architecture_table(entries, data["name"])
note = None if data["comparable"] else f"Measured on {data['description']}."
write_table(table, snakemake.output.tsv, snakemake.output.md, note=note)
title = f"{snakemake.wildcards.lab}: depth and width ({data['name']} data)"
architecture_accuracy(table, title, snakemake.output.figure)
