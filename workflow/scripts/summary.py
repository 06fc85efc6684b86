"""Rule summary: the headline table (results/summary.md) and the report's front page
(results/front_page.rst), from each lab's test-accuracy table, ablation table (the bonus
recipe's rows), gradient check and lab 4's metrics and passage."""

from pathlib import Path

from dd2424.io import setup_logging
from dd2424.report.plots import headline as headline_figure
from dd2424.report.summary import front_page, markdown, read_labs

setup_logging(snakemake.log[0])
params = snakemake.params
labs = read_labs(dict(snakemake.input.items()), params)
Path(snakemake.output.md).write_text(markdown(labs), encoding="utf-8")
headline_figure(labs, snakemake.output.figure)
figure = Path(snakemake.output.figure).read_bytes()
front = front_page(labs, params.intro, set(params.linkable), figure)
Path(snakemake.output.front).write_text(front, encoding="utf-8")
