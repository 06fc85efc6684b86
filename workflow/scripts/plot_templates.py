"""Rule plot_templates: the rows of a 1-layer network's W as labelled class images."""

from dd2424.data.cifar import load_label_names
from dd2424.io import exit_with, load_arrays, setup_logging
from dd2424.report.plots import class_templates

setup_logging(snakemake.log[0])
W = load_arrays(snakemake.input.params)["W1"]
try:
    names = load_label_names(snakemake.input.meta)
except ValueError as err:
    exit_with(f"{snakemake.rule} failed: {err}. {snakemake.params.hint}")
title = f"{snakemake.wildcards.lab} / {snakemake.wildcards.run}: learnt class templates"
class_templates(W, names, title, snakemake.output.figure)
