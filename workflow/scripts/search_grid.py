"""Rules search_coarse_grid, search_fine_grid and search_random_grid: the trial table of one
search stage (dd2424.search.stage_grid).

Coarse: positions from config.  Fine: drawn around the best coarse trials (their metrics are
the ``metrics`` input).  Columns: trial, x (position on the scale) and the setting's values
(the column is named after the setting).  Random: ``trials`` draws of every searched setting
from the seeded sampler, one column per setting (lists as JSON text).
"""

import logging

import pandas as pd

from dd2424.io import exit_with, read_json, setup_logging
from dd2424.search import AllDiverged, stage_grid

setup_logging(snakemake.log[0])
coarse, metrics = None, None
if "metrics" in snakemake.input.keys():
    coarse = pd.read_csv(snakemake.input.grid, sep="\t")
    metrics = [read_json(f) for f in snakemake.input.metrics]
try:
    grid = stage_grid(snakemake.params.spec, snakemake.params.get("where", ""), coarse, metrics)
except AllDiverged as err:
    exit_with(str(err))
logging.info("trials:\n%s", grid.to_string(index=False))
grid.to_csv(snakemake.output.grid, sep="\t", index=False)
