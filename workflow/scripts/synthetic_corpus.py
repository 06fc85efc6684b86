"""Rule synthetic_corpus: a seeded English-like text for offline runs and tests."""

import logging

from dd2424.data.text import write_synthetic_corpus
from dd2424.io import setup_logging

setup_logging(snakemake.log[0])
text = write_synthetic_corpus(snakemake.output.text, **snakemake.params.settings)
logging.info("wrote %d characters to %s", len(text), snakemake.output.text)
