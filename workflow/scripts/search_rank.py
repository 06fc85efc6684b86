"""Rule search_rank: every trial of a search ranked by its score, the 3 best of each stage,
and the score against the searched value(s): one column per searched setting (list values,
e.g. ``hidden``, as JSON text, as in the grid)."""

from pathlib import Path

from dd2424.io import exit_with, read_json, setup_logging, write_table
from dd2424.report.plots import random_search_scores, search_scores
from dd2424.search import (
    AllDiverged,
    best_markdown,
    is_random,
    ranked_trials,
    searched,
    trials_table,
)

setup_logging(snakemake.log[0])
spec, stages, params = snakemake.params.spec, snakemake.params.stages, snakemake.params
metrics = {stage: [read_json(path) for path in snakemake.input[stage]] for stage in stages}
try:
    ranked = ranked_trials(trials_table(metrics, searched(spec)), spec, params.where)
except AllDiverged as err:
    exit_with(str(err))
write_table(ranked, snakemake.output.ranked, snakemake.output.ranked_md)
Path(snakemake.output.best).write_text(best_markdown(ranked, spec, stages))
figure, title, score = snakemake.output.figure, params.title, spec["score"]
if is_random(spec):
    random_search_scores(ranked, spec["parameters"], score, title, figure)
else:
    search_scores(ranked, spec["parameter"], spec["scale"], score, title, figure)
