"""Rule extract_cifar10: the batch files out of the verified archive, each read once as the
training will read it (so a damaged batch or batches.meta stops the pipeline here, before any
training), and the images each batch holds (so that the next run checks the splits' sizes
before any job)."""

from pathlib import Path

from dd2424.data.archive import extract_archive
from dd2424.data.cifar import check_batches
from dd2424.io import exit_with, setup_logging, write_json

setup_logging(snakemake.log[0])
folder = Path(snakemake.output.batches[0]).parent
try:
    extract_archive(snakemake.input.archive, folder, snakemake.params.names)
    sizes = check_batches(folder, snakemake.params.names)
except ValueError as err:
    exit_with(f"{snakemake.rule} failed: {err}. {snakemake.params.hint}")
write_json(snakemake.output.sizes, {"checksum": snakemake.params.checksum, "batches": sizes})
