#!/usr/bin/env python
"""Does each bonus improvement of labs 1-3 (issue 10) move test accuracy the expected way?

Not a speed benchmark and not a test: a small, seeded experiment on synthetic CIFAR-format data
whose class patterns sit at random offsets and are mirrored at random (``data.synthetic.shift``,
``mirror``), so that flips and translations preserve the label, with a small training set.
Every variant is an ordinary ``dd2424.mlp.runs.run`` of the settings printed here, repeated
over several seeds; the table gives the mean and standard deviation of the test accuracy and
the gain over the variant's baseline.

    python benchmarks/bonus_evidence.py [--seeds 3] [--n-train 2000] [--out PATH]

Takes a few minutes on 1 core.  The integrator's ablation rules supersede it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import ROOT, write_report

from dd2424 import nested
from dd2424.data import cifar, splits
from dd2424.data.synthetic import write_synthetic_cifar
from dd2424.mlp import ensembles
from dd2424.mlp import runs as mlp_runs

BASE = {  # lab 2's network and schedule at this data size
    "hidden": [50],
    "init": {"kind": "xavier"},
    "lam": 0.005,
    "schedule": {"kind": "cyclic", "eta_min": 1e-5, "eta_max": 0.1, "n_s_epochs": 2},
    "cycles": 3,
    "n_batch": 100,
}
CONSTANT = nested.merge(
    BASE, {"schedule": None, "cycles": None, "n_epochs": 24, "eval_every": 10}
) | {"schedule": {"kind": "constant", "eta": 0.1}}
DEEP = nested.merge(BASE, {"hidden": [50, 50], "init": {"kind": "he"}, "batch_norm": True})


def variants() -> list[tuple[str, str, dict]]:
    """(name, baseline name, settings)."""
    m = nested.merge
    aug = {"flip": True, "translate": 2}
    slow = {"schedule": {"eta_max": 0.01}}
    return [
        ("baseline (2-layer m=50, cyclic, 3 cycles)", "", BASE),
        ("augment: flip", "baseline", m(BASE, {"augment": {"flip": True}})),
        ("augment: translate 2", "baseline", m(BASE, {"augment": {"translate": 2}})),
        ("augment: flip + translate 2", "baseline", m(BASE, {"augment": aug})),
        (
            "augment: flip + translate 2 + jitter 0.2",
            "baseline",
            m(BASE, {"augment": aug | {"brightness": 0.2, "contrast": 0.2}}),
        ),
        (
            "augment: flip + translate 4 (= the data's shift)",
            "baseline",
            m(BASE, {"augment": {"flip": True, "translate": 4}}),
        ),
        ("dropout keep 0.5", "baseline", m(BASE, {"keep_prob": 0.5})),
        ("wide m=500", "baseline", m(BASE, {"hidden": [500]})),
        ("wide m=500 + dropout keep 0.5", "wide", m(BASE, {"hidden": [500], "keep_prob": 0.5})),
        ("cross-entropy, eta_max 0.01", "baseline", m(BASE, {"schedule": {"eta_max": 0.01}})),
        ("svm, eta_max 0.01", "cross-entropy", m(BASE, slow | {"loss": "svm"})),
        ("svm, eta_max 0.1", "baseline", m(BASE, {"loss": "svm"})),
        ("constant eta 0.1, 24 epochs", "", CONSTANT),
        (
            "step decay x0.5 every 6 epochs",
            "constant",
            m(CONSTANT, {"schedule": {"kind": "step", "gamma": 0.5, "step_epochs": 6}}),
        ),
        (
            "exponential decay x0.9 per epoch",
            "constant",
            m(CONSTANT, {"schedule": {"kind": "exponential", "gamma": 0.9}}),
        ),
        ("keep best (constant eta)", "constant", m(CONSTANT, {"keep_best": True})),
        (
            "keep best + patience 5 (constant eta)",
            "constant",
            m(CONSTANT, {"keep_best": True, "patience": 5}),
        ),
        ("3-layer BN before ReLU", "", DEEP),
        ("3-layer BN after ReLU", "3-layer", m(DEEP, {"batch_norm_position": "after"})),
    ]


def ensemble_rows(split, seeds: list[int]) -> list[dict]:
    """Majority and soft vote of 5 seeds, and of the 5 cycle snapshots of one run."""
    X, y = split["X_test"], split["y_test"].astype(np.intp)
    net = mlp_runs.build_network(BASE, X.shape[1], 10)
    out = []
    for seed in seeds:
        members = [
            ensembles.without_snapshots(mlp_runs.run(BASE | {"seed": 100 * seed + s}, split)[0])
            for s in range(5)
        ]
        seed_vote = ensembles.evaluate(net, members, X, y)
        snap_settings = nested.merge(BASE, {"cycles": 5, "snapshots": True, "seed": seed})
        arrays, _, metrics = mlp_runs.run(snap_settings, split)
        snaps = ensembles.members(arrays)
        snap_vote = ensembles.evaluate(net, snaps, X, y)
        last3 = ensembles.evaluate(net, snaps[-3:], X, y)
        out.append(
            {
                "seed": seed,
                "seeds_mean_member": statistics.mean(seed_vote["member_acc"]),
                "seeds_majority": seed_vote["majority_acc"],
                "seeds_soft": seed_vote["soft_acc"],
                "snapshot_final": metrics["test_acc"],
                "snapshots_majority": snap_vote["majority_acc"],
                "snapshots_soft": snap_vote["soft_acc"],
                "last3_majority": last3["majority_acc"],
                "last3_soft": last3["soft_acc"],
            }
        )
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-test", type=int, default=5000)
    parser.add_argument("--contrast", type=float, default=40.0)
    parser.add_argument("--nuisance", type=float, default=20.0)
    parser.add_argument("--shift", type=int, default=4)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "bonus.md")
    args = parser.parse_args(argv)
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        batch_dir = Path(tmp) / cifar.BATCH_DIR
        synthetic = {
            "n_per_batch": args.n_train,
            "n_test": args.n_test,
            "seed": 2424,
            "contrast": args.contrast,
            "nuisance": args.nuisance,
            "shift": args.shift,
            "mirror": True,
        }
        write_synthetic_cifar(batch_dir, **synthetic)
        split = splits.preprocess(
            batch_dir, splits.Split(train=("data_batch_1",), val=("data_batch_2",))
        )
    seeds = list(range(1, args.seeds + 1))
    lines = [
        "# Bonus improvements on synthetic data (issue 10)",
        "",
        f"Data: `write_synthetic_cifar` with {synthetic}; train = data_batch_1 "
        f"({args.n_train}), val = data_batch_2, test = test_batch ({args.n_test}). "
        f"Seeds {seeds} (run seed). Command: `python benchmarks/bonus_evidence.py "
        + " ".join(sys.argv[1:] if argv is None else argv)
        + "`",
        "",
        "| variant | vs | test acc (mean ± sd) | gain | per seed |",
        "|---|---|---|---|---|",
    ]
    means: dict[str, float] = {}
    for name, against, settings in variants():
        accs = [mlp_runs.run(settings | {"seed": s}, split)[2]["test_acc"] for s in seeds]
        mean = statistics.mean(accs)
        means[name] = mean
        base = next((v for k, v in means.items() if against and k.startswith(against)), None)
        gain = "" if base is None else f"{100 * (mean - base):+.2f}"
        sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
        per_seed = ", ".join(f"{100 * a:.2f}" for a in accs)
        lines.append(
            f"| {name} | {against or '-'} | {100 * mean:.2f} ± {100 * sd:.2f} | {gain} | "
            f"{per_seed} |"
        )
        print(lines[-1], flush=True)
    lines += [
        "",
        "Ensembles (baseline settings; 5 seeds 100·s + 0..4, and the 5 cycle snapshots of one "
        "5-cycle run with seed s), test accuracy %:",
        "",
        "| s | 5 seeds: mean member | majority | soft | 5-cycle run: final | 5 snapshots: "
        "majority | soft | last 3 snapshots: majority | soft |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in ensemble_rows(split, seeds):
        cells = [f"{100 * v:.2f}" for k, v in r.items() if k != "seed"]
        lines.append(f"| {r['seed']} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    lines += ["", f"({time.time() - started:.0f} s)"]
    write_report(args.out, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
