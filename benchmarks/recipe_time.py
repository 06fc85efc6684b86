#!/usr/bin/env python
"""How long do the bonus ablations of a config take? Time per epoch of every run a lab's
``bonus`` section generates (the improvements, the recipe, its seed-ensemble members) and of
its range tests, measured on CIFAR-shaped synthetic data, and the estimated total.

Not a speed benchmark of the library and not a test: a planning tool for config/best.yaml
(config/README.md, "Full-strength recipes"). The config files are deep-merged as Snakemake
merges them (config/config.yaml first). For each distinct network and data size, one epoch of
updates and one evaluation (of the whole training and validation sets, what the pipeline does
at every evaluation) are timed at 1 BLAS thread, as the pipeline's jobs run; the estimate of a
run is epochs x (s/epoch) + evaluations x (s/evaluation) (an upper bound for a run that may
stop early, ``patience``). A run whose bounds come from a range
test is timed with placeholder bounds (the cost does not depend on them).

    python benchmarks/recipe_time.py [--config config/best.yaml] [--labs lab1 lab2 lab3]
        [--n-per-batch 10000] [--out benchmarks/out/recipe_time.md]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy is imported: the pipeline's jobs run at 1 thread

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from common import ROOT, write_report  # noqa: E402
from snakemake.utils import update_config  # noqa: E402

from dd2424.data import cifar, synthetic  # noqa: E402
from dd2424.data.splits import Split, preprocess  # noqa: E402
from dd2424.mlp import range_test  # noqa: E402
from dd2424.mlp import runs as mlp_runs  # noqa: E402
from dd2424.plan import make_plan  # noqa: E402

PLACEHOLDER = {"eta_min": 1e-5, "eta_max": 0.1}


def runs_of(plan, lab: str) -> dict[str, dict]:
    """{name: settings} of a lab's ablation runs (one per distinct seed-free setting) and of
    its range tests, as the workflow plans them (dd2424.plan)."""
    mlp = plan.lab(lab)
    baseline = mlp.bonus["baseline"]
    out = {f"baseline ({baseline})": mlp.runs[baseline].settings}
    out |= {
        name: run.settings
        for name, run in mlp.runs.items()
        if name.startswith("bonus.") and ".seed" not in name
    }
    for name, test in mlp.range_tests.items():
        out[f"range test {name}"] = test.settings | {"evaluations": test.spec["evaluations"]}
    return out


def length(settings: dict, n_train: int) -> tuple[float, int]:
    """(epochs, evaluations) of a run on n_train samples."""
    if settings["schedule"].get("range_test"):
        settings = range_test.apply_proposal(settings, PLACEHOLDER)
    schedule, cfg = mlp_runs.schedule_and_config(
        {k: v for k, v in settings.items() if k != "evaluations"}, n_train
    )
    per_epoch = n_train // int(settings["n_batch"])
    if "evaluations" in settings:  # a range test
        return cfg.n_updates / per_epoch, int(settings["evaluations"]) + 1
    evaluations = math.ceil(cfg.n_updates / cfg.eval_every) + 1
    return cfg.n_updates / per_epoch, evaluations


def time_run(settings: dict, split: dict) -> tuple[float, float]:
    """(seconds per epoch of updates, seconds per evaluation) of a run's network."""
    s = {k: v for k, v in settings.items() if k not in ("evaluations", "cycles", "snapshots")}
    if s["schedule"].get("range_test"):
        s = range_test.apply_proposal(s, PLACEHOLDER)
    if s["schedule"]["kind"] == "ramp":
        s["schedule"] = {"kind": "constant", "eta": 1e-3}
    s |= {"n_epochs": 1, "keep_best": False, "patience": None, "eval_every": None}
    n_train = len(split["X_train"])
    net = mlp_runs.build_network(s, split["X_train"].shape[1], 10)
    params = mlp_runs.init_params(net, s, np.random.default_rng(0), np.float32)
    y_tr, y_va = split["y_train"].astype(np.intp), split["y_val"].astype(np.intp)
    stats = None
    if net.batch_norm:
        stats = net.init_stats(params, split["X_train"][:100])
    t = time.perf_counter()
    net.evaluate(params, split["X_train"], y_tr, 0.0, stats)
    net.evaluate(params, split["X_val"], y_va, 0.0, stats)
    t_eval = time.perf_counter() - t
    s["eval_every"] = n_train // int(s["n_batch"])  # evaluations at the start and the end only
    t = time.perf_counter()
    mlp_runs.run(s, split)
    total = time.perf_counter() - t
    return max(total - 2 * t_eval, 0.0), t_eval  # (the test set: 1000 images, left in)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "best.yaml")
    parser.add_argument("--labs", nargs="+", default=["lab1", "lab2", "lab3"])
    parser.add_argument("--n-per-batch", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "recipe_time.md")
    args = parser.parse_args(argv)
    # merged as Snakemake merges --configfile files, and planned as the workflow plans it
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    update_config(cfg, yaml.safe_load(args.config.read_text()))
    plan = make_plan(cfg)
    splits = {}
    tmp = tempfile.TemporaryDirectory()
    batch_dir = Path(tmp.name) / cifar.BATCH_DIR
    synthetic.write_synthetic_cifar(batch_dir, n_per_batch=args.n_per_batch, n_test=1000, seed=1)

    def split_of(name: str) -> dict:
        if name not in splits:
            splits[name] = preprocess(batch_dir, Split.from_config(plan.cifar.split(name)))
        return splits[name]

    lines = [
        f"# Time of the bonus ablations of {args.config.name} (merged over config.yaml)",
        "",
        f"CIFAR-shaped synthetic data ({args.n_per_batch} images per batch, 3072 values each), "
        f"1 BLAS thread. Command: `python benchmarks/recipe_time.py "
        + " ".join(sys.argv[1:] if argv is None else argv)
        + "`",
        "",
        "| lab | run | network | n_train | s/epoch | s/evaluation | epochs | evaluations | "
        "runs | estimated s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    measured: dict[tuple, tuple[float, float]] = {}
    for lab in args.labs:
        members = int(plan.lab(lab).bonus["ensemble"]["members"])
        lab_total = 0.0
        for name, settings in runs_of(plan, lab).items():
            split_name = settings.get("split") or plan.lab(lab).split
            split = split_of(split_name)
            key = (
                split_name,
                tuple(settings["hidden"]),
                bool(settings.get("batch_norm")),
                settings.get("batch_norm_position", "before"),
                float(settings.get("keep_prob", 1.0)),
                str(settings.get("augment", {})),
                int(settings["n_batch"]),
            )
            if key not in measured:
                measured[key] = time_run(settings, split)
            per_epoch, per_eval = measured[key]
            epochs, evaluations = length(settings, len(split["X_train"]))
            copies = members if name == "bonus.recipe" else 1
            estimate = copies * (epochs * per_epoch + evaluations * per_eval)
            lab_total += estimate
            net = "-".join(map(str, [3072, *settings["hidden"], 10]))
            net += " BN" if settings.get("batch_norm") else ""
            net += f" p={settings['keep_prob']:g}" if settings.get("keep_prob", 1) < 1 else ""
            lines.append(
                f"| {lab} | {name} | {net} | {len(split['X_train'])} | {per_epoch:.2f} | "
                f"{per_eval:.2f} | {epochs:g} | {evaluations} | {copies} | {estimate:.0f} |"
            )
            print(lines[-1], flush=True)
        lines.append(
            f"| {lab} | **total** (baseline included) | | | | | | | | "
            f"**{lab_total:.0f} s = {lab_total / 3600:.2f} core-hours** |"
        )
        print(lines[-1], flush=True)
    tmp.cleanup()
    write_report(args.out, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
