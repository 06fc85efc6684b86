"""Rule rnn_train: train (or resume) one char-RNN run, then write its best model, its records
(smooth loss, validation loss, samples during training), its metrics and its timing."""

import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from dd2424.io import exit_with, provenance, save_arrays, setup_logging, write_json
from dd2424.rnn.runs import SettingsError, model_arrays, read_corpus, train_resumable

checkpoint = Path(snakemake.params.checkpoint)
# Snakemake deletes the log before a job runs, so the log is also kept next to the checkpoint:
# a resumed job starts its log with the interrupted job's lines (the resume line says where
# it went on)
kept_log = checkpoint.with_name(checkpoint.stem + ".log")
if checkpoint.exists() and kept_log.exists():
    Path(snakemake.log[0]).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(kept_log, snakemake.log[0])
else:
    kept_log.unlink(missing_ok=True)
setup_logging(snakemake.log[0], append=True, copy_to=kept_log)
logging.info("rnn_train %s: job started", snakemake.wildcards.run)
settings = snakemake.params.settings
try:
    text = read_corpus(snakemake.input.text)
    result = train_resumable(settings, text, checkpoint, snakemake.params.where)
except SettingsError as err:  # the corpus or the settings: one message, no traceback
    exit_with(f"{snakemake.rule} failed on {snakemake.input.text}: {err}")
state = result.state
cfg = state.config

save_arrays(snakemake.output.model, model_arrays(result))
pd.DataFrame(result.smooth_loss, columns=["update", "smooth_loss"]).to_csv(
    snakemake.output.smooth_loss, sep="\t", index=False
)
chars_per_update = cfg.batch * cfg.seq_length
validation = pd.DataFrame(result.validation, columns=["update", "val_loss"])
validation.insert(1, "characters", validation["update"] * chars_per_update)
validation["val_perplexity"] = np.exp(validation["val_loss"])
validation.to_csv(snakemake.output.validation, sep="\t", index=False)

lines = ["# Samples during training\n"]
for s in result.samples:
    loss = "—" if s["smooth_loss"] is None else f"{s['smooth_loss']:.2f}"
    lines += [f"### after {s['update']} updates (smooth loss {loss})\n", "```", s["text"], "```\n"]
Path(snakemake.output.samples).write_text("\n".join(lines), encoding="utf-8")

# wall-clock times go to the timing record only, never into results/
timing = pd.DataFrame(result.timing, columns=["update", "train_seconds"])
timing.insert(1, "characters", timing["update"] * chars_per_update)
timing = timing.merge(validation[["update", "val_loss"]], on="update", how="left")
timing.to_csv(snakemake.output.timing, sep="\t", index=False)

losses = dict((u, s) for u, s in result.smooth_loss)
best_val = None if validation.empty else float(validation["val_loss"].min())
write_json(
    snakemake.output.metrics,
    {
        "updates": result.n_updates,
        "optimizer": cfg.optimizer,
        "eta": state.opt.eta,  # the configured one or the optimiser's default
        "walk": state.walk.kind,
        "batch": cfg.batch,
        "characters_seen": result.n_updates * chars_per_update,
        "epochs": result.n_updates * chars_per_update / result.n_train,
        "characters": len(text),
        "train_characters": result.n_train,
        "val_characters": 0 if result.val_range is None else int(np.diff(result.val_range)[0]),
        "K": result.vocab.K,
        "final_smooth_loss": state.smooth_loss,
        "best_smooth_loss": state.best_smooth_loss,
        "best_by": "validation loss" if state.select == "validation" else "smooth loss",
        "best_after_updates": state.best_update,
        "best_val_loss": best_val,
        "best_val_perplexity": None if best_val is None else float(np.exp(best_val)),
        "final_val_loss": None if validation.empty else float(validation["val_loss"].iloc[-1]),
        "smooth_loss_at": {str(u): losses[u] for u in (10_000, 30_000, 100_000) if u in losses},
        "initial_loss_expected": cfg.seq_length * float(np.log(result.vocab.K)),
    }
    | provenance(settings, {"text": snakemake.input.text}),
)
logging.info(
    "done: %d updates in %.1f s of training (%.0f updates/s over the whole run)",
    result.n_updates,
    state.seconds,
    result.n_updates / state.seconds if state.seconds else float("nan"),
)
checkpoint.unlink(missing_ok=True)  # the run is complete: a rerun starts afresh
kept_log.unlink(missing_ok=True)
