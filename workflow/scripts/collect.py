"""Rule results_table: one row per run (settings, accuracies, runtime), TSV + markdown."""

import pandas as pd

from dd2424.io import read_json, setup_logging, write_table


def init_name(init: dict) -> str:
    kind = init.get("kind", "xavier")
    return f"N(0, {init.get('sigma', 0.01):g}^2)" if kind == "normal" else kind


setup_logging(snakemake.log[0])
rows = []
for run, metrics_file, bench_file in zip(
    snakemake.params.names, snakemake.input.metrics, snakemake.input.benchmarks, strict=True
):
    m = read_json(metrics_file)
    s = m["settings"]
    rows.append(
        {
            "run": run,
            "hidden": "-".join(map(str, s["hidden"])) or "none",
            "batch_norm": s.get("batch_norm", False),
            "init": init_name(s.get("init") or {}),
            "lambda": s["lam"],
            "schedule": m["schedule"],
            "n_batch": s["n_batch"],
            "updates": m["n_updates"],
            "epochs": round(m["n_updates"] / (m["n_train"] // s["n_batch"]), 2),
            "test_acc": m["test_acc"],
            "course_test_acc": s.get("course_test_acc"),
            "test_loss": m["test_loss"],
            "final_train_loss": m["final_train_loss"],
            "final_val_loss": m["final_val_loss"],
            "final_val_acc": m["final_val_acc"],
            "train_seconds": pd.read_csv(bench_file, sep="\t")["s"].iloc[0],
        }
    )
write_table(pd.DataFrame(rows), snakemake.output.tsv, snakemake.output.md)
