"""Rules download_cifar10, download_corpus: a verified copy of a file (download or local copy)."""

import logging

from dd2424.fetch import FetchError, fetch
from dd2424.io import setup_logging

setup_logging(snakemake.log[0])
url = snakemake.params.url
try:
    fetch(
        url,
        snakemake.output[0],
        snakemake.params.checksum,
        local_copy=snakemake.params.local_copy or None,
        retries=snakemake.params.retries,
        hint=(
            f"Without internet: download {url} elsewhere and set {snakemake.params.config_key} "
            "to its path in a YAML file passed with --configfile (see config/README.md)."
        ),
    )
except FetchError as err:
    logging.error("%s", err)
    raise SystemExit(f"{snakemake.rule} failed: {err}") from None
