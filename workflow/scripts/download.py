"""Rules download_cifar10, download_corpus: a verified copy of a file (download or local copy).

``params.key`` is the config section of the file (``data.cifar10``, ``lab4.corpus``), named in
every message with the fix; ``params.check`` names a content check run after the checksum.
"""

from dd2424.data.archive import check_archive
from dd2424.data.fetch import FetchError, fetch, hints
from dd2424.io import exit_with, setup_logging

CHECKS = {"cifar10_archive": check_archive, None: None}

setup_logging(snakemake.log[0])
params = snakemake.params
url, local = params.url, params.local_copy
try:
    fetch(
        url,
        snakemake.output[0],
        params.checksum,
        local_copy=local or None,
        retries=params.retries,
        hints=hints(url, params.key, local) | {"content": params.content_hint},
        check=CHECKS[params.check],
    )
except FetchError as err:
    exit_with(f"{snakemake.rule} failed: {err}")
