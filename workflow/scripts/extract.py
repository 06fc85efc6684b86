"""Rule extract_cifar10: the batch files out of the verified archive."""

from pathlib import Path

from dd2424.data.archive import extract_archive
from dd2424.io import exit_with, setup_logging

setup_logging(snakemake.log[0])
try:
    extract_archive(
        snakemake.input.archive, Path(snakemake.output.batches[0]).parent, snakemake.params.names
    )
except ValueError as err:
    exit_with(f"{snakemake.rule} failed: {err}. {snakemake.params.hint}")
