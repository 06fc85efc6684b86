"""Rule rnn_gradcheck: BPTT against numerical gradients; writes the table, fails if one fails."""

import logging

import pandas as pd

from dd2424.io import setup_logging
from dd2424.rnn_runs import gradient_check
from dd2424.text import read_text

setup_logging(snakemake.log[0])
table = pd.DataFrame(gradient_check(snakemake.params.spec, read_text(snakemake.input.text)))
failed = table[~table["passed"]]
if len(failed):
    message = (
        f"RNN gradient check FAILED for {len(failed)} parameter(s):\n"
        + failed.to_string(index=False)
        + f"\n(see {snakemake.log[0]}); fix the backward pass before training."
    )
    logging.error(message)
    raise SystemExit(message)
table.to_csv(snakemake.output.table, sep="\t", index=False)
