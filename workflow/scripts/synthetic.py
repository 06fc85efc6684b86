"""Rule synthetic_cifar10: a seeded synthetic dataset in the exact CIFAR-10 python format."""

import logging
from pathlib import Path

from dd2424.data.synthetic import write_synthetic_cifar
from dd2424.io import setup_logging

setup_logging(snakemake.log[0])
settings = snakemake.params.settings
out = Path(snakemake.output.batches[0]).parent
write_synthetic_cifar(out, **settings)
logging.info("wrote synthetic CIFAR-10 batches to %s with %s", out, settings)
