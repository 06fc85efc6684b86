"""Rule bonus_table: the ablation of a lab's bonus improvements (results/<lab>/bonus.*): the
baseline, each improvement alone, the recipe that combines them and the recipe's ensembles,
each with its test accuracy and gain over the baseline next to the course's and the best
published students' numbers, and a bar chart of the gains.

Training time is not here (reruns must give the same bytes): benchmarks/timing/<lab>_bonus.tsv
has it, row by row (rule bonus_timing).
"""

import pandas as pd

from dd2424.io import read_json, setup_logging, write_table
from dd2424.mlp.ablation import bonus_table, ensemble_rows, run_record
from dd2424.report.plots import ablation_gains

setup_logging(snakemake.log[0])
params = snakemake.params
data = params.data
rows = []
for (row, run, what), path in zip(params.rows, snakemake.input.metrics, strict=True):
    rows.append({"row": row, "run": run, "what": what} | run_record(read_json(path)))
recipe = next(r for r in rows if r["row"] == "recipe")
recipe_record = {k: v for k, v in recipe.items() if k not in ("row", "run", "what")}
for (name, ensemble), path in zip(params.ensembles.items(), snakemake.input.ensembles, strict=True):
    rows += ensemble_rows(name, ensemble, pd.read_csv(path, sep="\t"), recipe_record)
table = bonus_table(rows, params.reference, data["name"])
note = (
    "gain: test accuracy minus the baseline's. Training time per row: "
    "benchmarks/timing/" + snakemake.wildcards.lab + "_bonus.tsv (same row names)."
)
if not data["comparable"]:
    note += (
        f" Measured on {data['description']}: the course's and the students' numbers "
        "(course_test_acc, student_test_acc, student_bonus_test_acc) are for CIFAR-10 and not "
        "comparable with test_acc."
    )
write_table(table, snakemake.output.tsv, snakemake.output.md, note=note)
title = f"{snakemake.wildcards.lab}: bonus improvements ({data['name']} data)"
ablation_gains(table, title, snakemake.output.figure)
