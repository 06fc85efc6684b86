"""Rule search_rank: every trial of a search ranked by its score (ties broken by the validation
loss at the same evaluation), the 3 best of each stage, how many tied at the top, a warning if
the chosen value sits at the edge of the searched range, and the score against the searched
value(s): one column per searched setting (lists, e.g. ``hidden``, as JSON text)."""

from dd2424.io import exit_with, read_json, setup_logging
from dd2424.ranking import AllDiverged
from dd2424.report.plots import random_search_scores, search_scores
from dd2424.search import is_random, ranked_trials, searched, trials_table, write_ranked

setup_logging(snakemake.log[0])
spec, stages, where = snakemake.params.spec, snakemake.params.stages, snakemake.params.where
metrics = {stage: [read_json(path) for path in snakemake.input[stage]] for stage in stages}
try:
    ranked = ranked_trials(trials_table(metrics, searched(spec)), spec, where)
except AllDiverged as err:
    exit_with(str(err))
write_ranked(ranked, spec, stages, where, snakemake.output)
figure, title, score = snakemake.output.figure, snakemake.params.title, spec["score"]
if is_random(spec):
    random_search_scores(ranked, spec["parameters"], score, title, figure)
else:
    search_scores(ranked, spec["parameter"], spec["scale"], score, title, figure)
