"""Rule gradcheck: analytic vs numerical gradients; writes the table, fails if a check fails."""

import logging

import pandas as pd

from dd2424.experiments import gradient_checks
from dd2424.io import load_arrays, setup_logging

setup_logging(snakemake.log[0])
table = pd.DataFrame(gradient_checks(snakemake.params.spec, load_arrays(snakemake.input.split)))
failed = table[~table["passed"]]
if len(failed):
    message = (
        f"gradient check FAILED for {len(failed)} parameter(s) of {snakemake.wildcards.lab}:\n"
        + failed.to_string(index=False)
        + f"\n(see {snakemake.log[0]}); fix the analytic gradients before training."
    )
    logging.error(message)
    raise SystemExit(message)
table.to_csv(snakemake.output.table, sep="\t", index=False)
