"""Rule rnn_sample: passages from a run's saved best model (model.npz), the plain one and the
temperature / nucleus variants, without retraining."""

from pathlib import Path

from dd2424.io import exit_with, read_json, setup_logging
from dd2424.rnn.model import Model

setup_logging(snakemake.log[0])
spec = snakemake.params.spec
try:
    model = Model.load(snakemake.input.model)
except ValueError as err:  # not a model this code wrote: one message, no traceback
    exit_with(f"{snakemake.rule} failed: {err}")
metrics = read_json(snakemake.input.metrics)
seed = int(metrics["settings"]["seed"])

passage = model.generate(int(spec["length"]), seed)
Path(snakemake.output.passage).write_text(passage, encoding="utf-8")

if metrics["best_by"] == "validation loss":
    how = f"validation loss {metrics['best_val_loss']:.4f} per character"
else:
    how = f"smooth loss {metrics['best_smooth_loss']:.2f}"
lines = [
    f"# Passages from the best model ({how}, after {metrics['best_after_updates']} updates)\n",
    f"### {spec['length']} characters\n",
    "```",
    passage,
    "```\n",
]
for i, variant in enumerate(spec["variants"], start=1):
    text = model.generate(int(spec["variant_length"]), seed + i, **variant)
    label = ", ".join(f"{k} = {v}" for k, v in variant.items())
    lines += [f"### {label}\n", "```", text, "```\n"]
Path(snakemake.output.samples).write_text("\n".join(lines), encoding="utf-8")
