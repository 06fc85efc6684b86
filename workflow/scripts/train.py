"""Rules train, search_trial, search_final: one training run; saves parameters, history, metrics.

For search jobs the searched setting comes from row ``params.row`` of the ``grid`` input
(a trial grid, or the ranked table whose first row is the best trial), in the column named
after the setting.
"""

import logging

import pandas as pd

from dd2424.experiments import run
from dd2424.io import load_arrays, provenance, save_arrays, setup_logging, write_json
from dd2424.search import set_path

setup_logging(snakemake.log[0])
settings = snakemake.params.settings
extra = {}
if "grid" in snakemake.input.keys():
    parameter = snakemake.params.parameter
    row = pd.read_csv(snakemake.input.grid, sep="\t").iloc[snakemake.params.row]
    value = float(row[parameter])
    settings = set_path(settings, parameter, value)
    extra = {"search_parameter": parameter, "search_value": value}
    logging.info(
        "%s = %g (row %d of %s)", *extra.values(), snakemake.params.row, snakemake.input.grid
    )
params, history, metrics = run(settings, load_arrays(snakemake.input.split))
save_arrays(snakemake.output.params, params)
pd.DataFrame(history).to_csv(snakemake.output.history, sep="\t", index=False)
write_json(
    snakemake.output.metrics,
    metrics | extra | provenance(settings, {"split": snakemake.input.split}),
)
