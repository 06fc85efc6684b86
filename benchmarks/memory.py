"""The `memory` cases: peak RSS of a fresh process running the preprocessing of five
CIFAR-format batches (45k/5k split + test), and of one training job (load the split, one
epoch of the 3072-50-10 network), each in its own subprocess (ru_maxrss is per process)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from common import DATASET_F32_MB, ONE_EPOCH, SEED, D, peak_rss_mb, row, rss_mb


def make_cifar(size: dict, args) -> dict:
    directory = args.dir
    from dd2424.data import cifar, synthetic

    synthetic.write_synthetic_cifar(
        Path(directory) / cifar.BATCH_DIR, size["n_per_batch"], size["n_test"], seed=SEED
    )
    return {"rows": [], "info": {}}


def preprocess(size: dict, args) -> dict:
    directory = args.dir
    from dd2424.data import cifar, splits
    from dd2424.io import save_arrays

    base = rss_mb()
    split = splits.Split(train=cifar.TRAIN_BATCHES, val_size=size["n_per_batch"] // 2)
    started = time.perf_counter()
    arrays = splits.preprocess(Path(directory) / cifar.BATCH_DIR, split)
    save_arrays(Path(directory) / "split.npz", arrays)
    seconds = time.perf_counter() - started
    f32 = sum(v.nbytes for k, v in arrays.items() if k.startswith("X_")) / 1e6
    pool = 5 * size["n_per_batch"] * D * 4 / 1e6
    peak = peak_rss_mb()
    note = (
        f"preprocess + save_arrays, {seconds:.1f} s; after imports {base:.0f} MB; float32 "
        f"train+val {pool:.0f} MB, with test {f32:.0f} MB; peak/(train+val) {peak / pool:.2f}x"
    )
    return {
        "rows": [
            row(
                "memory",
                "preprocess 5 batches (45k/5k split + test)",
                [peak],
                "MB peak RSS",
                "float32",
                1,
                note,
            )
        ],
        "info": {"pool_mb": pool},
    }


def train(size: dict, args) -> dict:
    directory = args.dir
    from dd2424.io import load_arrays
    from dd2424.mlp import runs as mlp_runs

    base = rss_mb()
    started = time.perf_counter()
    split = load_arrays(Path(directory) / "split.npz")
    loaded = peak_rss_mb()
    mlp_runs.run(ONE_EPOCH, split)
    seconds = time.perf_counter() - started
    note = (
        f"load split.npz + mlp_runs.run, {seconds:.1f} s; after imports {base:.0f} MB, "
        f"after loading {loaded:.0f} MB"
    )
    return {
        "rows": [
            row(
                "memory",
                "train 1 epoch 3072+50+10 (load + run)",
                [peak_rss_mb()],
                "MB peak RSS",
                "float32",
                1,
                note,
            )
        ],
        "info": {},
    }


WORKERS = {"memory:make-cifar": make_cifar, "memory:preprocess": preprocess, "memory:train": train}


def run(run_worker, thread_counts) -> dict:
    """The three steps in fresh processes sharing one temporary directory; {key: result}."""
    with tempfile.TemporaryDirectory(prefix="dd2424-bench-") as tmp:
        run_worker("memory:make-cifar", 1, ["--dir", tmp])
        return {
            "memory:preprocess@1": run_worker("memory:preprocess", 1, ["--dir", tmp]),
            "memory:train@1": run_worker("memory:train", 1, ["--dir", tmp]),
        }


def goals(med, infos: dict) -> list[tuple]:
    return [
        (
            "preprocessing peak RSS / float32 50,000x3072 (614 MB)",
            med("memory", "(45k/5k split + test)") / DATASET_F32_MB,
            "<=",
            2.0,
        )
    ]
