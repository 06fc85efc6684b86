"""Rule rnn_search_rank: the trials of a lab-4 search ranked by their best validation loss per
character (ties broken by the smoothed training loss per character at the end), how many tied
at the top, a warning if a chosen value sits at the edge of its searched range, and best.md."""

from dd2424.io import read_json, setup_logging
from dd2424.ranking import rank
from dd2424.search import rnn_trials_table, write_ranked

setup_logging(snakemake.log[0])
spec, where = snakemake.params.spec | {"score": "best_val_loss"}, snakemake.params.where
trials = rnn_trials_table([read_json(p) for p in snakemake.input.metrics], list(spec["parameters"]))
ranked = rank(trials, spec["score"])
write_ranked(ranked, spec, ["random"], where, snakemake.output)
