"""Rule results_table: one row per run (settings, accuracies, divergence), TSV + markdown.

``loss`` says which loss the run trained with (``cross_entropy`` or ``svm``): the test,
training and validation losses are that loss.

Wall times are not here (this file must not change between reruns): see the rule timing_table.
"""

import pandas as pd

from dd2424.io import number, read_json, setup_logging, write_table
from dd2424.mlp.runs import hidden_label


def init_name(init: dict) -> str:
    kind = init.get("kind", "xavier")
    return f"N(0, {init.get('sigma', 0.01):g}^2)" if kind == "normal" else kind


setup_logging(snakemake.log[0])
data = snakemake.params.data
rows = []
for run, metrics_file in zip(snakemake.params.names, snakemake.input.metrics, strict=True):
    m = read_json(metrics_file)
    s = m["settings"]
    rows.append(
        {
            "run": run,
            "hidden": hidden_label(s["hidden"]),
            "batch_norm": s.get("batch_norm", False),
            "init": init_name(s.get("init") or {}),
            "lambda": s["lam"],
            "schedule": m["schedule"],
            "n_batch": s["n_batch"],
            "updates": m["n_updates"],
            "epochs": round(m["n_updates"] / (m["n_train"] // s["n_batch"]), 2),
            "loss": m["loss"],
            "test_acc": number(m["test_acc"]),
            "course_test_acc": s.get("course_test_acc"),
            "student_test_acc": s.get("student_test_acc"),
            "data": data["name"],
            "test_loss": number(m["test_loss"]),
            "final_train_loss": number(m["final_train_loss"]),
            "final_val_loss": number(m["final_val_loss"]),
            "final_val_acc": number(m["final_val_acc"]),
            "diverged_at": m["diverged_at"],
        }
    )
note = (
    None
    if data["comparable"]
    else f"Measured on {data['description']}: the course's and the student's numbers "
    "(course_test_acc, student_test_acc) are for CIFAR-10 and not comparable with test_acc."
)
write_table(
    pd.DataFrame(rows).astype({"diverged_at": "Int64"}),
    snakemake.output.tsv,
    snakemake.output.md,
    note=note,
)
