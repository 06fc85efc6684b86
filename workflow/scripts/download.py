"""Rule download_cifar10: a verified copy of the CIFAR-10 archive (download or local copy)."""

from dd2424.fetch import fetch
from dd2424.io import setup_logging

setup_logging(snakemake.log[0])
fetch(
    snakemake.params.url,
    snakemake.output.archive,
    snakemake.params.checksum,
    local_copy=snakemake.params.local_copy or None,
    retries=snakemake.params.retries,
)
