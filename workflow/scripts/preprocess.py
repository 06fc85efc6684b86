"""Rule preprocess: load a split's batches, normalise with the training mean/std, save float32."""

import logging
from pathlib import Path

from dd2424.data.splits import Split, preprocess
from dd2424.io import exit_with, save_arrays, setup_logging

setup_logging(snakemake.log[0])
split = Split.from_config(snakemake.params.split)
try:
    arrays = preprocess(Path(snakemake.input.meta).parent, split)
except ValueError as err:
    exit_with(f"{snakemake.rule} failed: {err}. {snakemake.params.hint}")
for part in ("train", "val", "test"):
    logging.info("%s: X %s %s", part, arrays[f"X_{part}"].shape, arrays[f"X_{part}"].dtype)
save_arrays(snakemake.output.split, arrays)
