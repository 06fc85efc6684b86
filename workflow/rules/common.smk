# Config validation, helpers and derived globals: the only place for Python helpers.
import re
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

from dd2424.data import BATCH_DIR, TEST_BATCH, TRAIN_BATCHES, Split
from dd2424.experiments import merge

min_version("9.0")


validate(config, "../schemas/config.schema.yaml")

DATA_SOURCE = config["data"]["source"]
LABS = sorted(key for key in config if re.fullmatch(r"lab\d", key))
PACKAGE_DIR = Path(workflow.basedir) / "workflow" / "dd2424"
TRAIN_AND_TEST_BATCHES = [*TRAIN_BATCHES, TEST_BATCH]


wildcard_constraints:
    lab="|".join(LABS) or "lab1",
    split="[A-Za-z0-9_]+",
    run="[A-Za-z0-9_.=-]+",
    batch="data_batch_[1-5]|test_batch",


def lib(*modules):
    """Library modules a rule's results depend on, so editing them triggers a rerun."""
    return [str(PACKAGE_DIR / f"{m}.py") for m in modules]


def run_settings(lab, run):
    """The lab's defaults deep-merged with one run's entries, validated."""
    settings = merge(config[lab]["defaults"], config[lab]["runs"][run])
    try:
        validate(settings, "../schemas/run.schema.yaml")
    except WorkflowError as err:
        raise WorkflowError(
            f"config {lab}.runs.{run} (merged with {lab}.defaults): {err}"
        )
    return settings


RUN_SETTINGS = {
    lab: {run: run_settings(lab, run) for run in config[lab]["runs"]} for lab in LABS
}


def split_config(name):
    if name not in config["splits"]:
        raise WorkflowError(
            f"split {name!r} is not defined under `splits:` (have: {sorted(config['splits'])})"
        )
    cfg = config["splits"][name]
    try:
        Split.from_config(cfg)
    except ValueError as err:
        raise WorkflowError(f"config splits.{name}: {err}")
    return cfg


def batches_dir():
    return Path("data") / DATA_SOURCE / BATCH_DIR


def split_inputs(wildcards):
    split = Split.from_config(split_config(wildcards.split))
    files = {name: str(batches_dir() / name) for name in split.batches()}
    return files | {"meta": str(batches_dir() / "batches.meta")}


def processed(split):
    return f"data/{DATA_SOURCE}/processed/{split}.npz"


def lab_split(wildcards):
    return processed(config[wildcards.lab]["split"])


def gradcheck_gate(wildcards):
    """Training waits for the lab's gradient check (which fails the workflow if it fails)."""
    if "gradcheck" in config[wildcards.lab]:
        return f"results/{wildcards.lab}/gradcheck.tsv"
    return []


def all_runs(lab):
    return list(config[lab]["runs"])


def lab_targets(lab):
    targets = [f"results/{lab}/test_accuracy.tsv", f"results/{lab}/test_accuracy.md"]
    if "gradcheck" in config[lab]:
        targets.append(f"results/{lab}/gradcheck.tsv")
    for run, settings in RUN_SETTINGS[lab].items():
        targets.append(f"results/{lab}/figures/{run}_curves.png")
        if not settings["hidden"]:  # class templates exist for the 1-layer network only
            targets.append(f"results/{lab}/figures/{run}_templates.png")
    return targets


def all_targets():
    return [target for lab in LABS for target in lab_targets(lab)]
