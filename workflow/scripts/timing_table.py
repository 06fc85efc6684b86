"""Rules timing_table and bonus_timing: wall time and peak memory of training jobs, from
Snakemake's benchmark files (kept out of results/, whose files must not change between reruns).

``params.rows`` maps each row of the table (a job, or a row of an ablation table) to the
benchmark files of its jobs: the row's seconds are their sum, its memory their maximum.
"""

import pandas as pd

from dd2424.io import setup_logging

setup_logging(snakemake.log[0])
bench = {path: pd.read_csv(path, sep="\t").iloc[0] for path in snakemake.input.benchmarks}
rows = []
for name, paths in snakemake.params.rows.items():
    rows.append(
        {
            snakemake.params.key: name,
            "seconds": round(sum(float(bench[p]["s"]) for p in paths), 2),
            "max_rss_mb": max(float(bench[p]["max_rss"]) for p in paths),
            "jobs": len(paths),
        }
    )
pd.DataFrame(rows).to_csv(snakemake.output.tsv, sep="\t", index=False)
