"""Rule results_table: one row per run (settings, accuracies, divergence), TSV + markdown.

``loss`` says which loss the run trained with (``cross_entropy`` or ``svm``): the test,
training and validation losses are that loss.

Wall times are not here (this file must not change between reruns): see the rule timing_table.
"""

from dd2424.io import read_json, setup_logging, write_table
from dd2424.report.tables import results_table

setup_logging(snakemake.log[0])
names, files = snakemake.params.names, snakemake.input.metrics
entries = {run: read_json(path) for run, path in zip(names, files, strict=True)}
table, note = results_table(entries, snakemake.params.data)
write_table(table, snakemake.output.tsv, snakemake.output.md, note=note)
