"""Rule synthetic_corpus: a seeded English-like text for offline runs and tests."""

import logging

from dd2424.io import setup_logging
from dd2424.text import write_synthetic_corpus

setup_logging(snakemake.log[0])
text = write_synthetic_corpus(snakemake.output.text, **snakemake.params.settings)
logging.info("wrote %d characters to %s", len(text), snakemake.output.text)
