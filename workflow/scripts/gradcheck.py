"""Rules gradcheck (labs 1-3) and rnn_gradcheck (lab 4): analytic vs numerical gradients;
writes the table, or fails with the failing rows so that training never starts."""

import pandas as pd

from dd2424.io import exit_with, setup_logging

setup_logging(snakemake.log[0])
if "text" in snakemake.input.keys():
    from dd2424.rnn.runs import gradient_check
    from dd2424.rnn.settings import SettingsError, read_corpus

    try:
        rows = gradient_check(snakemake.params.spec, read_corpus(snakemake.input.text))
    except SettingsError as err:  # the corpus or the settings: one message, no traceback
        exit_with(f"{snakemake.rule} failed on {snakemake.input.text}: {err}")
else:
    from dd2424.io import map_arrays
    from dd2424.mlp.runs import gradient_checks

    rows = gradient_checks(snakemake.params.spec, map_arrays(snakemake.input.split))
table = pd.DataFrame(rows)
failed = table[~table["passed"]]
if len(failed):
    message = (
        f"{snakemake.rule} FAILED for {len(failed)} parameter(s):\n"
        + failed.to_string(index=False)
        + f"\n(see {snakemake.log[0]}); fix the analytic gradients before training."
    )
    exit_with(message)
table.to_csv(snakemake.output.table, sep="\t", index=False)
