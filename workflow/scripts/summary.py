"""Rule summary: the headline table (results/summary.md) and the report's front page
(results/front_page.rst), from each lab's test-accuracy table, ablation table (the bonus
recipe's rows), gradient check and lab 4's metrics and passage."""

from pathlib import Path

import pandas as pd

from dd2424.io import read_json, setup_logging
from dd2424.report.summary import Data, Lab, bonus_rows, front_page, markdown, network_rows, rnn_row

setup_logging(snakemake.log[0])
inputs, params = snakemake.input, snakemake.params
cifar, corpus = Data(**params.data["cifar"]), Data(**params.data["corpus"])
labs = []
for lab in params.labs:
    gradcheck = inputs.get(f"{lab}_gradcheck")
    rows = network_rows(pd.read_csv(inputs[f"{lab}_table"], sep="\t"), params.headline[lab])
    if f"{lab}_bonus" in inputs.keys():
        rows += bonus_rows(pd.read_csv(inputs[f"{lab}_bonus"], sep="\t"))
    labs.append(
        Lab(
            lab,
            params.titles[lab],
            cifar,
            rows=rows,
            gradcheck=pd.read_csv(gradcheck, sep="\t") if gradcheck else None,
            figures=params.figures[lab],
        )
    )
passage = inputs.get("lab4_passage")
labs.append(
    Lab(
        "lab4",
        params.titles["lab4"],
        corpus,
        rows=[
            rnn_row(run, read_json(inputs[f"lab4_metrics_{run}"]), params.reference)
            for run in params.headline["lab4"]
        ],
        gradcheck=pd.read_csv(inputs.lab4_gradcheck, sep="\t"),
        figures=params.figures["lab4"],
        passage=Path(passage).read_text(encoding="utf-8")[:600] if passage else "",
    )
)
Path(snakemake.output.md).write_text(markdown(labs), encoding="utf-8")
Path(snakemake.output.front).write_text(
    front_page(labs, params.intro, set(params.linkable)), encoding="utf-8"
)
