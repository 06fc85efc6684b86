"""Rule preprocess: load a split's batches, normalise with the training mean/std, save float32
so that training jobs can memory-map it, with its sha256 next to it.

batches.meta is read too, so that a bad one stops the pipeline here, before any training.
"""

import logging
from pathlib import Path

from dd2424.data.cifar import load_label_names
from dd2424.data.splits import Split, SplitError, preprocess
from dd2424.io import exit_with, save_arrays, setup_logging, write_digest

setup_logging(snakemake.log[0])
name, meta = snakemake.wildcards.split, snakemake.input.meta
try:
    load_label_names(meta)
    arrays = preprocess(Path(meta).parent, Split.from_config(snakemake.params.split))
except SplitError as err:  # the split's config, not the data
    exit_with(f"config splits.{name}.{err}. Lower splits.{name}.val_size.")
except ValueError as err:
    exit_with(f"{snakemake.rule} failed: {err}. {snakemake.params.hint}")
for part in ("train", "val", "test"):
    logging.info("%s: X %s %s", part, arrays[f"X_{part}"].shape, arrays[f"X_{part}"].dtype)
save_arrays(snakemake.output.split, arrays, mappable=True)
write_digest(snakemake.output.split)
