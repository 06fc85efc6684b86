"""Rules train, search_trial, search_final: one training run; saves parameters, history, metrics.

For search jobs the searched settings come from row ``params.row`` of the ``grid`` input
(a trial grid, or the ranked table whose first row is the best trial), in the columns named
after the settings (``params.parameters``, dotted paths).  A run whose cyclic schedule names a
range test (``schedule.range_test``) takes its bounds from the ``proposal`` input.  The split
is memory-mapped (one copy per machine, however many jobs train on it), and nothing heavier
than NumPy is imported before training starts.
"""

import logging

from dd2424.io import (
    map_arrays,
    provenance,
    read_json,
    save_arrays,
    setup_logging,
    write_json,
    write_records,
)
from dd2424.mlp.range_test import apply_proposal
from dd2424.mlp.runs import run

setup_logging(snakemake.log[0])
settings = snakemake.params.settings
extra = {}
if "grid" in snakemake.input.keys():
    from dd2424.trials import apply_trial, grid_trial

    values = grid_trial(snakemake.input.grid, snakemake.params.row, snakemake.params.parameters)
    settings = apply_trial(settings, values)
    extra = {"search_values": values}
    logging.info("%s (row %d of %s)", values, snakemake.params.row, snakemake.input.grid)
if "proposal" in snakemake.input.keys():
    name = settings["schedule"]["range_test"]
    proposal = read_json(snakemake.input.proposal)
    settings = apply_proposal(settings, proposal)
    extra["range_test"] = {"name": name, **{k: proposal[k] for k in ("eta_min", "eta_max")}}
    logging.info("cyclic bounds from range test %s: %s", name, extra["range_test"])
params, history, metrics = run(settings, map_arrays(snakemake.input.split))
save_arrays(snakemake.output.params, params)
write_records(snakemake.output.history, history)
inputs = {"split": snakemake.input.split}
if "proposal" in snakemake.input.keys():
    inputs["proposal"] = snakemake.input.proposal
write_json(snakemake.output.metrics, metrics | extra | provenance(settings, inputs))
