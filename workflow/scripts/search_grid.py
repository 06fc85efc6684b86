"""Rules search_coarse_grid and search_fine_grid: the trial table of one search stage.

Coarse: positions from config.  Fine: drawn around the best coarse trials (their metrics are
the ``metrics`` input).  Columns: trial, x (position on the scale) and the setting's values
(the column is named after the setting).
"""

import logging

import pandas as pd

from dd2424.io import read_json, setup_logging
from dd2424.search import coarse_grid, fine_grid, with_values

setup_logging(snakemake.log[0])
spec = snakemake.params.spec
if "metrics" in snakemake.input.keys():
    coarse = pd.read_csv(snakemake.input.grid, sep="\t")
    coarse[spec["score"]] = [read_json(f)[spec["score"]] for f in snakemake.input.metrics]
    grid, (lo, hi) = fine_grid(coarse, spec["coarse"], spec["fine"], spec["score"])
    logging.info("fine range on the %s scale: [%.4f, %.4f]", spec["scale"], lo, hi)
else:
    grid = coarse_grid(spec["coarse"])
grid = with_values(grid, spec["scale"], spec["parameter"])
logging.info("trials:\n%s", grid.to_string(index=False))
grid.to_csv(snakemake.output.grid, sep="\t", index=False)
