"""Rules download_cifar10, download_corpus: a verified copy of a file (download or local copy).

``params.key`` is the config section of the file (``data.cifar10``, ``lab4.corpus``), named in
every message with the fix; ``params.check`` names a content check run after the checksum.
"""

from dd2424.data.archive import check_archive
from dd2424.data.fetch import FetchError, fetch
from dd2424.io import exit_with, setup_logging

CHECKS = {"cifar10_archive": check_archive, None: None}

setup_logging(snakemake.log[0])
url, key, local = snakemake.params.url, snakemake.params.key, snakemake.params.local_copy
hints = {
    "download": (
        f"Without internet: download {url} elsewhere and set {key}.local_copy to its path in a "
        "YAML file passed with --configfile (see config/README.md), or run the whole pipeline "
        "offline on synthetic data: snakemake --cores all --configfile config/test.yaml"
    ),
    "missing": (
        f"Set {key}.local_copy to an existing file (a relative path is taken from the directory "
        "snakemake was started in)."
    ),
    "checksum": (
        f"If {local} is a different file on purpose, set {key}.checksum to its checksum (given "
        "above); otherwise it is corrupt: copy it again."
        if local
        else f"The download is corrupt or not the file {key}.checksum describes: run again, or "
        f"check {key}.url and {key}.checksum."
    ),
    "content": snakemake.params.content_hint,
}
try:
    fetch(
        url,
        snakemake.output[0],
        snakemake.params.checksum,
        local_copy=local or None,
        retries=snakemake.params.retries,
        hints=hints,
        check=CHECKS[snakemake.params.check],
    )
except FetchError as err:
    exit_with(f"{snakemake.rule} failed: {err}")
