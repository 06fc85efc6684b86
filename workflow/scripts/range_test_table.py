"""Rule range_test_table: the bounds every range test of a lab proposes, with the network
and lambda it tested and the rule that read them off."""

import pandas as pd

from dd2424.io import read_json, setup_logging, write_table
from dd2424.mlp.runs import hidden_label

setup_logging(snakemake.log[0])
rows = []
for name, path in zip(snakemake.params.names, snakemake.input.proposals, strict=True):
    p = read_json(path)
    s = p["settings"]
    rows.append(
        {
            "range_test": name,
            "hidden": hidden_label(s["hidden"]),
            "batch_norm": s.get("batch_norm", False),
            "lambda": s["lam"],
            "schedule": p["run"]["schedule"],
            "eta_min": p["eta_min"],
            "eta_max": p["eta_max"],
            "eta_min_rule": p["eta_min_rule"],
            "peak_val_acc_smoothed": p["peak_val_acc_smoothed"],
            "diverged_at": p["diverged_at"],
        }
    )
rule = read_json(snakemake.input.proposals[0])["rule"] if rows else ""
table = pd.DataFrame(rows).astype({"diverged_at": "Int64"})
write_table(table, snakemake.output.tsv, snakemake.output.md, note=f"Rule: {rule}.")
