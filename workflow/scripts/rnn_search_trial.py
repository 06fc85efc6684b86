"""Rule rnn_search_trial: one trial of a lab-4 search: the search's settings with the values of
row ``params.row`` of the grid, trained for the search's character budget; its metrics (with
the values it searched) and its validation and smoothed training losses."""

import logging

from dd2424.io import exit_with, provenance, setup_logging, write_json, write_records
from dd2424.rnn.runs import RECORD_COLUMNS, metrics, records, train_resumable
from dd2424.rnn.settings import SettingsError, read_corpus
from dd2424.trials import apply_trial, grid_trial

setup_logging(snakemake.log[0])
params = snakemake.params
values = grid_trial(snakemake.input.grid, params.row, params.parameters)
settings = apply_trial(params.settings, values)
logging.info("%s (row %d of %s)", values, params.row, snakemake.input.grid)
try:
    text = read_corpus(snakemake.input.text)
    result = train_resumable(settings, text, where=params.where)
except SettingsError as err:  # the corpus or the drawn settings: one message, no traceback
    exit_with(f"{snakemake.rule} failed on {snakemake.input.text}: {err}")
tables = records(result)
for name in ("validation", "smooth_loss"):
    write_records(snakemake.output[name], tables[name], RECORD_COLUMNS[name])
run = metrics(result, len(text)) | {"search_values": values}
write_json(snakemake.output.metrics, run | provenance(settings, {"text": snakemake.input.text}))
