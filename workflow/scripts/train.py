"""Rule train: one named run; saves parameters, per-evaluation history and metrics."""

import pandas as pd

from dd2424.data import load_split
from dd2424.experiments import run
from dd2424.io import save_params, setup_logging, write_json

setup_logging(snakemake.log[0])
params, history, metrics = run(snakemake.params.settings, load_split(snakemake.input.split))
save_params(snakemake.output.params, params)
pd.DataFrame(history).to_csv(snakemake.output.history, sep="\t", index=False)
write_json(snakemake.output.metrics, metrics | {"run": snakemake.wildcards.run})
