"""Rules search_coarse_grid, search_fine_grid and search_random_grid: the trial table of one
search stage.

Coarse: positions from config.  Fine: drawn around the best coarse trials (their metrics are
the ``metrics`` input).  Columns: trial, x (position on the scale) and the setting's values
(the column is named after the setting).  Random: ``trials`` draws of every searched setting
from the seeded sampler, one column per setting (lists as JSON text).
"""

import logging

import pandas as pd

from dd2424.io import exit_with, number, read_json, setup_logging
from dd2424.search import (
    AllDiverged,
    all_diverged_message,
    coarse_grid,
    fine_grid,
    is_random,
    random_grid,
    random_trials,
    with_values,
)

setup_logging(snakemake.log[0])
spec = snakemake.params.spec
if is_random(spec):
    grid = random_grid(random_trials(spec["parameters"], spec["trials"], spec["seed"]))
elif "metrics" in snakemake.input.keys():
    coarse = pd.read_csv(snakemake.input.grid, sep="\t")
    metrics = [read_json(f) for f in snakemake.input.metrics]
    coarse[spec["score"]] = [number(m[spec["score"]]) for m in metrics]
    coarse["diverged"] = [m["diverged"] for m in metrics]
    try:
        grid, (lo, hi) = fine_grid(coarse, spec["coarse"], spec["fine"], spec["score"])
    except AllDiverged:
        exit_with(all_diverged_message(snakemake.params.where, "coarse", spec["parameter"], coarse))
    logging.info("fine range on the %s scale: [%.4f, %.4f]", spec["scale"], lo, hi)
    grid = with_values(grid, spec["scale"], spec["parameter"])
else:
    grid = with_values(coarse_grid(spec["coarse"]), spec["scale"], spec["parameter"])
logging.info("trials:\n%s", grid.to_string(index=False))
grid.to_csv(snakemake.output.grid, sep="\t", index=False)
