"""Rule timing_table: wall time and peak memory of every training job of a lab, from
Snakemake's benchmark files (kept out of results/, whose files must not change between reruns)."""

import pandas as pd

from dd2424.io import setup_logging

setup_logging(snakemake.log[0])
rows = []
for name, path in zip(snakemake.params.names, snakemake.input.benchmarks, strict=True):
    bench = pd.read_csv(path, sep="\t").iloc[0]
    rows.append({"job": name, "seconds": bench["s"], "max_rss_mb": bench["max_rss"]})
pd.DataFrame(rows).to_csv(snakemake.output.tsv, sep="\t", index=False)
