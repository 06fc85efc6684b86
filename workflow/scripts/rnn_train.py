"""Rule rnn_train: train (or resume) one char-RNN run, then write its best model, its records
(smooth loss, validation loss, samples during training), its metrics and its timing (the
wall-clock record goes to benchmarks/, never into results/)."""

import logging
from pathlib import Path

from dd2424.io import exit_with, provenance, save_arrays, setup_logging, write_json, write_records
from dd2424.rnn.model import model_arrays
from dd2424.rnn.runs import RECORD_COLUMNS, kept_log, metrics, records, train_resumable
from dd2424.rnn.settings import SettingsError, read_corpus

checkpoint = Path(snakemake.params.checkpoint)
kept = kept_log(checkpoint, snakemake.log[0])
setup_logging(snakemake.log[0], append=True, copy_to=kept)
logging.info("rnn_train %s: job started", snakemake.wildcards.run)
settings = snakemake.params.settings
try:
    text = read_corpus(snakemake.input.text)
    result = train_resumable(settings, text, checkpoint, snakemake.params.where)
except SettingsError as err:  # the corpus or the settings: one message, no traceback
    exit_with(f"{snakemake.rule} failed on {snakemake.input.text}: {err}")

save_arrays(snakemake.output.model, model_arrays(result))
tables = records(result)
for name in ("smooth_loss", "validation", "timing"):
    write_records(snakemake.output[name], tables[name], RECORD_COLUMNS[name])
Path(snakemake.output.samples).write_text(tables["samples"], encoding="utf-8")
run = metrics(result, len(text)) | provenance(settings, {"text": snakemake.input.text})
write_json(snakemake.output.metrics, run)
state = result.state
logging.info(
    "done: %d updates in %.1f s of training (%.0f updates/s over the whole run)",
    result.n_updates,
    state.seconds,
    result.n_updates / state.seconds if state.seconds else float("nan"),
)
checkpoint.unlink(missing_ok=True)  # the run is complete: a rerun starts afresh
kept.unlink(missing_ok=True)
