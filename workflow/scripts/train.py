"""Rules train, search_trial, search_final: one training run; saves parameters, history, metrics.

For search jobs the searched settings come from row ``params.row`` of the ``grid`` input
(a trial grid, or the ranked table whose first row is the best trial), in the columns named
after the settings (``params.parameters``, dotted paths).  A run whose cyclic schedule names a
range test (``schedule.range_test``) takes its bounds from the ``proposal`` input.  The split
is memory-mapped, and nothing heavier than NumPy is imported (dd2424.io, dd2424.trials).
"""

import logging

from dd2424 import io
from dd2424.mlp.range_test import apply_proposal
from dd2424.mlp.runs import run
from dd2424.trials import apply_trial, grid_trial

io.setup_logging(snakemake.log[0])
settings = snakemake.params.settings
extra = {}
if "grid" in snakemake.input.keys():
    values = grid_trial(snakemake.input.grid, snakemake.params.row, snakemake.params.parameters)
    settings = apply_trial(settings, values)
    extra = {"search_values": values}
    logging.info("%s (row %d of %s)", values, snakemake.params.row, snakemake.input.grid)
if "proposal" in snakemake.input.keys():
    name = settings["schedule"]["range_test"]
    proposal = io.read_json(snakemake.input.proposal)
    settings = apply_proposal(settings, proposal)
    extra["range_test"] = {"name": name, **{k: proposal[k] for k in ("eta_min", "eta_max")}}
    logging.info("cyclic bounds from range test %s: %s", name, extra["range_test"])
params, history, metrics = run(settings, io.map_arrays(snakemake.input.split))
io.save_arrays(snakemake.output.params, params)
io.write_records(snakemake.output.history, history)
inputs = {"split": snakemake.input.split}
if "proposal" in snakemake.input.keys():
    inputs["proposal"] = snakemake.input.proposal
io.write_json(snakemake.output.metrics, metrics | extra | io.provenance(settings, inputs))
