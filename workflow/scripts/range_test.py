"""Rule range_test: a learning-rate range test (Smith 2015): a short run with eta rising
from eta_lo to eta_hi, evaluated ``evaluations`` times, its history (loss and accuracy against
eta) and the eta_min and eta_max it proposes by the rule stated in dd2424.mlp.range_test (recorded
in proposal.json)."""

import logging

from dd2424.io import exit_with, map_arrays, provenance, setup_logging, write_json, write_records
from dd2424.mlp.range_test import evaluation_step, propose
from dd2424.mlp.runs import run

setup_logging(snakemake.log[0])
settings, spec = snakemake.params.settings, snakemake.params.spec
split = map_arrays(snakemake.input.split)
every = evaluation_step(settings, len(split["X_train"]), spec["evaluations"])
settings = settings | {"eval_every": every}
logging.info("%d evaluations: one every %d updates", spec["evaluations"], every)
_, history, metrics = run(settings, split)
write_records(snakemake.output.history, history)
where = f"{snakemake.wildcards.lab}.range_tests.{snakemake.wildcards.name}"
try:
    proposal = propose(history, window=spec["window"], rise=spec["rise"])
except ValueError as err:
    exit_with(f"{where}: {err}")
logging.info("proposal: eta_min %g, eta_max %g", proposal["eta_min"], proposal["eta_max"])
record = {k: metrics[k] for k in ("schedule", "n_updates", "n_train", "loss", "diverged_at")}
write_json(
    snakemake.output.proposal,
    proposal | {"run": record} | provenance(settings, {"split": snakemake.input.split}),
)
