"""Rule search_rank: every trial of a search ranked by its score, the 3 best of each stage,
and the score against the searched value."""

import pandas as pd

from dd2424.io import read_json, setup_logging, write_table
from dd2424.plots import search_scores
from dd2424.search import rank

setup_logging(snakemake.log[0])
spec = snakemake.params.spec
rows = []
for stage in ("coarse", "fine"):
    for trial, path in enumerate(snakemake.input[stage]):
        m = read_json(path)
        s = m["settings"]
        rows.append(
            {
                "stage": stage,
                "trial": trial,
                spec["parameter"]: m["search_value"],
                "best_val_acc": m["best_val_acc"],
                "final_val_acc": m["final_val_acc"],
                "final_train_acc": m["final_train_acc"],
                "cycles": s.get("cycles"),
                "schedule": m["schedule"],  # as run: n_s in steps even when set in epochs
                "updates": m["n_updates"],
                "n_train": m["n_train"],
                "train_seconds": round(m["train_seconds"], 2),
            }
        )
ranked = rank(pd.DataFrame(rows), spec["score"])
write_table(ranked, snakemake.output.ranked, snakemake.output.ranked_md)
lines = [f"Score: {spec['score']} (validation accuracy). 3 best trials of each stage.\n"]
for stage in ("coarse", "fine"):
    top3 = ranked[ranked["stage"] == stage].head(3)
    lines += [f"## {stage}\n", top3.to_markdown(index=False, floatfmt=".4g"), ""]
with open(snakemake.output.best, "w") as f:
    f.write("\n".join(lines) + "\n")
search_scores(
    ranked,
    spec["parameter"],
    spec["scale"],
    spec["score"],
    snakemake.params.title,
    snakemake.output.figure,
)
