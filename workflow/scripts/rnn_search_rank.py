"""Rule rnn_search_rank: the trials of a lab-4 search ranked by their best validation loss per
character (ties broken by the smoothed training loss per character at the end), how many tied
at the top, a warning if a chosen value sits at the edge of its searched range, and best.md."""

import logging
from pathlib import Path

from dd2424.io import read_json, setup_logging, write_table
from dd2424.ranking import edge_warnings, rank, ranked_note
from dd2424.search import best_markdown, rnn_trials_table

setup_logging(snakemake.log[0])
spec, where = snakemake.params.spec | {"score": "best_val_loss"}, snakemake.params.where
trials = rnn_trials_table([read_json(p) for p in snakemake.input.metrics], list(spec["parameters"]))
ranked = rank(trials, spec["score"])
for warning in edge_warnings(spec, ranked.iloc[0], where):
    logging.warning("%s", warning)
note = ranked_note(ranked, spec, where)
write_table(ranked, snakemake.output.ranked, snakemake.output.ranked_md, note=note)
Path(snakemake.output.best).write_text(best_markdown(ranked, spec, ["random"], where))
