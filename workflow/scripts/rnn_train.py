"""Rule rnn_train: train (or resume) the char-RNN, then write the best model, the smooth-loss
record, the samples, a passage from the best model and the metrics."""

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from dd2424.io import provenance, save_arrays, setup_logging, write_json
from dd2424.rnn_runs import passage, train_resumable
from dd2424.text import read_text

setup_logging(snakemake.log[0])
settings = snakemake.params.settings
checkpoint = Path(snakemake.params.checkpoint)
text = read_text(snakemake.input.text)
result = train_resumable(settings, text, checkpoint)
state = result.state

save_arrays(
    snakemake.output.model,
    dict(state.best_params) | {"vocab": np.array(result.vocab.chars), "h0": state.best_hprev},
)
pd.DataFrame(result.smooth_loss, columns=["update", "smooth_loss"]).to_csv(
    snakemake.output.smooth_loss, sep="\t", index=False
)
best = passage(result, settings["passage_length"], settings["seed"])
Path(snakemake.output.passage).write_text(best, encoding="utf-8")

lines = ["# Synthesized text\n", "## During training\n"]
for s in result.samples:
    loss = "—" if s["smooth_loss"] is None else f"{s['smooth_loss']:.2f}"
    lines += [f"### after {s['update']} updates (smooth loss {loss})\n", "```", s["text"], "```\n"]
lines += [
    f"## Best model (smooth loss {state.best_smooth_loss:.2f} at update {state.best_update + 1})\n",
    f"### {settings['passage_length']} characters\n",
    "```",
    best,
    "```\n",
]
for i, variant in enumerate(settings["variants"], start=1):
    extra = passage(result, settings["sample_length"], settings["seed"] + i, **variant)
    label = ", ".join(f"{k} = {v}" for k, v in variant.items())
    lines += [f"### {label}\n", "```", extra, "```\n"]
Path(snakemake.output.samples).write_text("\n".join(lines), encoding="utf-8")

losses = dict((u, s) for u, s in result.smooth_loss)
write_json(
    snakemake.output.metrics,
    {
        "updates": result.n_updates,
        "epochs_completed": state.epoch,
        "characters": len(text),
        "K": result.vocab.K,
        "final_smooth_loss": state.smooth_loss,
        "best_smooth_loss": state.best_smooth_loss,
        "best_update": state.best_update + 1,
        "smooth_loss_at": {str(u): losses[u] for u in (10_000, 30_000, 100_000) if u in losses},
        "initial_loss_expected": 25 * float(np.log(result.vocab.K)),
        "resumed_from_update": result.resumed_from,
        "settings": dict(settings),
    }
    | provenance(settings, {"text": snakemake.input.text}),
)
logging.info("%.0f updates/s (wall time: benchmarks/jobs/lab4/train.tsv)", result.updates_per_s)
checkpoint.unlink(missing_ok=True)  # the run is complete: a rerun starts afresh
